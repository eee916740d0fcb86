#!/usr/bin/env bash
# Where a training step's time goes, against what the CPU can do.
#
#   bash bench/profile.sh [--cases "fast:2000:bf16 resnet18:128:bf16"] [--steps 5] [--warmup 2] [--threads N]
#                         [--commit REV] [--no-perf] [--peer]
#
# Each case MODEL:BATCH:PRECISION is the step of bench/run.sh (cifar10-bench: the network's training step
# with SGD, synthetic input), run three times:
#   1. plain: the step time;
#   2. under ONEDNN_VERBOSE=1: every oneDNN primitive libtorch executes, with its problem and its time, so
#      the time in convolutions (and the reorders of their weights and activations) per step, and their
#      FLOPs (2·N·OC·OH·OW·IC/G·KH·KW per convolution pass: forward, backward-data, backward-weights);
#   3. under `perf record` (cpu-clock samples, oneDNN's JIT kernels named through its perf map): the top
#      symbols of the whole process, the non-convolution costs among them (batch norm, GELU, pooling, casts
#      and copies, the optimizer, allocation, page faults in the kernel).
# The CPU's peak (fp32 FMA and bf16) comes from its flags, cores and clock (bench/pytorch/cpu_peak.py,
# which states its assumptions). --commit REV measures the toolkit at another commit (built in a git
# worktree under runs/profile/build-REV): the "before" of a change. --peer also runs the PyTorch peer's step
# (bench/pytorch/step_throughput.py, plain and under ONEDNN_VERBOSE=1) and prints both sides' step, phases and time
# in oneDNN's matrix kernels side by side, with the step ratio that those kernels' time leaves within reach.
set -euo pipefail
cd "$(dirname "$0")/.."

cases="fast:2000:bf16 resnet18:128:bf16"
steps=5
warmup=2
threads=$(nproc)
commit=""
use_perf=true
use_peer=false
while [ $# -gt 0 ]; do
  case "$1" in
    --cases) cases=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --commit) commit=$2; shift 2 ;;
    --no-perf) use_perf=false; shift ;;
    --peer) use_peer=true; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if $use_perf && ! command -v perf >/dev/null; then
  echo "installing linux-perf with apt-get (--no-perf skips the symbol profile)..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null
fi

if $use_peer; then
  # shellcheck source=bench/pytorch-peer.sh
  source bench/pytorch-peer.sh
fi

# shellcheck source=bench/bench-at.sh
source bench/bench-at.sh
bench_dll=$(bench_dll_at "${commit:-.}")
bench=(dotnet "$bench_dll")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT; [ -n "${PROFILE_KEEP:-}" ] && trap - EXIT && echo "keeping $work" >&2

# shellcheck source=bench/machine.sh
source bench/machine.sh
echo "Machine: ${cpu}, $(nproc) cores; threads ${threads}; ${steps} timed steps (twice: whole, and phase by phase) after ${warmup} warm-up; toolkit at ${commit:-$(git rev-parse --short HEAD)}"
if $use_peer; then echo "PyTorch peer: ${peer_torch_version} (BLAS: ${peer_blas}), its own oneDNN"; fi
/usr/bin/python3 bench/pytorch/cpu_peak.py --threads "$threads"
echo

for case in $cases; do
  IFS=: read -r model batch precision <<< "$case"
  args=(--models "$model" --batch "$batch" --steps "$steps" --warmup "$warmup" --threads "$threads" --precision "$precision")
  "${bench[@]}" "${args[@]}" | tail -1 > "$work/plain.csv"
  ONEDNN_VERBOSE=1 "${bench[@]}" "${args[@]}" > "$work/verbose.txt"
  perf_report=""
  if $use_perf; then
    # Sampling starts once the warm-up steps are done (the bench says so on stderr), so start-up and the
    # first steps' one-time work (library loading, oneDNN's kernel generation) stay out of the profile.
    ONEDNN_JIT_PROFILE=2 "${bench[@]}" "${args[@]}" >/dev/null 2>"$work/bench.err" &
    pid=$!
    until grep -q " warm$" "$work/bench.err" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    perf record -q -e cpu-clock -F 999 -p "$pid" -o "$work/perf.data" >/dev/null 2>"$work/perf.err" &
    recorder=$!
    wait "$pid"
    wait "$recorder" || echo "perf record: $(tail -1 "$work/perf.err")" >&2
    if [ -s "$work/perf.data" ]; then
      perf report -i "$work/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null > "$work/perf.txt" || true
      perf_report="$work/perf.txt"
    fi
    rm -f "/tmp/perf-$pid.map" # oneDNN's names for its JIT kernels, needed only by the report above
  fi
  peer=()
  if $use_peer; then
    peer_args=(--models "$model" --batch "$batch" --steps "$steps" --warmup "$warmup" --threads "$threads" --precision "$precision")
    /usr/bin/python3 bench/pytorch/step_throughput.py "${peer_args[@]}" | tail -1 > "$work/peer-plain.csv"
    ONEDNN_VERBOSE=1 /usr/bin/python3 bench/pytorch/step_throughput.py "${peer_args[@]}" > "$work/peer-verbose.txt"
    peer=(--peer-plain "$work/peer-plain.csv" --peer-verbose "$work/peer-verbose.txt")
  fi
  /usr/bin/python3 bench/pytorch/profile_table.py --case "$case" --plain "$work/plain.csv" --verbose "$work/verbose.txt" \
    --executed-steps $((warmup + 2 * steps)) --threads "$threads" ${perf_report:+--perf "$perf_report"} "${peer[@]}"
  echo
done
