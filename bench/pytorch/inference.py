"""Inference in PyTorch: the peer of `cifar10-bench inference` (bench/inference.sh runs both).

From uint8 images to probabilities, normalisation included, on the same networks (models.py) and
thread count: latency at batch 1 (p50 and p99 of many single-image calls) and throughput at batch 256.
Prints CSV: runtime,model,batch,threads,calls,p50_ms,p99_ms,images_per_s

    /usr/bin/python3 bench/pytorch/inference.py --models fast,resnet18,simple --threads 2
"""
import argparse
import os
import time

import torch

from models import build

MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
STD = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="fast,resnet18,simple")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print("runtime,model,batch,threads,calls,p50_ms,p99_ms,images_per_s")
    for name in args.models.split(","):
        torch.manual_seed(0)
        model = build(name).eval()

        def classify(images):
            with torch.no_grad():
                x = (images.float() / 255 - MEAN) / STD
                return model(x).softmax(1)

        generator = torch.Generator().manual_seed(0)
        one = torch.randint(0, 256, (1, 3, 32, 32), dtype=torch.uint8, generator=generator)
        for _ in range(20):
            classify(one)
        latencies = []
        start = time.perf_counter()
        while len(latencies) < 2000 and time.perf_counter() - start < 15:
            t = time.perf_counter()
            classify(one)
            latencies.append((time.perf_counter() - t) * 1000)
        latencies.sort()
        n = len(latencies)
        print(f"pytorch,{name},1,{args.threads},{n},{latencies[n // 2]:.3f},{latencies[int(n * 0.99)]:.3f},{n / sum(latencies) * 1000:.1f}", flush=True)

        batch = torch.randint(0, 256, (256, 3, 32, 32), dtype=torch.uint8, generator=generator)
        classify(batch)
        calls, start = 0, time.perf_counter()
        while calls < 3 or time.perf_counter() - start < 10:
            classify(batch)
            calls += 1
        seconds = time.perf_counter() - start
        print(f"pytorch,{name},256,{args.threads},{calls},nan,nan,{calls * 256 / seconds:.1f}", flush=True)


if __name__ == "__main__":
    main()
