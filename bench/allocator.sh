#!/usr/bin/env bash
# Where libtorch's tensors live, and what it costs a training step: one network's step (the one `cifar10 train`
# takes) under three allocator settings, in alternating rounds (the order rotated every round, so that the VM's
# drift favours none): (1) 4 KiB pages and glibc's mmap threshold fixed at 4 MiB (the tool until 01a8ce6),
# (2) huge pages for tensors of 2 MiB and more (libtorch's THP_MEM_ALLOC_ENABLE, ProcessMemory.UseHugePages) with
# that threshold (ProcessMemory.ConfigureForTraining, the tool now), (3) huge pages and the threshold at 32 MiB
# (glibc's MALLOC_MMAP_THRESHOLD_=33554432, which the tool leaves as the user set it). Prints img/s, user and system CPU seconds and peak resident memory of each process, and the median ratios.
#
#   bash bench/allocator.sh [--model fast] [--batch 2000] [--precision fp32|bf16] [--steps 2] [--rounds 3]
set -euo pipefail
cd "$(dirname "$0")/.."

model=fast
batch=2000
precision=fp32
steps=2
rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --precision) precision=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time (CPU time and peak memory of each process) with apt-get..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
dotnet build -c Release bench/Cifar10.Bench -v q -nologo >/dev/null

# shellcheck source=bench/machine.sh
source bench/machine.sh
echo "Machine: ${cpu}, $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; kernel transparent_hugepage: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo unknown)"
echo "${model} network, batch ${batch}, ${precision}, ${steps} timed steps after 1 warm-up (then as many timed phase by phase), ${rounds} alternating rounds"
echo
settings=("THP_MEM_ALLOC_ENABLE=0 MALLOC_MMAP_THRESHOLD_=4194304" "" "MALLOC_MMAP_THRESHOLD_=33554432")
measure() { # setting index -> "img/s user sys peak_kB"
  local timing line
  timing=$(mktemp)
  # shellcheck disable=SC2086 # the setting is a list of VAR=value words for env
  line=$(env ${settings[$1]} /usr/bin/time -f "%U %S %M" -o "$timing" \
    dotnet bench/Cifar10.Bench/bin/Release/net10.0/cifar10-bench.dll --models "$model" --batch "$batch" --steps "$steps" \
    --warmup 1 --precision "$precision" | tail -1)
  echo "$(echo "$line" | cut -d, -f6) $(cat "$timing")"
  rm -f "$timing"
}
rows=""
for ((round = 0; round < rounds; round++)); do
  declare -A result=()
  for ((k = 0; k < 3; k++)); do i=$(((round + k) % 3)); result[$i]=$(measure "$i"); done
  rows+="${result[0]} ${result[1]} ${result[2]}"$'\n'
done
printf '%s' "$rows" | python3 -c '
import statistics, sys
runs = [list(map(float, line.split())) for line in sys.stdin if line.strip()]
print("| setting | img/s (median) | user s | system s | peak RSS |")
print("| --- | ---: | ---: | ---: | ---: |")
names = ("4 KiB pages, mmap threshold 4 MiB (before 01a8ce6)", "huge pages, mmap threshold 4 MiB (the tool now)",
         "huge pages, mmap threshold 32 MiB (MALLOC_MMAP_THRESHOLD_=33554432)")
for k, name in enumerate(names):
    col = lambda i: statistics.median(r[4 * k + i] for r in runs)
    print(f"| {name} | {col(0):.1f} | {col(1):.1f} | {col(2):.1f} | {col(3) / 1024 ** 2:.2f} GiB |")
print()
for a, b, what in ((8, 4, "threshold 32 MiB / 4 MiB (huge pages)"), (4, 0, "now / before 01a8ce6")):
    ratios = [r[a] / r[b] for r in runs]
    print(f"{what}: {statistics.median(ratios):.2f}x (range {min(ratios):.2f}-{max(ratios):.2f}) over {len(runs)} rounds")'
