#!/bin/sh
# Runs ./wordfreq -n 0 on each tests/*.in and compares with tests/*.out.
fail=0
for input in tests/*.in; do
    want="${input%.in}.out"
    if ./wordfreq -n 0 < "$input" | cmp -s - "$want"; then
        echo "ok   $input"
    else
        echo "FAIL $input"; fail=1
    fi
done
exit $fail
