#!/usr/bin/env bash
# Builds orderflow and runs the main job. Usage (as root on Debian 12): scripts/demo.sh [--orders N]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target orderflow_seed_demo
exec build/demo/orderflow_seed_demo "$@"
