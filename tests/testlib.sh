# Shared by the shell tests (sourced): a scratch folder removed on exit, and
# check DESCRIPTION 'CONDITION' counting passes and failures; finish prints the
# tally and fails the test when anything failed.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]; }
