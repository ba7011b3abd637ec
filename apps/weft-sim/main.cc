// weft-sim: a plant of digital twins speaking the plant's protocols. All logic is in src/sim.
#include <iostream>

#include "sim/sim_main.h"

int main(int argc, char** argv) { return weft::sim::SimMain(argc, argv, std::cout, std::cerr); }
