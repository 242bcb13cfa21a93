#!/usr/bin/env bash
# The one-call GPU check for a short device window (docs/gpu-status.md), about 8
# minutes in all. Run from the repository root on the GPU machine:
#   scripts/gpu-check.sh [--kit build/gpu-kit.tar.xz|DIR] [--report PATH] [--budget SECONDS]
# With a kit from scripts/gpu-prepare.sh it runs the kit's binaries against the
# kit's libraries; without one it builds here (make -j BUILD=build/gpu-check).
# Steps, each under its share of the budget:
#   1. binaries (kit or build) and the GPU (nvidia-smi); either missing stops here
#   2. test_gpu --quick --no-models under compute-sanitizer memcheck, then racecheck
#   3. test_gpu in full (every op, routing op and model row, with its error)
#   4. suite bench --device cuda, B=256 mixed: Transformer-/MoT-/EC-/TC-Medium
#   5. a short training run (~2 minutes) whose loss must fall
# It writes ONE markdown report (default docs/gpu-check-report.md, also copied to
# $OUT when that is set), and still writes it when a step stops the check.
# Exit status: 0 all passed, 1 something failed or stopped.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
KIT="" REPORT=docs/gpu-check-report.md BUDGET=480
while [ $# -gt 0 ]; do
    case $1 in
        --kit) KIT=$2; shift 2 ;;
        --report) REPORT=$2; shift 2 ;;
        --budget) BUDGET=$2; shift 2 ;;
        *) echo "usage: scripts/gpu-check.sh [--kit ARCHIVE|DIR] [--report PATH] [--budget SECONDS]" >&2; exit 2 ;;
    esac
done
[ -z "$KIT" ] && [ -f build/gpu-kit.tar.xz ] && KIT=build/gpu-kit.tar.xz
[ -z "$KIT" ] && [ -d build/gpu-kit/bin ] && KIT=build/gpu-kit
START=$(date +%s)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check-XXXXXX")
# The kit as gpu-prepare.sh sends it: one archive, unpacked here.
if [ -n "$KIT" ] && [ -f "$KIT" ]; then
    tar -C "$WORK" -xJf "$KIT" && KIT=$(find "$WORK" -mindepth 2 -maxdepth 2 -name bin -type d -printf '%h\n' | head -1)
fi
[ -n "$KIT" ] && [ -d "$KIT" ] && KIT=$(cd "$KIT" && pwd)
BODY=$WORK/body.md
STATUS="passed"
: >"$BODY"

note() { printf '%s\n' "$*" >>"$BODY"; echo "gpu-check: $*"; }
left() { echo $((BUDGET - ($(date +%s) - START))); }
# Seconds for a step: its share, or what is left of the budget if less (at least
# 1: `timeout 0` would mean no limit at all).
share() { local l; l=$(left); [ "$l" -lt 1 ] && l=1; [ "$1" -lt "$l" ] && echo "$1" || echo "$l"; }
fenced() { { echo '```'; cat "$1"; echo '```'; } >>"$BODY"; }

write_report() {
    local commit="unknown"
    if [ -n "$KIT" ] && [ -f "$KIT/COMMIT" ]; then commit=$(paste -sd' ' "$KIT/COMMIT")
    elif git rev-parse HEAD >/dev/null 2>&1; then commit=$(git rev-parse HEAD)
    fi
    mkdir -p "$(dirname "$REPORT")"
    {
        echo "# GPU check report"
        echo
        echo "- result: **$STATUS**"
        echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), host $(hostname), $(($(date +%s) - START)) s"
        echo "- commit: $commit"
        echo "- GPU: ${GPU_NAME:-none}; driver: ${DRIVER:-n/a}; CUDA: ${CUDA_VERSION:-n/a}"
        echo "- binaries: ${BIN_SOURCE:-none}"
        echo
        cat "$BODY"
    } >"$REPORT"
    [ -n "${OUT:-}" ] && [ -d "$OUT" ] && cp "$REPORT" "$OUT/gpu-check-report.md"
    echo "gpu-check: report written to $REPORT"
}

