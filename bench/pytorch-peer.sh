# Sourced by the benchmarks that run the PyTorch peer: Debian's python3-torch on OpenBLAS. Without
# libopenblas0-pthread Debian's PyTorch runs its matrix products on the reference BLAS (libblas3),
# measured ~40x slower, which would make every ratio flatter us.
if ! /usr/bin/python3 -c "import torch" 2>/dev/null || ! dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
  echo "installing Debian's python3-torch (the PyTorch peer) and OpenBLAS with apt-get..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null
fi
peer_torch_version=$(/usr/bin/python3 -c "import torch; print(torch.__version__)")
peer_blas=$(readlink -f /etc/alternatives/libblas.so.3-x86_64-linux-gnu 2>/dev/null || echo unknown)
