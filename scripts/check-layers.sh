#!/bin/bash
# The one-way include rule between the layers (docs/architecture.md):
#   kernels/base/  includes only kernels/base/            (the foundation)
#   kernels/       includes only kernels/                 (its own layer and the foundation)
#   datasets/      includes only datasets/, kernels/base/
#   impls/         includes only impls/, kernels/         (never datasets/ or suite/)
#   suite/, tests/ may include anything; nothing else includes suite/.
# Outside tests/, project includes are written from the repository root
# ("kernels/ops.h"); one without a folder cannot be placed in a layer.
#
#   scripts/check-layers.sh [ROOT]      check ROOT (default: the repository)
#   scripts/check-layers.sh --self-test plant a bad include in a copy; it must be caught
set -u

# Prints "FILE:LINE: includes "X": RULE" for every include that breaks the rule.
check_tree() {
    local root=$1 status=0
    cd "$root" || return 2
    while IFS=: read -r file line text; do
        local inc=${text#*\"}
        inc=${inc%%\"*}
        local rule=""
        case $file in
            tests/*) continue ;;
            suite/*) ;;
            kernels/base/*) [[ $inc == kernels/base/* ]] ||
                rule="kernels/base/ may include only kernels/base/" ;;
            kernels/*) [[ $inc == kernels/* ]] ||
                rule="kernels/ may include only kernels/ (and the foundation kernels/base/)" ;;
            datasets/*) [[ $inc == datasets/* || $inc == kernels/base/* ]] ||
                rule="datasets/ may include only datasets/ and kernels/base/" ;;
            impls/*) [[ $inc == impls/* || $inc == kernels/* ]] ||
                rule="impls/ may include only impls/ and kernels/ (never datasets/ or suite/)" ;;
            *) [[ $inc != suite/* ]] || rule="nothing outside suite/ and tests/ includes suite/" ;;
        esac
        [[ -n $rule || $inc == */* ]] || rule="write project includes from the repository root"
        if [[ -n $rule ]]; then
            echo "$file:$line: includes \"$inc\": $rule"
            status=1
        fi
    done < <(grep -rnE --include='*.c' --include='*.h' --include='*.cu' --include='*.cuh' \
                 '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' \
                 kernels datasets impls suite tests plots scripts 2>/dev/null)
    return $status
}

# A clean copy passes; the same copy with one planted wrong-way include fails and
# names the file, the line and the rule.
self_test() {
    local repo tmp out
    repo=$(cd "$(dirname "$0")/.." && pwd)
    tmp=$(mktemp -d /tmp/check-layers.XXXXXX) || return 2
    trap 'rm -rf "$tmp"' RETURN
    (cd "$repo" && cp -r kernels datasets impls suite "$tmp/")
    if ! out=$(check_tree "$tmp"); then
        echo "check-layers self-test: the clean copy already fails:"; echo "$out"; return 1
    fi
    local victim=datasets/packer.c
    printf '#include "impls/model.h"\n' >> "$tmp/$victim"
    local planted
    planted=$(wc -l < "$tmp/$victim")
    local want="$victim:$planted: includes \"impls/model.h\": datasets/ may include only"
    if out=$(check_tree "$tmp") || [[ $out != *"$want"* ]]; then
        echo "check-layers self-test: a planted include in $victim was not reported; got:"
        echo "$out"
        return 1
    fi
    echo "check-layers self-test: ok (a planted wrong-way include is reported)"
}

if [[ ${1:-} == --self-test ]]; then
    self_test
    exit $?
fi
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
if check_tree "$root"; then
    echo "check-layers: ok (kernels -> base, datasets -> base, impls -> kernels; suite alone)"
else
    echo "check-layers: includes above break the one-way rule; move the code to the lower layer" \
         "or pass the value in from the caller" >&2
    exit 1
fi
