"""The PyTorch peer of `cifar10 train` for the classic networks (simple, deep, wide, tutorial, vgg16, resnet18,
resnet18-imagenet) with the recipes that train them: the write-ups' own (pytorch-tutorial, simple-deep-writeup,
resnet18-writeup, vgg16-writeup, wide-writeup), classic and the networks' defaults.

It reads the settings from a C# run's config.json, so both sides train the same recipe with the same seed, epochs,
threads and data files (checked against the run's SHA-256s), and it refuses a setting it does not implement rather
than train another recipe. What it restates is the procedure, as src/Cifar10/Training does it: the seeded validation
split (the same images: libtorch's randperm is PyTorch's), the subset, normalisation with CIFAR-10's statistics,
random crops (zero or reflect padding) and flips on uint8 batches, a last batch of one image dropped, SGD (momentum,
Nesterov, weight decay) or Adam/AdamW, the learning rate set every step by the same schedule functions
(LearningRateSchedule.cs) with the warm-up, label smoothing, gradient clipping, the forward pass and loss under bf16
autocast where the run resolved its precision to bf16, validation after every epoch, and the test accuracy of the
weights best on validation (the last without a validation set). Random numbers differ (another library): the
shuffles, augmentations, dropout and initial weights agree in distribution, not bit for bit.

A run stopped by --time-limit is followed for as many epochs as it completed (its results.json), on the schedule of
its full length: the same prefix. --stop-after N does the same by hand.

    /usr/bin/python3 bench/pytorch/train_writeup.py runs/writeups/deep-writeup-seed0/config.json [--stop-after N]

Prints one line per epoch and, last, one JSON object: test_accuracy, best_epoch, epochs (one entry per epoch:
seconds since the process started, train loss and accuracy, validation loss and accuracy), train_seconds,
total_seconds (from the start of the process), max_rss_kb, torch, threads.
"""
import argparse
import copy
import json
import math
import os
import resource
import sys
import time

START = time.perf_counter()

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402
from train_recipe import fail, normalize, read_split  # noqa: E402

NETWORKS = ("simple", "deep", "wide", "tutorial", "vgg16", "resnet18", "resnet18-imagenet")
TRAIN_FILES = [f"data_batch_{i}.bin" for i in range(1, 6)]


def check_supported(c):
    """The settings this peer implements; anything else would silently train another recipe."""
    if c["model"] not in NETWORKS:
        fail(f"the PyTorch peer implements {', '.join(NETWORKS)} (the fast network's is train_recipe.py), the run has {c['model']}")
    wanted = {"alternating_flip": False, "cutout": 0, "lookahead": False, "early_stop": 0, "low_res": 0, "tta": False,
              "dataset": "cifar10", "norm_bias_lr_scale": 1, "head_lr_scale": 1}
    for key, value in wanted.items():
        if c.get(key, value) != value:
            fail(f"the PyTorch peer implements {key} = {value}, the run has {c.get(key)}")
    if c["optimizer"] not in ("sgd", "adam", "adamw"):
        fail(f"the PyTorch peer implements sgd, adam and adamw, the run has {c['optimizer']}")
    if c["precision"] not in ("fp32", "bf16"):
        fail(f"the PyTorch peer implements fp32 and bf16, the run has {c['precision']}")


def network(c):
    """The network as the C# catalog builds it, with the run's dropout (None: the network's own) and depth."""
    p = c.get("dropout")
    if c["model"] == "deep" and p is not None:
        return models.DeepNet(10, dropout1=p, dropout2=p)
    if c["model"] == "wide" and p is not None:
        return models.wide(10, dropout=p)
    if c["model"] == "vgg16" and p is not None:
        return models.VGG(num_classes=10, dropout=p)
    return models.build(c["model"], depth=c.get("depth", 3))


