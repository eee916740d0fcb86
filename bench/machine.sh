# Sourced by the benchmarks: the CPU in one line for every table. The project's VMs change CPU between sessions
# (Intel Ice Lake, Sapphire Rapids and AMD EPYC have been seen), and "model name" alone can be as bare as "AMD EPYC".
cpu_name=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs)
cpu_family=$(grep -m1 "^cpu family" /proc/cpuinfo | cut -d: -f2 | xargs)
cpu_model=$(grep -m1 "^model[[:space:]]*:" /proc/cpuinfo | cut -d: -f2 | xargs)
if grep -q avx512_bf16 /proc/cpuinfo; then cpu_vectors="AVX-512 with BF16"
elif grep -q avx512f /proc/cpuinfo; then cpu_vectors="AVX-512 without BF16"
else cpu_vectors="AVX2, no AVX-512"; fi
cpu="${cpu_name} (family ${cpu_family} model ${cpu_model}, ${cpu_vectors})"
