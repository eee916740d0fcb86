#!/usr/bin/env bash
# Time to accuracy (issue 12): `cifar10 train` with each recipe and seed, timed from command start to the
# printed test accuracy (TTA included), beside the PyTorch peer of the same run (bench/pytorch/train_recipe.py,
# which reads that run's config.json: same recipe, seed, epochs, threads and data files). Prints a table per run,
# the mean and spread per recipe, the speed-up over the first recipe, and draws accuracy against wall time.
#
#   bash bench/time-to-accuracy.sh [DATA] [--recipes "airbench94:5682407 muon muon@4"] [--seeds "0 1 2"] [--peer-seeds "0 1 2"]
#                                  [--epochs N] [--table-only]
#
# A recipe is RECIPE[@EPOCHS][:COMMIT]. RECIPE@N runs it with its schedule shortened to N epochs (the 90% and 85%
# targets); --epochs N does so for every recipe that names none. RECIPE:COMMIT runs it with the toolkit as it was
# at that commit (built in a git worktree, runs/profile/build-COMMIT, by bench/bench-at.sh): the baseline a
# speed-up is measured against is the old recipe on the old code, on the same machine. --peer-seeds chooses the seeds whose
# PyTorch peer runs ("" for none); --table-only trains nothing and shows the finished runs among those asked for.
# docs/results.md has what a run took on each machine measured; the peer takes longer. Finished runs (results.json,
# or the peer's JSON) are not run again; everything lives in runs/time-to-accuracy/RECIPE[-eN][-COMMIT]-seedS{,.log,
# .time,-pytorch.*}. A run is known by that name alone: after a recipe changes, move its old runs out of the folder
# (the old recipe is RECIPE:COMMIT).
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/data/cifar-10-binary.tar.gz
recipes="airbench94 muon"
seeds="0 1 2"
peer_seeds=""
peer_seeds_given=false
epochs=""
table_only=false
while [ $# -gt 0 ]; do
  case "$1" in
    --recipes) recipes=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --peer-seeds) peer_seeds=$2; peer_seeds_given=true; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --table-only) table_only=true; shift ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) data=$1; shift ;;
  esac
done
[ "$peer_seeds_given" = true ] || peer_seeds=$seeds
out=runs/time-to-accuracy
threads=$(nproc)
mkdir -p "$out"
if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time (wall time and peak memory of each run) with apt-get..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
# shellcheck source=bench/pytorch-peer.sh
source bench/pytorch-peer.sh
dotnet build -c Release src/Cifar10.Cli -v q -nologo >/dev/null
dotnet build -c Release bench/Cifar10.Bench -v q -nologo >/dev/null

# A recipe as asked for: "muon" (its own schedule, or --epochs), "muon@4" (4 epochs), "airbench94:5682407" (the
# toolkit at that commit).
commit_of() { if [[ $1 == *:* ]]; then echo "${1#*:}"; fi; }
recipe_of() { local r=${1%%:*}; echo "${r%@*}"; }
epochs_of() { local r=${1%%:*}; if [[ $r == *@* ]]; then echo "${r#*@}"; else echo "$epochs"; fi; }
run_name() {
  local n c; n=$(epochs_of "$1"); c=$(commit_of "$1")
  echo "$out/$(recipe_of "$1")${n:+-e$n}${c:+-$c}-seed$2"
}
# The tool that trains a recipe: this checkout's, or the one built at the recipe's commit.
# shellcheck source=bench/bench-at.sh
source bench/bench-at.sh
cli_for() {
  local c; c=$(commit_of "$1")
  if [ -z "$c" ]; then echo "src/Cifar10.Cli/bin/Release/net10.0/cifar10.dll"; return; fi
  cli_dll_at "$c"
}

# One heavy job at a time: with 2 cores, two runs side by side would each measure the other.
for spec in $recipes; do
  for seed in $seeds; do
    [ "$table_only" = false ] || continue
    run=$(run_name "$spec" "$seed")
    n=$(epochs_of "$spec")
    if [ ! -f "$run/results.json" ]; then
      cli=$(cli_for "$spec")
      echo "training $run ..." >&2
      /usr/bin/time -v -o "$run.time" dotnet "$cli" train --recipe "$(recipe_of "$spec")" --seed "$seed" --threads "$threads" \
        ${n:+--epochs "$n"} --data "$data" --out "$run" --force >"$run.log" 2>&1 \
        || { echo "run $run failed, see $run.log" >&2; exit 1; }
    fi
    if [[ " $peer_seeds " == *" $seed "* ]] && ! /usr/bin/python3 -c "import json,sys; json.load(open(sys.argv[1]))['test_accuracy']" "$run-pytorch.json" 2>/dev/null; then
      echo "training the PyTorch peer of $run ..." >&2
      /usr/bin/time -v -o "$run-pytorch.time" /usr/bin/python3 bench/pytorch/train_recipe.py "$run/config.json" >"$run-pytorch.log" 2>&1 \
        || { echo "the PyTorch peer of $run failed, see $run-pytorch.log" >&2; exit 1; }
      tail -1 "$run-pytorch.log" > "$run-pytorch.json"
    fi
  done
done

