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
        # oneDNN 3 (libtorch 2.10): "onednn_verbose,v1,primitive,exec,cpu,KIND,IMPL,PROP,...,PROBLEM,MS";
        # oneDNN 2 (PyTorch 1.13, the peer): "onednn_verbose,exec,cpu,KIND,IMPL,PROP,...,PROBLEM,MS".
        if not line.startswith(("onednn_verbose", "dnnl_verbose")):
            continue
        f = line.rstrip("\n").split(",")
        if "exec" not in f[:4] or "cpu" not in f[:5]:
            continue
        at = f.index("exec")
        kind, impl, problem = f[at + 2], f[at + 3], f[-2]
        try:
            ms = float(f[-1])
        except ValueError:
            continue
        time[kind] += ms
        impls[(kind, impl.split(":")[-1] if ":" in impl else impl)] += ms
        work = conv_flops(problem) if kind == "convolution" else other_flops(kind, problem)
        flops[kind] += work
        if kind == "convolution":
            entry = problems[(f[at + 4], impl, problem)]
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


def measure(plain, verbose, executed_steps):
    """One side's step: its time and phases (the bench's CSV line) and oneDNN's time and FLOPs per step."""
    fields = open(plain).read().strip().split(",")
    steps, seconds = int(fields[3]), float(fields[4])
    time, flops, impls, problems = read_verbose(verbose)
    per_step = {k: v / executed_steps for k, v in time.items()}
    return {
        "step_ms": 1000 * seconds / steps,
        "phases": tuple(float(x) for x in fields[6:9]),
        "per_step": per_step,
        "matrix_ms": sum(per_step.get(k, 0.0) for k in ("convolution", "inner_product", "matmul")),
        "matrix_flops": sum(flops[k] for k in ("convolution", "inner_product", "matmul")) / executed_steps,
        "impls": impls,
        "problems": problems,
    }


def print_side_by_side(ours, peer):
    """Ours against the PyTorch peer: where each side's step goes, and what the step's ratio could reach if only the
    time outside the matrix kernels changed (the peer's step over our time in those kernels)."""
    print("| per step | this toolkit | PyTorch peer | PyTorch / ours |")
    print("| --- | ---: | ---: | ---: |")

    def row(name, a, b, unit="ms"):
        ratio = f"{b / a:.2f}" if a > 0 else ""
        print(f"| {name} | {a:.1f} {unit} | {b:.1f} {unit} | {ratio} |")

    row("whole step", ours["step_ms"], peer["step_ms"])
    for i, phase in enumerate(("forward + loss", "backward", "update")):
        row(f"{phase} (phases)", ours["phases"][i], peer["phases"][i])
    row("oneDNN's matrix kernels (convolution, matmul, inner product)", ours["matrix_ms"], peer["matrix_ms"])
    row("outside them", ours["step_ms"] - ours["matrix_ms"], peer["step_ms"] - peer["matrix_ms"])
    row("FLOPs in the matrix kernels", ours["matrix_flops"] / 1e9, peer["matrix_flops"] / 1e9, "GFLOP")
    print()
    ceiling = peer["step_ms"] / ours["matrix_ms"] if ours["matrix_ms"] > 0 else float("inf")
    print(f"Step ratio now {peer['step_ms'] / ours['step_ms']:.2f}×; with our matrix kernels as they are and nothing else "
          f"left in the step, at most {ceiling:.2f}× (the peer's step over our time in those kernels).")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--case", required=True)
    p.add_argument("--plain", required=True)
    p.add_argument("--verbose", required=True)
    p.add_argument("--executed-steps", type=int, required=True)
    p.add_argument("--threads", type=int)
    p.add_argument("--perf")
    p.add_argument("--peer-plain", help="the PyTorch peer's step (step_throughput.py's CSV line): a side-by-side table")
    p.add_argument("--peer-verbose", help="the peer's step under ONEDNN_VERBOSE=1")
    a = p.parse_args()

    model, batch, precision = a.case.split(":")
    ours = measure(a.plain, a.verbose, a.executed_steps)
    step_ms, (fwd, bwd, opt), per_step = ours["step_ms"], ours["phases"], ours["per_step"]
    matrix_ms, matrix_flops, impls, problems = ours["matrix_ms"], ours["matrix_flops"], ours["impls"], ours["problems"]
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
    if a.peer_plain and a.peer_verbose:
        print()
        print(f"#### {model}, batch {batch}, {precision}: against the PyTorch peer (oneDNN's own timing on both sides)")
        print()
        print_side_by_side(ours, measure(a.peer_plain, a.peer_verbose, a.executed_steps))


if __name__ == "__main__":
    main()
