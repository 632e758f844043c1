#!/usr/bin/env bash
# `cmake --install` to a fresh prefix, then the library example builds against it
# through pkg-config alone and trains.
set -u
bin="$1"
build=$(dirname "$bin")
src="${RCL_SOURCE_DIR:-$(dirname "$0")/..}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
cmake --install "$build" --prefix "$tmp/inst" > "$tmp/install.log" 2>&1
check "cmake --install" "[ -f $tmp/inst/include/robustcl/robustcl.h ] && ls $tmp/inst/lib*/librobustcl.so* > /dev/null 2>&1"
pc=$(dirname "$(find "$tmp/inst" -name robustcl.pc | head -1)")
flags=$(PKG_CONFIG_PATH="$pc" pkg-config --cflags --libs robustcl)
check "pkg-config points into the prefix: $flags" "echo '$flags' | grep -q '$tmp/inst'"
libdir=$(PKG_CONFIG_PATH="$pc" pkg-config --variable=libdir robustcl)
# a sanitizer build of the library needs its runtime linked into the program too
san=""
ldd "$libdir"/librobustcl.so 2>/dev/null | grep -q libasan && san="-fsanitize=address,undefined"
cc -std=c11 $san "$src/tests/test_example_train.c" $flags -Wl,-rpath,"$libdir" -o "$tmp/example" 2> "$tmp/cc.log"
check "example compiles against the installed library: $(head -1 $tmp/cc.log)" "[ -x $tmp/example ]"
ROBUSTCL_QUIET=1 "$tmp/example" > "$tmp/run.log" 2>&1
check "example trains: $(tail -1 $tmp/run.log)" "grep -q '^1 passed, 0 failed' $tmp/run.log"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
