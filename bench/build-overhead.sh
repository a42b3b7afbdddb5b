#!/usr/bin/env bash
# Build-integration benchmark (section "Compress.Tasks build overhead" of bench/README.md).
#  1. No-op build overhead: a console app with a compress.yaml (digits-mlp + fashion-cnn, the ConsumerApp
#     spec) importing build/Compress.Tasks.{props,targets} in place, built incrementally with Compress
#     (EnableCompress=true) versus without (EnableCompress=false). Each flavour is its own copy of the
#     project (switching the property in one folder would make incremental clean delete the models and the
#     next build a real one). Runs alternate between the flavours; medians of RUNS runs are compared.
#  2. Cache hit on the largest shared model (ocr-det): the compress tool run again on an unchanged model
#     with a warm cache: wall time of the whole process and the pipeline's own duration_ms.
# Usage: bash bench/build-overhead.sh [RUNS]   (default 7); prints a Markdown table.
# COMPRESS_ARTIFACTS=DIR uses a task and tool already built with --artifacts-path DIR (Debug).
set -euo pipefail
runs=${1:-7}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/compress-build-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 UseSharedCompilation=false DOTNET_NOLOGO=1
art=${COMPRESS_ARTIFACTS:-$work/art}
if [ -z "${COMPRESS_ARTIFACTS:-}" ]; then
  dotnet build "$repo/src/Compress.Tasks" --artifacts-path "$art" -v:q -tl:off >/dev/null
fi
task="$art/bin/Compress.Tasks/debug/Compress.Tasks.dll"
tool="$art/bin/Compress.Cli/debug/compress.dll"
shared=$(cd "$repo/../shared/models" && pwd)

for f in on off; do
  mkdir -p "$work/$f"
  echo '<Project />' > "$work/$f/Directory.Build.props"; echo '<Project />' > "$work/$f/Directory.Build.targets"
  echo 'System.Console.WriteLine("hi");' > "$work/$f/Program.cs"
  sed -e "s#../../../shared/models#$shared#" "$repo/samples/ConsumerApp/compress.yaml" > "$work/$f/compress.yaml"
  cat > "$work/$f/app.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <Import Project="$repo/build/Compress.Tasks.props" />
  <PropertyGroup>
    <OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework>
    <_CompressTaskAssembly>$task</_CompressTaskAssembly><CompressToolPath>$tool</CompressToolPath>
  </PropertyGroup>
  <Import Project="$repo/build/Compress.Tasks.targets" />
</Project>
XML
done

build() { # $1 flavour (on|off), then extra args
  local flavour=$1; shift
  local enable=true; [ "$flavour" = off ] && enable=false
  dotnet build "$work/$flavour/app.csproj" -p:EnableCompress=$enable -nodeReuse:false -tl:off -v:q "$@" >/dev/null
}
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {printf "%.2f\n", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

for f in on off; do build $f; build $f --no-restore; done   # first real build, then one warm-up no-op
[ -f "$work/on/bin/Debug/net10.0/models/digits-int8.onnx" ] || { echo "the Compress build wrote no model" >&2; exit 1; }
: > "$work/on.txt"; : > "$work/off.txt"
for i in $(seq "$runs"); do
  for f in on off; do
    t0=$(now); build $f --no-restore; t1=$(now)
    echo "$t1 - $t0" | bc >> "$work/$f.txt"
  done
done
on=$(median < "$work/on.txt"); off=$(median < "$work/off.txt")
overhead=$(echo "scale=1; ($on - $off) * 100 / $off" | bc)

# Cache hit on ocr-det.
cat > "$work/ocr.yaml" <<YAML
version: 1
models:
  - name: ocr-det
    source: $shared/ocr-det.onnx
    passes:
      - quantize: {mode: dynamic, per_channel: true, op_types_to_quantize: [Conv, MatMul]}
YAML
t0=$(now); dotnet "$tool" run "$work/ocr.yaml" --output "$work/out" --cache-dir "$work/cache" >/dev/null; t1=$(now)
miss=$(printf "%.2f" "$(echo "$t1 - $t0" | bc)")
: > "$work/hit.txt"; : > "$work/hitms.txt"
for i in $(seq "$runs"); do
  t0=$(now); dotnet "$tool" run "$work/ocr.yaml" --output "$work/out" --cache-dir "$work/cache" >/dev/null; t1=$(now)
  echo "$t1 - $t0" | bc >> "$work/hit.txt"
  grep -o '"duration_ms": [0-9]*' "$work/out/ocr-det.report.json" | head -1 | grep -o '[0-9]*$' >> "$work/hitms.txt"
done
grep -q '"status": "hit"' "$work/out/ocr-det.report.json" || { echo "expected a cache hit" >&2; exit 1; }

echo "| measurement (median of $runs) | value |"
echo "|---|---|"
echo "| no-op build (ConsumerApp spec), EnableCompress=true | ${on} s |"
echo "| no-op build (ConsumerApp spec), EnableCompress=false | ${off} s |"
echo "| overhead of Compress on a no-op build | ${overhead} % |"
echo "| ocr-det (4.7 MB), tool process, cold (compressing) | ${miss} s |"
echo "| ocr-det, tool process, cache hit | $(median < "$work/hit.txt") s |"
echo "| ocr-det, cache hit inside the pipeline (report duration_ms) | $(median < "$work/hitms.txt") ms |"
