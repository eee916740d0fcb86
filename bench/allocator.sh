#!/usr/bin/env bash
# Where libtorch's tensors live, and what it costs a training step: one network's step (the one `cifar10 train`
# takes) under four allocator settings, in alternating rounds (the order rotated every round, so that the VM's
# drift favours none): (1) 4 KiB pages, glibc's mmap threshold fixed at 4 MiB and its trim threshold left at
# 128 KiB (the tool until 01a8ce6); (2) the same on huge pages for tensors of 2 MiB and more (libtorch's
# THP_MEM_ALLOC_ENABLE, ProcessMemory.UseHugePages; the tool until eb10d5e); (3) huge pages, mmap threshold 32 MiB
# and the heap's free memory kept until the epoch's end (ProcessMemory.ConfigureForTraining, the tool now);
# (4) as (3) with glibc never returning a block on free (MALLOC_MMAP_MAX_=0), the fastest step and the highest
# peak. Each setting is glibc's or libtorch's own variable, which the tool leaves as the user set it. Prints img/s,
# user and system CPU seconds, page faults and peak resident memory of each process, and the median ratios.
# --against REV adds a fifth process to every round: the toolkit at commit REV (built in a git worktree under
# runs/profile/, by bench/bench-at.sh) with the tool's settings, the "before" of a change in how a
# step uses memory.
#
#   bash bench/allocator.sh [--model fast] [--batch 2000] [--precision fp32|bf16] [--steps 2] [--rounds 3] [--against REV]
set -euo pipefail
cd "$(dirname "$0")/.."

model=fast
batch=2000
precision=fp32
steps=2
rounds=3
against=""
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --precision) precision=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --against) against=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time (CPU time and peak memory of each process) with apt-get..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
# shellcheck source=bench/bench-at.sh
source bench/bench-at.sh
now=$(bench_dll_at .)
if [ -n "$against" ]; then then_dll=$(bench_dll_at "$against"); fi

# shellcheck source=bench/machine.sh
source bench/machine.sh
echo "Machine: ${cpu}, $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; kernel transparent_hugepage: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo unknown)"
echo "${model} network, batch ${batch}, ${precision}, ${steps} timed steps after 1 warm-up (then as many timed phase by phase), ${rounds} alternating rounds; toolkit at $(git rev-parse --short HEAD)${against:+, and at ${against}}"
echo
before="MALLOC_MMAP_THRESHOLD_=4194304 MALLOC_TRIM_THRESHOLD_=131072"
settings=("THP_MEM_ALLOC_ENABLE=0 ${before}" "${before}" "" "MALLOC_MMAP_MAX_=0")
benches=("$now" "$now" "$now" "$now")
if [ -n "$against" ]; then settings+=(""); benches+=("$then_dll"); fi
count=${#settings[@]}
measure() { # setting index -> "img/s user sys faults peak_kB"
  local timing line
  timing=$(mktemp)
  # shellcheck disable=SC2086 # the setting is a list of VAR=value words for env
  line=$(env ${settings[$1]} /usr/bin/time -f "%U %S %R %M" -o "$timing" \
    dotnet "${benches[$1]}" --models "$model" --batch "$batch" --steps "$steps" \
    --warmup 1 --precision "$precision" | tail -1)
  echo "$(echo "$line" | cut -d, -f6) $(cat "$timing")"
  rm -f "$timing"
}
rows=""
for ((round = 0; round < rounds; round++)); do
  result=()
  for ((k = 0; k < count; k++)); do i=$(((round + k) % count)); result[$i]=$(measure "$i"); done
  rows+="${result[*]}"$'\n'
done
printf '%s' "$rows" | AGAINST="$against" python3 -c '
import os, statistics, sys
runs = [list(map(float, line.split())) for line in sys.stdin if line.strip()]
print("| setting | img/s (median) | user s | system s | page faults | peak RSS |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
names = ("4 KiB pages, mmap threshold 4 MiB, heap trimmed on free (before 01a8ce6)",
         "huge pages, mmap threshold 4 MiB, heap trimmed on free (01a8ce6 to eb10d5e)",
         "huge pages, mmap threshold 32 MiB, heap kept until the epoch ends (the tool now)",
         "the same, no block returned on free (MALLOC_MMAP_MAX_=0)")
against = os.environ["AGAINST"]
if against:
    names += (f"the tool at {against}",)
width = 5
for k, name in enumerate(names):
    col = lambda i: statistics.median(r[width * k + i] for r in runs)
    print(f"| {name} | {col(0):.1f} | {col(1):.1f} | {col(2):.1f} | {col(3):,.0f} | {col(4) / 1024 ** 2:.2f} GiB |")
print()
for a, b, what in ((2, 1, "now / 4 MiB threshold with heap trimming"), (2, 0, "now / before 01a8ce6"),
                   (3, 2, "MALLOC_MMAP_MAX_=0 / now")) + (((2, 4, f"now / the tool at {against}"),) if against else ()):
    ratios = [r[width * a] / r[width * b] for r in runs]
    peaks = [r[width * a + 4] / r[width * b + 4] for r in runs]
    print(f"{what}: {statistics.median(ratios):.2f}x img/s (range {min(ratios):.2f}-{max(ratios):.2f}), "
          f"{statistics.median(peaks):.2f}x peak, over {len(runs)} rounds")'
