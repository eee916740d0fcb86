"""docs/writeups.md from the runs of bench/writeups.sh: a table per write-up (its headline figures; this toolkit with
the write-up's recipe, its PyTorch peer, this toolkit with the network's default recipe, and the time each took to
reach the write-up's figure, or where it states none an accuracy both reached), the sweeps' plots copied beside the
page, and a short summary table for the README.

    /usr/bin/python3 bench/writeups_doc.py --runs runs/writeups --doc docs/writeups.md --seeds "0" --threads 2 ...

Only reads the run folders (config.json, results.json, metrics.csv, the sweeps' PNG files) and the peers' JSON; a run
not finished yet shows as "not run". A write-up none of whose runs is here (they were trained on another machine) keeps
its section and summary rows as the page had them, so that re-measuring one write-up does not erase the others.
"""
import argparse
import csv
import json
import math
import os
import shutil
import statistics

# The headline figures: (section, label, network, the write-up's figure as a fraction or None, its text,
# the write-up recipe's run (per seed), the default recipe's run (per seed)).
FIGURES = [
    ("tutorial", "2 conv blocks", "tutorial", None, "lost (its images)", "tutorial-writeup-seed{s}/depth=2", "tutorial-default-seed{s}/depth=2"),
    ("tutorial", "3 conv blocks", "tutorial", None, "lost (its images)", "tutorial-writeup-seed{s}/depth=3", "tutorial-default-seed{s}/depth=3"),
    ("tutorial", "4 conv blocks", "tutorial", None, "lost (its images)", "tutorial-writeup-seed{s}/depth=4", "tutorial-default-seed{s}/depth=4"),
    ("simple-deep", "simple", "simple", 0.54, "54%", "simple-deep-writeup-seed{s}/model=simple", "simple-default-seed{s}"),
    ("simple-deep", "deep", "deep", 0.69, "69%", "simple-deep-writeup-seed{s}/model=deep", "deep-default-seed{s}"),
    ("resnet18", "ResNet-18 (torchvision)", "resnet18-imagenet", 0.71, "71% after 8 epochs",
     "resnet18-imagenet-writeup-seed{s}", "resnet18-imagenet-default-seed{s}"),
    ("vgg16", "VGG16", "vgg16", None, "not stated in its text", "vgg16-writeup-seed{s}", "vgg16-default-seed{s}"),
    ("wide", "wide", "wide", None, "not reported", "wide-writeup-seed{s}", "wide-default-seed{s}"),
]

SECTIONS = {
    "tutorial": ("The PyTorch tutorial: 2, 3 and 4 conv blocks", "pytorch-tutorial"),
    "simple-deep": ("`simple` (54%) and `deep` (69%)", "simple-deep-writeup"),
    "resnet18": ("torchvision's ResNet-18 from scratch (71% after 8 epochs)", "resnet18-writeup"),
    "vgg16": ("VGG16 and its five experiments", "vgg16-writeup"),
    "wide": ("The wide 6-conv network", "wide-writeup"),
}

