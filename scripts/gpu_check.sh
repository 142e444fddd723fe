#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU, builds nnsh with the CUDA backend,
# runs the device tests, benchmarks the seed's MNIST CNN (time per epoch at batch 64,
# test accuracy after 5 epochs) and, where PyTorch with CUDA is installed, the same model
# in PyTorch on the same GPU, then writes a short report. Needs no internet. Sized to
# finish in under 8 minutes; later phases are skipped (and the report says so) when time
# runs short.
#
#   scripts/gpu_check.sh [--data DIR] [--out DIR] [--build DIR] [--epochs N]
#                        [--no-torch] [--no-cpu] [--prebuilt] [--budget SECONDS]
#
#   --data DIR   the MNIST IDX files (train-images-idx3-ubyte[.gz], ...). Default: NNSH_DATA
#                or ~/.local/share/nnsh/datasets/mnist; without them a synthetic data set
#                of MNIST's shapes is made (timings hold, its accuracy is not MNIST's).
#   --out DIR    where the report and logs go (default: <build>/gpu-check)
#   --build DIR  the build directory (default: build-gpu)
#   --no-cpu     skip the one-epoch CPU run that gives the GPU/CPU ratio
#   --prebuilt   use the nnsh and tests already built in --build (configured with
#                -DNNSH_CUDA=ON on another machine with the same paths) instead of
#                building here: for GPU machines without Lua, OpenBLAS or readline headers
#
# cuDNN is taken from the CUDA toolkit, from CUDNN_ROOT, or from the Python environment's
# site-packages/nvidia/cudnn (where PyTorch's wheels put it); its lib directory is added
# to LD_LIBRARY_PATH for the runs.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

DATA="" OUT="" BUILD="build-gpu" EPOCHS=5 TORCH=1 CPU=1 PREBUILT=0 BUDGET=470
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA=$2; shift ;;
    --out) OUT=$2; shift ;;
    --build) BUILD=$2; shift ;;
    --epochs) EPOCHS=$2; shift ;;
    --no-torch) TORCH=0 ;;
    --no-cpu) CPU=0 ;;
    --prebuilt) PREBUILT=1 ;;
    --budget) BUDGET=$2; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "gpu_check: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
OUT=${OUT:-$BUILD/gpu-check}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
LOG="$OUT/log.txt" RESULTS="$OUT/results.txt" REPORT="$OUT/gpu_report.md"
: > "$LOG"; : > "$RESULTS"
START=$(date +%s)
NOTES=()

elapsed() { echo $(( $(date +%s) - START )); }
left() { echo $(( BUDGET - $(elapsed) )); }
say() { echo "gpu_check [$(elapsed)s]: $*" | tee -a "$LOG"; }
note() { NOTES+=("$*"); say "note: $*"; }
# run SECONDS CMD...: runs with a time limit, output to the log and the terminal.
run() {
  local limit=$1; shift
  echo "\$ $*" >> "$LOG"
  timeout --kill-after=10 "$limit" "$@" 2>&1 | tee -a "$LOG"
  return "${PIPESTATUS[0]}"
}

# ---- 1. what this machine has ----
say "checking the machine"
GPU_NAME=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
[ -n "$GPU_NAME" ] || note "nvidia-smi reports no GPU; the CUDA build and tests will say why"
NVCC=$(command -v nvcc || ls /usr/local/cuda/bin/nvcc 2>/dev/null || true)
[ -n "$NVCC" ] || { say "no nvcc on PATH or in /usr/local/cuda/bin: cannot build the CUDA backend"; exit 1; }
export PATH="$(dirname "$NVCC"):$PATH"
PYTHON=$(command -v python3 || true)

