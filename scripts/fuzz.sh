#!/usr/bin/env bash
# Fuzzes the model-file reader and the IDX reader with libFuzzer (clang, ASan + UBSan).
#   scripts/fuzz.sh [seconds per harness (default 600)] [harness ...]
# Harnesses: fuzz_model_file, fuzz_idx (both by default), run one after the other with
# -jobs=1. Seeds: tests/io/corpus plus valid files written by tests/fuzz/make_seeds.lua.
# The growing corpus stays in build-fuzz/corpus/<harness>; findings (crash-*, leak-*,
# oom-*, timeout-*) go to build-fuzz/findings/<harness>/. Exit status 1 on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(fuzz_model_file fuzz_idx)
build=build-fuzz
root=$(pwd)

# Without CUDA: the readers need no device, and a CUDA build links with g++, which has no
# libFuzzer.
cmake -S . -B "$build" -G Ninja -DCMAKE_C_COMPILER="${CC:-clang-14}" \
  -DCMAKE_BUILD_TYPE=Debug -DNNSH_FUZZ=ON -DNNSH_TESTS=OFF -DNNSH_CUDA=OFF >/dev/null
cmake --build "$build" --target fuzz_model_file fuzz_idx nnsh

seeds="$build/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"
ASAN_OPTIONS=detect_leaks=0 "$build/nnsh" tests/fuzz/make_seeds.lua "$seeds" >/dev/null
cp tests/io/corpus/*.safetensors "$seeds/model/"

status=0
for harness in "${harnesses[@]}"; do
  case $harness in
    fuzz_model_file) seed_dir="$seeds/model" ;;
    fuzz_idx) seed_dir="$seeds/idx" ;;
    *) echo "fuzz.sh: unknown harness $harness" >&2; exit 2 ;;
  esac
  corpus="$build/corpus/$harness"
  findings="$build/findings/$harness"
  mkdir -p "$corpus" "$findings"
  log="$build/$harness.log"
  echo "=== $harness: $seconds s ==="
  (cd "$build" && "$root/$build/tests/fuzz/$harness" -jobs=1 -workers=1 \
     -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
     -print_final_stats=1 -dict="$root/tests/fuzz/$harness.dict" \
     -artifact_prefix="$root/$findings/" "$root/$corpus" "$root/$seed_dir" \
     >/dev/null 2>&1) || true
  # With -jobs, libFuzzer writes the worker's output to fuzz-0.log.
  mv "$build/fuzz-0.log" "$log" 2>/dev/null || true
  executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  found=$(find "$findings" -type f | wc -l)
  echo "$harness: ${executions:-?} executions in $seconds s, corpus $(ls "$corpus" | wc -l) inputs, $found findings (log: $log)"
  [ "$found" -eq 0 ] || status=1
done
exit $status
