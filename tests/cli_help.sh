#!/usr/bin/env bash
# Help texts: every command answers --help with its usage and exit 0, `robustcl help data`
# documents the dataset spec options the parser accepts, an unknown topic is one error line.
set -u
bin="$1"
. "$(dirname "$0")/testlib.sh"
cmds=$("$bin" --help | awk '/^commands:/{on=1; next} on && /^  [a-z]/{print $1} /^$/{if (on) exit}')
check "the command list is not empty" "[ -n \"$cmds\" ]"
for c in $cmds; do
    [ "$c" = help ] && continue
    out=$("$bin" "$c" --help 2>&1); rc=$?
    check "$c --help exits 0 (rc $rc)" "[ $rc -eq 0 ]"
    check "$c --help prints a usage line" "grep -q 'usage: robustcl $c' <<< \"\$out\""
    check "help $c equals $c --help" "[ \"\$(\"$bin\" help $c 2>&1)\" = \"\$out\" ]"
done
data=$("$bin" help data); rc=$?
check "help data exits 0" "[ $rc -eq 0 ]"
for opt in classes= exclude= n=N seed= split= size= channels= layout= labels= shape=; do
    check "help data documents $opt" "grep -q -- '$opt' <<< \"\$data\""
done
# every kind the parser knows (src/data/spec.c) is listed
for kind in fashion-mnist cifar10 cifar100 imagenet32 svhn folder tinyimagenet gaussian rademacher blobs; do
    check "help data lists $kind" "grep -q -- '$kind' <<< \"\$data\""
done
err=$("$bin" help no-such-topic 2>&1); rc=$?
check "unknown help topic: exit 2 (rc $rc)" "[ $rc -eq 2 ]"
check "unknown help topic: one line" "[ \$(wc -l <<< \"\$err\") -eq 1 ]"
finish
