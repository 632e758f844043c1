#!/usr/bin/env bash
# The layers point one way (README "How the code is laid out"): from the compiled objects,
# every function or variable a file uses from another file must come from the same folder
# or a lower layer, and no files may use each other in a cycle. Exact, because it reads the
# symbols the linker sees (nm), not #include lines.
#   usage: check_layers.sh OBJECT_LIST   (one object file per line, as CMake lists them)
set -euo pipefail
list=$1
layers=(core io ops data model parallel train eval suite cli)
rank() { local i; for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && { echo "$i"; return; }; done; echo -1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
: >"$tmp/defs"; : >"$tmp/uses"
while read -r o; do
  [ -n "$o" ] || continue
  case $o in
    */src/*) f=${o##*/src/} ;;
    *) f=core/${o##*/} ;; # generated: the embedded kernel sources
  esac
  f=${f%.o}; f=${f%.c}.c
  nm -g --defined-only "$o" | awk -v f="$f" 'NF == 3 { print $3, f }' >>"$tmp/defs"
  nm -u "$o" | awk -v f="$f" '{ print $NF, f }' >>"$tmp/uses"
done <"$list"
[ -s "$tmp/defs" ] || { echo "check_layers: no objects listed in $list"; exit 1; }
sort -k1,1 "$tmp/defs" >"$tmp/d"; sort -k1,1 "$tmp/uses" >"$tmp/u"
join "$tmp/u" "$tmp/d" | awk '$2 != $3 { print $2, $3, $1 }' | sort -u >"$tmp/edges"
bad=0
while read -r from to sym; do
  rf=$(rank "${from%%/*}"); rt=$(rank "${to%%/*}")
  if [ "$rf" -lt 0 ] || [ "$rt" -lt 0 ]; then
    echo "check_layers: $from or $to is in no known layer (${layers[*]})"; bad=1
  elif [ "$rt" -gt "$rf" ]; then
    echo "check_layers: $from uses $sym from $to, a higher layer"; bad=1
  fi
done <"$tmp/edges"
awk '{ print $1, $2 }' "$tmp/edges" | sort -u >"$tmp/pairs"
if ! tsort "$tmp/pairs" >/dev/null 2>"$tmp/loops"; then
  echo "check_layers: files that use each other in a cycle:"; grep -v 'input contains a loop' "$tmp/loops"; bad=1
fi
[ $bad = 0 ] && echo "check_layers: $(wc -l <"$tmp/pairs") file-to-file uses, all downward, no cycle"
exit $bad
