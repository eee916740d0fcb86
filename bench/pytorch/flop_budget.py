"""What the fast network's training costs in arithmetic, and what this machine delivers.

Counts the multiply-adds of one training image through the fast network (forward hooks on every conv and
linear layer; the backward is twice the forward for each layer that takes a gradient, none for the frozen
whitening conv, which needs neither a weight gradient nor an input gradient), then measures on this machine:
an fp32 2048x2048 matrix product, and each of the network's convolutions forward + backward at the given
batch, channels-last as both engines run them. The recipe's FLOPs over the best sustained rate is a floor
for its training time that no optimisation of the code around the kernels can go under.

    /usr/bin/python3 bench/pytorch/flop_budget.py [--batch 2000] [--epochs 8] [--threads 2]
"""
import argparse
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import DiracConv2d, FastNet  # noqa: E402


def layer_flops(model):
    """(name, module, input shape, forward FLOPs per image) for each conv and linear layer."""
    found = []

    def hook(name):
        def record(module, inputs, output):
            per_output = 2 * (module.weight[0].numel())  # one multiply-add per weight of an output channel
            found.append((name, module, tuple(inputs[0].shape[1:]), per_output * output[0].numel()))
        return record

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if isinstance(m, (DiracConv2d, nn.Linear))]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, 32, 32))
    for h in handles:
        h.remove()
    return found


def timed(fn, repeats):
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--images", type=int, default=50000)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    model = FastNet()
    layers = layer_flops(model)
    forward = sum(f for *_, f in layers)
    trained = sum(3 * f for name, m, _, f in layers if m.weight.requires_grad)
    frozen = sum(f for name, m, _, f in layers if not m.weight.requires_grad)
    per_image = trained + frozen
    total = per_image * args.images * args.epochs
    print(f"fast network: {forward / 1e6:.1f} MFLOP forward per image, {per_image / 1e9:.3f} GFLOP per training image; "
          f"{args.epochs} epochs of {args.images:,} images = {total / 1e15:.3f} PFLOP")

    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    seconds = timed(lambda: torch.mm(a, b), 10)
    matmul_rate = 2 * 2048 ** 3 / seconds
    print(f"fp32 2048x2048 matrix product: {matmul_rate / 1e9:.1f} GFLOP/s ({args.threads} threads, torch {torch.__version__})")

    print(f"| layer | input (C, H, W) | GFLOP per training image | forward + backward at batch {args.batch}, GFLOP/s |")
    print("| --- | --- | ---: | ---: |")
    conv_seconds = 0.0
    conv_flops = 0
    for name, module, shape, flops in layers:
        if not isinstance(module, DiracConv2d) or not module.weight.requires_grad:
            continue
        out_channels, in_channels, kernel, _ = module.weight.shape
        conv = nn.Conv2d(in_channels, out_channels, kernel, padding=module.padding, bias=False).to(memory_format=torch.channels_last)
        x = torch.randn(args.batch, *shape).contiguous(memory_format=torch.channels_last).requires_grad_(True)

        def step():
            conv.zero_grad(set_to_none=True)
            x.grad = None
            conv(x).sum().backward()
        seconds = timed(step, 2)
        rate = 3 * flops * args.batch / seconds
        conv_seconds += seconds
        conv_flops += 3 * flops * args.batch
        print(f"| {name} | {shape} | {3 * flops / 1e9:.3f} | {rate / 1e9:.1f} |")
    conv_rate = conv_flops / conv_seconds
    print(f"the trained convolutions together: {conv_rate / 1e9:.1f} GFLOP/s")
    print(f"floor for {args.epochs} epochs: {total / conv_rate / 60:.1f} min at the convolutions' rate, "
          f"{total / matmul_rate / 60:.1f} min at the matrix product's (the kernels alone, nothing around them)")


if __name__ == "__main__":
    main()
