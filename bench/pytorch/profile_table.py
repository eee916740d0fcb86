"""Turns one case of bench/profile.sh into Markdown: the step time, the time and FLOPs of oneDNN's primitives
(from ONEDNN_VERBOSE=1 lines), the achieved rate against the CPU's peak (cpu_peak.py), and perf's top symbols
grouped into the step's non-convolution costs."""
import argparse
import collections
import re
import sys
import os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cpu_peak import peak  # noqa: E402

CONV = re.compile(r"(?:g(?P<g>\d+))?mb(?P<mb>\d+)_ic(?P<ic>\d+)oc(?P<oc>\d+)_ih\d+oh(?P<oh>\d+)kh(?P<kh>\d+)\S*?_iw\d+ow(?P<ow>\d+)kw(?P<kw>\d+)")
INNER = re.compile(r"mb(?P<mb>\d+)ic(?P<ic>\d+)oc(?P<oc>\d+)")
MATMUL = re.compile(r"^(?P<a>[\dx]+):(?P<b>[\dx]+)")

# perf symbols (with their library) to the costs the issue asks about, first match wins.
CATEGORIES = [
    ("convolution and matmul kernels (oneDNN, MKL)", r"conv|brg|gemm|mkl|matmul|inner_product"),
    ("other oneDNN kernels (reorders, transposes)", r"^\[JIT\]|dnnl|onednn|ideep"),
    ("OpenMP threads waiting at barriers (libgomp)", r"libgomp|libiomp"),
    ("batch norm", r"batch_norm|batchnorm"),
    ("GELU / ReLU", r"gelu|relu|threshold"),
    ("pooling", r"pool"),
    ("casts, copies, layout changes", r"copy|_to_copy|convert|cast|contiguous|permute|clone|transpose"),
    ("page faults and the kernel's memory work", r"\[kernel\.kallsyms\].*(page|fault|clear_|memcg|lru|folio|mm_|alloc_pages|zap|unmap|mmap)"),
    ("allocation (malloc, free, memset)", r"malloc|free|memset|memcpy|_int_|cfree|calloc|realloc|posix_memalign|mmap"),
    ("optimizer and other elementwise ops", r"add|mul|sgd|lerp|foreach|binary|unary|vectorized|div|sub|sqrt|reduce|sum|softmax|nll|cross_entropy|log"),
    ("other kernel work", r"\[kernel\.kallsyms\]"),
    ("unresolved (managed code, unmapped JIT)", r"\[unknown\]"),
]