# cuDNN: the toolkit's, CUDNN_ROOT, or the Python environment's.
CUDNN_ROOT=${CUDNN_ROOT:-}
TOOLKIT=$(cd "$(dirname "$NVCC")/.." && pwd)
if [ -z "$CUDNN_ROOT" ] && ! ls "$TOOLKIT"/include/cudnn.h "$TOOLKIT"/targets/*/include/cudnn.h >/dev/null 2>&1; then
  if [ -n "$PYTHON" ]; then
    CUDNN_ROOT=$("$PYTHON" - <<'PY' 2>/dev/null
import os
try:
    import nvidia.cudnn as m
    print(list(m.__path__)[0])
except Exception:
    pass
PY
)
  fi
  [ -n "$CUDNN_ROOT" ] && say "cuDNN from the Python environment: $CUDNN_ROOT"
fi
if [ -n "$CUDNN_ROOT" ]; then
  export LD_LIBRARY_PATH="$CUDNN_ROOT/lib:${LD_LIBRARY_PATH:-}"
fi

# ---- 2. build with CUDA ----
if [ "$PREBUILT" = 1 ]; then
  [ -x "$BUILD/nnsh" ] || { say "--prebuilt: no nnsh in $BUILD"; exit 1; }
  say "using the nnsh already built in $BUILD ($(grep -s '^NNSH_CUDA:' "$BUILD/CMakeCache.txt" || echo 'its configuration not carried'))"
else
  say "building into $BUILD with the CUDA backend"
  GENERATOR=()
  command -v ninja >/dev/null && GENERATOR=(-G Ninja)
  if ! run 240 cmake -S . -B "$BUILD" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release -DNNSH_CUDA=ON \
         ${CUDNN_ROOT:+-DCUDNN_ROOT="$CUDNN_ROOT"} \
     || ! run "$(left)" cmake --build "$BUILD" --parallel "$(nproc)"; then
    say "the CUDA build failed; see $LOG"
    { echo "# nnsh GPU check: build failed"; echo; echo "See $LOG."; } > "$REPORT"
    exit 1
  fi
fi
NNSH="$ROOT/$BUILD/nnsh"
[ -x "$NNSH" ] || NNSH="$BUILD/nnsh"
run 30 "$NNSH" --doctor > "$OUT/doctor.txt"
GPU_REASON=$("$NNSH" -e "local ok, why = nn.test.is_gpu_available(); if not ok then print(why) end" 2>&1)
[ -z "$GPU_REASON" ] || note "nnsh finds no usable GPU: $GPU_REASON"

# ---- 3. device tests ----
say "device tests (ctest -L gpu)"
TESTS_STATUS="passed"
if ! run 150 ctest --test-dir "$BUILD" -L gpu -V; then
  TESTS_STATUS="FAILED (see log.txt)"
fi
grep -E "tests passed|Skipped|Failed|\*\*\*" "$LOG" | tail -8 > "$OUT/tests_summary.txt"
if grep -q "gpu.test_gpu_parity.cuda.*Skipped" "$LOG"; then
  TESTS_STATUS="SKIPPED: the CUDA tests found no usable GPU (see doctor.txt)"
fi

# ---- 4. data ----
if [ -z "$DATA" ]; then
  for candidate in "${NNSH_DATA:-}" "$HOME/.local/share/nnsh/datasets/mnist"; do
    if [ -n "$candidate" ] && ls "$candidate"/train-images-idx3-ubyte* >/dev/null 2>&1; then
      DATA=$candidate; break
    fi
  done
fi
SYNTHETIC=0
if [ -z "$DATA" ] || ! ls "$DATA"/train-images-idx3-ubyte* >/dev/null 2>&1; then
  DATA="$OUT/synthetic-mnist"
  SYNTHETIC=1
  note "the MNIST data set was not found (--data DIR, NNSH_DATA); benchmarks ran on a synthetic data set of MNIST's shapes: the timings are comparable, the accuracies are not MNIST's"
  run 120 "$NNSH" scripts/gpu/mnist_bench.lua --make-synthetic "$DATA" || { say "could not make the synthetic data set"; exit 1; }
fi
export NNSH_DATA="$DATA"

# ---- 5. benchmarks ----
NNSH_GPU_STATUS="ran"
if [ -n "$GPU_REASON" ]; then
  NNSH_GPU_STATUS="not run: no usable GPU"
else
  say "nnsh on the GPU: $EPOCHS epochs at batch 64"
  if ! run "$(( $(left) > 240 ? 240 : $(left) ))" "$NNSH" scripts/gpu/mnist_bench.lua \
         --device gpu --epochs "$EPOCHS" --result "$RESULTS"; then
    NNSH_GPU_STATUS="FAILED (see log.txt)"
  fi
fi

if [ "$TORCH" = 1 ] && [ -n "$PYTHON" ] && "$PYTHON" -c "import torch, numpy; assert torch.cuda.is_available()" 2>/dev/null; then
  if [ "$(left)" -gt 60 ]; then
    say "PyTorch on the same GPU: $EPOCHS epochs at batch 64"
    run "$(( $(left) > 180 ? 180 : $(left) ))" "$PYTHON" scripts/gpu/torch_mnist_cnn.py \
        --data "$DATA" --epochs "$EPOCHS" --result "$RESULTS" || note "the PyTorch run failed (see log.txt)"
  else
    note "no time left for the PyTorch run"
  fi
else
  [ "$TORCH" = 1 ] && note "PyTorch with CUDA (and numpy) is not importable here: no comparison"
fi

if [ "$CPU" = 1 ]; then
  if [ "$(left)" -gt 90 ]; then
    say "nnsh on the CPU: one epoch, for the ratio"
    run "$(( $(left) - 20 ))" "$NNSH" scripts/gpu/mnist_bench.lua --device cpu --epochs 1 \
        --result "$RESULTS" || note "the CPU run did not finish in the time left"
  else
    note "no time left for the CPU epoch"
  fi
fi

# ---- 6. report ----
field() { # field PREFIX KEY: the value of KEY on the first results line starting with PREFIX
  grep "^$1" "$RESULTS" | head -1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}
{
  echo "# nnsh GPU check"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'), $(elapsed) s in all"
  echo "- GPU (nvidia-smi): ${GPU_NAME:-none reported}"
  echo "- nnsh --doctor:"
  echo '```'; cat "$OUT/doctor.txt"; echo '```'
  echo "- Device tests: $TESTS_STATUS"
  echo '```'; cat "$OUT/tests_summary.txt"; echo '```'
  echo "- Data: $DATA$([ $SYNTHETIC = 1 ] && echo ' (SYNTHETIC, not MNIST)')"
  echo
  echo "| run | device | epoch times (s) | median of epochs 2+ (s) | test accuracy |"
  echo "|---|---|---|---|---|"
  if grep -q "^nnsh device=gpu" "$RESULTS"; then
    echo "| nnsh | $(field 'nnsh device=gpu' model_device) | $(field 'nnsh device=gpu' epoch_seconds) | $(field 'nnsh device=gpu' median_later_epoch) | $(field 'nnsh device=gpu' test_accuracy) |"
  else
    echo "| nnsh | gpu | $NNSH_GPU_STATUS | | |"
  fi
  if grep -q "^torch" "$RESULTS"; then
    echo "| PyTorch $(field torch version) (cuDNN $(field torch cudnn), benchmark mode $(field torch cudnn_benchmark), TF32 conv $(field torch tf32_conv)) | $(field torch device) | $(field torch epoch_seconds) | $(field torch median_later_epoch) | $(field torch test_accuracy) |"
  fi
  if grep -q "^nnsh device=cpu" "$RESULTS"; then
    echo "| nnsh | cpu ($(nproc) cores) | $(field 'nnsh device=cpu' epoch_seconds) | | $(field 'nnsh device=cpu' test_accuracy) (1 epoch) |"
  fi
  echo
  echo "Epoch times include the validation pass over 12000 images; nnsh's first epoch"
  echo "includes cuDNN's algorithm search. nnsh uses TF32 for convolutions and Dense"
  echo "where the GPU has it (NNSH_CUDA_TF32=0 turns that off); PyTorch's defaults are"
  echo "shown in its row. PyTorch keeps the whole data set on the GPU; nnsh uploads each"
  echo "batch through pinned memory."
  if [ ${#NOTES[@]} -gt 0 ]; then
    echo
    echo "Notes:"
    for n in "${NOTES[@]}"; do echo "- $n"; done
  fi
  echo
  echo "Raw results:"
  echo '```'; cat "$RESULTS"; echo '```'
} > "$REPORT"
cat "$REPORT"
say "report written to $REPORT"
# Success only when the device tests passed and nnsh trained on the GPU.
[ "$TESTS_STATUS" = "passed" ] && [ "$NNSH_GPU_STATUS" = "ran" ]
