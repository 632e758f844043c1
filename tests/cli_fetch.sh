#!/usr/bin/env bash
# datasets/fetch.sh on local files (no network): checksum verification, unpacking, refusals.
# Usage (ctest): bash tests/cli_fetch.sh [robustcl binary, unused]
set -u
src="${RCL_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
fetch="$src/datasets/fetch.sh"
t="$(mktemp -d "${TMPDIR:-/tmp}/rcl-fetch.XXXXXX")"
trap 'rm -rf "$t"' EXIT
pass=0 fail=0
check() { # description, then a command that must succeed
    local what="$1"; shift
    if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what" >&2; fi
}

# a small CIFAR-10-like archive (the real layout: cifar-10-batches-bin/*.bin)
mkdir -p "$t/src/cifar-10-batches-bin"
head -c 3073 /dev/zero >"$t/src/cifar-10-batches-bin/test_batch.bin"
for i in 1 2 3 4 5; do head -c 3073 /dev/zero >"$t/src/cifar-10-batches-bin/data_batch_$i.bin"; done
echo "airplane" >"$t/src/cifar-10-batches-bin/batches.meta.txt"
tar -czf "$t/c10.tar.gz" -C "$t/src" cifar-10-batches-bin
good="$(sha256sum "$t/c10.tar.gz" | cut -d' ' -f1)"
bad="$(printf '%064d' 0)"

# matching checksum: unpacked, manifest written, the archive itself left alone
bash "$fetch" --from "$t/c10.tar.gz" --sha256 "$good" cifar10 "$t/out" >"$t/log" 2>&1
check "fetch with the right sha256 succeeds" test $? -eq 0
check "unpacked" test -f "$t/out/cifar-10-batches-bin/data_batch_5.bin"
check "manifest records the sha256" grep -q "$good  cifar-10-binary.tar.gz  sha256-verified" "$t/out/.fetched-cifar10"
check "no temporary folder left" test -z "$(ls -A "$t/out" | grep '^\.fetch\.' || true)"
check "source archive kept" test -f "$t/c10.tar.gz"

# mismatching checksum: exit 1, the message says so, nothing unpacked
bash "$fetch" --from "$t/c10.tar.gz" --sha256 "$bad" cifar10 "$t/out2" >"$t/log" 2>&1
rc=$?
check "mismatch exits 1 (got $rc)" test $rc -eq 1
check "mismatch reported" grep -q "SHA-256 mismatch" "$t/log"
check "nothing unpacked on mismatch" test ! -e "$t/out2/cifar-10-batches-bin"
check "no manifest on mismatch" test ! -e "$t/out2/.fetched-cifar10"

# the built-in official checksum rejects our fake archive
bash "$fetch" --from "$t/c10.tar.gz" cifar10 "$t/out3" >"$t/log" 2>&1
check "built-in sha256 rejects a fake archive" test $? -eq 1
check "expected value is the official one" grep -q "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd" "$t/log"

# multi-file datasets: --from FOLDER with --sums (sha256sum format)
mkdir -p "$t/fm"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    echo "$f" | gzip -c >"$t/fm/$f.gz"
done
(cd "$t/fm" && sha256sum ./*.gz | sed 's#  \./#  #') >"$t/sums"
bash "$fetch" --from "$t/fm" --sums "$t/sums" fashion-mnist "$t/fmout" >"$t/log" 2>&1
check "fashion-mnist from a folder with --sums" test $? -eq 0
check "gz files copied as they are" cmp -s "$t/fm/t10k-labels-idx1-ubyte.gz" "$t/fmout/t10k-labels-idx1-ubyte.gz"
head -c 64 /dev/zero | tr '\0' 'a' >"$t/badhex"
printf '%s  train-labels-idx1-ubyte.gz\n' "$(cat "$t/badhex")" >"$t/sums2"
bash "$fetch" --from "$t/fm" --sums "$t/sums2" fashion-mnist "$t/fmout2" >"$t/log" 2>&1
check "one wrong file stops everything" test $? -eq 1
check "nothing copied when one file is wrong" test ! -e "$t/fmout2/train-images-idx3-ubyte.gz"
bash "$fetch" --from "$t/fm/train-images-idx3-ubyte.gz" fashion-mnist "$t/fmout3" >"$t/log" 2>&1
check "a single file for a 4-file dataset is refused" test $? -eq 1

# Debian's Fashion-MNIST is recompressed: the official checksums must reject it
if [[ -d /usr/share/datasets/fashion-mnist ]]; then
    bash "$fetch" --from /usr/share/datasets/fashion-mnist fashion-mnist "$t/deb" >"$t/log" 2>&1
    check "Debian's recompressed files differ from the official ones" test $? -eq 1
    check "a real mismatch is named" grep -q "train-images-idx3-ubyte.gz: SHA-256 mismatch" "$t/log"
fi

# MD5 only (Tiny ImageNet's published checksum): a zip with the wrong MD5 is refused
mkdir -p "$t/z/tiny-imagenet-200" && echo x >"$t/z/tiny-imagenet-200/wnids.txt"
(cd "$t/z" && zip -qr "$t/tiny.zip" tiny-imagenet-200 2>/dev/null) || python3 -c "
import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w'); z.write(sys.argv[2]+'/tiny-imagenet-200/wnids.txt','tiny-imagenet-200/wnids.txt'); z.close()" "$t/tiny.zip" "$t/z"
if [[ -f "$t/tiny.zip" ]] && command -v unzip >/dev/null; then
    bash "$fetch" --from "$t/tiny.zip" tinyimagenet "$t/tout" >"$t/log" 2>&1
    check "MD5 mismatch refused" test $? -eq 1
    check "MD5 mismatch reported" grep -q "MD5 mismatch" "$t/log"
    bash "$fetch" --from "$t/tiny.zip" --sha256 "$(sha256sum "$t/tiny.zip" | cut -d' ' -f1)" tinyimagenet "$t/tout" >"$t/log" 2>&1
    check "zip unpacked with --sha256" test -f "$t/tout/tiny-imagenet-200/wnids.txt"
fi

# an archive escaping its folder is refused before extraction
mkdir -p "$t/evil/a"
echo evil >"$t/evil/x"
tar -czPf "$t/evil.tar.gz" -C "$t/evil/a" ../x
bash "$fetch" --from "$t/evil.tar.gz" --sha256 "$(sha256sum "$t/evil.tar.gz" | cut -d' ' -f1)" cifar10 "$t/eout/in" >"$t/log" 2>&1
check "archive with ../ member refused" test $? -eq 1
check "no file written outside" test ! -e "$t/eout/x"

# usage errors
bash "$fetch" nosuchset "$t/n" >"$t/log" 2>&1
check "unknown dataset refused" test $? -eq 1
bash "$fetch" --sha256 xyz --from "$t/c10.tar.gz" cifar10 "$t/n" >"$t/log" 2>&1
check "malformed --sha256 refused" test $? -eq 1
bash "$fetch" --sha256 "$good" --from "$t/fm" fashion-mnist "$t/n" >"$t/log" 2>&1
check "--sha256 on a multi-file dataset refused" test $? -eq 1
bash "$fetch" cifar10 >"$t/log" 2>&1
check "missing DIR is a usage error (2)" test $? -eq 2
bash "$fetch" --help >"$t/log" 2>&1
check "--help" grep -q "datasets/fetch.sh \[options\] NAME DIR" "$t/log"

echo "$pass passed, $fail failed"
[[ $fail -eq 0 && $pass -gt 0 ]]
