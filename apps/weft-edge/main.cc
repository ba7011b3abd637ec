// weft-edge: the edge runtime. All logic is in src/edge.
#include <iostream>

#include "edge/edge_main.h"

int main(int argc, char** argv) { return weft::edge::EdgeMain(argc, argv, std::cout, std::cerr); }
