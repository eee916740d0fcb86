#!/usr/bin/env bash
# The classic networks' table of docs/results.md: short CPU-sized runs of the classic networks, each a plain
# `cifar10 train` (or `sweep`) command with a fixed seed, summarised from the runs' results.json.
#
#   bash bench/classic-results.sh [DATA]      # DATA defaults to ../shared/data/cifar-10-binary.tar.gz
#
# Runs go to runs/readme/ (kept, so every figure can be traced to its config.json).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/cifar-10-binary.tar.gz}
out=runs/readme
dotnet build -c Release src/Cifar10.Cli -v q -nologo >/dev/null
cli=(dotnet src/Cifar10.Cli/bin/Release/net10.0/cifar10.dll)

train() { # name, then train options
  local name=$1; shift
  [ -f "$out/$name/results.json" ] || "${cli[@]}" train --data "$data" --out "$out/$name" --force --seed 0 "$@" >"$out/$name.log" 2>&1 \
    || { echo "run $name failed, see $out/$name.log" >&2; exit 1; }
}
mkdir -p "$out"
# --recipe classic: what these runs measured before simple and tutorial got recipes of their own (the rest of a
# network's default recipe, e.g. its warm-up, would otherwise change them).
train simple-10ep --model simple --recipe classic --epochs 10 --batch-size 64 --lr 0.02 --schedule cosine
"${cli[@]}" sweep --data "$data" --out "$out/tutorial-depth" --model tutorial --recipe classic --epochs 5 --batch-size 64 \
  --lr 0.05 --schedule onecycle --seed 0 --vary depth=2,3,4 >"$out/tutorial-depth.log" 2>&1

# shellcheck source=bench/machine.sh
source bench/machine.sh
echo "Machine: ${cpu}, $(nproc) cores; TorchSharp 0.107.0 (libtorch 2.10.0), fp32"
echo
echo "| run | command | best val acc | test acc | train time |"
echo "| --- | --- | ---: | ---: | ---: |"
for results in "$out"/simple-10ep/results.json "$out"/tutorial-depth/*/results.json; do
  dir=$(dirname "$results")
  python3 - "$dir" <<'PY'
import json, sys, os
d = sys.argv[1]
r = json.load(open(os.path.join(d, "results.json")))
c = json.load(open(os.path.join(d, "config.json")))["config"]
cmd = f"--model {c['model']} --recipe {c['recipe']}" + (f" --depth {c['depth']}" if c['model'] == 'tutorial' else "") \
      + f" --epochs {c['epochs']} --batch-size {c['batch_size']} --lr {c.get('lr', c.get('learning_rate'))} --schedule {c['schedule']}"
print(f"| {os.path.relpath(d)} | `{cmd}` | {r['best_val_accuracy']:.2%} | {r['test_accuracy']:.2%} | {r['train_seconds']/60:.1f} min |")
PY
done
