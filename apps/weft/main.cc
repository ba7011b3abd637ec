// weft: the command line for people and scripts. All logic lives in src/cli.
#include <iostream>

#include "cli/cli.h"
#include "common/clock.h"

int main(int argc, char** argv) {
  return weft::cli::RunCli(argc, argv, std::cout, std::cerr, weft::SystemClock::Default());
}
