#!/usr/bin/env bash
# Downloads a dataset's official files, verifies their checksums and unpacks them.
#
#   datasets/fetch.sh [options] NAME DIR
#
# NAME: fashion-mnist cifar10 cifar100 svhn imagenet32 tinyimagenet dtd places365
# DIR:  where the files go (created); the dataset spec NAME:DIR then reads them.
#
# Options:
#   --from PATH      use local files instead of downloading: PATH is the archive itself
#                    (datasets with one file) or a folder holding the files under their
#                    official names. Also $RCL_FETCH_FROM.
#   --sha256 HEX     expected SHA-256 of the (single) file; overrides the built-in value.
#   --sums FILE      expected checksums, `sha256sum` format ("HEX  filename" per line);
#                    they override the built-in values per file name.
#   --keep           keep the downloaded archive in DIR after unpacking.
#   -h, --help       this text.
#
# Every file is checked against its SHA-256 when one is known (built in, --sha256 or
# --sums), else against the publisher's MD5 when known; a mismatch stops before anything
# is unpacked (exit 1). A file with no known checksum is accepted with a warning that
# prints its SHA-256, to be recorded in datasets/NAME/README.md.
# Archives are listed first and refused if a member has an absolute path or "..".
# DIR/.fetched-NAME records what was verified.
set -euo pipefail

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "fetch.sh: $*" >&2; exit 1; }

from="${RCL_FETCH_FROM:-}" sha_override="" sums="" keep=0
while [[ $# -gt 0 ]]; do
    case "$1" in
    --from) from="${2:?--from needs a path}"; shift 2 ;;
    --sha256) sha_override="${2:?--sha256 needs a value}"; shift 2 ;;
    --sums) sums="${2:?--sums needs a file}"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) break ;;
    esac
done
[[ $# -eq 2 ]] || { usage >&2; exit 2; }
name="$1" dir="$2"

# Each artifact: URL|file name|sha256 (or -)|md5 (or -)|unpack: tar.gz, tar, zip or none
artifacts=()
case "$name" in
fashion-mnist)
    base=http://fashion-mnist.s3-website.eu-central-1.amazonaws.com
    artifacts=(
        "$base/train-images-idx3-ubyte.gz|train-images-idx3-ubyte.gz|3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84|8d4fb7e6c68d591d4c3dfef9ec88bf0d|none"
        "$base/train-labels-idx1-ubyte.gz|train-labels-idx1-ubyte.gz|a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845|25c81989df183df01b3e8a0aad5dffbe|none"
        "$base/t10k-images-idx3-ubyte.gz|t10k-images-idx3-ubyte.gz|346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073|bef4ecab320f06d8554ea6380940ec79|none"
        "$base/t10k-labels-idx1-ubyte.gz|t10k-labels-idx1-ubyte.gz|67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5|bb300cfdad3c16e7a12a480ee83cd310|none"
    ) ;;
cifar10)
    artifacts=("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz|cifar-10-binary.tar.gz|c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd|c32a1d4ab5d03f1284b67883e8d87530|tar.gz") ;;
cifar100)
    artifacts=("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz|cifar-100-binary.tar.gz|58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec|03b5dce01913d631647c71ecec9e9cb8|tar.gz") ;;
svhn)
    artifacts=(
        "http://ufldl.stanford.edu/housenumbers/train_32x32.mat|train_32x32.mat|435e94d69a87fde4fd4d7f3dd208dfc32cb6ae8af2240d066de1df7508d083b8|e26dedcc434d2e4c54c9b2d4a06d8373|none"
        "http://ufldl.stanford.edu/housenumbers/test_32x32.mat|test_32x32.mat|cdce80dfb2a2c4c6160906d0bd7c68ec5a99d7ca4831afa54f09182025b6a75b|eb5a983be6a315427106f1b164d9cef3|none"
    ) ;;
imagenet32)
    # image-net.org asks for a login: download the two zips in a browser, then --from FOLDER
    artifacts=(
        "https://image-net.org/data/downsample/Imagenet32_train_npz.zip|Imagenet32_train_npz.zip|-|-|zip"
        "https://image-net.org/data/downsample/Imagenet32_val_npz.zip|Imagenet32_val_npz.zip|-|-|zip"
    ) ;;
tinyimagenet)
    artifacts=("http://cs231n.stanford.edu/tiny-imagenet-200.zip|tiny-imagenet-200.zip|-|90528d7ca1a48142e341f4ef8d21d0de|zip") ;;
dtd)
    artifacts=("https://www.robots.ox.ac.uk/~vgg/data/dtd/download/dtd-r1.0.1.tar.gz|dtd-r1.0.1.tar.gz|-|fff73e5086ae6bdbea199a49dfb8a4c1|tar.gz") ;;
places365)
    artifacts=("http://data.csail.mit.edu/places/places365/test_256.tar|test_256.tar|-|-|tar") ;;
lsun)
    die "lsun: the official data is an lmdb of WebP images (github.com/fyu/lsun); see datasets/lsun/README.md" ;;
*)
    die "unknown dataset '$name' (fashion-mnist cifar10 cifar100 svhn imagenet32 tinyimagenet dtd places365)" ;;
