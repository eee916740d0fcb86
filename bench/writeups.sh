#!/usr/bin/env bash
# The write-ups this toolkit reproduces (issue 26), one command each. For every write-up: its network trained by
# this toolkit with the write-up's own recipe (`--recipe NAME`; a schedule longer than --budget minutes runs its
# longest prefix that fits, `--time-limit`), the PyTorch peer of that run (bench/pytorch/train_writeup.py reads its
# config.json: same recipe, seed, split and data files), the network trained with this toolkit's default recipe
# (its best), and the write-up's experiments as sweeps. docs/writeups.md is then written from the runs: a table per
# headline figure and the sweeps' plots (copied to docs/writeups/); a write-up none of whose runs is on this machine
# keeps its section as the page had it.
#
#   bash bench/writeups.sh [NAME ...] [--data PATH] [--seeds "0 1 2"] [--peer-seeds "0"] [--budget 60] [--table-only]
#   bash bench/writeups.sh --smoke          # every step on 256 images for 1 epoch, 1 thread, into runs/writeups-smoke/
#                                           # (about 30 min: each of its 33 runs still measures the 10,000 test images)
#
# NAME is one of tutorial, simple-deep, resnet18, vgg16, wide (default: all five). --seeds trains each run once per
# seed (the spread of the write-up recipe's runs is what the PyTorch peer's is compared with); --peer-seeds picks the
# seeds whose peer runs (default: all of --seeds); the VGG16 experiments run for the first seed only. Finished runs
# (results.json, the peer's JSON) are not run again, so the command continues where it stopped; --table-only trains
# nothing. DATA defaults to ../shared/data/cifar-10-binary.tar.gz (relative to the repository).
#
# What it costs on a 2-core machine (estimates for an AMD EPYC Zen 4, bf16, one seed; docs/writeups.md has the
# measured times): tutorial ~15 min, simple-deep ~17 min, resnet18 ~30 min, vgg16 ~3.3 h (the write-up's recipe
# and its peer 60 min each, the default 15, the five experiments ~45), wide ~1.7 h. About 6 hours in all.
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/data/cifar-10-binary.tar.gz
seeds="0"
peer_seeds=""
peer_seeds_given=false
budget=60
table_only=false
smoke=false
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --peer-seeds) peer_seeds=$2; peer_seeds_given=true; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --table-only) table_only=true; shift ;;
    --smoke) smoke=true; shift ;;
    tutorial|simple-deep|resnet18|vgg16|wide) names+=("$1"); shift ;;
    *) echo "unknown argument $1 (write-ups: tutorial, simple-deep, resnet18, vgg16, wide)" >&2; exit 2 ;;
  esac
