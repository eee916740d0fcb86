#!/usr/bin/env bash
# The toolkit as someone else's project gets it: packs Cifar10.Core and the cifar10 .NET tool into a
# local folder feed, creates a console project in a temporary folder outside this repository that
# installs the package from that feed, compiles the C# example of README.md ("Use from C#") into it,
# runs it (a tiny training on a real-data subset, then a prediction), and installs the tool and runs
# `cifar10 --version`. No step relies on this repository's build settings (the libstdc++ fix must
# come with the package).
#
#   bash scripts/check-packages.sh [DATA]      # DATA defaults to ../shared/data/cifar-10-binary.tar.gz
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
data=$(realpath "${1:-../shared/data/cifar-10-binary.tar.gz}")
work=$(mktemp -d /tmp/cifar10-consumer-XXXXXX)
trap 'rm -rf "$work"' EXIT
feed="$work/feed"

echo "== packing Cifar10.Core and Cifar10.Cli into $feed"
dotnet pack src/Cifar10 -c Release -o "$feed" -nologo -v q
dotnet pack src/Cifar10.Cli -c Release -o "$feed" -nologo -v q
ls -la "$feed"
# The version names the commit (and uncommitted edits), so NuGet's package cache never serves an older build.
version=$(basename "$feed"/Cifar10.Core.*.nupkg .nupkg); version=${version#Cifar10.Core.}
echo "version $version"

echo "== a console project outside the repository, with the README's example as Program.cs"
mkdir -p "$work/consumer"
cd "$work/consumer"
cat > Consumer.csproj <<'XML'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
  </PropertyGroup>
</Project>
XML
cat > nuget.config <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="cifar10-local" value="$feed" />
  </packageSources>
</configuration>
XML
# The code block that follows the marker line in README.md.
awk '/<!-- the example CI compiles and runs -->/ {found = 1; next} found && /^```csharp/ {inside = 1; next} inside && /^```/ {exit} inside {print}' \
  "$repo/README.md" > Program.cs
[ -s Program.cs ] || { echo "error: no C# example after the marker in README.md" >&2; exit 1; }
dotnet add package Cifar10.Core --version "$version" >/dev/null
dotnet build -c Release -nologo -v q
# A small PNG (8x8, sky blue) to predict.
echo 'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR42mOoWPUMK2IYWhIAsDaCAdhc+t4AAAAASUVORK5CYII=' | base64 -d > sky.png
dotnet bin/Release/net10.0/Consumer.dll "$data" sky.png | tee run.log
grep -q "^sky.png: " run.log || { echo "error: the example printed no prediction" >&2; exit 1; }
[ -f runs/tiny-cnn/results.json ] || { echo "error: the example wrote no run folder" >&2; exit 1; }

echo "== the cifar10 .NET tool"
dotnet tool install --tool-path "$work/tools" --add-source "$feed" Cifar10.Cli --version "$version"
"$work/tools/cifar10" --version
"$work/tools/cifar10" summary --model simple | grep -q "Total params: 80,090"
echo "packages OK: the library from a folder feed in a project outside the repository, and the tool"
