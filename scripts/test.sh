#!/usr/bin/env bash
# Builds orderflow and runs every test. Usage (as root on Debian 12): scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORDERFLOW_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
# The black-box tests' npm packages, exactly as locked (a no-op when already installed).
if [ ! -f tests/js/node_modules/.package-lock.json ] || ! cmp -s tests/js/package-lock.json tests/js/node_modules/.orderflow-lock; then
  npm ci --prefix tests/js --no-audit --no-fund
  cp tests/js/package-lock.json tests/js/node_modules/.orderflow-lock
fi
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 900
# Issue 8: every test again under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan),
# the engine and server tests under ThreadSanitizer (build-tsan); then the fuzz targets' smoke
# run from build-asan: replays every seed and past crasher (fuzz/corpus, fuzz/regressions),
# then fuzzes each target for 5 s.
bash scripts/sanitizers.sh
bash scripts/fuzz.sh --smoke
