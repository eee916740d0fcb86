"""This CPU's peak arithmetic rate, from /proc/cpuinfo: what a step's achieved FLOP/s is compared with.

Assumptions, per core and cycle (the vendors' published figures; a VM's clock is read, not measured):
- fp32: two FMA pipes of the widest vector unit, 2 FLOPs per lane: AVX-512 on Intel and on AMD Zen 5
  (family 26) 2 x 16 x 2 = 64; AVX-512 on Zen 4 (family 25, 256-bit datapaths) and AVX2 2 x 8 x 2 = 32.
- bf16: AMX (amx_bf16) 1024 (the TMUL's published bf16 rate); AVX-512 BF16 (vdpbf16ps: pairs of bf16
  products into fp32 lanes) twice the fp32 rate; otherwise no faster than fp32.
The clock is lscpu's "CPU max MHz" when the VM exposes it, else /proc/cpuinfo's "cpu MHz".

    /usr/bin/python3 bench/pytorch/cpu_peak.py [--threads N]   # prints one line; --json for the numbers
"""
import argparse
import json
import os
import re
import subprocess


def cpu_facts():
    text = open("/proc/cpuinfo").read()
    first = text.split("\n\n")[0]
    field = lambda name: (re.search(rf"^{name}\s*:\s*(.*)$", first, re.M) or [None, ""])[1].strip()
    flags = set(field("flags").split())
    mhz = float(field("cpu MHz") or 0)
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        found = re.search(r"CPU max MHz:\s*([\d.]+)", lscpu)
        if found:
            mhz = float(found.group(1))
    except OSError:
        pass
    return field("vendor_id"), field("cpu family"), flags, mhz


def peak(threads=None):
    vendor, family, flags, mhz = cpu_facts()
    cores = threads or os.cpu_count()
    if "avx512f" in flags:
        fp32 = 32 if (vendor == "AuthenticAMD" and family == "25") else 64
    elif "avx2" in flags or "fma" in flags:
        fp32 = 32
    else:
        fp32 = 16
    if "amx_bf16" in flags:
        bf16, how = 1024, "AMX"
    elif "avx512_bf16" in flags:
        bf16, how = 2 * fp32, "AVX-512 BF16"
    else:
        bf16, how = fp32, "no bf16 unit"
    giga = cores * mhz / 1000
    return {"cores": cores, "ghz": mhz / 1000, "fp32_flops_per_cycle": fp32, "bf16_flops_per_cycle": bf16,
            "bf16_unit": how, "fp32_tflops": giga * fp32 / 1000, "bf16_tflops": giga * bf16 / 1000}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    p = peak(args.threads)
    if args.json:
        print(json.dumps(p))
        return
    print(f"Peak of {p['cores']} cores at {p['ghz']:.2f} GHz: fp32 {p['fp32_tflops']:.2f} TFLOP/s "
          f"({p['fp32_flops_per_cycle']} FLOP/cycle/core), bf16 {p['bf16_tflops']:.2f} TFLOP/s "
          f"({p['bf16_unit']}, {p['bf16_flops_per_cycle']} FLOP/cycle/core)")


if __name__ == "__main__":
    main()