done
[ ${#names[@]} -gt 0 ] || names=(tutorial simple-deep resnet18 vgg16 wide)
[ "$peer_seeds_given" = true ] || peer_seeds=$seeds

out=runs/writeups
doc=docs/writeups.md
threads=$(nproc)
tiny=()                 # the smoke test's sizes, added to every training command
experiment_epochs=6     # the VGG16 experiments: epochs per trial, on a subset
experiment_subset=5000
experiment_val=2000
short_epochs=2,         # the epochs experiment: a short, the baseline's and a long schedule (the write-up: 10 vs 100)
long_epochs=20
smoke_flag=()
if [ "$smoke" = true ]; then
  out=runs/writeups-smoke
  doc=$out/writeups.md
  threads=1
  tiny=(--subset 256 --val-size 128 --epochs 1)
  experiment_epochs=1 experiment_subset=128 experiment_val=64 short_epochs="" long_epochs=2
  smoke_flag=(--smoke)
fi
first_seed=${seeds%% *}
mkdir -p "$out"
# shellcheck source=bench/pytorch-peer.sh
source bench/pytorch-peer.sh
dotnet build -c Release src/Cifar10.Cli -v q -nologo >/dev/null
cli=(dotnet src/Cifar10.Cli/bin/Release/net10.0/cifar10.dll)

fail() { echo "$1" >&2; exit 1; }

# A run of `train` into $out/NAME, unless it finished before.
train() {
  local run=$out/$1; shift
  [ -f "$run/results.json" ] && return
  echo "training $run ..." >&2
  "${cli[@]}" train --data "$data" --out "$run" --force --threads "$threads" "$@" "${tiny[@]}" >"$run.log" 2>&1 \
    || fail "run $run failed, see $run.log"
}

# A sweep into $out/NAME; it skips the trials that finished before.
sweep() {
  local folder=$out/$1; shift
  echo "sweeping $folder ..." >&2
  "${cli[@]}" sweep --data "$data" --out "$folder" --threads "$threads" "$@" >"$folder.log" 2>&1 \
    || fail "sweep $folder failed, see $folder.log"
}

# The PyTorch peer of a finished run (RUN-pytorch.json), for the seeds that have one.
peer() {
  local run=$1 seed=$2
  [[ " $peer_seeds " == *" $seed "* ]] || return 0
  /usr/bin/python3 -c "import json,sys; json.load(open(sys.argv[1]))['test_accuracy']" "$run-pytorch.json" 2>/dev/null && return
  echo "training the PyTorch peer of $run ..." >&2
  /usr/bin/python3 bench/pytorch/train_writeup.py "$run/config.json" >"$run-pytorch.log" 2>&1 \
    || fail "the PyTorch peer of $run failed, see $run-pytorch.log"
  tail -1 "$run-pytorch.log" >"$run-pytorch.json"
}

# A VGG16 experiment: a sweep of SETTING over VALUES whose BASELINE value is the write-up's recipe on the subset, the
# trial that every experiment shares. It is trained once (in the learning-rate sweep) and copied into the other sweeps
# as their finished trial of the same settings, after their other trials have made the folder a sweep of its own.
experiment() {
  local setting=$1 values=$2 baseline=$3 folder=vgg16-experiments/$1
  local shared=$out/vgg16-experiments/lr/lr=0.001
  if [ "$setting" != lr ]; then
    local index=0 value
    for value in ${values//,/ }; do
      [ "$value" = "$baseline" ] || sweep "$folder" "${experiment_settings[@]}" --vary "$setting=$values" --trial-index $index
      index=$((index + 1))
    done
    [ -d "$out/$folder/$setting=$baseline" ] || cp -r "$shared" "$out/$folder/$setting=$baseline"
  fi
  sweep "$folder" "${experiment_settings[@]}" --vary "$setting=$values"   # the rest, then the sweep's tables and plots
}

# One heavy job at a time: with 2 cores, two runs side by side would each measure the other.
for name in "${names[@]}"; do
  [ "$table_only" = false ] || break
  if [ "$name" = vgg16 ]; then   # the experiments first: under an hour, where the recipe and its peer take two
    mkdir -p "$out/vgg16-experiments"
    experiment_settings=(--model vgg16 --recipe vgg16-writeup --seed "$first_seed" --epochs "$experiment_epochs"
                         --subset "$experiment_subset" --val-size "$experiment_val")
    experiment lr 0.001,0.01,0.1 0.001
    experiment batch-size 16,64,256 64
    experiment dropout 0,0.5 0
    experiment weight-decay 0,0.0005,0.05 0
    experiment epochs "$short_epochs$experiment_epochs,$long_epochs" "$experiment_epochs"
  fi
  for seed in $seeds; do
    case $name in
      tutorial)
        sweep "tutorial-writeup-seed$seed" --model tutorial --recipe pytorch-tutorial --seed "$seed" --vary depth=2,3,4 "${tiny[@]}"
        sweep "tutorial-default-seed$seed" --model tutorial --seed "$seed" --vary depth=2,3,4 "${tiny[@]}"
        for depth in 2 3 4; do peer "$out/tutorial-writeup-seed$seed/depth=$depth" "$seed"; done ;;
      simple-deep)
        sweep "simple-deep-writeup-seed$seed" --recipe simple-deep-writeup --seed "$seed" --vary model=simple,deep "${tiny[@]}"
        for model in simple deep; do
          train "$model-default-seed$seed" --model "$model" --seed "$seed"
          peer "$out/simple-deep-writeup-seed$seed/model=$model" "$seed"
        done ;;
      resnet18)
        train "resnet18-imagenet-writeup-seed$seed" --model resnet18-imagenet --recipe resnet18-writeup --seed "$seed"
        train "resnet18-imagenet-default-seed$seed" --model resnet18-imagenet --seed "$seed"
        peer "$out/resnet18-imagenet-writeup-seed$seed" "$seed" ;;
      vgg16|wide)
        train "$name-writeup-seed$seed" --model "$name" --recipe "$name-writeup" --seed "$seed" --time-limit "$budget"
        train "$name-default-seed$seed" --model "$name" --seed "$seed"
        peer "$out/$name-writeup-seed$seed" "$seed" ;;
    esac
  done
done

# The page names each section's CPU and toolkit version from its runs' config.json (sections can come from different
# invocations).
/usr/bin/python3 bench/writeups_doc.py --runs "$out" --doc "$doc" --seeds "$seeds" --threads "$threads" --budget "$budget" \
  --experiment-epochs "$experiment_epochs" --experiment-subset "$experiment_subset" --experiment-val "$experiment_val" \
  "${smoke_flag[@]}"
echo "wrote $doc" >&2
