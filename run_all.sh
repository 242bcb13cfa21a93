#!/usr/bin/env bash
# Regenerate the paper's figures and tables, then compare them with the
# published numbers.
#
#   ./run_all.sh                        every experiment (tiny scale without a GPU, small with one)
#   ./run_all.sh fig-granularity ...    only these experiments (`suite list` names them)
#   ./run_all.sh --scale paper          paper | small | tiny (experiments/README.md)
#   ./run_all.sh --diff                 only the published-vs-measured table
#   ./run_all.sh --results DIR          write results under DIR instead of results/
#   ./run_all.sh --seeds N              seed replicates per run (default: each definition's)
#
# Finished runs are skipped and interrupted ones resume, so running it again
# continues where it stopped. Results: results/<experiment>-<scale>/ (summary.csv,
# figure), results/report-<scale>.md, run directories under results/runs/.
set -euo pipefail
cd "$(dirname "$0")"

usage() { sed -n '2,15s/^# \{0,1\}//p' "$0"; }

scale=""
results=results
diff_only=0
seeds=()
names=()
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) [ $# -ge 2 ] || { echo "run_all.sh: --scale needs paper, small or tiny" >&2; exit 2; }
                 scale="$2"; shift 2 ;;
        --scale=*) scale="${1#--scale=}"; shift ;;
        --results) [ $# -ge 2 ] || { echo "run_all.sh: --results needs a folder" >&2; exit 2; }
                   results="$2"; shift 2 ;;
        --seeds) [ $# -ge 2 ] || { echo "run_all.sh: --seeds needs a count" >&2; exit 2; }
                 seeds=(--seeds "$2"); shift 2 ;;
        --diff) diff_only=1; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "run_all.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
        *) names+=("$1"); shift ;;
    esac
done

# The default scale follows the hardware: small needs one GPU, tiny runs on CPU.
if [ -z "$scale" ]; then
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
        scale=small
    else
        scale=tiny
    fi
fi
case "$scale" in
    paper|small|tiny) ;;
    *) echo "run_all.sh: --scale must be paper, small or tiny (got '$scale')" >&2; exit 2 ;;
esac

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
    failed=()
    start=$SECONDS
    for i in "${!names[@]}"; do
        name=${names[$i]}
        elapsed=$((SECONDS - start))
        printf '\n### experiment %d of %d: %s (%s scale; %dm%02ds elapsed)\n' \
            "$((i + 1))" "${#names[@]}" "$name" "$scale" $((elapsed / 60)) $((elapsed % 60))
        rc=0
        "$suite" run "$name" --scale "$scale" --results "$results" "${seeds[@]}" || rc=$?
        case "$rc" in
            0) ;;
            130) echo "run_all.sh: interrupted; run it again to resume" >&2; exit 130 ;;
            *) failed+=("$name") ;;
        esac
    done
    elapsed=$((SECONDS - start))
    printf '\n### %d experiment(s) at %s scale in %dm%02ds\n' "${#names[@]}" "$scale" \
        $((elapsed / 60)) $((elapsed % 60))
fi

"$suite" diff --scale "$scale" --results "$results"

if [ "$diff_only" -eq 0 ] && [ ${#failed[@]} -gt 0 ]; then
    echo "run_all.sh: failed: ${failed[*]} (see the logs named above)" >&2
    exit 1
fi
