# Sourced by scripts/sanitizers.sh and scripts/fuzz.sh: the one AddressSanitizer +
# UndefinedBehaviorSanitizer build directory, build-asan (clang-16). It builds the whole test
# suite under those sanitizers AND the libFuzzer targets of fuzz/ (every library carries the
# fuzzer's coverage instrumentation too), so the test command pays for one cold sanitizer
# build instead of two. -O1 with line tables only: reports name file and line, and the build
# stays about 15 minutes cold on the 2-core machine.
asan_build_dir=build-asan
asan_configure() {
  # Configured once (again, from scratch, when an older layout of the directory is there).
  if ! grep -qs '^ORDERFLOW_FUZZ:BOOL=ON' "$asan_build_dir/CMakeCache.txt"; then
    CC=clang-16 CXX=clang++-16 cmake --fresh -S . -B "$asan_build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
      -DORDERFLOW_SANITIZE=address,undefined -DORDERFLOW_FUZZ=ON -DORDERFLOW_BENCH=OFF >/dev/null
  fi
}
