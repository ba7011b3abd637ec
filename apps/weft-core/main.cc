// weft-core: the core service. All logic is in src/core.
#include <iostream>

#include "core/core_main.h"

int main(int argc, char** argv) { return weft::core::CoreMain(argc, argv, std::cout, std::cerr); }
