"""Training-step throughput of PyTorch's DistributedDataParallel (gloo backend): the peer of `mpirun -n N cifar10 train`.

One invocation starts N ranks on this machine (torch.multiprocessing, one process each, T threads each) that train
the same network (models.py) on a global batch of B images, B/N on each rank, with DDP averaging the gradients
(bucketed, overlapped with the backward). Same optimizer as bench/pytorch/step_throughput.py: SGD lr 0.01, momentum
0.9, weight decay 5e-4; synthetic normalised input. Prints one CSV line per network from rank 0:
model,ranks,threads,global_batch,steps,seconds,images_per_s

    /usr/bin/python3 bench/pytorch/ddp_step.py --models fast,resnet18 --batch 128 --ranks 2 --threads 1
"""
import argparse
import os
import socket
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from models import build


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_main(rank, args, port, batches):
    torch.set_num_threads(args.threads)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=args.ranks)
    for name in args.models.split(","):
        batch = batches[name]
        share = batch // args.ranks + (1 if rank < batch % args.ranks else 0)
        torch.manual_seed(0)  # the same initial weights on every rank (DDP also broadcasts rank 0's)
        model = DistributedDataParallel(build(name))
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        torch.manual_seed(1 + rank)
        images = torch.randn(share, 3, 32, 32)
        labels = torch.randint(0, 10, (share,))

        def step():
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()  # DDP's allreduce runs here, bucket by bucket
            optimizer.step()
            loss.item()

        for _ in range(args.warmup):
            step()
        dist.barrier()
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        dist.barrier()
        seconds = time.perf_counter() - start
        if rank == 0:
            print(f"{name},{args.ranks},{args.threads},{batch},{args.steps},{seconds:.3f},{batch * args.steps / seconds:.1f}", flush=True)
        del model, optimizer
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="fast,resnet18,vgg16")
    parser.add_argument("--batch", type=int, default=None, help="global batch of every network (default: fast 2000, others 128)")
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="threads per rank")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=8)
    args = parser.parse_args()
    batches = {name: args.batch or (2000 if name == "fast" else 128) for name in args.models.split(",")}
    print("model,ranks,threads,global_batch,steps,seconds,images_per_s", flush=True)
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    mp.spawn(rank_main, args=(args, free_port(), batches), nprocs=args.ranks, join=True)


if __name__ == "__main__":
    main()
