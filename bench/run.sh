#!/usr/bin/env bash
# Training-step throughput, TorchSharp (this toolkit) vs PyTorch (Debian's python3-torch),
# same networks, batch, optimizer and thread count, on this machine, in one invocation.
#
#   bash bench/run.sh [--models a,b] [--batch 128] [--threads N] [--steps 10] [--rounds 3] [--precision fp32|bf16|fp32,bf16] [--phases] [--against REV]
#
# A shared VM's speed drifts (by up to a third within an hour here), so one measurement per side is
# not enough: each network is measured in R rounds, each round one process of ours and one of
# PyTorch's back to back, the order swapped every round so that a drift favours neither side.
# Prints a Markdown table: the median img/s of each side, the median of the per-round ratios
# TorchSharp / PyTorch (> 1 means we are faster) and their range; with two precisions (fp32,bf16), both
# measured in every round, and the ratio bf16 / fp32 of each side. --phases adds a second table:
# where a step's time goes on each side (forward and loss, backward, optimizer update). --against REV adds a
# third side to every round, the toolkit at commit REV (bench/bench-at.sh builds it), and the ratio now / REV:
# whether a change made a step slower, e.g. fp32 on a CPU without fast bf16.
set -euo pipefail
cd "$(dirname "$0")/.."

models="fast,simple,deep,wide,tutorial,vgg16,resnet18,resnet18-imagenet"
precision=fp32
batch=128
threads=$(nproc)
steps=10
rounds=3
show_phases=false
against=""
while [ $# -gt 0 ]; do
  case "$1" in
    --models) models=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --precision) precision=$2; shift 2 ;;
    --phases) show_phases=true; shift ;;
    --against) against=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

# The PyTorch peer runs on OpenBLAS (libopenblas0-pthread), installed with python3-torch by:
source bench/pytorch-peer.sh

# shellcheck source=bench/bench-at.sh
source bench/bench-at.sh
ours_dll=$(bench_dll_at .)
ours=(dotnet "$ours_dll")
theirs=(/usr/bin/python3 bench/pytorch/step_throughput.py)
sides=(ours theirs)
if [ -n "$against" ]; then
  before_dll=$(bench_dll_at "$against")
  before=(dotnet "$before_dll")
  sides+=(before)
fi

# shellcheck source=bench/machine.sh
source bench/machine.sh
echo "Machine: ${cpu}, $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; threads ${threads}; batch ${batch}; ${steps} timed steps after 3 warm-up, ${rounds} alternating rounds; precision ${precision} (bf16: autocast on both sides)"
echo "TorchSharp 0.107.0 (libtorch 2.10.0, its own MKL/oneDNN) vs PyTorch ${peer_torch_version} (BLAS: ${peer_blas}); toolkit at $(git rev-parse --short HEAD)${against:+, and at ${against}}"
echo
IFS=',' read -ra precisions <<< "$precision"
results=$(mktemp) # "side name precision img/s forward backward optimizer", one line per process
measure() { # side name precision
  local -n side=$1
  local line
  line=$("${side[@]}" --models "$2" --batch "$batch" --threads "$threads" --steps "$steps" --precision "$3" | tail -1)
  echo "$1 $2 $3 $(echo "$line" | cut -d, -f6-9 | tr , ' ')" >> "$results"
}
IFS=',' read -ra names <<< "$models"
for name in "${names[@]}"; do
  for ((round = 0; round < rounds; round++)); do
    for p in "${precisions[@]}"; do
      # The sides in an order rotated every round (two sides: swapped).
      for ((i = 0; i < ${#sides[@]}; i++)); do measure "${sides[(round + i) % ${#sides[@]}]}" "$name" "$p"; done
    done
  done
done
# Medians over the rounds; each ratio is the median of the per-round ratios (both sides of a ratio measured
# back to back), with its range.
python3 - "$results" "$show_phases" "$against" "${precisions[@]}" <<'PY'
import statistics, sys
path, show_phases, against, precisions = sys.argv[1], sys.argv[2] == "true", sys.argv[3], sys.argv[4:]
runs = {}
for line in open(path):
    side, name, precision, *numbers = line.split()
    runs.setdefault((name, precision, side), []).append(list(map(float, numbers)))
names = list(dict.fromkeys(name for name, _, _ in runs))
speed = lambda name, p, side: [r[0] for r in runs[(name, p, side)]]
def ratio(a, b):
    ratios = [x / y for x, y in zip(a, b)]
    return f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})"
header = ["network"]
for p in precisions:
    header += [f"TorchSharp {p} img/s", f"PyTorch {p} img/s", f"ours / PyTorch, {p}"]
    if against:
        header += [f"TorchSharp at {against} {p} img/s", f"now / {against}, {p}"]
if len(precisions) == 2:
    header += [f"{precisions[1]} / {precisions[0]}, ours", f"{precisions[1]} / {precisions[0]}, PyTorch"]
print("| " + " | ".join(header) + " |")
print("| --- " + "| ---: " * (len(header) - 1) + "|")
for name in names:
    cells = [name]
    for p in precisions:
        ours, theirs = speed(name, p, "ours"), speed(name, p, "theirs")
        cells += [f"{statistics.median(ours):.1f}", f"{statistics.median(theirs):.1f}", ratio(ours, theirs)]
        if against:
            before = speed(name, p, "before")
            cells += [f"{statistics.median(before):.1f}", ratio(ours, before)]
    if len(precisions) == 2:
        for side in ("ours", "theirs"):
            cells.append(ratio(speed(name, precisions[1], side), speed(name, precisions[0], side)))
    print("| " + " | ".join(cells) + " |")
if show_phases:
    sides = ["ours", "theirs"] + (["before"] if against else [])
    print(f"\nWhere a step's time goes (ms, median over the rounds; ours / PyTorch's{f' / at {against}' if against else ''}):\n")
    print("| network | precision | forward + loss | backward | optimizer update |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name in names:
        for p in precisions:
            cells = [" / ".join(f"{statistics.median(r[k] for r in runs[(name, p, side)]):.1f}" for side in sides)
                     for k in (1, 2, 3)]
            print(f"| {name} | {p} | " + " | ".join(cells) + " |")
PY
rm -f "$results"
