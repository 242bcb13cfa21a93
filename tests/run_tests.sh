#!/usr/bin/env bash
# Runs every Check test binary given as arguments, then prints one total line
# "tests: N passed, N failed". Exits non-zero if any binary failed.
set -u
passed=0 failed=0 status=0
for bin in "$@"; do
    echo "== $bin"
    out=$("$bin" 2>&1); rc=$?
    printf '%s\n' "$out"
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks: ' | tail -n 1)
    if [ -n "$line" ]; then
        checks=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
        fails=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$line")
        errs=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$line")
        passed=$((passed + checks - fails - errs)); failed=$((failed + fails + errs))
    else
        failed=$((failed + 1))   # crashed before Check could report
    fi
    [ "$rc" -eq 0 ] || status=1
done
echo "tests: $passed passed, $failed failed"
exit $status
