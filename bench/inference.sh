#!/usr/bin/env bash
# Inference of fast, resnet18 and simple: TorchSharp vs ONNX Runtime (the exported model) vs PyTorch
# (Debian's python3-torch on OpenBLAS), same machine, same threads, one invocation. Latency at batch 1
# (p50/p99 of single-image calls) and throughput at batch 256, from uint8 images to probabilities.
#
#   bash bench/inference.sh [--models fast,resnet18,simple] [--threads N]
set -euo pipefail
cd "$(dirname "$0")/.."
models=fast,resnet18,simple
threads=$(nproc)
while [ $# -gt 0 ]; do
  case "$1" in
    --models) models=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
# The PyTorch peer runs on OpenBLAS (libopenblas0-pthread), installed with python3-torch by:
source bench/pytorch-peer.sh
dotnet build -c Release bench/Cifar10.Bench -v q -nologo >/dev/null
ours=$(dotnet bench/Cifar10.Bench/bin/Release/net10.0/cifar10-bench.dll inference --models "$models" --threads "$threads")
theirs=$(cd bench/pytorch && /usr/bin/python3 inference.py --models "$models" --threads "$threads")

# shellcheck source=bench/machine.sh
source bench/machine.sh
echo "Machine: ${cpu}, $(nproc) cores; threads ${threads}; TorchSharp 0.107.0 (libtorch 2.10.0), ONNX Runtime 1.31.1, PyTorch ${peer_torch_version}"
echo
printf '%s\n%s\n' "$ours" "$(echo "$theirs" | tail -n +2)" | python3 bench/inference_table.py
echo
echo "(batch 1: p50 / p99 latency of one call; the ratio compares images/s of the faster of TorchSharp and ONNX Runtime with PyTorch's)"
