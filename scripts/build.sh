#!/usr/bin/env bash
# Configures and builds preserve into ./build (or $BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} -DPRESERVE_WERROR=ON >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
