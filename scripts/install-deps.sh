#!/usr/bin/env bash
# Installs everything orderflow needs to build and test, from Debian's packages only.
# Idempotent: when every package is already installed it changes nothing and touches no network.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost1.81-dev libboost-json1.81-dev
  libsqlite3-dev libssl-dev libcurl4-openssl-dev zlib1g-dev
  libabsl-dev libyaml-cpp-dev libcli11-dev libfmt-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format clang-tidy ccache
  libzip-dev zip unzip
  # The orderflow binary's allocator (CMakeLists.txt).
  libjemalloc-dev
  awscli
  # The dashboard's browser test drives Debian's Chromium with playwright-core.
  chromium
  # The fuzz targets (scripts/fuzz.sh): libFuzzer needs clang, and clang-14 cannot compile
  # libstdc++ 12's <expected>; clang-16 can.
  clang-16 libclang-rt-16-dev
)
# The black-box tests run node; install Debian's only when the machine has none (a newer
# node may already be installed from elsewhere).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
