#!/usr/bin/env bash
# The prediction server under load: N concurrent clients (wrk, from Debian) posting one image each on
# 127.0.0.1 for a fixed time, with the server batching requests and without (--max-batch 1). Prints
# requests/s, p50/p99 latency and the failed requests (errors and non-2xx answers) of each.
#
#   bash bench/serve-load.sh [--model fast] [--connections 32] [--seconds 20]
set -euo pipefail
cd "$(dirname "$0")/.."
model=fast
connections=32
seconds=20
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if ! command -v wrk >/dev/null; then
  echo "installing wrk (the load generator) with apt-get..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
dotnet build -c Release src/Cifar10.Cli -v q -nologo >/dev/null
dotnet build -c Release bench/Cifar10.Bench -v q -nologo >/dev/null
work=$(mktemp -d /tmp/cifar10-serve-load-XXXXXX)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
dotnet bench/Cifar10.Bench/bin/Release/net10.0/cifar10-bench.dll make-checkpoint "$model" "$work/checkpoint"
# A 64x48 photo-like PNG: decoding and resizing are part of every request.
python3 - "$work/image.png" <<'PY'
import struct, sys, zlib
w, h = 64, 48
raw = b"".join(b"\x00" + bytes(v for x in range(w) for v in (x * 4 % 256, y * 5 % 256, (x * y) % 256)) for y in range(h))
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                              + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
PY
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "image/png"
local f = io.open("$work/image.png", "rb")
wrk.body = f:read("*all")
f:close()
LUA

# shellcheck source=bench/machine.sh
source bench/machine.sh
echo "Machine: ${cpu}, $(nproc) cores; network ${model} (TorchSharp); ${connections} connections for ${seconds} s (wrk -t2)"
echo
echo "| server | requests/s | p50 latency | p99 latency | failed requests | images per forward pass |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
port=18471
for mode in "batching:--max-batch 64 --max-wait-ms 5" "no batching:--max-batch 1 --max-wait-ms 0"; do
  name=${mode%%:*}
  # shellcheck disable=SC2086
  dotnet src/Cifar10.Cli/bin/Release/net10.0/cifar10.dll serve --checkpoint "$work/checkpoint" --port $port ${mode#*:} >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/post.lua" "http://127.0.0.1:$port/predict" >"$work/wrk.txt"
  health=$(curl -sf "http://127.0.0.1:$port/healthz")
  kill -TERM $server; wait $server || true
  python3 - "$name" "$work/wrk.txt" "$health" <<'PY'
import json, re, sys
name, text, health = sys.argv[1], open(sys.argv[2]).read(), json.loads(sys.argv[3])
rate = re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)
latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", text, re.M))
errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", text) or [0, 0])[1])
per_pass = health["images"] / max(1, health["passes"])
print(f"| {name} | {float(rate):.0f} | {latency.get('50', 'n/a')} | {latency.get('99', 'n/a')} | {errors + non2xx} | {per_pass:.1f} |")
PY
done
