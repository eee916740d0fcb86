#!/usr/bin/env bash
# Data-parallel training on MPI (docs/distributed.md), measured on this machine and projected beyond it.
#
#   bash bench/distributed.sh [DATA] [--models fast,resnet18,vgg16] [--batch N] [--ranks 2] [--steps 8] [--rounds 3]
#
# 1. Scaling on one machine: the images/s of the training step (metrics.csv's step_images_per_s: forward, backward,
#    the gradients' allreduce and the update, over the second epoch) of `cifar10 train` as one process with all the
#    machine's cores as threads, against `mpirun -n R cifar10 train` with the cores shared among the R ranks (2 × 1
#    on a 2-core machine). Same network, global batch (fast 2000, the others 128), SGD (lr 0.01, momentum 0.9, weight
#    decay 5e-4, as bench/run.sh), fp32, real data. The epoch's images/s beside it includes what is outside the step
#    (every rank augments the whole batch). The run is stopped after its second epoch: the test set is not timed.
# 2. The PyTorch peer in the same invocation: DistributedDataParallel with the gloo backend (bench/pytorch/ddp_step.py,
#    Debian's python3-torch on OpenBLAS), same networks, global batch, ranks and threads; ratio ours / PyTorch.
# 3. On paper, for clusters: the bytes each rank allreduces per step (every parameter as float32), a ring allreduce's
#    time at 10 and 25 Gb/s (2·(N−1)/N · bytes / bandwidth + 2·(N−1) · 25 µs of latency), and the speed-up that N
#    machines would give from the measured one-machine step time, with the per-machine batch kept (the global batch
#    grows N-fold) and with the global batch kept. The allreduce starts after the backward (no overlap, unlike DDP).
#
# Each measurement runs R rounds (the order of the four runs reversed every other round, so that a shared VM's drift
# favours no side); the tables show medians. One round of all three networks takes about 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/data/cifar-10-binary.tar.gz
models=fast,resnet18,vgg16
batch=""
ranks=2
steps=8
rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --models) models=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) data=$1; shift ;;
  esac
done
cores=$(nproc)
per_rank=$((cores / ranks))
if [ "$per_rank" -lt 1 ]; then echo "$ranks ranks need at least $ranks cores (this machine has $cores)" >&2; exit 2; fi
command -v mpirun >/dev/null || { echo "mpirun not found: install openmpi-bin (Debian)" >&2; exit 1; }

# shellcheck source=bench/pytorch-peer.sh
source bench/pytorch-peer.sh
# shellcheck source=bench/machine.sh
source bench/machine.sh
dotnet build -c Release src/Cifar10.Cli -v q -nologo >/dev/null
cli=(dotnet src/Cifar10.Cli/bin/Release/net10.0/cifar10.dll)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 # Open MPI refuses root without them
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=$work/results.txt

batch_of() { if [ -n "$batch" ]; then echo "$batch"; elif [ "$1" = fast ]; then echo 2000; else echo 128; fi; }
rows() { if [ -f "$1/metrics.csv" ]; then echo $(($(wc -l < "$1/metrics.csv") - 1)); else echo 0; fi; }

# ours RANKS THREADS MODEL -> "step_images_per_s epoch_images_per_s" of the second epoch
ours() {
  local n=$1 threads=$2 model=$3 b run pid
  b=$(batch_of "$model")
  run=$work/$model-$n-$RANDOM
  local args=(train --model "$model" --recipe classic --optimizer sgd --lr 0.01 --momentum 0.9 --weight-decay 5e-4
              --precision fp32 --batch-size "$b" --subset $((b * steps)) --val-size 0 --epochs 3 --threads "$threads"
              --data "$data" --out "$run")
  if [ "$n" = 1 ]; then
    "${cli[@]}" "${args[@]}" --distributed off > "$run.log" 2>&1 &
  else
    # One core per thread: Open MPI binds each rank to one core unless told to give it more.
    local placement=(--bind-to core)
    [ "$threads" -gt 1 ] && placement=(--map-by "slot:PE=$threads" --bind-to core)
    mpirun --oversubscribe "${placement[@]}" -n "$n" "${cli[@]}" "${args[@]}" > "$run.log" 2>&1 &
  fi
  pid=$!
  while kill -0 "$pid" 2>/dev/null && [ "$(rows "$run")" -lt 2 ]; do sleep 0.5; done
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ "$(rows "$run")" -lt 2 ]; then echo "training $model on $n rank(s) failed: $(tail -3 "$run.log")" >&2; exit 1; fi
  awk -F, 'NR == 3 { print $9, $8 }' "$run/metrics.csv"
}

# theirs RANKS THREADS MODEL -> images/s of DDP's step
theirs() {
  /usr/bin/python3 bench/pytorch/ddp_step.py --models "$3" --ranks "$1" --threads "$2" --batch "$(batch_of "$3")" --steps "$steps" \
    | tail -1 | cut -d, -f7
}

