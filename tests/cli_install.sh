#!/usr/bin/env bash
# `cmake --install` to a fresh prefix, then the library example builds against it
# through pkg-config alone and trains. Only the public headers are installed, each usable
# from C++ (extern "C"; the umbrella robustcl.h compiles and links as C++ when g++ is here).
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

for h in zip.h pickle.h sha256.h progress.h fileio.h ref.h; do
  check "private header $h is not installed" "[ -z \"\$(find $tmp/inst -name $h)\" ]"
done
for h in "$tmp"/inst/include/robustcl/*.h; do
  # the umbrella header only includes the others
  [ "$(basename "$h")" = robustcl.h ] && continue
  check "$(basename "$h") has extern \"C\" guards" "grep -q 'extern \"C\"' '$h'"
done
if command -v g++ > /dev/null; then
  printf '#include <robustcl/robustcl.h>\n#include <cstdio>\nint main() { std::printf("%%s\\n", rcl_status_name(RCL_OK)); }\n' \
    > "$tmp/cxx.cpp"
  g++ -std=c++11 -Wall -Wextra -pedantic -Werror $san "$tmp/cxx.cpp" $flags -Wl,-rpath,"$libdir" -o "$tmp/cxx" \
    2> "$tmp/cxx.log"
  check "robustcl.h compiles as C++: $(head -1 $tmp/cxx.log)" "[ -x $tmp/cxx ]"
  check "a C++ program calls the library" "[ \"\$($tmp/cxx)\" = RCL_OK ]"
else
  echo "g++ not found: C++ check skipped"
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
