#!/usr/bin/env bash
# nnsh --doctor on any machine: each GPU, or exactly why no GPU is used, and the device
# models will run on (or why NNSH_DEVICE cannot be used).
set -u
nnsh=$1
fail() { echo "FAIL: $*"; exit 1; }
out=$("$nnsh" --doctor) || fail "nnsh --doctor exited with $?"
echo "$out"
echo "$out" | grep -qE '^Device: +models run on (cpu|gpu:[0-9]+)' || fail "no Device line"
if echo "$out" | grep -qE '^GPU 0: '; then
  echo "$out" | grep -qE '^GPU 0: .*GiB, compute capability [0-9]+\.[0-9]+' ||
    fail "the GPU line lacks memory or compute capability"
  echo "$out" | grep -qE '^CUDA: +built with CUDA [0-9]+\.[0-9]+ and cuDNN [0-9.]+' ||
    fail "no CUDA versions"
else
  echo "$out" | grep -qE '^GPU: +not used: (this nnsh was built without the CUDA backend|cudaGetDeviceCount)' ||
    fail "no GPU and no exact reason"
fi
bad=$(NNSH_DEVICE=tpu "$nnsh" --doctor | grep '^Device:')
echo "$bad" | grep -q "NNSH_DEVICE=tpu cannot be used" || fail "a bad NNSH_DEVICE is not named: $bad"
echo "ok"