def conv_flops(problem):
    m = CONV.search(problem)
    if not m:
        return 0
    g = int(m["g"] or 1)
    return 2 * int(m["mb"]) * int(m["oc"]) * int(m["oh"]) * int(m["ow"]) * (int(m["ic"]) // g) * int(m["kh"]) * int(m["kw"])


def product(dims):
    out = 1
    for d in dims.split("x"):
        out *= int(d)
    return out


def other_flops(kind, problem):
    if kind == "inner_product":
        m = INNER.search(problem)
        return 2 * int(m["mb"]) * int(m["ic"]) * int(m["oc"]) if m else 0
    if kind == "matmul":
        m = MATMUL.search(problem)
        if not m:
            return 0
        a, b = m["a"].split("x"), m["b"].split("x")
        return 2 * product(m["a"]) * int(b[-1])  # batch x M x K times N
    return 0


def read_verbose(path):
    time = collections.Counter()
    flops = collections.Counter()
    impls = collections.Counter()
    problems = collections.defaultdict(lambda: [0.0, 0])  # (prop, impl, problem) -> [ms, FLOPs]
    for line in open(path, errors="replace"):
        if not line.startswith("onednn_verbose") or ",primitive,exec," not in line:
            continue
        f = line.rstrip("\n").split(",")
        kind, impl, problem = f[5], f[6], f[-2]
        try:
            ms = float(f[-1])
        except ValueError:
            continue
        time[kind] += ms
        impls[(kind, impl.split(":")[-1] if ":" in impl else impl)] += ms
        work = conv_flops(problem) if kind == "convolution" else other_flops(kind, problem)
        flops[kind] += work
        if kind == "convolution":
            entry = problems[(f[7], impl, problem)]
            entry[0] += ms
            entry[1] += work
    return time, flops, impls, problems


def read_perf(path):
    rows = []
    for line in open(path, errors="replace"):
        # "  36.17%  [JIT] tid 9630   [.] jit_t.30   -  -": share, library (may hold spaces), symbol, IPC columns.
        m = re.match(r"\s*([\d.]+)%\s+(.+?)\s+\[.\]\s+(.*?)(?:\s+-\s+-)?\s*$", line)
        if m:
            rows.append((float(m[1]), " ".join(m[2].split()), " ".join(m[3].split())))
    return rows


def category(dso, symbol):
    text = f"{dso} {symbol}"
    for name, pattern in CATEGORIES:
        if re.search(pattern, text, re.I):
            return name
    return "other"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--case", required=True)
    p.add_argument("--plain", required=True)
    p.add_argument("--verbose", required=True)
    p.add_argument("--executed-steps", type=int, required=True)
    p.add_argument("--threads", type=int)
    p.add_argument("--perf")
    a = p.parse_args()

    model, batch, precision = a.case.split(":")
    fields = open(a.plain).read().strip().split(",")
    steps, seconds = int(fields[3]), float(fields[4])
    step_ms = 1000 * seconds / steps
    fwd, bwd, opt = (float(x) for x in fields[6:9])
    time, flops, impls, problems = read_verbose(a.verbose)
    per_step = {k: v / a.executed_steps for k, v in time.items()}
    conv_ms = per_step.get("convolution", 0.0)
    matrix_ms = conv_ms + per_step.get("inner_product", 0.0) + per_step.get("matmul", 0.0)
    matrix_flops = (flops["convolution"] + flops["inner_product"] + flops["matmul"]) / a.executed_steps
    cpu = peak(a.threads)
    top = cpu["bf16_tflops"] if precision == "bf16" else cpu["fp32_tflops"]
    tflops = lambda f, ms: f / (ms / 1000) / 1e12 if ms > 0 else 0.0

    print(f"#### {model}, batch {batch}, {precision}")
    print()
    print("| quantity | per step | share of the step |")
    print("| --- | ---: | ---: |")
    print(f"| whole step ({int(batch) / step_ms * 1000:.0f} img/s) | {step_ms:.1f} ms | 100% |")
    print(f"| forward + loss / backward / update (phases) | {fwd:.1f} / {bwd:.1f} / {opt:.1f} ms | |")
    for kind, ms in sorted(per_step.items(), key=lambda kv: -kv[1]):
        print(f"| oneDNN {kind.replace('_', ' ')} | {ms:.1f} ms | {100 * ms / step_ms:.0f}% |")
    print(f"| outside oneDNN's matrix kernels | {step_ms - matrix_ms:.1f} ms | {100 * (step_ms - matrix_ms) / step_ms:.0f}% |")
    print(f"| FLOPs in convolutions and matrix products | {matrix_flops / 1e9:.1f} GFLOP | |")
    print(f"| rate inside those kernels | {tflops(matrix_flops, matrix_ms):.3f} TFLOP/s | {100 * tflops(matrix_flops, matrix_ms) / top:.0f}% of the {precision} peak |")
    print(f"| rate over the whole step | {tflops(matrix_flops, step_ms):.3f} TFLOP/s | {100 * tflops(matrix_flops, step_ms) / top:.0f}% of the {precision} peak ({top:.2f} TFLOP/s) |")
    kernels = ", ".join(f"{k} {i} {ms / a.executed_steps:.1f} ms" for (k, i), ms in impls.most_common(4))
    print(f"| oneDNN implementations (top 4) | {kernels} | |")
    print()
    print("| slowest convolution passes | implementation | ms per step | TFLOP/s |")
    print("| --- | --- | ---: | ---: |")
    for (prop, impl, problem), (ms, work) in sorted(problems.items(), key=lambda kv: -kv[1][0])[:8]:
        print(f"| {prop} `{problem}` | {impl} | {ms / a.executed_steps:.1f} | {tflops(work, ms):.3f} |")
    if a.perf:
        rows = read_perf(a.perf)
        totals = collections.Counter()
        for pct, dso, sym in rows:
            totals[category(dso, sym)] += pct
        print()
        print("| where the process's CPU time goes (perf, cpu-clock samples) | share | ≈ ms per step |")
        print("| --- | ---: | ---: |")
        # The profile covers the timed steps (sampling starts after the warm-up); ms are shares of the step's time.
        for name, pct in totals.most_common():
            print(f"| {name} | {pct:.1f}% | {pct / 100 * step_ms:.0f} |")
        print()
        print("| top symbols | library | share |")
        print("| --- | --- | ---: |")
        for pct, dso, sym in rows[:12]:
            short = sym if len(sym) < 90 else sym[:87] + "..."
            print(f"| `{short.replace('|', '/')}` | {dso} | {pct:.1f}% |")


if __name__ == "__main__":
    main()
