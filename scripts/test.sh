#!/usr/bin/env bash
# Runs every test: installs missing packages, builds a normal and a sanitizer
# (AddressSanitizer + UndefinedBehaviorSanitizer) tree, and runs CTest in both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --deps

jobs=$(nproc)
status=0
for variant in release asan; do
  dir="build-test-$variant"
  if [ "$variant" = asan ]; then
    opts=(-DCMAKE_BUILD_TYPE=Debug -DNNSH_SANITIZE=ON)
  else
    opts=(-DCMAKE_BUILD_TYPE=Release)
  fi
  echo "=== $variant build ==="
  cmake -S . -B "$dir" -G Ninja "${opts[@]}" >/dev/null
  cmake --build "$dir" -j "$jobs"
  echo "=== $variant tests ==="
  (cd "$dir" && ctest --output-on-failure -j "$jobs" ${NNSH_TEST_FILTER:+-R "$NNSH_TEST_FILTER"}) || status=1
done
exit $status
