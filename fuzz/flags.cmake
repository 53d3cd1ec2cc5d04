# Compiler flags of a fuzzing build (-DORDERFLOW_FUZZ=ON), included by the top-level
# CMakeLists.txt before any library is defined, so every layer's library is instrumented for
# libFuzzer's coverage and built with AddressSanitizer and UndefinedBehaviorSanitizer. The
# targets themselves (fuzz/CMakeLists.txt) add -fsanitize=fuzzer, which links libFuzzer's main.
# With -DORDERFLOW_SANITIZE=address,undefined as well, the same build directory also builds and
# runs the whole test suite under those sanitizers (scripts/sanitizers.sh: build-asan); the
# coverage instrumentation costs the tests a little speed and saves a second cold build.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "ORDERFLOW_FUZZ needs clang (libFuzzer): configure with CC=clang-16 CXX=clang++-16")
endif()
if(ORDERFLOW_SANITIZE AND NOT ORDERFLOW_SANITIZE STREQUAL "address,undefined")
  message(FATAL_ERROR "ORDERFLOW_FUZZ builds with address,undefined: ORDERFLOW_SANITIZE must be empty or that")
endif()
add_compile_options(-fsanitize=fuzzer-no-link)
if(NOT ORDERFLOW_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
