#!/usr/bin/env bash
# Learning-rate sweep: trains MODEL once per peak LR with the same recipe and
# prints (and writes to OUT/sweep.csv) the final eval and training loss of each,
# so a definition's `lr:` below paper scale comes from a measurement.
#
#   scripts/lr-sweep.sh [--jobs J] [--out DIR] [--suite BIN] MODEL "LR LR ..." -- TRAIN-OPTIONS
#
#   --jobs J     runs side by side, one thread each (default: nproc)
#   --out DIR    where the runs go (default results/sweeps)
#   --suite BIN  suite binary (default build/suite)
#
# Example (the cpu scale's recipe, experiments/README.md):
#   scripts/lr-sweep.sh mot-cpu/32e "2e-3 4e-3 8e-3" -- --steps 1200 --batch 32 --seq-len 64 \
#       --train-data datasets/english-standin/standin-train.00000-of-00007.json.gz \
#       --val-data datasets/english-standin/standin-validation.00000-of-00001.json.gz
# A run that finished with the same options is not trained again (the trainer's
# --resume); the CSV always lists every LR asked for.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,18s/^# \{0,1\}//p' "$0"; }
jobs=$(nproc)
out=results/sweeps
suite=build/suite
while [ $# -gt 0 ]; do
    case "$1" in
        --jobs) jobs=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --suite) suite=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) break ;;
    esac
done
[ $# -ge 2 ] || { usage >&2; exit 2; }
model=$1 lrs=$2
shift 2
[ "${1:-}" = "--" ] && shift
case "$jobs" in ''|*[!0-9]*|0) echo "lr-sweep.sh: --jobs must be a positive integer (got '$jobs')" >&2; exit 2 ;; esac
[ -x "$suite" ] || { echo "lr-sweep.sh: $suite not found; run make first (or pass --suite)" >&2; exit 2; }

# One thread per run unless the caller chose (OMP_NUM_THREADS), as `suite run --jobs` does.
threads=${OMP_NUM_THREADS:-$(( $(nproc) / jobs ))}; [ "$threads" -ge 1 ] || threads=1
dir_of() { echo "$out/${model//\//_}/lr-$1"; }

train_one() {
    local lr=$1 dir
    shift
    dir=$(dir_of "$lr")
    mkdir -p "$dir"
    if OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads \
        "$suite" train --model "$model" --lr "$lr" --out "$dir" --resume --quiet "$@" \
        >"$dir/sweep.log" 2>&1; then
        echo "  lr $lr: done"
    else
        local rc=$?
        echo "  lr $lr: exit $rc (see $dir/sweep.log)"
    fi
}

echo "lr-sweep: $model at LR $lrs, $jobs at a time -> $out"
running=0
for lr in $lrs; do
    train_one "$lr" "$@" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done
wait

# Last row of a CSV's column (by header name), or "-".
last_value() {
    [ -f "$1" ] || { echo "-"; return; }
    awk -F, -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
                         c { v = $c } END { print (v == "" ? "-" : v) }' "$1"
}

csv="$out/${model//\//_}/sweep.csv"
echo "model,lr,final_eval_loss,final_train_loss,status" >"$csv"
printf '%-24s %-8s %12s %12s  %s\n' model lr eval_loss train_loss status
for lr in $lrs; do
    dir=$(dir_of "$lr")
    ev=$(last_value "$dir/eval.csv" eval_loss)
    tr=$(last_value "$dir/metrics.csv" loss)
    st=$(sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p' "$dir/status.json" 2>/dev/null || true)
    echo "$model,$lr,$ev,$tr,${st:-missing}" >>"$csv"
    printf '%-24s %-8s %12s %12s  %s\n' "$model" "$lr" "$ev" "$tr" "${st:-missing}"
done
echo "written: $csv"
