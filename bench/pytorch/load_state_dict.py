"""Loads state_dict files exported by `cifar10 export --format pt` into the PyTorch peers of
models.py with strict=True, and compares their logits with the ones TorchSharp computed.

    /usr/bin/python3 bench/pytorch/load_state_dict.py CASES.json

CASES.json lists {"model", "depth", "classes", "weights": a state_dict file, "io": a file holding
{"inputs": float32 [N,3,32,32] normalised images, "logits": TorchSharp's logits}}, paths relative to
the JSON file. Prints one line per case, "name max_abs_diff"; a file that does not load strictly
raises (exit code 1).
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import build  # noqa: E402


def main():
    torch.set_num_threads(1)
    folder = os.path.dirname(os.path.abspath(sys.argv[1]))
    for case in json.load(open(sys.argv[1])):
        model = build(case["model"], depth=case["depth"], num_classes=case["classes"])
        model.load_state_dict(torch.load(os.path.join(folder, case["weights"])), strict=True)
        model.eval()
        io = torch.load(os.path.join(folder, case["io"]))
        with torch.no_grad():
            logits = model(io["inputs"])
        print(f"{case['model']} {(logits - io['logits']).abs().max().item():.3e}", flush=True)


if __name__ == "__main__":
    main()