EXPERIMENTS = [  # folder, the setting swept, what the write-up showed, a note on reading the plot (or None)
    ("epochs", "epochs", "a short against a long schedule (the write-up: 10 against 100 epochs): too few epochs underfit",
     "With one seed and a rate that stays constant until epoch 75, the shorter runs train exactly the longer one's "
     "first epochs, so their curves lie under its curve."),
    ("lr", "lr", "a good learning rate against two too high (the write-up: too high converges slowly or not at all)", None),
    ("batch-size", "batch-size", "batch size (the write-up: larger batches are faster per image and less noisy)", None),
    ("dropout", "dropout", "dropout before the classifier (the write-up: training loss falls more slowly, test accuracy about the same)", None),
    ("weight-decay", "weight-decay", "weight decay (the write-up: an unreasonable value ruins the model)", None),
]


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def toolkit_run(folder):
    """A finished run of this toolkit: its result, schedule and the times at which each epoch ended."""
    results = read_json(os.path.join(folder, "results.json"))
    manifest = read_json(os.path.join(folder, "config.json"))
    if results is None or manifest is None:
        return None
    with open(os.path.join(folder, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    # Everything before the first epoch: the process start, the data and the network.
    before = results["total_seconds"] - results["train_seconds"] - results.get("test_seconds", 0) - results.get("report_seconds", 0)
    ends, clock = [], before
    for row in rows:
        clock += float(row["seconds"])
        ends.append((clock, float(row["val_acc"])))
    config = manifest["config"]
    environment = manifest.get("environment", {})
    return {"accuracy": results["test_accuracy"], "seconds": results["total_seconds"], "recipe": config["recipe"],
            "epochs": results["epochs_completed"], "planned": config["epochs"], "stopped": results.get("stop_reason"),
            "ends": ends, "folder": folder, "cpu": environment.get("cpu", "an unrecorded CPU"),
            "version": environment.get("toolkit_version", "an unrecorded version"), "date": manifest.get("created", "")[:10]}


def peer_run(folder):
    peer = read_json(folder + "-pytorch.json")
    if peer is None:
        return None
    return {"accuracy": peer["test_accuracy"], "seconds": peer["total_seconds"], "epochs": len(peer["epochs"]),
            "ends": [(e["seconds"], e["val_accuracy"]) for e in peer["epochs"]]}


def reached(run, target):
    """Seconds from the start of the process to the end of the first epoch whose validation accuracy is at least target."""
    return next((seconds for seconds, accuracy in run["ends"] if accuracy >= target), None)


def shared_target(row):
    """The accuracy the times are measured to: the write-up's figure, or where it states none the highest whole percent
    that every run of the default recipe and of the PyTorch peer reached (in validation), so that the two times compare
    the same accuracy. None when either has not run."""
    if row["target"] is not None:
        return row["target"]
    runs = row["best"] + row["peer"]
    if not row["best"] or not row["peer"]:
        return None
    return math.floor(min(max(accuracy for _, accuracy in run["ends"]) for run in runs) * 100) / 100


def target_text(row):
    """How a row names what its times reach: nothing for the write-up's figure, the percent where it is a shared one."""
    return "" if row["target"] is not None or row["reach"] is None else f"{row['reach']:.0%} (reached by both): "


def spread(values, unit=""):
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{values[0]:.2f}{unit}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}{unit} ({len(values)} seeds)"


def accuracy(runs):
    return spread([r["accuracy"] * 100 for r in runs], "%") if runs else "not run"


def duration(seconds_list):
    """Minutes with one decimal (mean ± sd over seeds)."""
    minutes = [s / 60 for s in seconds_list]
    if len(minutes) == 1:
        return f"{minutes[0]:.1f} min"
    return f"{statistics.mean(minutes):.1f} ± {statistics.stdev(minutes):.1f} min"


def minutes(runs):
    return duration([r["seconds"] for r in runs]) if runs else "not run"


def time_to(runs, target):
    if target is None or not runs:
        return "—"
    got = [t for t in (reached(r, target) for r in runs) if t is not None]
    if not got:
        return "not reached"
    text = duration(got)
    return text if len(got) == len(runs) else f"{text} ({len(runs) - len(got)} of {len(runs)} seeds not reached)"


def provenance(rows):
    """Where a section's runs of this toolkit ran, as their config.json recorded it: the CPU, the toolkit's version
    (its commit after the g) and the dates. Sections can come from different invocations (the command trains only what
    is missing), so each names its own; more than one CPU in a section shows that its rows are not side by side."""
    runs = [run for row in rows for run in row["ours"] + row["best"]]
    if not runs:
        return None
    def listed(values):
        return ", ".join(sorted(set(values)))
    return f"Ran on {listed(r['cpu'] for r in runs)}; toolkit {listed(r['version'] for r in runs)}; {listed(r['date'] for r in runs)}."


def plural(count, word):
    return f"{count} {word}{'' if count == 1 else 's'}"


def epochs_note(runs):
    """How many epochs the runs trained: all of the schedule, or the prefix the time limit left."""
    if not runs:
        return ""
    run = runs[0]
    if run["stopped"]:
        return f" ({run['epochs']} of {run['planned']} epochs: the longest prefix within the budget)"
    return f" ({plural(run['epochs'], 'epoch')})"


def copy_plot(source, docs_folder, name):
    """Copies a plot next to the page; returns its path relative to the page, or None when the run has none."""
    if not os.path.exists(source):
        return None
    os.makedirs(docs_folder, exist_ok=True)
    shutil.copyfile(source, os.path.join(docs_folder, name))
    return f"{os.path.basename(docs_folder)}/{name}"


def written_page(doc):
    """The page as it stands: each "## " section's lines by title, and the summary's rows by (write-up cell, label)."""
    sections, summary, title = {}, {}, None
    if not os.path.exists(doc):
        return sections, summary
    for line in open(doc).read().split("\n"):
        if line.startswith("## "):
            title = line[3:]
            sections[title] = []
        if title is None:
            continue
        sections[title].append(line)
        if title == "Summary" and line.startswith("| `"):
            cells = line.split(" | ")
            summary[(cells[0], cells[1])] = line
    return sections, summary


def has_runs(section, rows, runs_folder):
    return (any(r["ours"] or r["peer"] or r["best"] for r in rows if r["section"] == section)
            or (section == "vgg16" and os.path.isdir(os.path.join(runs_folder, "vgg16-experiments"))))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", required=True)
    parser.add_argument("--doc", required=True)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--threads", default="")
    parser.add_argument("--budget", default="60")
    parser.add_argument("--experiment-epochs", default="6")
    parser.add_argument("--experiment-subset", default="5000")
    parser.add_argument("--experiment-val", default="2000")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    seeds = args.seeds.split()
    runs_folder = args.runs
    docs_folder = os.path.join(os.path.dirname(args.doc) or ".", "writeups")
    out = []
    say = out.append

    say("# The write-ups, reproduced")
    say("")
    if args.smoke:
        say("**A smoke test** (`bash bench/writeups.sh --smoke`): every run on 256 training images for 1 epoch; the figures "
            "mean nothing, the page shows that every step runs.")
        say("")
    say("Four public CIFAR-10 write-ups trained the networks of this toolkit in PyTorch; each is reproduced here by one "
        "command, `bash bench/writeups.sh NAME` (NAME: tutorial, simple-deep, resnet18, vgg16, wide; all five without "
        "one), which trains what is missing and writes this page. For each headline figure: the write-up's number; this "
        "toolkit trained with the write-up's own recipe (`--recipe`, restating what the write-up trained with; "
        "`cifar10 models` lists them and what was chosen where a write-up is silent); the PyTorch peer of that same "
        "run (`bench/pytorch/train_writeup.py` reads its config.json: same recipe, seed, validation split and data "
        "files); and this toolkit with the network's default recipe, its best (`cifar10 train --model NAME` alone; "
        "how each was chosen: [defaults.md](defaults.md)).")
    say("")
    seeds_text = ", ".join(seeds) + (" (a figure with ± is the mean and standard deviation over the seeds that ran; one "
                                     f"without is seed {seeds[0]} alone)" if len(seeds) > 1 else "")
    say(f"Threads: {args.threads}; seeds: {seeds_text}. Each section names the CPU, the toolkit's version and the dates its "
        "runs recorded (a run's config.json): the command trains only what is missing, so sections can come from "
        "different invocations, and a section that names two CPUs mixes machines. Ours: TorchSharp 0.107.0 (libtorch 2.10.0); the peer: Debian's python3-torch 1.13 on OpenBLAS.")
    say("")
    say("How to read the figures: accuracy is the test set's, measured once after training with the weights best on "
        "the validation set (5,000 training images held out; the write-ups watched the test set itself). Time is the "
        "whole command, from the process start to the printed test accuracy. \"Reaches the figure\" is the end of the "
        "first epoch whose *validation* accuracy is at least the write-up's number, from the process start; where a "
        "write-up states no number, at least the highest whole percent that every run of the default recipe and of "
        "the PyTorch peer reached, named in the cell. "
        f"A write-up's schedule longer than {args.budget} minutes runs its longest prefix that fits (`--time-limit "
        f"{args.budget}`), and its peer the same epochs.")
    say("")

    def collect(template, kind):
        found = []
        for seed in seeds:
            folder = os.path.join(runs_folder, template.format(s=seed))
            run = toolkit_run(folder) if kind == "toolkit" else peer_run(folder)
            if run is not None:
                found.append(run)
        return found

    written, written_summary = written_page(args.doc)
    rows = []
    for section, label, model, target, text, writeup, default in FIGURES:
        row = {"section": section, "label": label, "model": model, "target": target, "text": text,
               "ours": collect(writeup, "toolkit"), "peer": collect(writeup, "peer"), "best": collect(default, "toolkit")}
        row["reach"] = shared_target(row)
        rows.append(row)
    kept = {section for section, (title, _) in SECTIONS.items()
            if title in written and not has_runs(section, rows, runs_folder)}

    if not any(row["ours"] or row["peer"] or row["best"] for row in rows):
        say(f"**Nothing measured yet**: no run has finished under `{runs_folder}`. `bash bench/writeups.sh` (about 7 hours "
            "on a 2-core machine) trains them and writes this page again.")
        say("")
    say("## Summary")
    say("")
    say("| write-up | network | its figure | its recipe, this toolkit | its recipe, PyTorch | this toolkit's default recipe: reaches the figure in | ends at |")
    say("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        writeup_cell = f"| `{SECTIONS[row['section']][1]}`"
        if row["section"] in kept and (writeup_cell, row["label"]) in written_summary:
            say(written_summary[(writeup_cell, row["label"])])
            continue
        best = row["best"]
        ends = f"{accuracy(best)} in {minutes(best)}" if best else "not run"
        say(f"{writeup_cell} | {row['label']} | {row['text']} | {accuracy(row['ours'])} | {accuracy(row['peer'])} "
            f"| {target_text(row)}{time_to(best, row['reach'])} | {ends} |")
    say("")

    for section, (title, recipe) in SECTIONS.items():
        if section in kept:
            out.extend(written[title])
            continue
        say(f"## {title}")
        say("")
        section_rows = [r for r in rows if r["section"] == section]
        ran = provenance(section_rows)
        say(f"`bash bench/writeups.sh {section}`; the write-up's recipe: `--recipe {recipe}`." + (f" {ran}" if ran else ""))
        say("")
        say("| figure | the write-up | its recipe, this toolkit | time | its recipe, PyTorch | time | default recipe, this toolkit | time | reaches the figure: default / its recipe / PyTorch |")
        say("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for row in section_rows:
            default_name = f" `{row['best'][0]['recipe']}`" if row["best"] else ""
            say(f"| {row['label']} | {row['text']} | {accuracy(row['ours'])} | {minutes(row['ours'])}{epochs_note(row['ours'])} "
                f"| {accuracy(row['peer'])} | {minutes(row['peer'])} | {accuracy(row['best'])}{default_name} "
                f"| {minutes(row['best'])}{epochs_note(row['best'])} "
                f"| {target_text(row)}{time_to(row['best'], row['reach'])} / {time_to(row['ours'], row['reach'])} / {time_to(row['peer'], row['reach'])} |")
        say("")
        first = seeds[0]
        plots = []
        if section == "tutorial":
            sweep = os.path.join(runs_folder, f"tutorial-writeup-seed{first}")
            plots += [("The graph: accuracy per depth (the write-up's recipe)", copy_plot(os.path.join(sweep, "accuracy_vs_depth.png"), docs_folder, "tutorial-depth.png")),
                      ("Validation accuracy per epoch, per depth", copy_plot(os.path.join(sweep, "validation_curves.png"), docs_folder, "tutorial-curves.png"))]
        elif section == "simple-deep":
            sweep = os.path.join(runs_folder, f"simple-deep-writeup-seed{first}")
            plots += [("deep against the less deep simple: validation accuracy per epoch (the write-up's TensorBoard "
                       "picture shows test accuracy; the held-out validation set stands in for it)",
                       copy_plot(os.path.join(sweep, "validation_curves.png"), docs_folder, "deep-vs-simple.png")),
                      ("deep: train and validation loss per epoch",
                       copy_plot(os.path.join(sweep, "model=deep", "loss.png"), docs_folder, "deep-loss.png")),
                      ("simple: train and validation loss per epoch",
                       copy_plot(os.path.join(sweep, "model=simple", "loss.png"), docs_folder, "simple-loss.png"))]
        elif section in ("resnet18", "vgg16", "wide"):
            network = "resnet18-imagenet" if section == "resnet18" else section
            run = os.path.join(runs_folder, f"{network}-writeup-seed{first}")
            plots += [(f"{network} with the write-up's recipe: train and validation loss per epoch",
                       copy_plot(os.path.join(run, "loss.png"), docs_folder, f"{network}-loss.png"))]
        for caption, path in plots:
            if path:
                say(f"![{caption}]({path})")
                say("")
                say(f"*{caption}.*")
                say("")
        if section == "vgg16":
            experiments(say, runs_folder, docs_folder, args)
    os.makedirs(os.path.dirname(args.doc) or ".", exist_ok=True)
    with open(args.doc, "w") as f:
        f.write("\n".join(out).rstrip() + "\n")


def experiments(say, runs_folder, docs_folder, args):
    say("### The five experiments")
    say("")
    say(f"Each is a sweep of the write-up's recipe on the first {args.experiment_subset} training images for "
        f"{plural(int(args.experiment_epochs), 'epoch')} (validation: {args.experiment_val} held-out images), budgeted to about an hour "
        "on a 2-core machine for the five: the point is the effect, not the last point. The baseline trial (lr 0.001, "
        "batch 64, no dropout, no weight decay) is trained once and shared by the five.")
    say("")
    for folder, setting, what, note in EXPERIMENTS:
        sweep = os.path.join(runs_folder, "vgg16-experiments", folder)
        results = os.path.join(sweep, "results.csv")
        say(f"#### {setting}: {what}")
        say("")
        if note:
            say(note)
            say("")
        if not os.path.exists(results):
            say("Not run yet.")
            say("")
            continue
        with open(results) as f:
            trials = list(csv.DictReader(f))
        say(f"| {setting} | best validation accuracy (epoch) | test accuracy | time |")
        say("| ---: | ---: | ---: | ---: |")
        for t in trials:
            best = float(t["best_val_acc"])
            best_text = "n/a" if math.isnan(best) else f"{best:.2%} ({t['best_val_epoch']})"
            say(f"| {t[setting]} | {best_text} | {float(t['test_acc']):.2%} | {duration([float(t['seconds'])])} |")
        say("")
        for caption, source, name in [
                (f"Validation accuracy per epoch, one curve per {setting}", "validation_curves.png", f"vgg16-{folder}-curves.png"),
                (f"Accuracy against {setting}", f"accuracy_vs_{setting}.png", f"vgg16-{folder}-accuracy.png")]:
            path = copy_plot(os.path.join(sweep, source), docs_folder, name)
            if path:
                say(f"![{caption}]({path})")
                say("")


if __name__ == "__main__":
    main()