esac

if [[ -n "$sha_override" ]]; then
    [[ ${#artifacts[@]} -eq 1 ]] || die "--sha256 needs a dataset of one file; $name has ${#artifacts[@]} (use --sums)"
    [[ "$sha_override" =~ ^[0-9a-fA-F]{64}$ ]] || die "--sha256: not a SHA-256: $sha_override"
fi
declare -A sum_of=()
if [[ -n "$sums" ]]; then
    [[ -r "$sums" ]] || die "--sums: cannot read $sums"
    while read -r hex file; do
        [[ -z "$hex" || "$hex" == \#* ]] && continue
        [[ "$hex" =~ ^[0-9a-fA-F]{64}$ ]] || die "$sums: not a SHA-256 line: $hex $file"
        sum_of["${file#\*}"]="${hex,,}"
    done <"$sums"
fi

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
work="$(mktemp -d "$dir/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

fetch_one() { # url file -> $work/file
    local url="$1" file="$2" out="$work/$2"
    if [[ -n "$from" ]]; then
        local src="$from"
        [[ -d "$from" ]] && src="$from/$file"
        [[ -f "$src" ]] || die "$file: not found at $src"
        if [[ -d "$from" || ${#artifacts[@]} -eq 1 ]]; then
            ln -s "$(cd "$(dirname "$src")" && pwd)/$(basename "$src")" "$out"
        else
            die "--from $from: $name has ${#artifacts[@]} files; give the folder holding them"
        fi
    elif command -v curl >/dev/null; then
        echo "downloading $url" >&2
        curl -fL --retry 3 -o "$out" "$url" || die "$file: download failed ($url)"
    elif command -v wget >/dev/null; then
        echo "downloading $url" >&2
        wget -q -O "$out" "$url" || die "$file: download failed ($url)"
    else
        die "neither curl nor wget found"
    fi
}

verify_one() { # file sha md5: the verification note on stdout
    local file="$1" sha="$2" md5="$3" got
    got="$(sha256sum <"$work/$file" | cut -d' ' -f1)"
    if [[ "$sha" != "-" ]]; then
        [[ "$got" == "${sha,,}" ]] || die "$file: SHA-256 mismatch: got $got, expected ${sha,,}; nothing unpacked"
        echo "$got  $file  sha256-verified"
    elif [[ "$md5" != "-" ]]; then
        local m
        m="$(md5sum <"$work/$file" | cut -d' ' -f1)"
        [[ "$m" == "$md5" ]] || die "$file: MD5 mismatch: got $m, expected $md5; nothing unpacked"
        echo "fetch.sh: $file: MD5 verified; SHA-256 $got (record it in datasets/$name/README.md)" >&2
        echo "$got  $file  md5-verified"
    else
        echo "fetch.sh: WARNING: $file: no known checksum; SHA-256 $got (record it in datasets/$name/README.md)" >&2
        echo "$got  $file  unverified"
    fi
}

check_members() { # refuse absolute paths and parent references before extracting
    local list="$1" file="$2"
    if grep -qE '(^/|(^|/)\.\.(/|$))' "$list"; then
        die "$file: archive has a member outside the target folder: $(grep -m1 -E '(^/|(^|/)\.\.(/|$))' "$list")"
    fi
}

unpack_one() { # file kind
    local file="$1" kind="$2" a="$work/$1"
    case "$kind" in
    none) cp -f "$a" "$dir/$file.tmp.$$" && mv -f "$dir/$file.tmp.$$" "$dir/$file" ;;
    tar.gz | tar)
        local z=""
        [[ "$kind" == tar.gz ]] && z=z
        tar -t${z}f "$a" >"$work/list" || die "$file: not a readable ${kind} archive"
        check_members "$work/list" "$file"
        tar -x${z}f "$a" -C "$dir" --no-same-owner || die "$file: unpacking failed"
        ;;
    zip)
        command -v unzip >/dev/null || die "$file: unzip is needed to unpack it"
        unzip -Z1 "$a" >"$work/list" || die "$file: not a readable zip archive"
        check_members "$work/list" "$file"
        unzip -q -o "$a" -d "$dir" || die "$file: unpacking failed"
        ;;
    esac
    if [[ $keep -eq 1 && "$kind" != none ]]; then cp -f "$a" "$dir/$file"; fi
}

# fetch and verify everything first, so a bad file leaves DIR untouched
notes=()
for art in "${artifacts[@]}"; do
    IFS='|' read -r url file sha md5 kind <<<"$art"
    [[ -n "$sha_override" ]] && sha="$sha_override"
    [[ -n "${sum_of[$file]:-}" ]] && sha="${sum_of[$file]}"
    fetch_one "$url" "$file"
    notes+=("$(verify_one "$file" "$sha" "$md5")")
done
for art in "${artifacts[@]}"; do
    IFS='|' read -r url file sha md5 kind <<<"$art"
    unpack_one "$file" "$kind"
done
{
    echo "# datasets/fetch.sh $name, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf '%s\n' "${notes[@]}"
} >"$dir/.fetched-$name"
echo "fetch.sh: $name ready in $dir"
