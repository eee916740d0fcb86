#!/usr/bin/env bash
# Loading an image folder: CIFAR-10's 60,000 images written as PNG files (ImageFolder layout), then
# loaded by the toolkit twice: decoded on every core with no cache, and read back from its cache.
#
#   bash bench/image-folder.sh [DATA]       # DATA defaults to ../shared/data/cifar-10-binary.tar.gz
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/cifar-10-binary.tar.gz}
dotnet build -c Release bench/Cifar10.Bench -v q -nologo >/dev/null
folder=runs/bench/cifar10-png
bench=(dotnet bench/Cifar10.Bench/bin/Release/net10.0/cifar10-bench.dll)
[ -d "$folder/test" ] || "${bench[@]}" write-folder "$data" "$folder"
# shellcheck source=bench/machine.sh
source bench/machine.sh
echo "Machine: ${cpu}, $(nproc) cores; $(find "$folder" -name '*.png' | wc -l) PNG files in $folder"
echo
"${bench[@]}" folder-load "$folder" | python3 -c '
import csv, sys
print("| load | files | seconds | images/s |")
print("| --- | ---: | ---: | ---: |")
for r in csv.DictReader(sys.stdin):
    print("| {phase} | {files} | {seconds} | {images_per_s} |".format(**r))
'
