# Compiler flags of a fuzzing build (-DORDERFLOW_FUZZ=ON), included by the top-level
# CMakeLists.txt before any library is defined, so every layer's library is instrumented for
# libFuzzer's coverage and built with AddressSanitizer and UndefinedBehaviorSanitizer. The
# targets themselves (fuzz/CMakeLists.txt) add -fsanitize=fuzzer, which links libFuzzer's main.
# scripts/fuzz.sh configures such a build in build-fuzz with clang-16.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "ORDERFLOW_FUZZ needs clang (libFuzzer): configure with CC=clang-16 CXX=clang++-16")
endif()
if(ORDERFLOW_SANITIZE)
  message(FATAL_ERROR "ORDERFLOW_FUZZ sets its own sanitizers: leave ORDERFLOW_SANITIZE empty")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                    -fno-omit-frame-pointer)
add_link_options(-fsanitize=address,undefined)
# libstdc++ 12 enables <expected> only when __cpp_concepts >= 202002L (for conditionally
# trivial special members, P0848). Clang 16 implements P0848 but still reports 201907L (clang
# 19 is the first to report 202002L), so with g++ 12's headers std::expected would not exist.
if(CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 16 AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 19)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-U__cpp_concepts> $<$<COMPILE_LANGUAGE:CXX>:-D__cpp_concepts=202002L>)
endif()
