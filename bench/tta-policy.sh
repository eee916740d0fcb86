#!/usr/bin/env bash
# Test-time augmentation policies of one trained run, each a real, timed evaluation of the test set
# with the run's last checkpoint: the plain view, all six views for every image (airbench94's level 2,
# what `train` does by default), and all six only for the images whose plain view's top probability is
# below a threshold (`--tta-confidence`), the others keeping the plain prediction.
#
#   bash bench/tta-policy.sh RUN_FOLDER [DATA] [--confidence 0.9,0.8,0.7,0.6,0.5]
#
# The threshold is chosen on the test set here, so a choice is confirmed on runs of other seeds
# (bench/fast-recipe.sh) before a recipe takes it.
set -euo pipefail
cd "$(dirname "$0")/.."
run=""
data=../shared/data/cifar-10-binary.tar.gz
confidence=0.9,0.8,0.7,0.6,0.5
while [ $# -gt 0 ]; do
  case "$1" in
    --confidence) confidence=$2; shift 2 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) if [ -z "$run" ]; then run=$1; else data=$1; fi; shift ;;
  esac
done
[ -n "$run" ] || { echo "usage: bash bench/tta-policy.sh RUN_FOLDER [DATA] [--confidence 0.9,0.8]" >&2; exit 2; }
checkpoint="$run/last"
[ -e "$checkpoint" ] || { echo "error: no checkpoint $checkpoint" >&2; exit 1; }
dotnet build -c Release bench/Cifar10.Bench -v q -nologo >/dev/null
csv=$(dotnet bench/Cifar10.Bench/bin/Release/net10.0/cifar10-bench.dll tta "$checkpoint" --data "$data" --confidence "$confidence")

# shellcheck source=bench/machine.sh
source bench/machine.sh
echo "Machine: ${cpu}, $(nproc) cores; run ${run}; test set of ${data}"
echo
echo "$csv" > "$run/tta-policy.csv"
python3 - "$run/tta-policy.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
full = next(r for r in rows if r["policy"] == "all")
print("| policy | test accuracy | images given all views | forward passes per image | seconds | time vs all views |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for r in rows:
    name = {"plain": "plain view", "all": "all 6 views"}.get(r["policy"], "all 6 below confidence " + r["confidence"])
    seconds = float(r["seconds"])
    print(f"| {name} | {float(r['accuracy']):.2%} | {float(r['all_views_fraction']):.1%} | {r['forwards_per_image']} "
          f"| {seconds:.1f} | {seconds / float(full['seconds']):.2f}× |")
PY
echo
echo "(the CSV is kept as $run/tta-policy.csv)"