def learning_rate(c, step, steps_per_epoch, epochs):
    """src/Cifar10/Training/LearningRateSchedule.cs: the rate of 0-based `step` of a run of `epochs` epochs."""
    base, total = c["lr"], steps_per_epoch * epochs
    progress = 0 if total <= 1 else step / (total - 1)
    epoch = step // steps_per_epoch
    kind = c["schedule"]
    if kind == "constant":
        rate = base
    elif kind == "step":
        rate = base * c["gamma"] ** (epoch // c["step_size"])
    elif kind == "multistep":
        rate = base * c["gamma"] ** sum(epoch >= m for m in c["milestones"])
    elif kind == "cosine":
        rate = base * 0.5 * (1 + math.cos(math.pi * progress))
    elif kind == "onecycle":
        initial = base / 25
        final = initial / 1e4
        def cosine(start, end, fraction): return end + (start - end) * 0.5 * (1 + math.cos(math.pi * fraction))
        rate = cosine(initial, base, progress / 0.3) if progress <= 0.3 else cosine(base, final, (progress - 0.3) / 0.7)
    elif kind == "triangle":
        peak = int(0.23 * total)
        rate = base * ((1 if peak == 0 else 0.2 + 0.8 * step / peak) if step <= peak
                       else 1 + (0.07 - 1) * (step - peak) / (total - peak))
    elif kind == "linear":
        rate = base * (1 - step / total)
    else:
        fail(f"unknown schedule {kind}")
    warmup = round(c.get("warmup", 0) * steps_per_epoch)
    if warmup > 0 and step < warmup:
        rate *= (step + 1) / warmup
    return rate


def optimizer_of(c, model):
    parameters = [p for p in model.parameters() if p.requires_grad]
    if c["optimizer"] == "sgd":
        return torch.optim.SGD(parameters, lr=c["lr"], momentum=c["momentum"], weight_decay=c["weight_decay"],
                               nesterov=c["nesterov"])
    kind = torch.optim.Adam if c["optimizer"] == "adam" else torch.optim.AdamW
    return kind(parameters, lr=c["lr"], weight_decay=c["weight_decay"])


def split(images, labels, validation_size, seed):
    """src/Cifar10/Data/Split.cs: a seeded randperm, its first images held out; both parts keep their order."""
    if validation_size == 0:
        return (images, labels), (images[:0], labels[:0])
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    held, kept = order[:validation_size].sort().values, order[validation_size:].sort().values
    return (images[kept], labels[kept]), (images[held], labels[held])


def augment(batch, c, generator):
    """src/Cifar10/Data/Augmentation.cs: crop (pad, then a window at a random offset per image), then flip."""
    n = batch.shape[0]
    if c["crop"]:
        pad = c["crop_padding"]
        if c["pad_mode"] == "reflect":
            padded = F.pad(batch.float(), [pad] * 4, mode="reflect").to(torch.uint8)  # reflect needs float in 1.13
        else:
            padded = F.pad(batch, [pad] * 4)
        top = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
        left = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
        rows = top.view(n, 1, 1) + torch.arange(32).view(1, 32, 1)
        columns = left.view(n, 1, 1) + torch.arange(32).view(1, 1, 32)
        index = (rows * (32 + 2 * pad) + columns).view(n, 1, -1).expand(n, 3, -1)
        batch = padded.reshape(n, 3, -1).gather(2, index).view(n, 3, 32, 32)
    if c["flip"]:
        flip = torch.rand(n, generator=generator) < 0.5
        batch = torch.where(flip.view(-1, 1, 1, 1), batch.flip(3), batch)
    return batch


@torch.no_grad()
def evaluate(model, images, labels, batch_size, autocast):
    """Mean cross-entropy and accuracy, in eval mode (src/Cifar10/Evaluation/Evaluator.cs without TTA)."""
    model.eval()
    loss_sum, correct = 0.0, 0
    for start in range(0, len(images), batch_size):
        with autocast:
            logits = model(normalize(images[start:start + batch_size])).float()
        target = labels[start:start + batch_size]
        loss_sum += F.cross_entropy(logits, target, reduction="sum").item()
        correct += (logits.argmax(1) == target).sum().item()
    return loss_sum / len(images), correct / len(images)


def epochs_to_run(args, run_folder, epochs):
    """The C# run's prefix: --stop-after, else the epochs a run stopped early (by --time-limit) completed."""
    if args.stop_after:
        return min(args.stop_after, epochs)
    results = os.path.join(run_folder, "results.json")
    if os.path.exists(results):
        finished = json.load(open(results))
        if finished.get("stop_reason"):
            return finished["epochs_completed"]
    return epochs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("config", help="a C# run's config.json")
    parser.add_argument("--stop-after", type=int, help="stop after N epochs, on the schedule of the run's full length")
    args = parser.parse_args()
    run = json.load(open(args.config))
    c = run["config"]
    check_supported(c)
    torch.set_num_threads(c["threads"] or os.cpu_count())
    seed, epochs = c["seed"], c["epochs"]
    stop_after = epochs_to_run(args, os.path.dirname(os.path.abspath(args.config)), epochs)

    folder, expected = run["data_folder"], run["data_files"]
    images, labels = read_split(folder, TRAIN_FILES, expected)
    test_images, test_labels = read_split(folder, ["test_batch.bin"], expected)
    held = c["val_size"] if c["val_size"] is not None else min(5000, int(len(images) * 0.1))
    (train_images, train_labels), (val_images, val_labels) = split(images, labels, held, seed)
    if 0 < c["subset"] < len(train_images):
        train_images, train_labels = train_images[:c["subset"]], train_labels[:c["subset"]]

    torch.manual_seed(seed)
    model = network(c)
    optimizer = optimizer_of(c, model)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=c["precision"] == "bf16")
    generator = torch.Generator().manual_seed(seed)
    n, batch_size = len(train_images), c["batch_size"]
    batches = [(s, min(batch_size, n - s)) for s in range(0, n, batch_size) if min(batch_size, n - s) > 1]
    parameters = [p for p in model.parameters() if p.requires_grad]

    history, best_accuracy, best_epoch, best_state = [], -1.0, 0, None
    train_clock = time.perf_counter()
    step = 0
    for epoch in range(1, stop_after + 1):
        model.train()
        order = torch.randperm(n, generator=generator)
        epoch_clock = time.perf_counter()
        loss_sum, correct = 0.0, 0
        for begin, length in batches:
            index = order[begin:begin + length]
            x = normalize(augment(train_images[index], c, generator))
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(c, step, len(batches), epochs)
            with autocast:
                logits = model(x)
                loss = F.cross_entropy(logits, train_labels[index], label_smoothing=c["label_smoothing"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if c["clip_grad_norm"] > 0:
                torch.nn.utils.clip_grad_norm_(parameters, c["clip_grad_norm"])
            optimizer.step()
            if not math.isfinite(loss.item()):
                fail(f"the loss diverged in epoch {epoch}")
            loss_sum += loss.item() * length
            correct += (logits.argmax(1) == train_labels[index]).sum().item()
            step += 1
        seen = sum(length for _, length in batches)
        val_loss, val_accuracy = (evaluate(model, val_images, val_labels, c["eval_batch_size"], autocast)
                                  if len(val_images) else (float("nan"), float("nan")))
        if len(val_images) and val_accuracy > best_accuracy:
            best_accuracy, best_epoch, best_state = val_accuracy, epoch, copy.deepcopy(model.state_dict())
        history.append({"epoch": epoch, "seconds": round(time.perf_counter() - START, 2),
                        "train_loss": loss_sum / seen, "train_accuracy": correct / seen,
                        "val_loss": val_loss, "val_accuracy": val_accuracy})
        seconds = time.perf_counter() - epoch_clock
        print(f"epoch {epoch}/{epochs}  train loss {loss_sum / seen:.4f} acc {correct / seen:.2%}  "
              f"val loss {val_loss:.4f} acc {val_accuracy:.2%}  {seconds:.1f} s  {n / seconds:.1f} img/s", flush=True)
    train_seconds = time.perf_counter() - train_clock
    if best_state is not None:
        model.load_state_dict(best_state)
    _, accuracy = evaluate(model, test_images, test_labels, c["eval_batch_size"], autocast)
    print(json.dumps({"test_accuracy": accuracy, "best_epoch": best_epoch or stop_after, "epochs": history,
                      "train_seconds": round(train_seconds, 1), "total_seconds": round(time.perf_counter() - START, 1),
                      "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
