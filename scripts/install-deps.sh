#!/usr/bin/env bash
# Installs the Debian packages mot-bench builds and runs with, if any are missing.
# Fast when everything is present (one dpkg query). Needs root or sudo to install.
set -euo pipefail

PACKAGES=(
    build-essential pkg-config git   # compiler, make, build flags, commit ids in results
    libopenblas-dev                  # CPU BLAS (sgemm) for the C reference path
    libjansson-dev                   # JSON: C4 shards, configs, safetensors headers
    libpcre2-dev                     # GPT-2 pre-tokenizer regex (Unicode classes)
    zlib1g-dev                       # .json.gz shards
    libcsv-dev                       # CSV results
    libyaml-dev                      # experiment definitions
    check libsubunit-dev             # unit tests
    libopenmpi-dev openmpi-bin       # data parallelism across processes
    gnuplot-nox                      # figures
)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "mot-bench: installing missing Debian packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "mot-bench: run as root or install sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
