#!/usr/bin/env bash
# The prediction server's resident memory under a hostile load, on 127.0.0.1 only: C concurrent clients send N
# requests that mix good images with garbage, malformed multipart bodies, bad ?top= values, oversized headers and
# image bombs (PNGs declaring 20000x20000 pixels, 9000x9000 pixels of which the decoding memory holds one at a time, and
# 5000x5000 pixels that fit it). Prints the answers by status, the 5xx count, whether every good image got the
# answer it gets alone, and the peak resident memory above the idle server's (docs/serving.md states the bound).
#
#   bash bench/serve-hostile.sh [--model fast] [--requests 400] [--concurrency 32] [--decode-memory-mib 512]
set -euo pipefail
cd "$(dirname "$0")/.."
model=fast
requests=400
concurrency=32
decode_mib=512
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --decode-memory-mib) decode_mib=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
dotnet build -c Release src/Cifar10.Cli -v q -nologo >/dev/null
dotnet build -c Release bench/Cifar10.Bench -v q -nologo >/dev/null
work=$(mktemp -d /tmp/cifar10-serve-hostile-XXXXXX)
server=
trap '[ -n "$server" ] && kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
dotnet bench/Cifar10.Bench/bin/Release/net10.0/cifar10-bench.dll make-checkpoint "$model" "$work/checkpoint"

port=18472
dotnet src/Cifar10.Cli/bin/Release/net10.0/cifar10.dll serve --checkpoint "$work/checkpoint" --port $port \
  --decode-memory-mib "$decode_mib" >"$work/server.out" 2>"$work/server.err" &
server=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done

# shellcheck source=bench/machine.sh
source bench/machine.sh
echo "Machine: ${cpu}, $(nproc) cores; network ${model} (untrained, TorchSharp); ${requests} requests, ${concurrency} at a time; --decode-memory-mib ${decode_mib}"
echo
python3 - "$port" "$requests" "$concurrency" <<'PY'
import http.client, json, random, struct, sys, zlib
from concurrent.futures import ThreadPoolExecutor
from collections import Counter

port, total, concurrency = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

def png(width, height, rgb=(200, 30, 30), declared=None):
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    rows = zlib.compressobj(1)
    row = b"\x00" + bytes(rgb) * width
    data = b"".join(rows.compress(row) for _ in range(height)) + rows.flush()
    w, h = declared or (width, height)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", data) + chunk(b"IEND", b"")

def photo(seed):  # a 64x48 picture with some structure
    r = random.Random(seed)
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    a, b, c = (r.randrange(1, 9) for _ in range(3))
    raw = b"".join(b"\x00" + bytes(v for x in range(64) for v in (x * a % 256, y * b % 256, (x * y * c) % 256)) for y in range(48))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 48, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

def form(files, boundary="cifar10bench", close=True):
    body = b"".join(b"--" + boundary.encode() + b"\r\nContent-Disposition: form-data; name=\"images\"; filename=\"" + name.encode()
                    + b"\"\r\nContent-Type: image/png\r\n\r\n" + data + b"\r\n" for name, data in files)
    return body + (b"--" + boundary.encode() + b"--\r\n" if close else b""), f"multipart/form-data; boundary={boundary}"

def post(body, content_type, query="", headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("POST", "/predict" + query, body, {"Content-Type": content_type, **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()

def get(path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    return json.loads(connection.getresponse().read())

good = [(f"photo{i}.png", photo(i)) for i in range(8)]
alone = {name: json.loads(post(*form([(name, data)]))[1])["predictions"][0]["top"][0] for name, data in good}
idle = get("/healthz")["memory"]["residentBytes"]

bomb, too_large, declared = png(5000, 5000), png(9000, 9000), png(40, 30, declared=(20000, 20000))
kinds = {
    "good image": lambda: (lambda g: (g[0], post(*form([g]))))(random.choice(good)),
    "5000x5000 PNG": lambda: (None, post(*form([("bomb.png", bomb)]))),
    "9000x9000 PNG": lambda: (None, post(*form([("large.png", too_large)]))),
    "20000x20000 declared": lambda: (None, post(*form([("huge.png", declared)]))),
    "garbage": lambda: (None, post(bytes(random.getrandbits(8) for _ in range(4000)), "image/png")),
    "unclosed multipart": lambda: (None, post(*form([good[0]], close=False))),
    "no boundary": lambda: (None, post(form([good[0]])[0], "multipart/form-data")),
    "bad ?top=": lambda: (None, post(*form([good[0]]), query="?top=-2")),
    "40 KiB header": lambda: (None, post(*form([good[0]]), headers={"X-Padding": "x" * 40960})),
}
weights = {"good image": 8, "5000x5000 PNG": 2, "9000x9000 PNG": 1, "20000x20000 declared": 2, "garbage": 2,
           "unclosed multipart": 1, "no boundary": 1, "bad ?top=": 1, "40 KiB header": 1}
plan = random.Random(0).choices(list(kinds), weights=[weights[k] for k in kinds], k=total)

def run(kind):
    name, (status, body) = kinds[kind]()
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    right = None
    if name is not None and status == 200:
        top = answer["predictions"][0]["top"][0]
        right = top["class"] == alone[name]["class"] and abs(top["probability"] - alone[name]["probability"]) < 1e-4
    return kind, status, answer is not None, right

with ThreadPoolExecutor(concurrency) as pool:
    results = list(pool.map(run, plan))

after = get("/healthz")
peak = after["memory"]["peakResidentBytes"]
print("| request | sent | answers |")
print("| --- | ---: | --- |")
for kind in kinds:
    statuses = Counter(status for k, status, _, _ in results if k == kind)
    print(f"| {kind} | {sum(statuses.values())} | {', '.join(f'{s}: {n}' for s, n in sorted(statuses.items()))} |")
print()
server_errors = sum(1 for _, status, _, _ in results if status >= 500)
not_json = sum(1 for _, _, is_json, _ in results if not is_json)
good_answers = [right for _, _, _, right in results if right is not None]
print(f"5xx answers: {server_errors}; answers that are not JSON: {not_json}; good images answered as alone: {sum(good_answers)}/{len(good_answers)}")
print(f"resident memory: idle {idle / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB, peak above idle {(peak - idle) / 2**20:.0f} MiB "
      f"(decoded pixels in flight at most {after['decoding']['peakBytes'] / 2**20:.0f} MiB of {after['limits']['decodingBytes'] / 2**20:.0f})")
PY
kill -TERM $server; wait $server || true
server=
lines=$(grep -c . "$work/server.err" || true)
echo "server log: ${lines} line(s)$( [ "$lines" -gt 0 ] && echo ":" )"
cat "$work/server.err"
if grep -q '^[[:space:]]*at ' "$work/server.err"; then echo "a stack trace in the log" >&2; exit 1; fi
