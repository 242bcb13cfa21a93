#!/usr/bin/env bash
# Regenerate the paper's figures and tables, then compare them with the
# published numbers.
#
#   ./run_all.sh                        every experiment (cpu scale without a GPU, small with one)
#   ./run_all.sh fig-granularity ...    only these experiments (`suite list` names them)
#   ./run_all.sh --scale paper          paper | small | cpu | tiny (experiments/README.md)
#   ./run_all.sh --diff                 only the published-vs-measured table
#   ./run_all.sh --results DIR          write results under DIR instead of results/
#   ./run_all.sh --seeds N              seed replicates per run (default: each definition's)
#   ./run_all.sh --jobs N               training runs at once (default: nproc without a GPU, 1 with one)
#
# Finished runs are skipped and interrupted ones resume, so running it again
# continues where it stopped. Results: results/<experiment>-<scale>/ (summary.csv,
# figure), results/report-<scale>.md, run directories under results/runs/.
set -euo pipefail
cd "$(dirname "$0")"

usage() { sed -n '2,16s/^# \{0,1\}//p' "$0"; }
has_gpu() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; }

scale=""
results=results
diff_only=0
failed=0
seeds=()
jobs=""
names=()
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) [ $# -ge 2 ] || { echo "run_all.sh: --scale needs paper, small, cpu or tiny" >&2; exit 2; }
                 scale="$2"; shift 2 ;;
        --scale=*) scale="${1#--scale=}"; shift ;;
        --results) [ $# -ge 2 ] || { echo "run_all.sh: --results needs a folder" >&2; exit 2; }
                   results="$2"; shift 2 ;;
        --seeds) [ $# -ge 2 ] || { echo "run_all.sh: --seeds needs a count" >&2; exit 2; }
                 seeds=(--seeds "$2"); shift 2 ;;
        --jobs) [ $# -ge 2 ] || { echo "run_all.sh: --jobs needs a count" >&2; exit 2; }
                jobs="$2"; shift 2 ;;
        --diff) diff_only=1; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "run_all.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
        *) names+=("$1"); shift ;;
    esac
done

# The default scale follows the hardware: small needs one GPU; cpu is sized for
# 2 CPU cores and about 3 hours (tiny is the one-minute smoke test).
if [ -z "$scale" ]; then
    if has_gpu; then
        scale=small
    else
        scale=cpu
    fi
fi
case "$scale" in
    paper|small|cpu|tiny) ;;
    *) echo "run_all.sh: --scale must be paper, small, cpu or tiny (got '$scale')" >&2; exit 2 ;;
esac

# Without a GPU, single-threaded runs side by side train faster than one run on
# every core (the cpu scale's matrices are too small to split well); a GPU
# trains one run at a time.
if [ -z "$jobs" ]; then
    if has_gpu; then jobs=1; else jobs=$(nproc); fi
    [ "$jobs" -le 64 ] || jobs=64
fi
case "$jobs" in
    ''|*[!0-9]*) jobs_ok=0 ;;
    *) jobs=$((10#$jobs)); jobs_ok=$(( jobs >= 1 && jobs <= 64 )) ;;
esac
[ "$jobs_ok" -eq 1 ] || { echo "run_all.sh: --jobs must be 1 to 64 (got '$jobs')" >&2; exit 2; }

# Missing Debian packages first, then whatever needs building (build/suite).
# MOT_SUITE names a binary built already (the tests run the one under test).
if [ -n "${MOT_SUITE:-}" ]; then
    suite=$MOT_SUITE
else
    scripts/install-deps.sh
    make --no-print-directory -s
    suite=build/suite
fi

if [ "$diff_only" -eq 0 ]; then
    if [ ${#names[@]} -eq 0 ]; then
        mapfile -t names < <(find experiments -maxdepth 1 -name '*.yaml' -printf '%f\n' | sed 's/\.yaml$//' | sort)
    fi
    start=$SECONDS
    printf '\n### %d experiment(s) at %s scale, up to %d run(s) at once\n' "${#names[@]}" "$scale" "$jobs"
    rc=0
    "$suite" run "${names[@]}" --scale "$scale" --results "$results" --jobs "$jobs" "${seeds[@]}" || rc=$?
    case "$rc" in
        0) ;;
        130) echo "run_all.sh: interrupted; run it again to resume" >&2; exit 130 ;;
        *) failed=$rc ;;
    esac
    elapsed=$((SECONDS - start))
    printf '\n### %d experiment(s) at %s scale in %dm%02ds\n' "${#names[@]}" "$scale" \
        $((elapsed / 60)) $((elapsed % 60))
fi

"$suite" diff --scale "$scale" --results "$results"

if [ "$failed" -ne 0 ]; then
    echo "run_all.sh: some runs failed (suite run exit $failed); see the logs named above" >&2
    exit 1
fi
