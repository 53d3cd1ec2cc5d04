#!/usr/bin/env bash
# Builds orderflow and runs the main job, `orderflow demo`: the whole local stack in one process,
# 1,000 orders through it (with invalid ones and duplicates), and a summary of what happened.
# Usage (as root on Debian 12): scripts/demo.sh [orderflow demo options, e.g. --orders 10000 --json]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# orderflow depends on bootstrap, the function's program that the stack runs.
cmake --build build -j"$(nproc)" --target orderflow
exec build/orderflow demo "$@"
