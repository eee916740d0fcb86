#!/usr/bin/env bash
# Where libtorch's large tensors live, and what it costs a training step: the fast network's step (the one
# `cifar10 train` takes) with libtorch's transparent-huge-page switch off and on (ProcessMemory.UseHugePages),
# everything else as the tool sets it (glibc's mmap threshold at 4 MiB). Alternating rounds, the order swapped
# every round, so that the VM's drift favours neither side; prints img/s, user and system CPU seconds and peak
# resident memory of each process, and the median ratio.
#
#   bash bench/allocator.sh [--batch 2000] [--precision fp32|bf16] [--steps 2] [--rounds 3]
set -euo pipefail
cd "$(dirname "$0")/.."

batch=2000
precision=fp32
steps=2
rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
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
echo "fast network, batch ${batch}, ${precision}, ${steps} timed steps after 1 warm-up (then as many timed phase by phase), ${rounds} alternating rounds"
echo
measure() { # THP_MEM_ALLOC_ENABLE value -> "img/s user sys peak_kB"
  local timing line
  timing=$(mktemp)
  line=$(THP_MEM_ALLOC_ENABLE=$1 /usr/bin/time -f "%U %S %M" -o "$timing" \
    dotnet bench/Cifar10.Bench/bin/Release/net10.0/cifar10-bench.dll --models fast --batch "$batch" --steps "$steps" \
    --warmup 1 --precision "$precision" | tail -1)
  echo "$(echo "$line" | cut -d, -f6) $(cat "$timing")"
  rm -f "$timing"
}
rows=""
for ((round = 0; round < rounds; round++)); do
  if ((round % 2 == 0)); then off=$(measure 0); on=$(measure 1); else on=$(measure 1); off=$(measure 0); fi
  rows+="$off $on"$'\n'
done
printf '%s' "$rows" | python3 -c '
import statistics, sys
runs = [list(map(float, line.split())) for line in sys.stdin if line.strip()]
print("| tensors on | img/s (median) | user s | system s | peak RSS |")
print("| --- | ---: | ---: | ---: | ---: |")
for name, at in (("4 KiB pages (before)", 0), ("huge pages (THP_MEM_ALLOC_ENABLE=1, now)", 4)):
    col = lambda i: statistics.median(r[at + i] for r in runs)
    print(f"| {name} | {col(0):.1f} | {col(1):.1f} | {col(2):.1f} | {col(3) / 1024 ** 2:.2f} GiB |")
ratios = [r[4] / r[0] for r in runs]
print()
print(f"huge pages / 4 KiB pages: {statistics.median(ratios):.2f}x (range {min(ratios):.2f}-{max(ratios):.2f}) over {len(runs)} rounds")'
