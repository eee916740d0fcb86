#!/usr/bin/env bash
# The fast recipe's benchmark (issue 3), in three parts:
#   1. training-step throughput of fast, wide and resnet18, TorchSharp vs PyTorch, with ratios
#      (bench/run.sh: same layers, batch, optimizer and thread count, alternating rounds);
#   2. end-to-end runs of the fast network with airbench94's recipe (the default `train` until issue 12) and a fixed seed: the full 10-epoch schedule
#      (the time-to-94% attempt), shorter schedules (the time-to-90% attempt) and a 20-epoch one
#      (where the recipe plateaus on this data), each a plain `cifar10 train` command whose folder
#      keeps config.json, metrics.csv and results.json;
#   3. the pipeline's overhead: each run's epoch throughput (everything included) against its own
#      step throughput (time inside the optimizer steps, measured in the same run, so the VM's drift
#      cancels), resident memory at the last epoch against the first, and the whole process's peak
#      resident memory (`/usr/bin/time -v`, the final test evaluation with TTA included).
#
#   bash bench/fast-recipe.sh [DATA] [--epochs "20 10 8 2"] [--skip-steps]
#
# On the 2-core project machine the four runs take about 2 h 10 min, part 1 about 15 min.
# Finished runs (results.json present) are not run again; delete runs/fast-recipe to start over.
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/data/cifar-10-binary.tar.gz
schedules="20 10 8 2"
skip_steps=false
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) schedules=$2; shift 2 ;;
    --skip-steps) skip_steps=true; shift ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) data=$1; shift ;;
  esac
done
out=runs/fast-recipe
threads=$(nproc)
mkdir -p "$out"
if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time (peak memory of each run) with apt-get..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
dotnet build -c Release src/Cifar10.Cli -v q -nologo >/dev/null
cli=(dotnet src/Cifar10.Cli/bin/Release/net10.0/cifar10.dll)

# --- 2. end-to-end runs
for epochs in $schedules; do
  run="$out/epochs-$epochs"
  [ -f "$run/results.json" ] || /usr/bin/time -v -o "$run.time" "${cli[@]}" train --data "$data" --out "$run" --force --seed 0 --recipe airbench94 \
    --epochs "$epochs" --threads "$threads" >"$run.log" 2>&1 || { echo "run $run failed, see $run.log" >&2; exit 1; }
done

# --- 1. step throughput
step_table=""
if [ "$skip_steps" = false ]; then
  step_table=$(bash bench/run.sh --models fast --batch 1024 --steps 5 --threads "$threads";
               bash bench/run.sh --models wide,resnet18 --batch 128 --steps 10 --threads "$threads" | grep '^| [a-z]' | grep -v '^| network')
fi

# shellcheck source=bench/machine.sh
source bench/machine.sh
echo "Machine: ${cpu}, $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; TorchSharp 0.107.0 (libtorch 2.10.0); threads ${threads}"
echo
if [ -n "$step_table" ]; then
  echo "Training-step throughput (fast at batch 1024; wide and resnet18 at batch 128):"
  echo
  echo "$step_table" | grep '^|'
  echo
fi
echo "End-to-end runs of \`cifar10 train --recipe airbench94 --seed 0 --epochs N\` (the fast network with airbench94's recipe; time includes data loading, whitening init and the test evaluation with TTA; img/s are medians over epochs 2..N):"
echo
echo "| run | test acc (TTA) | time | train time | epoch img/s | step img/s (same run) | overhead | fixed cost: set-up + test + report | RSS first → last epoch | peak RSS (process) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for epochs in $schedules; do
  python3 - "$out/epochs-$epochs" <<'PY'
import csv, json, os, statistics, sys
run = sys.argv[1]
r = json.load(open(os.path.join(run, "results.json")))
rows = list(csv.DictReader(open(os.path.join(run, "metrics.csv"))))
# Epoch 1 includes libtorch's one-off warm-up (kernel selection, first allocations): leave it out.
steady = rows[1:] or rows
epoch_rate = statistics.median(float(row["images_per_s"]) for row in steady)
if "step_images_per_s" in rows[0]:  # runs made before this column existed show n/a
    step_rate = statistics.median(float(row["step_images_per_s"]) for row in steady)
    step, overhead = f"{step_rate:.1f}", f"{1 - epoch_rate / step_rate:.1%}"
else:
    step, overhead = "n/a", "n/a"
rss = [float(row["rss_mib"]) for row in rows]
peak = "n/a"  # runs made before the benchmark measured it
if os.path.exists(run + ".time"):
    for line in open(run + ".time"):
        if "Maximum resident set size" in line:
            peak = f"{int(line.split(':')[1]) / 1024 / 1024:.2f} GiB"
# The time around the epochs, from results.json (runs made before it recorded the parts show their sum).
if "test_seconds" in r:
    setup = r["total_seconds"] - r["train_seconds"] - r["test_seconds"] - r["report_seconds"]
    fixed = f"{setup:.0f} + {r['test_seconds']:.0f} + {r['report_seconds']:.0f} s"
else:
    fixed = f"{r['total_seconds'] - r['train_seconds']:.0f} s in all"
print(f"| {os.path.relpath(run)} | {r['test_accuracy']:.2%} | {r['total_seconds']/60:.1f} min | {r['train_seconds']/60:.1f} min "
      f"| {epoch_rate:.1f} | {step} | {overhead} | {fixed} | {rss[0]:.0f} → {rss[-1]:.0f} MiB ({rss[-1]/rss[0]-1:+.1%}) | {peak} |")
PY
done
