"""Training-step throughput in PyTorch: the peer of bench/Cifar10.Bench.

Same networks (models.py), same batch, same optimizer (SGD lr 0.01, momentum 0.9,
weight decay 5e-4), same thread count, same synthetic normalised input in channels-last layout
(as the C# networks feed their convolutions), and with --precision bf16 the same mixed precision:
the forward pass and the loss under torch.autocast("cpu", dtype=torch.bfloat16), as the C# step
runs them under libtorch's autocast. Prints one CSV line
per network: model,batch,threads,steps,seconds,images_per_s,
forward_ms,backward_ms,optimizer_ms (the same steps again, timed phase by phase)

    /usr/bin/python3 bench/pytorch/step_throughput.py --models simple,resnet18 --batch 128 --threads 2
"""
import argparse
import os
import time

import torch
import torch.nn.functional as F

from models import build


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="fast,simple,deep,wide,tutorial,vgg16,resnet18,resnet18-imagenet")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help="bf16: autocast around forward and loss")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    print("model,batch,threads,steps,seconds,images_per_s,forward_ms,backward_ms,optimizer_ms")
    for name in args.models.split(","):
        torch.manual_seed(0)
        model = build(name, depth=args.depth)
        model.train()
        autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16")
        trainable = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.SGD(trainable, lr=0.01, momentum=0.9, weight_decay=5e-4)
        images = torch.randn(args.batch, 3, 32, 32).contiguous(memory_format=torch.channels_last)
        labels = torch.randint(0, 10, (args.batch,))

        def step():
            with autocast:
                loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss.item()

        for _ in range(args.warmup):
            step()
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        seconds = time.perf_counter() - start

        # Then the same steps again, timed phase by phase (on the CPU every op has finished when it returns).
        phases = [0.0, 0.0, 0.0]
        for _ in range(args.steps):
            t0 = time.perf_counter()
            with autocast:
                loss = F.cross_entropy(model(images), labels)
            t1 = time.perf_counter()
            optimizer.zero_grad()
            loss.backward()
            t2 = time.perf_counter()
            optimizer.step()
            t3 = time.perf_counter()
            loss.item()
            for i, d in enumerate((t1 - t0, t2 - t1, t3 - t2)):
                phases[i] += d
        ms = ",".join(f"{1000 * p / args.steps:.1f}" for p in phases)
        print(f"{name},{args.batch},{args.threads},{args.steps},{seconds:.3f},{args.batch * args.steps / seconds:.1f},{ms}", flush=True)


if __name__ == "__main__":
    main()
