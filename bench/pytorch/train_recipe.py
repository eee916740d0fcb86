"""The PyTorch peer of `cifar10 train` for the fast network's recipes (airbench94, muon).

It reads the settings from a C# run's config.json, so both sides train the same recipe with the
same seed, epochs and data files (checked against the run's SHA-256s): nothing is restated here.
What it restates is the procedure, step for step as src/Cifar10/Training does it: whitening from
the first 5,000 images, identity-initialised convs, reflect-padded crops, brightness and contrast jitter
and alternating flips on uint8 batches, label smoothing, Nesterov SGD with airbench's parameter groups or Muon with an SGD
fallback, the triangle or linear schedule, lookahead, the whitening bias trained for the first 30%
of the epochs, progressive resizing, the convolutions in fp32 or bf16 as the run resolved its precision, and the test
accuracy with the 6-view mirror + translate TTA (for the uncertain images only, as configured).
Random numbers differ (another library), so the two sides agree in distribution, not bit for bit.

    /usr/bin/python3 bench/pytorch/train_recipe.py runs/time-to-accuracy/muon-seed0/config.json [--epochs N]

Prints one line per epoch and, last, one JSON object: test_accuracy, train_seconds, total_seconds
(from the start of the process) and max_rss_kb.
"""
import argparse
import hashlib
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
from models import FastNet, FastBlock  # noqa: E402

MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
STD = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)
WHITENING_IMAGES = 5000
FRACTION = 0.3          # whitening bias trained, and lookahead started, after this fraction of the epochs
LOOKAHEAD_EVERY = 5


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def check_supported(c):
    """The settings this peer implements; anything else would silently train another recipe."""
    wanted = {"model": "fast", "crop": True, "pad_mode": "reflect", "alternating_flip": True, "cutout": 0,
              "clip_grad_norm": 0, "warmup": 0, "val_size": 0, "subset": 0, "dataset": "cifar10",
              "dropout": None}
    for key, value in wanted.items():
        if c.get(key) != value:
            fail(f"the PyTorch peer implements {key} = {value}, the run has {c.get(key)}")
    if c["optimizer"] not in ("sgd", "muon") or (c["optimizer"] == "muon" and c["muon_fallback"] != "sgd"):
        fail(f"the PyTorch peer implements sgd and muon with an sgd fallback, the run has {c['optimizer']}")
    if c["precision"] not in ("fp32", "bf16"):
        fail(f"the PyTorch peer implements fp32 and bf16 convolutions, the run has {c['precision']}")
    if c["schedule"] not in ("triangle", "linear"):
        fail(f"the PyTorch peer implements the triangle and linear schedules, the run has {c['schedule']}")


def read_split(folder, names, expected):
    images, labels = [], []
    for name in names:
        raw = open(os.path.join(folder, name), "rb").read()
        if hashlib.sha256(raw).hexdigest() != expected[name]:
            fail(f"{name} differs from the file the C# run trained on")
        records = torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(-1, 3073)
        labels.append(records[:, 0].long())
        images.append(records[:, 1:].reshape(-1, 3, 32, 32))
    return torch.cat(images), torch.cat(labels)


def normalize(uint8_images):
    return (uint8_images.float() / 255 - MEAN) / STD


def initialize(model, train_images):
    """Whitening filters from 2x2 patch statistics, and dirac (identity) block convs, as FastNet does."""
    with torch.no_grad():
        x = normalize(train_images[:WHITENING_IMAGES])
        patches = x.unfold(2, 2, 1).unfold(3, 2, 1).permute(0, 2, 3, 1, 4, 5).reshape(-1, 12)
        eigenvalues, eigenvectors = torch.linalg.eigh(patches.T @ patches / patches.shape[0])
        filters = eigenvectors.T.reshape(-1, 3, 2, 2).flip(0)
        scaled = filters / (eigenvalues.flip(0) + 5e-4).sqrt().view(-1, 1, 1, 1)
        model.whiten.weight.copy_(torch.cat([scaled, -scaled]))
        for block in model.modules():
            if isinstance(block, FastBlock):
                for conv in (block.conv1, block.conv2):
                    identity = min(conv.weight.shape[0], conv.weight.shape[1])
                    conv.weight[:identity].zero_()
                    torch.nn.init.dirac_(conv.weight[:identity])


