#!/usr/bin/env bash
# Every JSON result carries one "provenance" object with its fields filled (include/robustcl/
# provenance.h): train --json, eval --json, every bench --json (gemm, step, conv, logits, loader;
# one device and a device list), devices --json, and robustcl report's report.json, which keeps
# each stage's record and names (JSON, stderr, page) the fields in which the stages it merges
# differ. The suites' report.json and stage files: tests/test_suite_quick.c. tune --json writes
# its device through bench's rcl_bench_json_device, as bench gemm does (a tuning run, even a
# 1-second one, compiles CLBlast's kernels for minutes on a CPU).
set -u
bin="$1"
. "$(dirname "$0")/testlib.sh"
cd "$tmp"
export ROBUSTCL_QUIET=1
unset ROBUSTCL_DEVICE
data=${RCL_TEST_DATA:?RCL_TEST_DATA must name tests/data}
fm="fashion-mnist,n=16,seed=3" test="fashion-mnist,split=test,n=8"
net=(--arch wrn-10-1 --batch 4 --input 12x12x1)

# has FILE PATH DEVICE [MODEL]: the provenance object at PATH (a dotted path into FILE's JSON,
# "" for the top level) has every field filled; DEVICE 1: the device's too (0: they are null);
# MODEL 1: the model's convolution configurations and the dataset as well
has() {
  python3 - "$@" <<'PY'
import json, sys
path, where, device = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
model = len(sys.argv) > 4 and sys.argv[4] == "1"
doc = json.load(open(path))
for key in filter(None, where.split(".")):
    doc = doc[int(key)] if isinstance(doc, list) else doc[key]
p = doc["provenance"]
always = ["robustcl_version", "version", "commit", "clblast_version", "command_line", "started_utc", "host", "cpu"]
dev = ["platform", "platform_version", "device", "vendor", "driver", "opencl_c", "gemm_params_source",
       "gemm_params", "conv_policy", "conv_params_source"]
for k in always:
    assert isinstance(p[k], str) and p[k], (k, p.get(k))
assert p["wall_seconds"] >= 0 and p["cores"] >= 1, p
assert p["commit"] in p["robustcl_version"] and "robustcl" in p["command_line"], p
for k in dev:
    assert (isinstance(p[k], str) and p[k]) if device else p[k] is None, (k, p[k])
if model:
    for k in ["conv_configs", "dataset", "dataset_sha256"]:
        assert isinstance(p[k], str) and p[k], (k, p.get(k))
PY
}

"$bin" train --data "$fm" --test "$test" --epochs 1 --arch wrn-10-1 --batch 8 --out m.safetensors --json train.json \
  > /dev/null 2>&1
check "train --json" "has train.json '' 1 1"
"$bin" eval --model m.safetensors --data "$test" --json eval.json > /dev/null 2>&1
check "eval --json" "has eval.json '' 1 1"
"$bin" bench step "${net[@]}" --steps 1 --repeat 1 --json step.json > /dev/null 2>&1
check "bench step --json" "has step.json '' 1"
"$bin" bench conv "${net[@]}" --repeat 1 --json conv.json > /dev/null 2>&1
check "bench conv --json" "has conv.json '' 1"
"$bin" bench gemm --repeat 1 --peer-script /nonexistent --json gemm.json > /dev/null 2>&1
check "bench gemm --json" "has gemm.json '' 1"
"$bin" bench logits --model "$data/torch_parity.safetensors" --json logits.json > /dev/null 2>&1
check "bench logits --json (with the model's convolutions)" \
  "has logits.json '' 1 && python3 -c \"import json; assert json.load(open('logits.json'))['provenance']['conv_configs']\""
"$bin" bench loader --data "fashion-mnist,n=64" --batch 8 --json loader.json > /dev/null 2>&1
check "bench loader --json: host only, the device's fields null" "has loader.json '' 0"
"$bin" bench step "${net[@]}" --steps 1 --repeat 1 --device 0:0,0:0 --json list.json > /dev/null 2>&1
check "bench --device LIST --json: each device's record" "has list.json devices.0 1 && has list.json devices.1 1"
"$bin" devices --json devices.json > /dev/null 2>&1
check "devices --json" "has devices.json '' 0"
"$bin" devices --json - > devices.out 2> /dev/null
check "devices --json -: stdout" "has devices.out '' 0"

# robustcl report: two stage files from different devices and versions
mkdir -p a/stages
stage() { # ID DEVICE VERSION
  cat > "a/stages/$1.json" <<JSON
{"id": "$1", "experiment": "clean", "method": "normal", "arm": "scratch", "setting": 0, "seed": 1,
 "config_hash": "0000000000000001", "metrics": {"error": 10}, "series": {},
 "provenance": {"robustcl_version": "$3", "clblast_version": "1.5.3", "platform": "P", "device": "$2", "driver": "1"}}
JSON
}
stage one gpu-a 0.1.0 && stage two gpu-b 0.1.0
"$bin" report a > report.out 2> report.err
check "report: exit 0" "[ $? -eq 0 ]"
check "report: its own record (no device)" "has a/report.json '' 0"
check "report: every stage keeps its record" \
  "python3 -c \"import json; r = json.load(open('a/report.json'))['runs']; assert sorted(x['provenance']['device'] for x in r) == ['gpu-a', 'gpu-b']\""
check "report: the differing field, in the JSON" \
  "python3 -c \"import json; d = json.load(open('a/report.json'))['provenance_differences']; assert [x['field'] for x in d] == ['device'] and d[0]['stages'] == {'gpu-a': 1, 'gpu-b': 1}\""
check "report: a warning names it" "grep -q \"warning: the stages merged here differ in device: 'gpu-a' (1 stage), 'gpu-b' (1 stage)\" report.err"
check "report: the page's footer names it" "grep -q '<footer' a/report.html && grep -q 'differ in device' a/report.html"
finish
