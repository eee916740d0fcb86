"""The Markdown table of bench/inference.sh from the CSV lines of both sides (standard input)."""
import csv
import sys

rows = list(csv.DictReader(sys.stdin))
print("| network | batch | TorchSharp | ONNX Runtime | PyTorch | fastest toolkit path / PyTorch |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for model in dict.fromkeys(r["model"] for r in rows):
    for batch in ("1", "256"):
        cells, rates = {}, {}
        for r in rows:
            if r["model"] != model or r["batch"] != batch:
                continue
            rate = float(r["images_per_s"])
            rates[r["runtime"]] = rate
            cells[r["runtime"]] = (f"{float(r['p50_ms']):.2f} / {float(r['p99_ms']):.2f} ms" if batch == "1" else f"{rate:.0f} img/s")
        best = max(rates.get("torchsharp", 0), rates.get("onnxruntime", 0))
        ratio = f"{best / rates['pytorch']:.2f}" if rates.get("pytorch") else "n/a"
        print(f"| {model} | {batch} | {cells.get('torchsharp', 'n/a')} | {cells.get('onnxruntime', 'n/a')} | {cells.get('pytorch', 'n/a')} | {ratio} |")
