#!/usr/bin/env bash
# The first hour of a new user, as README.md tells it, from a fresh clone of this repository into a temporary
# folder: the quick-start command shortened to one epoch, the test-suite command left out (CI runs it), the tool
# installed from a folder feed, the C# example (scripts/check-packages.sh, which CI runs too, compiles and runs
# it), `predict` on a few test-set images, `serve` with its page and one upload, `report`.
#
#   bash scripts/newcomer.sh [DATA]      # DATA defaults to ../shared/data/cifar-10-binary.tar.gz
#
# Every line a step prints is stamped with the seconds since the step began; each step ends with its wall time
# and its longest silence (the longest time between two printed lines), which the guide wants under 10 s.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(realpath "${1:-../shared/data/cifar-10-binary.tar.gz}")
work=$(mktemp -d /tmp/cifar10-newcomer-XXXXXX)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
git clone -q "$(pwd)" "$work/repo"
cd "$work/repo"

stamp() { # step name, then the command: its output with elapsed seconds, then its wall time and longest silence
  local name=$1; shift
  echo "== $name: $*"
  "$@" 2>&1 | python3 -u -c '
import sys, time
start = last = time.monotonic(); longest = 0.0
for line in sys.stdin:
    now = time.monotonic(); longest = max(longest, now - last); last = now
    print(f"[{now - start:6.1f}s] {line.rstrip()}")
now = time.monotonic(); longest = max(longest, now - last)
print(f"-- {sys.argv[1]}: {now - start:.1f} s, longest silence {longest:.1f} s")' "$name"
  return "${PIPESTATUS[0]}"
}

stamp "quick start, one epoch (dotnet run builds the tool first)" \
  dotnet run -c Release --project src/Cifar10.Cli -- train --data "$data" --epochs 1 --out runs/first
cifar10=(dotnet src/Cifar10.Cli/bin/Release/net10.0/cifar10.dll)
stamp "report" "${cifar10[@]}" report --checkpoint runs/first

# A few test images as files, as a user's own would be (PNG, 32×32), written from the test set's binary batch.
mkdir -p images
tar -xzf "$data" -C "$work" --wildcards '*test_batch.bin'
python3 - "$(find "$work" -name test_batch.bin | head -1)" images <<'PY'
import struct, sys, zlib
batch, out = open(sys.argv[1], "rb").read(), sys.argv[2]
names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
def png(pixels):  # 32×32 RGB, one filter byte per row
    rows = b"".join(b"\0" + bytes(pixels[y * 96:(y + 1) * 96]) for y in range(32))
    chunk = lambda kind, body: struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 32, 32, 8, 2, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
for i in range(4):
    record = batch[i * 3073:(i + 1) * 3073]
    planes = record[1:]
    pixels = [planes[c * 1024 + p] for p in range(1024) for c in range(3)]
    open(f"{out}/{i}-{names[record[0]]}.png", "wb").write(png(pixels))
PY
stamp "predict" "${cifar10[@]}" predict --checkpoint runs/first images/*.png

port=$((20000 + RANDOM % 20000))
"${cifar10[@]}" serve --checkpoint runs/first --port "$port" > "$work/serve.log" 2>&1 &
server=$!
started=$(date +%s.%N)
until curl -sf "http://localhost:$port/healthz" >/dev/null; do
  sleep 0.2
  kill -0 "$server" 2>/dev/null || { cat "$work/serve.log"; echo "error: serve exited"; exit 1; }
done
echo "== serve: answering after $(python3 -c "print(f'{$(date +%s.%N) - $started:.1f}')") s"
curl -sf "http://localhost:$port/" | grep -o '<title>[^<]*</title>'
stamp "serve, one upload" curl -sf -F "image=@$(ls images/*.png | head -1)" "http://localhost:$port/predict"
echo
kill -TERM "$server"; wait "$server" || true
sed 's/^/[serve] /' "$work/serve.log"

stamp "install from a folder feed, the C# example" bash scripts/check-packages.sh "$data"
