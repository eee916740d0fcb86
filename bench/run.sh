#!/usr/bin/env bash
# Training-step throughput, TorchSharp (this toolkit) vs PyTorch (Debian's python3-torch),
# same networks, batch, optimizer and thread count, on this machine, in one invocation.
#
#   bash bench/run.sh [--models a,b] [--batch 128] [--threads N] [--steps 10] [--rounds 3] [--precision fp32|bf16] [--phases]
#
# A shared VM's speed drifts (by up to a third within an hour here), so one measurement per side is
# not enough: each network is measured in R rounds, each round one process of ours and one of
# PyTorch's back to back, the order swapped every round so that a drift favours neither side.
# Prints a Markdown table: the median img/s of each side, the median of the per-round ratios
# TorchSharp / PyTorch (> 1 means we are faster) and their range. --phases adds a second table:
# where a step's time goes on each side (forward and loss, backward, optimizer update).
set -euo pipefail
cd "$(dirname "$0")/.."

models="fast,simple,deep,wide,tutorial,vgg16,resnet18,resnet18-imagenet"
precision=fp32
batch=128
threads=$(nproc)
steps=10
rounds=3
show_phases=false
while [ $# -gt 0 ]; do
  case "$1" in
    --models) models=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --precision) precision=$2; shift 2 ;;
    --phases) show_phases=true; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

# The PyTorch peer runs on OpenBLAS (libopenblas0-pthread), installed with python3-torch by:
source bench/pytorch-peer.sh

dotnet build -c Release bench/Cifar10.Bench -v q -nologo >/dev/null
ours=(dotnet bench/Cifar10.Bench/bin/Release/net10.0/cifar10-bench.dll)
theirs=(/usr/bin/python3 bench/pytorch/step_throughput.py)

# shellcheck source=bench/machine.sh
source bench/machine.sh
echo "Machine: ${cpu}, $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; threads ${threads}; batch ${batch}; ${steps} timed steps after 3 warm-up, ${rounds} alternating rounds; precision ${precision} (bf16: autocast on both sides)"
echo "TorchSharp 0.107.0 (libtorch 2.10.0, its own MKL/oneDNN) vs PyTorch ${peer_torch_version} (BLAS: ${peer_blas})"
echo
echo "| network | TorchSharp img/s | PyTorch img/s | ratio (median) | ratio range |"
echo "| --- | ---: | ---: | ---: | ---: |"
phases=$(mktemp)
measure() { # side name -> img/s; the phase times (ms) go to $phases as "side name forward backward optimizer"
  local -n side=$1
  local line
  line=$("${side[@]}" --models "$2" --batch "$batch" --threads "$threads" --steps "$steps" --precision "$precision" | tail -1)
  echo "$1 $2 $(echo "$line" | cut -d, -f7-9 | tr , ' ')" >> "$phases"
  echo "$line" | cut -d, -f6
}
IFS=',' read -ra names <<< "$models"
for name in "${names[@]}"; do
  rows=""
  for ((round = 0; round < rounds; round++)); do
    if ((round % 2 == 0)); then a=$(measure ours "$name"); b=$(measure theirs "$name")
    else b=$(measure theirs "$name"); a=$(measure ours "$name"); fi
    rows+="$a $b"$'\n'
  done
  printf '%s' "$rows" | python3 -c '
import statistics, sys
name = sys.argv[1]
pairs = [tuple(map(float, line.split())) for line in sys.stdin if line.strip()]
ratios = [a / b for a, b in pairs]
print(f"| {name} | {statistics.median(a for a, _ in pairs):.1f} | {statistics.median(b for _, b in pairs):.1f} "
      f"| {statistics.median(ratios):.2f} | {min(ratios):.2f}–{max(ratios):.2f} |")' "$name"
done
if [ "$show_phases" = false ]; then rm -f "$phases"; exit 0; fi
echo
echo "Where a step's time goes (ms, median over the rounds; ours / PyTorch's):"
echo
echo "| network | forward + loss | backward | optimizer update |"
echo "| --- | ---: | ---: | ---: |"
python3 - "$phases" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    side, name, *ms = line.split()
    rows.setdefault(name, {}).setdefault(side, []).append(list(map(float, ms)))
for name, sides in rows.items():
    cells = []
    for phase in range(3):
        ours, theirs = (statistics.median(r[phase] for r in sides[s]) for s in ("ours", "theirs"))
        cells.append(f"{ours:.1f} / {theirs:.1f}")
    print(f"| {name} | " + " | ".join(cells) + " |")
PY
rm -f "$phases"