def schedule(c, step, total):
    if c["schedule"] == "linear":
        return c["lr"] * (1 - step / total)
    peak = int(0.23 * total)
    if step <= peak:
        return c["lr"] * (1 if peak == 0 else 0.2 + 0.8 * step / peak)
    return c["lr"] * (1 + (0.07 - 1) * (step - peak) / (total - peak))


class Muon:
    """src/Cifar10/Training/Muon.cs: Nesterov momentum, quintic Newton-Schulz, weight renormalised to sqrt(rows)."""

    def __init__(self, params, momentum, steps):
        self.params, self.momentum, self.steps = params, momentum, steps
        self.buffers = [None] * len(params)
        self.lr = 0.0

    @torch.no_grad()
    def step(self):
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            if self.buffers[i] is None:
                self.buffers[i] = torch.zeros_like(p.grad)
            buffer = self.buffers[i].mul_(self.momentum).add_(p.grad)
            direction = p.grad.add(buffer, alpha=self.momentum)
            rows = p.shape[0]
            p.mul_(math.sqrt(rows) / p.norm().item())
            p.add_(orthogonalize(direction.reshape(rows, -1), self.steps).view(p.shape), alpha=-self.lr)


def orthogonalize(matrix, steps):
    a_, b_, c_ = 3.4445, -4.7750, 2.0315
    x = matrix / (matrix.norm() + 1e-7)
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    for _ in range(steps):
        a = x @ x.T
        x = a_ * x + (b_ * a + c_ * (a @ a)) @ x
    return x.T if tall else x


