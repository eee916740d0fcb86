#!/usr/bin/env bash
# Training-step throughput, TorchSharp (this toolkit) vs PyTorch (Debian's python3-torch),
# same networks, batch, optimizer and thread count, on this machine, in one invocation.
#
#   bash bench/run.sh [--models a,b] [--batch 128] [--threads N] [--steps 10] [--precision fp32|bf16]
#
# Networks are measured alternately (ours, then PyTorch's) so that both see the same machine
# state. Prints a Markdown table with the ratio TorchSharp / PyTorch (> 1 means we are faster).
set -euo pipefail
cd "$(dirname "$0")/.."

models="fast,simple,deep,wide,tutorial,vgg16,resnet18,resnet18-imagenet"
precision=fp32
batch=128
threads=$(nproc)
steps=10
while [ $# -gt 0 ]; do
  case "$1" in
    --models) models=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --precision) precision=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "installing Debian's python3-torch (the PyTorch peer) with apt-get..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch >/dev/null
fi

dotnet build -c Release bench/Cifar10.Bench -v q -nologo >/dev/null
ours=(dotnet bench/Cifar10.Bench/bin/Release/net10.0/cifar10-bench.dll)
theirs=(/usr/bin/python3 bench/pytorch/step_throughput.py)

cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs)
torch_version=$(/usr/bin/python3 -c "import torch; print(torch.__version__)")
echo "Machine: ${cpu}, $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; threads ${threads}; batch ${batch}; ${steps} timed steps after 3 warm-up; precision ${precision} (fast only)"
echo "TorchSharp 0.107.0 (libtorch 2.10.0) vs PyTorch ${torch_version}"
echo
echo "| network | TorchSharp img/s | PyTorch img/s | ratio |"
echo "| --- | ---: | ---: | ---: |"
IFS=',' read -ra names <<< "$models"
for name in "${names[@]}"; do
  a=$("${ours[@]}" --models "$name" --batch "$batch" --threads "$threads" --steps "$steps" --precision "$precision" | tail -1 | cut -d, -f6)
  b=$("${theirs[@]}" --models "$name" --batch "$batch" --threads "$threads" --steps "$steps" --precision "$precision" | tail -1 | cut -d, -f6)
  ratio=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a / b}')
  echo "| ${name} | ${a} | ${b} | ${ratio} |"
done
