# Sourced by scripts/bench_rnn.sh and scripts/bench_volume.sh, from the repository root
# with $bench set to the script's name: installs Debian's PyTorch for the comparison when
# missing (for the benchmark only, never for the tests), builds nnsh in Release, and sets
# $python, $nnsh and record, which appends a program's "RESULT <figure> <ms>" lines to
# $results under a tag (nnsh, torch, torch1) for scripts/bench/median_table.awk.
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
python=/usr/bin/python3
if ! $python -c 'import torch' 2>/dev/null; then
  echo "$bench: installing python3-torch for the comparison (apt)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch >/dev/null
fi
if [ ! -f build/build.ninja ] && [ ! -f build/Makefile ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build >/dev/null
nnsh=build/nnsh

record() {
  local tag=$1; shift
  "$@" | awk -v tag="$tag" '$1 == "RESULT" { print tag, $2, $3 }' >> "$results"
}
