#!/usr/bin/env bash
# bench --device LIST: the same benchmark on every listed device in one run, the table across
# them (a column per device), the JSON {"bench","devices","table"} and the HTML page with its
# bar chart. The one device here is listed twice; a device that cannot be opened is reported,
# skipped, and makes the run exit 1 with the others' results kept. Single-device JSON keeps
# its old shape. logits refuses a list. The page's footer has the run's record.
set -u
bin="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export ROBUSTCL_QUIET=1
unset ROBUSTCL_DEVICE
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
step=(step --arch wrn-10-1 --batch 4 --input 12x12x1 --steps 1)

"$bin" bench "${step[@]}" --device 0:0,0:0 --json "$tmp/two.json" --html "$tmp/two.html" > "$tmp/two.out" 2>&1
check "two devices: exit 0" "[ $? = 0 ]"
check "a header per device" "[ \$(grep -c '^== device 0:0 ==' '$tmp/two.out') = 2 ]"
check "the table across devices" "grep -q '^== across devices: training step, images/s' '$tmp/two.out'"
python3 - "$tmp/two.json" <<'PY' && echo "ok: JSON devices and table" || { echo "FAIL: JSON devices and table"; fail=1; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["bench"] == "step" and len(d["devices"]) == 2, d.keys()
for dev in d["devices"]:
    assert dev["images_per_second"] > 0 and dev["platform"] and dev["opencl_c"] and dev["conv_algorithms"]
t = d["table"]
assert t["unit"] == "images/s" and len(t["rows"]) == 1 and len(t["columns"]) == 2
assert all(c["values"][0] > 0 and c["selector"] == "0:0" for c in t["columns"])
PY
check "HTML page with a chart and both columns" \
  "grep -q '<svg' '$tmp/two.html' && [ \$(grep -o '<th>0:0</th>' '$tmp/two.html' | wc -l) = 2 ]"
check "HTML page: the run's record in its footer" \
  "grep -q '<footer' '$tmp/two.html' && grep -q 'command_line' '$tmp/two.html' && grep -q 'clblast_version' '$tmp/two.html'"

"$bin" bench "${step[@]}" --device '0:0,no-such-device' --json "$tmp/bad.json" --html "$tmp/bad.html" \
  > "$tmp/bad.out" 2> "$tmp/bad.err"
check "a device that fails: exit 1" "[ $? = 1 ]"
check "its error names it" "grep -q 'device no-such-device' '$tmp/bad.err'"
check "the table marks it failed" "grep -q 'failed' '$tmp/bad.out'"
python3 - "$tmp/bad.json" <<'PY' && echo "ok: JSON keeps the other device" || { echo "FAIL: JSON keeps the other device"; fail=1; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["devices"][0]["images_per_second"] > 0 and "error" in d["devices"][1]
assert d["table"]["columns"][0]["values"][0] > 0 and d["table"]["columns"][1]["values"] == [None]
PY

"$bin" bench "${step[@]}" --json "$tmp/one.json" > /dev/null 2>&1
check "one device: the benchmark's own object" \
  "python3 -c \"import json; d = json.load(open('$tmp/one.json')); assert d['bench'] == 'step' and 'devices' not in d\""

"$bin" bench logits --model x --device all > /dev/null 2> "$tmp/logits.err"
check "logits refuses a device list" "[ $? = 2 ] && grep -q 'gemm, step and conv only' '$tmp/logits.err'"
exit $fail