# shellcheck source=bench/machine.sh
source bench/machine.sh
echo "Machine: ${cpu}, $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; threads ${threads}"
echo "Ours: TorchSharp 0.107.0 (libtorch 2.10.0). Peer: PyTorch ${peer_torch_version} (Debian), BLAS ${peer_blas}"
echo "Data: ${data}. Wall time: /usr/bin/time, from command start to the printed test accuracy; peak RSS: the same."
echo
runs=()
for spec in $recipes; do
  for seed in $seeds; do
    run=$(run_name "$spec" "$seed")
    if [ -f "$run/results.json" ]; then runs+=("$run"); else echo "(no finished run $run)" >&2; fi
  done
done
[ ${#runs[@]} -gt 0 ] || { echo "no finished runs to show" >&2; exit 1; }
/usr/bin/python3 - "$out/time-to-accuracy.csv" "${runs[@]}" <<'PY'
import json, os, re, statistics, sys

def measured(time_file):
    """Wall seconds and peak resident KiB from a GNU time -v file, or None for what it lacks."""
    wall = peak = None
    if os.path.exists(time_file):
        for line in open(time_file):
            if "Elapsed (wall clock)" in line:
                parts = [float(p) for p in line.rsplit(" ", 1)[1].split(":")]
                wall = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
            elif "Maximum resident set size" in line:
                peak = int(line.split(":")[1])
    return wall, peak

def minutes(seconds): return "n/a" if seconds is None else f"{seconds / 60:.1f} min"
def gib(kib): return "n/a" if kib is None else f"{kib / 1024 ** 2:.2f} GiB"
def spread(values, unit):
    return f"{statistics.mean(values):{unit}} ± {statistics.stdev(values):{unit}}" if len(values) > 1 else f"{values[0]:{unit}}"

rows = []
for run in sys.argv[2:]:
    config = json.load(open(os.path.join(run, "config.json")))["config"]
    result = json.load(open(os.path.join(run, "results.json")))
    wall, peak = measured(run + ".time")
    # The toolkit's commit, for a baseline run on older code (RECIPE:COMMIT); "" for this checkout.
    build = re.search(r"-([0-9a-f]{7,40})-seed\d+$", run)
    row = {"run": os.path.basename(run), "build": build.group(1) if build else "", "recipe": config["recipe"], "seed": config["seed"], "epochs": config["epochs"],
           "tta": config.get("tta_confidence", 1), "accuracy": result["test_accuracy"],
           "wall": wall if wall is not None else result["total_seconds"], "peak": peak,
           "train": result["train_seconds"], "test": result.get("test_seconds"), "report": result.get("report_seconds")}
    if os.path.exists(run + "-pytorch.json"):
        peer = json.load(open(run + "-pytorch.json"))
        peer_wall, peer_peak = measured(run + "-pytorch.time")
        row.update(peer_accuracy=peer["test_accuracy"], peer_wall=peer_wall or peer["total_seconds"],
                   peer_peak=peer_peak or peer["max_rss_kb"])
    # The fixed cost: process start, data loading and whitening (everything before the first epoch), the test
    # evaluation and the report. Runs made before results.json recorded the parts show their sum.
    around = row["wall"] - row["train"]
    row["fixed"] = (f"{around - row['test'] - row['report']:.0f} + {row['test']:.0f} + {row['report']:.0f} = {around:.0f} s"
                    if row["test"] is not None else f"{around:.0f} s")
    rows.append(row)

print("| run | epochs | TTA views below confidence | test acc (TTA) | wall | fixed cost: start + test + report | peak RSS | PyTorch test acc | PyTorch wall | PyTorch peak RSS | PyTorch time / ours |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in rows:
    peer = (f"{r['peer_accuracy']:.2%} | {minutes(r['peer_wall'])} | {gib(r['peer_peak'])} | {r['peer_wall'] / r['wall']:.2f}×"
            if "peer_accuracy" in r else "n/a | n/a | n/a | n/a")
    print(f"| {r['run']} | {r['epochs']} | {r['tta']:g} | {r['accuracy']:.2%} | {minutes(r['wall'])} | {r['fixed']} "
          f"| {gib(r['peak'])} | {peer} |")

print()
def series(r): return r["recipe"] + (f" (at {r['build']})" if r["build"] else "")

print("| recipe | epochs | runs | test acc, mean ± sd | wall, mean ± sd | speed-up over the first |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
schedules = list(dict.fromkeys((series(r), r["epochs"]) for r in rows))
first_wall = statistics.mean(r["wall"] for r in rows if (series(r), r["epochs"]) == schedules[0])
for name, epochs in schedules:
    mine = [r for r in rows if (series(r), r["epochs"]) == (name, epochs)]
    walls = [r["wall"] / 60 for r in mine]
    print(f"| {name} | {epochs} | {len(mine)} | {spread([r['accuracy'] * 100 for r in mine], '.2f')}% | {spread(walls, '.1f')} min "
          f"| {first_wall / 60 / statistics.mean(walls):.2f}× |")

# One series per recipe and engine: its schedule lengths are the points of one accuracy-time curve.
with open(sys.argv[1], "w") as csv:
    csv.write("series,minutes,accuracy\n")
    for r in rows:
        csv.write(f"TorchSharp {series(r)},{r['wall'] / 60:.3f},{r['accuracy']}\n")
        if "peer_accuracy" in r:
            csv.write(f"PyTorch {series(r)},{r['peer_wall'] / 60:.3f},{r['peer_accuracy']}\n")
PY
dotnet bench/Cifar10.Bench/bin/Release/net10.0/cifar10-bench.dll accuracy-plot "$out/time-to-accuracy.csv" "$out/time-to-accuracy.png"
echo
echo "(the plot is $out/time-to-accuracy.png, its points $out/time-to-accuracy.csv)"
