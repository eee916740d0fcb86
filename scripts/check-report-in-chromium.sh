#!/usr/bin/env bash
# Screenshots RUN_DIR/report.html (or index.html for a sweep) in headless Chromium, to check
# that a report really renders from disk with no server and no network.
# Usage: scripts/check-report-in-chromium.sh RUN_DIR [OUT_PNG]
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 RUN_DIR [OUT_PNG]" >&2
  exit 2
fi

run_dir=$(realpath "$1")
page="$run_dir/report.html"
[[ -f "$page" ]] || page="$run_dir/index.html"  # a sweep directory has index.html instead
if [[ ! -f "$page" ]]; then
  echo "error: neither report.html nor index.html found in $run_dir" >&2
  exit 1
fi
out_png=$(realpath -m "${2:-$run_dir/report-screenshot.png}")

if ! command -v chromium >/dev/null 2>&1; then
  echo "chromium not found; installing Debian's chromium package..." >&2
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y --no-install-recommends chromium
fi

# A throwaway profile keeps runs independent and leaves nothing in $HOME.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
mkdir -p "$(dirname "$out_png")"
rm -f "$out_png"

# Everything that could reach the network is switched off: the report must be self-contained.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --window-size=1280,4000 \
  --screenshot="$out_png" "file://$page" >"$profile/chromium.log" 2>&1 || true  # exit code is unreliable; the PNG decides

# A real PNG starts with the 8-byte signature 89 50 4E 47 0D 0A 1A 0A.
if [[ ! -s "$out_png" ]] || [[ $(head -c 8 "$out_png" | od -An -tx1 | tr -d ' \n') != "89504e470d0a1a0a" ]]; then
  echo "error: chromium did not produce a PNG screenshot at $out_png; its output was:" >&2
  tail -n 20 "$profile/chromium.log" >&2
  exit 1
fi
echo "$out_png"
