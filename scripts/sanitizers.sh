#!/usr/bin/env bash
# The test suite under sanitizers (issue 8), each in a build directory of its own; part of the
# README test command (scripts/test.sh runs it after the normal build's tests):
#   address  every test (the unit tests and the black-box suites, with `orderflow up` and the
#            function's workers) under AddressSanitizer + UndefinedBehaviorSanitizer
#            (LeakSanitizer on), clang-16, in build-asan (scripts/asan-build.sh: the same build
#            directory builds the libFuzzer targets that scripts/fuzz.sh runs);
#   thread   the engine, server and lambda tests -- the concurrent layers: the store's group
#            commit, the long polls, the io and handler pools, the function workers, the
#            function's concurrent PutItems -- under
#            ThreadSanitizer, g++, in build-tsan. Only those: the whole suite under TSan would
#            put the test command past its 45-minute budget on the 2-core machine.
# CTest runs each test through tests/sanitizers/run.sh, so a report from any process a test
# starts (orderflow up, the function's workers, crash children) fails that test.
#   ORDERFLOW_SANITIZERS   which runs ("address thread" by default)
#   ORDERFLOW_ASAN_LABELS  CTest label regex run under ASan (default: every test but lint)
#   ORDERFLOW_TSAN_LABELS  CTest label regex run under TSan (default ^(engine|server|lambda)$; "all":
#                          build everything and run every test)
# Usage (as root on Debian 12): scripts/sanitizers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh >/dev/null
. scripts/asan-build.sh
jobs=$(nproc)
sanitizers=" ${ORDERFLOW_SANITIZERS-address thread} "
if [[ $sanitizers == *" address "* ]]; then
  started=$SECONDS
  asan_configure
  cmake --build "$asan_build_dir" -j"$jobs"
  if [ -n "${ORDERFLOW_ASAN_LABELS:-}" ]; then select=(-L "$ORDERFLOW_ASAN_LABELS"); else select=(-LE lint); fi
  ctest --test-dir "$asan_build_dir" --output-on-failure -j"$jobs" --timeout 1800 "${select[@]}"
  echo "sanitizers: AddressSanitizer + UndefinedBehaviorSanitizer run took $((SECONDS - started)) s"
fi
if [[ $sanitizers == *" thread "* ]]; then
  started=$SECONDS
  if [ ! -f build-tsan/CMakeCache.txt ]; then
    cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORDERFLOW_BENCH=OFF \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" \
      -DORDERFLOW_SANITIZE=thread >/dev/null
  fi
  labels=${ORDERFLOW_TSAN_LABELS:-^(engine|server|lambda)$}
  if [ "$labels" = all ]; then
    cmake --build build-tsan -j"$jobs"
    ctest --test-dir build-tsan --output-on-failure -j"$jobs" --timeout 1800 -LE lint
  else
    cmake --build build-tsan -j"$jobs" --target engine_tests server_tests lambda_tests bootstrap
    ctest --test-dir build-tsan --output-on-failure -j"$jobs" --timeout 1800 -L "$labels"
  fi
  echo "sanitizers: ThreadSanitizer run took $((SECONDS - started)) s"
fi
