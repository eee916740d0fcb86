#!/usr/bin/env bash
# Does bf16 train as well as fp32? For each network, a short schedule of its own recipe, trained in fp32 and in
# bf16 with the same seeds: the test accuracy of each run, the mean per precision, and the seed-to-seed spread.
# bf16 is at parity when the means differ by no more than the seed-to-seed spread (the larger of the two
# precisions' largest-minus-smallest test accuracy). Speed is the step benchmark's (bench/run.sh --precision).
#
#   bash bench/precision-parity.sh [DATA] [--models fast,simple,...] [--seeds "0 1"] [--subset 10000] [--epochs 3] [--table-only]
#
# Runs live in runs/precision-parity/MODEL-PRECISION-nSUBSET-eEPOCHS-seedS; finished ones (results.json) are not run again.
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/data/cifar-10-binary.tar.gz
models="fast,simple,deep,wide,tutorial,vgg16,resnet18,resnet18-imagenet"
seeds="0 1"
subset=10000
epochs=3
table_only=false
while [ $# -gt 0 ]; do
  case "$1" in
    --models) models=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --subset) subset=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --table-only) table_only=true; shift ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) data=$1; shift ;;
  esac
done
data=$(realpath "$data")
root=runs/precision-parity
mkdir -p "$root"
dotnet build -c Release src/Cifar10.Cli -v q -nologo >/dev/null
tool=(dotnet src/Cifar10.Cli/bin/Release/net10.0/cifar10.dll)
# shellcheck source=bench/machine.sh
source bench/machine.sh

field() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

IFS=',' read -ra names <<< "$models"
if ! $table_only; then
  for name in "${names[@]}"; do
    for precision in fp32 bf16; do
      for seed in $seeds; do
        run=$root/$name-$precision-n$subset-e$epochs-seed$seed
        [ -f "$run/results.json" ] && continue
        echo "== $name $precision seed $seed" >&2
        "${tool[@]}" train --model "$name" --precision "$precision" --seed "$seed" --subset "$subset" --epochs "$epochs" \
          --data "$data" --out "$run" --force > "$run.log" 2>&1 || { echo "failed: $run.log" >&2; tail -3 "$run.log" >&2; }
      done
    done
  done
fi

echo "Machine: ${cpu}, $(nproc) cores. Each network's own recipe, its first ${subset} training images, ${epochs} epochs, seeds ${seeds}; test accuracy on the 10,000 test images"
echo
echo "| network | fp32 runs | fp32 mean | seed spread | bf16 runs | bf16 mean | bf16 − fp32 | at parity |"
echo "| --- | --- | ---: | ---: | --- | ---: | ---: | --- |"
for name in "${names[@]}"; do
  /usr/bin/python3 - "$root" "$name" "$seeds" "$subset" "$epochs" <<'PY'
import json, os, statistics, sys
root, name, seeds, subset, epochs = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4], sys.argv[5]
def runs(precision):
    out = []
    for seed in seeds:
        path = os.path.join(root, f"{name}-{precision}-n{subset}-e{epochs}-seed{seed}", "results.json")
        if os.path.exists(path):
            r = json.load(open(path))
            out.append(100 * r["test_accuracy"])
    return out
fp32, bf16 = runs("fp32"), runs("bf16")
if not fp32 or not bf16:
    print(f"| {name} | (missing) | | | | | | |")
    sys.exit()
acc = lambda rs: rs
m32, m16 = statistics.mean(acc(fp32)), statistics.mean(acc(bf16))
spread = max(max(acc(fp32)) - min(acc(fp32)), max(acc(bf16)) - min(acc(bf16)))
show = lambda rs: ", ".join(f"{a:.2f}" for a in acc(rs))
print(f"| {name} | {show(fp32)} | {m32:.2f}% | {spread:.2f} | {show(bf16)} | {m16:.2f}% | {m16 - m32:+.2f} | "
      f"{'yes' if abs(m16 - m32) <= spread else 'no'} |")
PY
done
