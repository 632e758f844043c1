#!/usr/bin/env bash
# Help texts: every command answers --help with its usage and exit 0, each benchmark's help
# covers only itself, `robustcl version` names the build, `robustcl help data` documents the
# dataset spec options the parser accepts, an unknown topic is one error line.
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
# each benchmark's help is its own: its usage and only the options it takes
for b in gemm step conv logits loader; do
    out=$("$bin" bench $b --help 2>&1); rc=$?
    check "bench $b --help exits 0 (rc $rc)" "[ $rc -eq 0 ]"
    check "bench $b --help: its usage alone" \
        "grep -q 'usage: robustcl bench $b ' <<< \"\$out\" && [ \$(grep -c 'robustcl bench [a-z]* \\[' <<< \"\$out\") -le 1 ]"
done
gemm=$("$bin" bench gemm --help) step=$("$bin" bench step --help) loader=$("$bin" bench loader --help)
check "bench gemm --help has no --arch, --batch or --model" \
    "! grep -qe '--arch' -e '--batch' -e '--model' <<< \"\$gemm\""
check "bench step --help has --arch and --peer, not --model" \
    "grep -q -- '--arch' <<< \"\$step\" && grep -q -- '--peer ' <<< \"\$step\" && ! grep -q -- '--model' <<< \"\$step\""
check "bench loader --help has --data, not --device" \
    "grep -q -- '--data' <<< \"\$loader\" && ! grep -q -- '--device' <<< \"\$loader\""
check "bench --help lists the benchmarks" "\"$bin\" bench --help | grep -q 'gemm|step|conv|logits|loader'"
ver=$("$bin" version); rc=$?
check "version: exit 0, robustcl's version, commit and CLBlast's" \
    "[ $rc -eq 0 ] && grep -q '^robustcl [0-9]' <<< \"\$ver\" && grep -q '^commit ' <<< \"\$ver\" && grep -q '^CLBlast [0-9]' <<< \"\$ver\""
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