stop() {
    STATUS="stopped: $*"
    note "**Stopped:** $*"
    write_report
    rm -rf "$WORK"
    exit 1
}

# $WORK/run BIN ARGS runs a binary: directly, or through the kit's loader when the
# device's C library is too old (written once LOADER is known; a script, so that
# timeout and compute-sanitizer, which follows child processes, can run it).
write_runner() {
    if [ -n "${LOADER:-}" ]; then
        printf '#!/bin/sh\nexec "%s" --library-path "%s:$LD_LIBRARY_PATH" "$@"\n' "$LOADER" "$KIT/glibc" >"$WORK/run"
    else
        printf '#!/bin/sh\nexec "$@"\n' >"$WORK/run"
    fi
    chmod +x "$WORK/run"
}
RUN_BIN=$WORK/run

# ---- 1. binaries and GPU ---------------------------------------------------------
if [ -n "$KIT" ]; then
    [ -x "$KIT/bin/suite" ] && [ -x "$KIT/bin/test_gpu" ] || stop "kit $KIT lacks bin/suite or bin/test_gpu: run scripts/gpu-prepare.sh here first"
    BIN=$KIT/bin BIN_SOURCE="kit $KIT ($(head -1 "$KIT/COMMIT" 2>/dev/null))"
    # CUDA's libraries from the device: the toolkit's lib64 and, failing that,
    # wherever pip's nvidia packages put them.
    cuda_dirs=""
    for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libnccl.so.2; do
        found=$(ls /usr/local/cuda/lib64/$lib 2>/dev/null ||
                find /usr/local/cuda/ /usr/lib/x86_64-linux-gnu/ /usr/local/lib/ /opt/ -name "$lib" 2>/dev/null | head -1)
        [ -n "$found" ] && cuda_dirs="$cuda_dirs:$(dirname "$found")"
    done
    export LD_LIBRARY_PATH="$KIT/lib$cuda_dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    if ! "$BIN/suite" --help >/dev/null 2>"$WORK/ldd.err"; then
        if grep -q GLIBC "$WORK/ldd.err" && [ -x "$KIT/glibc/ld-linux-x86-64.so.2" ]; then
            LOADER=$KIT/glibc/ld-linux-x86-64.so.2
            note "The device's C library is older than the kit's: running through the kit's loader."
        fi
        write_runner
        "$RUN_BIN" "$BIN/suite" --help >/dev/null 2>"$WORK/ldd.err" ||
            stop "the kit's suite does not start: $(head -3 "$WORK/ldd.err" | tr '\n' ' ')"
    fi
else
    command -v nvcc >/dev/null || stop "no kit (build/gpu-kit) and no nvcc to build with"
    BIN=build/gpu-check BIN_SOURCE="built here in build/gpu-check"
    if ! timeout "$(share 240)" make -j"$(nproc)" BUILD=build/gpu-check build/gpu-check/suite build/gpu-check/test_gpu >"$WORK/build.log" 2>&1; then
        note "Build failed; the end of its log:"
        tail -30 "$WORK/build.log" >"$WORK/build.tail"; fenced "$WORK/build.tail"
        stop "the build failed (make BUILD=build/gpu-check)"
    fi
fi
write_runner
if ! command -v nvidia-smi >/dev/null; then stop "no GPU: nvidia-smi is not installed on $(hostname)"; fi
if ! nvidia-smi -L >"$WORK/gpus" 2>&1 || ! grep -q '^GPU ' "$WORK/gpus"; then
    stop "no GPU: nvidia-smi -L says: $(head -2 "$WORK/gpus" | tr '\n' ' ')"
fi
GPU_NAME=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -1)
DRIVER=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)
CUDA_VERSION=$(nvidia-smi | grep -o 'CUDA Version: [0-9.]*' | head -1)
command -v nvcc >/dev/null && CUDA_VERSION="$CUDA_VERSION (driver); nvcc $(nvcc --version | grep -o 'release [0-9.]*')"