echo "Machine: ${cpu}, ${cores} cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(mpirun --version | head -1 | sed 's/mpirun (Open MPI)/Open MPI/')"
echo "TorchSharp 0.107.0 (libtorch 2.10.0) vs PyTorch ${peer_torch_version} (BLAS: ${peer_blas}), DDP with gloo"
echo "1 × ${cores} threads against ${ranks} ranks × ${per_rank} thread(s); ${steps} steps timed (the second epoch), ${rounds} alternating rounds"
echo
IFS=',' read -ra names <<< "$models"
for name in "${names[@]}"; do
  for ((round = 0; round < rounds; round++)); do
    if ((round % 2 == 0)); then
      one=$(ours 1 "$cores" "$name"); many=$(ours "$ranks" "$per_rank" "$name")
      peer_many=$(theirs "$ranks" "$per_rank" "$name"); peer_one=$(theirs 1 "$cores" "$name")
    else
      peer_one=$(theirs 1 "$cores" "$name"); peer_many=$(theirs "$ranks" "$per_rank" "$name")
      many=$(ours "$ranks" "$per_rank" "$name"); one=$(ours 1 "$cores" "$name")
    fi
    echo "$name $(batch_of "$name") $one $many $peer_one $peer_many" >> "$results"
  done
done

/usr/bin/python3 - "$results" "$ranks" "$cores" "$per_rank" <<'PY'
import statistics, subprocess, sys
path, ranks, cores, per_rank = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = {}
for line in open(path):
    name, batch, *values = line.split()
    rows.setdefault(name, (int(batch), []))[1].append(list(map(float, values)))
med = statistics.median

print(f"| network | batch | ours 1×{cores} step img/s | ours {ranks}×{per_rank} step img/s | scaling {ranks}×{per_rank} / 1×{cores} "
      f"| ours epoch img/s 1×{cores} / {ranks}×{per_rank} | PyTorch DDP 1×{cores} | PyTorch DDP {ranks}×{per_rank} | ours / PyTorch at {ranks}×{per_rank} |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
step_seconds = {}
for name, (batch, runs) in rows.items():
    one_step, one_epoch, many_step, many_epoch, peer_one, peer_many = (med(r[i] for r in runs) for i in range(6))
    scaling = med(r[2] / r[0] for r in runs)
    ratio = med(r[3] / r[5] for r in runs)
    step_seconds[name] = batch / one_step
    print(f"| {name} | {batch} | {one_step:.1f} | {many_step:.1f} | {scaling:.2f} | {one_epoch:.1f} / {many_epoch:.1f} "
          f"| {peer_one:.1f} | {peer_many:.1f} | {ratio:.2f} |")

# Beyond this machine: a ring allreduce of every parameter as float32, no overlap with the backward.
counts = dict(line.split("\t") for line in subprocess.run(
    ["/usr/bin/python3", "bench/pytorch/models.py", "--counts"], capture_output=True, text=True, check=True).stdout.splitlines())
latency = 25e-6
machines = [2, 4, 8, 16, 32]

def allreduce(bytes_, n, gbits):
    return 2 * (n - 1) / n * bytes_ * 8 / (gbits * 1e9) + 2 * (n - 1) * latency

print()
print("Bytes each rank allreduces per step, and a ring allreduce's time (ms) between N machines (25 µs latency per message):")
print()
print("| network | parameters | MB per step | " + " | ".join(f"N={n} 10 / 25 Gb/s" for n in machines) + " |")
print("| --- | ---: | ---: | " + " | ".join("---:" for _ in machines) + " |")
for name in rows:
    params = int(counts[name]); size = 4 * params
    cells = " | ".join(f"{1e3 * allreduce(size, n, 10):.1f} / {1e3 * allreduce(size, n, 25):.1f}" for n in machines)
    print(f"| {name} | {params:,} | {size / 1e6:.1f} | {cells} |")

print()
print(f"Projected speed-up over one machine (its measured step: 1 × {cores} threads), N machines like this one:")
print()
print("| network | step s (1 machine) | scaling | " + " | ".join(f"N={n} 10 / 25 Gb/s" for n in machines) + " |")
print("| --- | ---: | --- | " + " | ".join("---:" for _ in machines) + " |")
for name in rows:
    t1, size = step_seconds[name], 4 * int(counts[name])
    weak = " | ".join(f"{n * t1 / (t1 + allreduce(size, n, 10)):.1f} / {n * t1 / (t1 + allreduce(size, n, 25)):.1f}" for n in machines)
    strong = " | ".join(f"{t1 / (t1 / n + allreduce(size, n, 10)):.1f} / {t1 / (t1 / n + allreduce(size, n, 25)):.1f}" for n in machines)
    print(f"| {name} | {t1:.2f} | batch per machine kept | {weak} |")
    print(f"| {name} | {t1:.2f} | global batch kept | {strong} |")
PY
