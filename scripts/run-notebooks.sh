#!/usr/bin/env bash
# Runs every notebook in notebooks/ as Jupyter runs it, with the .NET kernel (Microsoft.dotnet-interactive) and
# nbconvert, on a small budget, and fails if any cell fails. The library comes from a folder feed packed from this
# working tree, as a user's notebook gets it. Each notebook runs in a copy in a temporary folder: the executed
# notebooks (outputs included) and what they write stay there, never in the repository.
#
#   bash scripts/run-notebooks.sh [NOTEBOOK ...]     # default: notebooks/*.ipynb
#
# Environment: CIFAR10_DATA (default ../shared/data/cifar-10-binary.tar.gz), CIFAR10_NOTEBOOK_IMAGES (each
# notebook's training budget, default 500 here; a notebook opened by hand defaults to 5000), KEEP=1 keeps the
# temporary folder, CELL_TIMEOUT (seconds a cell may take, default 600).
# Needs: the .NET SDK, the dotnet-interactive tool with its Jupyter kernel registered, and Debian's
# jupyter-nbconvert, python3-nbclient and jupyter-client (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
export PATH="$PATH:$HOME/.dotnet/tools"

notebooks=("$@")
[ ${#notebooks[@]} -gt 0 ] || notebooks=(notebooks/*.ipynb)
for notebook in "${notebooks[@]}"; do
  [ -f "$notebook" ] || { echo "error: no notebook $notebook" >&2; exit 2; }
done
command -v jupyter-nbconvert >/dev/null || { echo "error: jupyter-nbconvert is missing (apt-get install jupyter-nbconvert python3-nbclient jupyter-client)" >&2; exit 1; }
# (Captured first: with pipefail, grep -q closing the pipe early would fail the listing.)
kernels=$(jupyter kernelspec list 2>/dev/null || true)
grep -q '\.net-csharp' <<<"$kernels" \
  || { echo "error: the .NET (C#) Jupyter kernel is not registered (dotnet tool install -g Microsoft.dotnet-interactive && dotnet interactive jupyter install)" >&2; exit 1; }

data=${CIFAR10_DATA:-../shared/data/cifar-10-binary.tar.gz}
[ -e "$data" ] || { echo "error: no CIFAR-10 data at $data (set CIFAR10_DATA)" >&2; exit 1; }
data=$(realpath "$data")
work=$(mktemp -d /tmp/cifar10-notebooks-XXXXXX)
if [ "${KEEP:-0}" = 1 ]; then echo "executed notebooks and their files stay in $work"; else trap 'rm -rf "$work"' EXIT; fi

echo "== packing Cifar10.Core into $work/feed"
dotnet pack src/Cifar10 -c Release -o "$work/feed" -nologo -v q
ls "$work/feed"

export CIFAR10_FEED="$work/feed" CIFAR10_DATA="$data"
export CIFAR10_NOTEBOOK_IMAGES="${CIFAR10_NOTEBOOK_IMAGES:-500}"
echo "== $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores; budget $CIFAR10_NOTEBOOK_IMAGES images"
failed=0
total_start=$(date +%s)
for notebook in "${notebooks[@]}"; do
  name=$(basename "$notebook" .ipynb)
  folder="$work/$name"
  mkdir -p "$folder"
  cp "$notebook" notebooks/*.csx "$folder/"
  start=$(date +%s)
  # --execute stops at the first cell that fails (an error output) and exits non-zero.
  if jupyter-nbconvert --to notebook --execute --inplace \
       --ExecutePreprocessor.kernel_name=.net-csharp \
       --ExecutePreprocessor.timeout="${CELL_TIMEOUT:-600}" --ExecutePreprocessor.startup_timeout=120 \
       "$folder/$name.ipynb" >"$folder/nbconvert.log" 2>&1; then
    echo "$name: passed in $(( $(date +%s) - start )) s"
  else
    echo "$name: FAILED after $(( $(date +%s) - start )) s"
    grep -v -E '^\s*$' "$folder/nbconvert.log" | tail -25
    failed=$((failed + 1))
  fi
done
echo "notebooks: ${#notebooks[@]} run, $failed failed, $(( $(date +%s) - total_start )) s in all"
[ "$failed" -eq 0 ]
