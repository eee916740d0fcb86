#!/usr/bin/env bash
# What --micro-batch costs and saves: `cifar10 train` (the default recipe unless --args says otherwise) with each
# micro-batch in alternating rounds (the order rotated every round, so that the VM's drift favours none), one round
# per seed, each run a whole process under GNU time. Prints every run (the training steps' median img/s from
# metrics.csv's step_images_per_s, the wall time, the peak resident memory of the process, the test accuracy), then
# per micro-batch the median over the rounds and the test accuracy's mean ± sd, then each one's ratios to the first.
#
#   bash bench/micro-batch.sh [--micro "0 1000"] [--args "--subset 10000 --epochs 2"] [--seeds "0 0"] [--data PATH]
#
# Runs go to runs/micro-batch/microM-seedS-roundR (a finished run is not trained again).
set -euo pipefail
cd "$(dirname "$0")/.."

micro="0 1000"
args="--subset 10000 --epochs 2"
seeds="0 0"
data=../shared/data/cifar-10-binary.tar.gz
while [ $# -gt 0 ]; do
  case "$1" in
    --micro) micro=$2; shift 2 ;;
    --args) args=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time (peak memory of each process) with apt-get..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
dotnet build -c Release src/Cifar10.Cli -v q -nologo >/dev/null

# shellcheck source=bench/machine.sh
source bench/machine.sh
read -r -a sizes <<< "$micro"
read -r -a seed_list <<< "$seeds"
rounds=${#seed_list[@]}
count=${#sizes[@]}
out=runs/micro-batch
mkdir -p "$out"
echo "Machine: ${cpu}, $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; commit $(git rev-parse --short HEAD)"
echo "cifar10 train ${args} --threads $(nproc), micro-batch ${micro}, seeds ${seeds} (one alternating round each)"
echo
rows=""
for ((round = 0; round < rounds; round++)); do
  result=()
  for ((k = 0; k < count; k++)); do
    i=$(((round + k) % count))
    seed=${seed_list[$round]}
    run="$out/micro${sizes[$i]}-seed${seed}-round${round}"
    timing="$run.time"
    if [ ! -f "$run/results.json" ]; then
      # shellcheck disable=SC2086 # args is a list of options
      /usr/bin/time -f "%e %M" -o "$timing" dotnet src/Cifar10.Cli/bin/Release/net10.0/cifar10.dll train --data "$data" \
        --out "$run" --force --seed "$seed" --threads "$(nproc)" --micro-batch "${sizes[$i]}" $args >"$run.log" 2>&1 \
        || { echo "run $run failed, see $run.log" >&2; exit 1; }
    fi
    result[$i]="$(python3 -c '
import csv, json, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/metrics.csv")))
results = json.load(open(sys.argv[1] + "/results.json"))
accuracy = results.get("test_accuracy", float("nan"))
print(statistics.median(float(r["step_images_per_s"]) for r in rows), accuracy)' "$run") $(cat "$timing")"
  done
  rows+="${result[*]}"$'\n'
done
printf '%s' "$rows" | python3 -c '
import statistics, sys
sizes = sys.argv[1].split()
runs = [list(map(float, line.split())) for line in sys.stdin if line.strip()]
width = 4  # step img/s, test accuracy, wall s, peak kB
col = lambda k, i: statistics.median(r[width * k + i] for r in runs)
seeds = sys.argv[2].split()
print("| micro-batch | seed | step img/s | wall | peak RSS | test accuracy |")
print("| ---: | ---: | ---: | ---: | ---: | ---: |")
for k, size in enumerate(sizes):
    for seed, r in zip(seeds, runs):
        print(f"| {size} | {seed} | {r[width * k]:.1f} | {r[width * k + 2]:.0f} s | {r[width * k + 3] / 1024 ** 2:.2f} GiB | {100 * r[width * k + 1]:.2f}% |")
print()
spread = lambda k: (f"{100 * statistics.mean(r[width * k + 1] for r in runs):.2f} ± {100 * statistics.stdev(r[width * k + 1] for r in runs):.2f}%"
                    if len(runs) > 1 else f"{100 * runs[0][width * k + 1]:.2f}%")
print("| micro-batch | step img/s (median) | wall (median) | peak RSS (median) | test accuracy (mean ± sd) |")
print("| ---: | ---: | ---: | ---: | ---: |")
for k, size in enumerate(sizes):
    name = "0 (whole batch)" if size == "0" else size
    print(f"| {name} | {col(k, 0):.1f} | {col(k, 2):.0f} s | {col(k, 3) / 1024 ** 2:.2f} GiB | {spread(k)} |")
print()
for k in range(1, len(sizes)):
    speed = [r[width * k] / r[0] for r in runs]
    peak = [r[width * k + 3] / r[3] for r in runs]
    print(f"micro-batch {sizes[k]} / {sizes[0]}: {statistics.median(speed):.2f}x step img/s (range {min(speed):.2f}-{max(speed):.2f}), "
          f"{statistics.median(peak):.2f}x peak, over {len(runs)} rounds")' "$micro" "$seeds"