# ---- 2. sanitizers at quick sizes -----------------------------------------------------
harness_rows() { grep -E ' (PASS|FAIL)$|^test-gpu: |bf16 operands:|^    gradient ' "$1"; }
SANITIZER=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null)
if [ -n "$SANITIZER" ]; then
    for tool in memcheck racecheck; do
        secs=$(share $([ $tool = memcheck ] && echo 100 || echo 70))
        timeout "$secs" "$SANITIZER" --tool "$tool" --error-exitcode 9 \
            "$RUN_BIN" "$BIN/test_gpu" --quick --no-models >"$WORK/$tool.log" 2>&1
        rc=$?
        note "## compute-sanitizer $tool (test_gpu --quick --no-models): exit $rc$([ $rc = 124 ] && echo ', timed out after '"$secs"' s')"
        grep -E '^=========|test-gpu:' "$WORK/$tool.log" | tail -25 >"$WORK/$tool.tail"; fenced "$WORK/$tool.tail"
        [ $rc = 0 ] || STATUS="failed"
    done
else
    note "## compute-sanitizer: not installed here, skipped"
fi

# ---- 3. the full harness -----------------------------------------------------------------
secs=$(share 150)
TMPDIR=$WORK timeout "$secs" "$RUN_BIN" "$BIN/test_gpu" >"$WORK/harness.log" 2>&1
rc=$?
note "## test_gpu, full sizes: exit $rc$([ $rc = 124 ] && echo ', timed out after '"$secs"' s (rows below are those that ran)')"
harness_rows "$WORK/harness.log" >"$WORK/harness.rows"; fenced "$WORK/harness.rows"
[ $rc = 0 ] || STATUS="failed"

# ---- 4. benchmark ---------------------------------------------------------------------------
secs=$(share 90)
timeout "$secs" "$RUN_BIN" "$BIN/suite" bench --device cuda --precision mixed --batch 256 \
    --model transformer-medium --model mot-medium/32e/16 --model ec-medium/32e --model tc-medium/32e >"$WORK/bench.log" 2>&1
rc=$?
note "## suite bench --device cuda, B=256, T=256, mixed: exit $rc"
fenced "$WORK/bench.log"
[ $rc = 0 ] || STATUS="failed"

# ---- 5. a short training run whose loss must fall ----------------------------------------------
secs=$(share 130)
RUN=$WORK/train
timeout "$secs" "$RUN_BIN" "$BIN/suite" train --device cuda --model mot-mini/32e/16 \
    --steps 400 --batch 64 --eval-every 100 --eval-batches 2 --ckpt-every 1000000 --log-every 50 --out "$RUN" >"$WORK/train.log" 2>&1
rc=$?
falls=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "loss") c = i; next }
                 c { n++; v[n] = $c } END {
                     if (n < 10) { print "too few steps (" n ")"; exit }
                     for (i = 1; i <= 5; i++) { a += v[i]; b += v[n - 5 + i] }
                     printf "%s: mean loss of steps 1-5 %.3f, of the last 5 (of %d) %.3f\n",
                            (b < a - 0.5 ? "falls" : "DOES NOT FALL"), a / 5, n, b / 5 }' "$RUN/metrics.csv" 2>/dev/null)
note "## suite train mot-mini/32e/16, B=64, up to 400 steps in ${secs} s: exit $rc$([ $rc = 124 ] && echo ' (stopped by the time limit, as planned)'); ${falls:-no metrics.csv}"
tail -8 "$WORK/train.log" >"$WORK/train.tail"; fenced "$WORK/train.tail"
case $falls in falls*) ;; *) STATUS="failed" ;; esac
[ $rc = 0 ] || [ $rc = 124 ] || STATUS="failed"

write_report
rm -rf "$WORK"
[ "$STATUS" = passed ]
