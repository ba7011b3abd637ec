# Helpers that declare Weft's targets the same way everywhere.
#
#   weft_library(model SOURCES a.cc b.cc DEPS weft::common yaml-cpp)
#     -> static library `weft_model`, alias `weft::model`, include root = src/
#   weft_test(model_test SOURCES a_test.cc DEPS weft::model LABELS parsers)
#     -> GoogleTest executable registered with CTest (one CTest entry per binary)
#   weft_fuzzer(plant_loader_fuzz SOURCES f.cc DEPS weft::model)
#     -> libFuzzer executable, only when WEFT_FUZZ is ON

set(WEFT_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Woverloaded-virtual -Wconversion -Wsign-conversion -Wimplicit-fallthrough)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports std::optional<double> members as maybe-uninitialized at -O2 (false positives).
  list(APPEND WEFT_WARNINGS -Wno-maybe-uninitialized)
endif()
if(WEFT_WERROR)
  list(APPEND WEFT_WARNINGS -Werror)
endif()

set(WEFT_SANITIZE_FLAGS)
if(WEFT_SANITIZE)
  set(WEFT_SANITIZE_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined
      -fno-omit-frame-pointer)
endif()

# With WEFT_FUZZ, every Weft library is compiled with libFuzzer's coverage instrumentation
# (fuzzer-no-link): the fuzzers then get feedback from the code under test, not only from the
# fuzz target's own file. Needs WEFT_SANITIZE for the coverage callbacks' runtime.
set(WEFT_FUZZ_COVERAGE_FLAGS)
if(WEFT_FUZZ AND WEFT_SANITIZE)
  set(WEFT_FUZZ_COVERAGE_FLAGS -fsanitize=fuzzer-no-link)
endif()

function(_weft_common_options target)
  target_compile_options(${target} PRIVATE ${WEFT_WARNINGS} ${WEFT_SANITIZE_FLAGS}
    ${WEFT_FUZZ_COVERAGE_FLAGS})
  target_link_options(${target} PRIVATE ${WEFT_SANITIZE_FLAGS})
endfunction()

function(weft_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(weft_${name} STATIC ${ARG_SOURCES})
  add_library(weft::${name} ALIAS weft_${name})
  target_include_directories(weft_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(weft_${name} PUBLIC ${ARG_DEPS})
  _weft_common_options(weft_${name})
  if(WEFT_SANITIZE)
    target_link_options(weft_${name} INTERFACE ${WEFT_SANITIZE_FLAGS})
  endif()
endfunction()

function(weft_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  _weft_common_options(${name})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES TIMEOUT 300 LABELS "unit;${ARG_LABELS}"
    ENVIRONMENT "WEFT_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

function(weft_fuzzer name)
  cmake_parse_arguments(ARG "" "SECONDS;DICT" "SOURCES;DEPS;CORPUS" ${ARGN})
  if(NOT WEFT_FUZZ)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  _weft_common_options(${name})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  if(NOT ARG_SECONDS)
    set(ARG_SECONDS ${WEFT_FUZZ_SECONDS})
  endif()
  # Bounded run: a fresh corpus dir seeded from CORPUS, crashes written to the build dir.
  set(work ${CMAKE_CURRENT_BINARY_DIR}/${name}_work)
  add_test(NAME ${name}
    COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1 FUZZ_DICT=${ARG_DICT}
      ${PROJECT_SOURCE_DIR}/scripts/run_fuzzer.sh $<TARGET_FILE:${name}> ${work} ${ARG_SECONDS}
      ${ARG_CORPUS})
  math(EXPR timeout "${ARG_SECONDS} + 120")
  set_tests_properties(${name} PROPERTIES TIMEOUT ${timeout} LABELS "fuzz;parsers")
endfunction()