def optimizers(c, model):
    """Parameter groups as OptimizerFactory: batch-norm biases at lr*norm_bias_lr_scale (wd/scale), the head at
    lr*head_lr_scale (wd/scale), the rest at lr; under muon the block convs go to Muon instead."""
    head = [model.head.weight]
    norm_biases = [m.bias for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    matrices = [p for m in model.modules() if isinstance(m, FastBlock) for p in (m.conv1.weight, m.conv2.weight)]
    muon = Muon(matrices, c["muon_momentum"], c["muon_ns_steps"]) if c["optimizer"] == "muon" else None
    taken = {id(p) for p in head + norm_biases + (matrices if muon else [])}
    others = [p for p in model.parameters() if p.requires_grad and id(p) not in taken]
    groups = [(norm_biases, c["norm_bias_lr_scale"]), (head, c["head_lr_scale"]), (others, 1.0)]
    sgd = torch.optim.SGD([{"params": ps, "lr": c["lr"] * s, "weight_decay": c["weight_decay"] / s, "scale": s}
                           for ps, s in groups if ps],
                          lr=c["lr"], momentum=c["momentum"], nesterov=c["nesterov"])
    return sgd, muon


class Lookahead:
    """src/Cifar10/Training/Lookahead.cs: an EMA of every float state entry, copied back into the network."""

    def __init__(self, model):
        self.pairs = [(v.detach().clone(), v) for v in model.state_dict().values() if v.is_floating_point()]

    @torch.no_grad()
    def update(self, decay):
        for average, live in self.pairs:
            average.lerp_(live, 1 - decay)
            live.copy_(average)


def crop(batch, padding, generator):
    n = batch.shape[0]
    padded = F.pad(batch.float(), [padding] * 4, mode="reflect").to(torch.uint8)  # reflect needs float in 1.13
    top = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    left = torch.randint(0, 2 * padding + 1, (n,), generator=generator)
    rows = top.view(n, 1, 1) + torch.arange(32).view(1, 32, 1)
    columns = left.view(n, 1, 1) + torch.arange(32).view(1, 1, 32)
    index = (rows * (32 + 2 * padding) + columns).view(n, 1, -1).expand(n, 3, -1)
    return padded.view(n, 3, -1).gather(2, index).view(n, 3, 32, 32)


def color_jitter(batch, brightness, contrast, generator):
    """Brightness, then contrast, as src/Cifar10/Data/Augmentation.cs's ColorJitter (torchvision's factors)."""
    if brightness == 0 and contrast == 0:
        return batch
    n = batch.shape[0]

    def factors(spread):  # one per image, uniform in [max(0, 1 - spread), 1 + spread]
        low = max(0.0, 1 - spread)
        return (torch.rand(n, generator=generator) * (1 + spread - low) + low).view(n, 1, 1, 1)

    x = batch.float()
    if brightness > 0:
        x = (x * factors(brightness)).clamp(0, 255)
    if contrast > 0:
        grey = (x[:, 0] * 0.299 + x[:, 1] * 0.587 + x[:, 2] * 0.114).mean((1, 2)).view(n, 1, 1, 1)
        f = factors(contrast)
        x = (x * f + grey * (1 - f)).clamp(0, 255)
    return x.round().to(torch.uint8)


@torch.no_grad()
def test_accuracy(model, images, labels, batch_size, tta, confidence):
    """airbench's 6-view TTA (mirror, and both one-pixel translations of each), given only to the images whose
    plain view's top probability is below `confidence` (all of them at 1), as src/Cifar10/Evaluation does."""
    model.eval()
    correct = 0
    for start in range(0, len(images), batch_size):
        x = normalize(images[start:start + batch_size])
        probabilities = model(x).float().softmax(1)
        uncertain = probabilities.max(1).values < confidence if confidence < 1 else torch.ones(len(x), dtype=torch.bool)
        if tta and uncertain.any():
            u = x[uncertain]
            padded = F.pad(u, [1, 1, 1, 1], mode="reflect")
            down_right, up_left = padded[:, :, :32, :32], padded[:, :, 2:, 2:]
            views = [(u.flip(3), 0.25), (down_right, 0.125), (down_right.flip(3), 0.125),
                     (up_left, 0.125), (up_left.flip(3), 0.125)]
            probabilities[uncertain] = probabilities[uncertain] * 0.25 + sum(
                model(v).float().softmax(1) * w for v, w in views)
        correct += (probabilities.argmax(1) == labels[start:start + batch_size]).sum().item()
    return correct / len(images)


def parts(count, micro_batch):
    """TrainingStep.Parts: (start, length) of as few equal parts as keep each within micro_batch images, never a part
    of one image; one part when micro_batch is 0."""
    n = 1 if micro_batch == 0 else max(1, min(-(-count // micro_batch), count // 2))
    lengths = [count // n + (1 if p < count % n else 0) for p in range(n)]
    return [(sum(lengths[:p]), lengths[p]) for p in range(n)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("config", help="a C# run's config.json")
    parser.add_argument("--epochs", type=int, help="override the run's epochs")
    parser.add_argument("--train-images", type=int, help="train on the first N images only (a smoke test)")
    args = parser.parse_args()
    run = json.load(open(args.config))
    c = run["config"]
    check_supported(c)
    epochs = args.epochs or c["epochs"]
    torch.set_num_threads(c["threads"] or os.cpu_count())  # 0 is the toolkit's "one per core", its default
    seed = c["seed"]

    folder, expected = run["data_folder"], run["data_files"]
    train_images, train_labels = read_split(folder, [f"data_batch_{i}.bin" for i in range(1, 6)], expected)
    test_images, test_labels = read_split(folder, ["test_batch.bin"], expected)
    if args.train_images:
        train_images, train_labels = train_images[:args.train_images], train_labels[:args.train_images]

    torch.manual_seed(seed)
    model = FastNet(num_classes=10)
    # bf16: the forward pass and the loss under autocast, as the C# training step and evaluator run them.
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=c["precision"] == "bf16")
    initialize(model, train_images)
    sgd, muon = optimizers(c, model)
    generator = torch.Generator().manual_seed(seed)
    first_epoch_flips = torch.rand(len(train_images), generator=generator) < 0.5

    n, batch_size = len(train_images), c["batch_size"]
    batches = [(s, min(batch_size, n - s)) for s in range(0, n, batch_size) if min(batch_size, n - s) > 1]
    steps_per_epoch = len(batches)
    total_steps = steps_per_epoch * epochs
    start_epoch_index = round(FRACTION * epochs)   # Python's round, like C#'s Math.Round, rounds half to even
    low_res_epochs = round(c.get("low_res_fraction", 0) * epochs)
    averaging = None
    train_clock = time.perf_counter()
    step = 0
    for epoch in range(1, epochs + 1):
        model.train()
        model.whiten.bias.requires_grad = epoch - 1 < start_epoch_index
        order = torch.randperm(n, generator=generator)
        epoch_clock = time.perf_counter()
        loss_sum = 0.0
        for begin, length in batches:
            index = order[begin:begin + length]
            batch = crop(train_images[index], c["crop_padding"], generator)
            batch = color_jitter(batch, c.get("brightness", 0), c.get("contrast", 0), generator)
            flip = first_epoch_flips[index] != (epoch % 2 == 0)
            batch = torch.where(flip.view(-1, 1, 1, 1), batch.flip(3), batch)
            rate = schedule(c, step, total_steps)
            for group in sgd.param_groups:
                group["lr"] = rate * group["scale"]
            x = normalize(batch)
            if c.get("low_res", 0) and epoch - 1 < low_res_epochs:  # progressive resizing, as the C# trainer
                x = F.interpolate(x, size=(c["low_res"], c["low_res"]), mode="bilinear", align_corners=False, antialias=True)
            model.zero_grad(set_to_none=True)  # so the frozen whitening bias is skipped, as in C#
            labels = train_labels[index]
            loss = 0.0
            # The batch in as few equal parts as fit micro_batch (TrainingStep.Parts), each part's loss weighted by its
            # share, so the summed gradients are the whole batch's and batch norm sees each part alone, as in C#.
            for part_begin, part_length in parts(length, c.get("micro_batch", 0)):
                with autocast:
                    part_loss = F.cross_entropy(model(x[part_begin:part_begin + part_length]),
                                                labels[part_begin:part_begin + part_length], label_smoothing=c["label_smoothing"])
                (part_loss * (part_length / length)).backward()
                loss += part_loss.item() * part_length / length
            sgd.step()
            if muon:
                muon.lr = rate * c["muon_lr"] / c["lr"]
                muon.step()
            loss_sum += loss * length
            step += 1
            if c["lookahead"] and epoch - 1 >= start_epoch_index and step % LOOKAHEAD_EVERY == 0:
                if averaging is None:
                    averaging = Lookahead(model)
                else:
                    averaging.update(0.95 ** LOOKAHEAD_EVERY * (step / total_steps) ** 3)
        if averaging is not None:
            averaging.update(1)
        seconds = time.perf_counter() - epoch_clock
        print(f"epoch {epoch}/{epochs}  loss {loss_sum / n:.4f}  {seconds:.1f} s  {n / seconds:.1f} img/s", flush=True)
    train_seconds = time.perf_counter() - train_clock
    with autocast:
        accuracy = test_accuracy(model, test_images, test_labels, c["eval_batch_size"], c.get("tta", c.get("test_tta")),
                                 c.get("tta_confidence", 1))  # configs older than the setting gave every image every view
    print(json.dumps({"test_accuracy": accuracy, "train_seconds": round(train_seconds, 1),
                      "total_seconds": round(time.perf_counter() - START, 1),
                      "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "torch": torch.__version__, "threads": torch.get_num_threads(), "epochs": epochs}))


if __name__ == "__main__":
    main()
