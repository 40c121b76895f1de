#!/usr/bin/env bash
# noisette get end to end, against a real HTTP server on the loopback
# interface (tests/cli/http_server.py, started here on a free port and
# killed on exit) serving small archives built here: a full download, a cut
# download resumed by the next run and by a retry, a server that cannot
# resume, a .part already complete, a wrong checksum, the known checks of a
# real dataset name, a truncated archive, wrong content, path traversal (an
# absolute path, "..", a symbolic link leading out), HTTP 404 and 503, a
# stalled server (bounded by --timeout and NOISETTE_GET_TIMEOUT), Ctrl-C,
# file:// URLs, --list, and `labels NAME` fetching or refusing (--offline).
# Every failure must end with one clear error line, exit 1, and no dataset
# folder, temporary folder or bad archive left behind. No internet needed.
# Usage: test_get.sh NOISETTE_BINARY HTTP_SERVER_PY. Prints "N passed, M failed".
set -u
source "$(dirname "$0")/lib.sh"

if [ $# -ne 2 ]; then
    echo "usage: $0 NOISETTE_BINARY HTTP_SERVER_PY" >&2
    exit 2
fi
NOISETTE=$1
SERVER_PY=$2
PYTHON=${PYTHON:-python3}
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "SKIP: no $PYTHON for the test server"
    exit 77
fi

TMP=$(mktemp -d) || exit 1
SERVER_PID=
stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=
    fi
}
trap 'stop_server; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM HUP
OUT=$TMP/stdout
ERR=$TMP/stderr
SRV=$TMP/srv
REQUESTS=$TMP/requests.log

# Only the loopback server is ever asked; no proxy, no user settings.
unset NOISETTE_MIRROR NOISETTE_GET_TIMEOUT XDG_CACHE_HOME
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export no_proxy='*' NO_PROXY='*'
export NOISETTE_DATA=$TMP/cache
CACHE=$NOISETTE_DATA

# no_temp NAME: no temporary folder of NAME's unpacking is left.
no_temp() {
    local tmps
    tmps=$(find "$CACHE" -maxdepth 1 -name ".$1.tmp-*" 2>/dev/null | wc -l)
    expect_eq "temporary folders of $1" 0 "$tmps"
}

# no_dataset NAME: no cache folder NAME and no temporary folder for it.
no_dataset() {
    expect_absent "$CACHE/$1"
    no_temp "$1"
}

# is_dataset DIR: DIR holds the unpacked test archive.
is_dataset() {
    expect_exists "$1/train/n01440764/n01440764_0.JPEG"
    expect_exists "$1/val/n02102040/n02102040_2.JPEG"
    expect_exists "$1/noisy_imagenette.csv"
}

fresh_cache() {
    rm -rf "$CACHE"
}

requests() {
    wc -l <"$REQUESTS" | tr -d ' '
}

# ---- the archives ----------------------------------------------------------

# Two classes, three images each per split, of incompressible bytes so that
# the archive is large enough to cut in the middle (about 730 kB).
"$PYTHON" - "$SRV" "$TMP" <<'EOF' || { echo "FAIL: cannot build the test archives"; exit 1; }
import io, os, random, sys, tarfile
srv, tmp = sys.argv[1], sys.argv[2]
rnd = random.Random(7)
os.makedirs(srv + "/good")
os.makedirs(srv + "/bad")

def add(tf, name, data=None, kind="file", link=None):
    ti = tarfile.TarInfo(name)
    if kind == "dir":
        ti.type, ti.mode = tarfile.DIRTYPE, 0o755
        return tf.addfile(ti)
    if kind == "sym":
        ti.type, ti.linkname = tarfile.SYMTYPE, link
        return tf.addfile(ti)
    ti.size, ti.mode = len(data), 0o644
    tf.addfile(ti, io.BytesIO(data))

def dataset(tf, top):
    add(tf, top, kind="dir")
    for split in ("train", "val"):
        for wnid in ("n01440764", "n02102040"):
            for i in range(3):
                add(tf, "%s/%s/%s/%s_%d.JPEG" % (top, split, wnid, wnid, i),
                    rnd.randbytes(60000))
    add(tf, top + "/noisy_imagenette.csv", b"path,noisy_labels_0,is_valid\n")

def archive(path, top, extra=lambda tf: None):
    with tarfile.open(path, "w:gz") as tf:
        dataset(tf, top)
        extra(tf)

archive(srv + "/good/imagenette2-160.tgz", "imagenette2-160")
archive(srv + "/good/imagewoof2-160.tgz", "imagewoof2-160")
data = open(srv + "/good/imagenette2-160.tgz", "rb").read()
open(srv + "/bad/truncated.tgz", "wb").write(data[: len(data) // 2])
open(srv + "/bad/wrong.tgz", "wb").write(b"<html><body>Proxy error</body></html>\n")
top = "imagenette2-160"
archive(srv + "/bad/absolute.tgz", top,
        lambda tf: add(tf, tmp + "/evil-absolute", b"evil"))
archive(srv + "/bad/dotdot.tgz", top,
        lambda tf: add(tf, top + "/../../evil-dotdot", b"evil"))
archive(srv + "/bad/symlink.tgz", top,
        lambda tf: (add(tf, top + "/train/out", kind="sym", link="../../.."),
                    add(tf, top + "/train/out/evil-symlink", b"evil")))
EOF
GOOD=$SRV/good/imagenette2-160.tgz
GOOD_SIZE=$(wc -c <"$GOOD" | tr -d ' ')
GOOD_MD5=$(md5sum "$GOOD" | cut -d ' ' -f 1)
WRONG_MD5=0123456789abcdef0123456789abcdef

# ---- the server ------------------------------------------------------------

"$PYTHON" "$SERVER_PY" --root "$SRV" --port-file "$TMP/port" --log "$REQUESTS" \
    2>"$TMP/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do
    [ -s "$TMP/port" ] && break
    sleep 0.1
done
if [ ! -s "$TMP/port" ]; then
    echo "FAIL: the test server did not start: $(first_lines "$TMP/server.err")"
    exit 1
fi
URL=http://127.0.0.1:$(cat "$TMP/port")

# ---- help, usage, --list ---------------------------------------------------

run get --help
expect_rc 0
expect_in "$OUT" "Usage: noisette get"
expect_in "$OUT" "--offline"
done_case "get --help"

for args in "" "imagenet" "imagenette2-160 imagewoof2-160" "--list imagenette2-160" \
            "imagenette2-160 --md5 abc" "imagenette2-160 --timeout 0" \
            "imagenette2-160 --md5 $GOOD_MD5 --no-verify"; do
    # shellcheck disable=SC2086
    run get $args
    expect_rc 2
    expect_in "$ERR" "Try 'noisette get --help'"
    done_case "get usage: '$args'"
done

run get imagenet
expect_in "$ERR" "imagenette2-320"
done_case "get: an unknown name lists the known ones"

fresh_cache
run get --list
expect_rc 0
expect_in "$OUT" "cache: $CACHE"
for name in imagenette2 imagenette2-320 imagenette2-160 imagewoof2 imagewoof2-320 \
            imagewoof2-160; do
    expect_in "$OUT" "$name "
done
expect_not_in "$OUT" "ready"
expect_absent "$CACHE"
done_case "get --list, empty cache"

# ---- downloads that work ---------------------------------------------------

fresh_cache
run get imagenette2-160 --url "$URL/normal/good/imagenette2-160.tgz" --md5 "$GOOD_MD5"
expect_rc 0
expect_eq "stdout" "$CACHE/imagenette2-160" "$(cat "$OUT")"
expect_in "$ERR" "downloaded"
expect_in "$ERR" "size and checksum as expected (--md5)"
is_dataset "$CACHE/imagenette2-160"
expect_absent "$CACHE/imagenette2-160.tgz"
expect_absent "$CACHE/imagenette2-160.tgz.part"
no_temp imagenette2-160
done_case "get: a full download"

before=$(requests)
run get imagenette2-160 --url "$URL/normal/good/imagenette2-160.tgz" --md5 "$GOOD_MD5"
expect_rc 0
expect_in "$ERR" "imagenette2-160 is already in the cache"
expect_eq "requests" "$before" "$(requests)"
run get --list
expect_in "$OUT" "ready      $CACHE/imagenette2-160"
done_case "get: already there, nothing fetched; --list says ready"

run get imagenette2-160 --url "$URL/normal/good/imagenette2-160.tgz" --md5 "$GOOD_MD5" \
    --force -q
expect_rc 0
expect_eq "requests" "$((before + 1))" "$(requests)"
is_dataset "$CACHE/imagenette2-160"
done_case "get --force: fetched and replaced"

run labels imagenette2-160 -o "$TMP/labels.csv" -q
expect_rc 0
expect_eq "label rows" 13 "$(wc -l <"$TMP/labels.csv" | tr -d ' ')"
expect_in "$TMP/labels.csv" "train/n01440764/n01440764_0.JPEG"
done_case "labels NAME: the cached folder"

rm -rf "$TMP/elsewhere"
run get imagenette2-160 --dir "$TMP/elsewhere" --url "file://$GOOD" --md5 "$GOOD_MD5" \
    --keep-archive -q
expect_rc 0
is_dataset "$TMP/elsewhere/imagenette2-160"
expect_exists "$TMP/elsewhere/imagenette2-160.tgz"
done_case "get --dir, file:// URL, --keep-archive"

run get imagenette2-160 --dir "$TMP/elsewhere" --url "file://$SRV/good/none.tgz" --force -q
expect_error "file://$SRV/good/none.tgz" "none.tgz"
done_case "get: a missing file:// URL"

fresh_cache
run get imagenette2-160 --url "$URL/flaky/good/imagenette2-160.tgz" --md5 "$GOOD_MD5"
expect_rc 0
expect_in "$ERR" "the server answered HTTP 503; retry 1 of"
is_dataset "$CACHE/imagenette2-160"
done_case "get: HTTP 503 is retried"

# ---- interrupted downloads -------------------------------------------------

fresh_cache
run get imagenette2-160 --url "$URL/cut/good/imagenette2-160.tgz" --md5 "$GOOD_MD5" \
    --retries 0 -q
expect_error "$URL/cut/good/imagenette2-160.tgz" "the connection closed before the end"
expect_in "$ERR" "the next run resumes it"
no_dataset imagenette2-160
part_size=$(wc -c <"$CACHE/imagenette2-160.tgz.part" 2>/dev/null | tr -d ' ')
[ -n "$part_size" ] && [ "$part_size" -gt 0 ] && [ "$part_size" -lt "$GOOD_SIZE" ] ||
    problem "partial download: expected 0 < size < $GOOD_SIZE, got '$part_size'"
done_case "get: a cut download keeps its .part"

run get imagenette2-160 --url "$URL/normal/good/imagenette2-160.tgz" --md5 "$GOOD_MD5"
expect_rc 0
expect_in "$ERR" "resuming after"
expect_eq "last request" "/normal/good/imagenette2-160.tgz bytes=$part_size-" \
    "$(tail -n 1 "$REQUESTS")"
is_dataset "$CACHE/imagenette2-160"
expect_absent "$CACHE/imagenette2-160.tgz.part"
done_case "get: the next run resumes with a Range request"

fresh_cache
run get imagenette2-160 --url "$URL/cutonce/good/imagenette2-160.tgz" --md5 "$GOOD_MD5" \
    --retries 2
expect_rc 0
expect_in "$ERR" "retry 1 of 2"
expect_in "$REQUESTS" "/cutonce/good/imagenette2-160.tgz bytes="
is_dataset "$CACHE/imagenette2-160"
done_case "get: a retry resumes a cut download"

fresh_cache
mkdir -p "$CACHE"
head -c 1000 "$GOOD" >"$CACHE/imagenette2-160.tgz.part"
run get imagenette2-160 --url "$URL/norange/good/imagenette2-160.tgz" --md5 "$GOOD_MD5"
expect_rc 0
expect_in "$ERR" "the server cannot resume"
is_dataset "$CACHE/imagenette2-160"
done_case "get: a server without Range support: start over"

fresh_cache
mkdir -p "$CACHE"
cp "$GOOD" "$CACHE/imagenette2-160.tgz.part"
run get imagenette2-160 --url "$URL/normal/good/imagenette2-160.tgz" --md5 "$GOOD_MD5"
expect_rc 0
expect_in "$ERR" "already complete"
is_dataset "$CACHE/imagenette2-160"
done_case "get: a complete .part (HTTP 416)"

fresh_cache
mkdir -p "$CACHE"
head -c 1000 "$GOOD" >"$CACHE/imagenette2-160.tgz.part"
before=$(requests)
run get imagenette2-160 --url "$URL/404/good/imagenette2-160.tgz" -q
expect_error "$URL/404/good/imagenette2-160.tgz" "the server answered HTTP 404"
expect_eq "requests (404 is not retried)" "$((before + 1))" "$(requests)"
expect_eq ".part size" 1000 "$(wc -c <"$CACHE/imagenette2-160.tgz.part" | tr -d ' ')"
no_dataset imagenette2-160
done_case "get: HTTP 404, the .part untouched"

fresh_cache
run get imagenette2-160 --url "$URL/404/good/imagenette2-160.tgz" -q
expect_error "HTTP 404" "check the name, --url or NOISETTE_MIRROR"
expect_absent "$CACHE/imagenette2-160.tgz.part"
no_dataset imagenette2-160
done_case "get: HTTP 404 leaves nothing"

fresh_cache
before=$(requests)
run get imagenette2-160 --url "$URL/stall/good/imagenette2-160.tgz" --no-verify \
    --timeout 1 --retries 1 -q
expect_error "$URL/stall/good/imagenette2-160.tgz" "no data for 1 s"
expect_in "$ERR" "(2 attempts)"
expect_eq "requests" "$((before + 2))" "$(requests)"
no_dataset imagenette2-160
done_case "get: a stalled server, --timeout 1"

fresh_cache
NOISETTE_GET_TIMEOUT=1 run get imagenette2-160 --url "$URL/stall/good/imagenette2-160.tgz" \
    --no-verify --retries 0 -q
expect_error "stall" "no data for 1 s"
no_dataset imagenette2-160
done_case "get: a stalled server, NOISETTE_GET_TIMEOUT=1"

fresh_cache
"$NOISETTE" get imagenette2-160 --url "$URL/stall/good/imagenette2-160.tgz" --no-verify \
    --timeout 60 -q >"$OUT" 2>"$ERR" &
pid=$!
for _ in $(seq 300); do
    [ -s "$CACHE/imagenette2-160.tgz.part" ] && break
    sleep 0.1
done
kill -INT "$pid"
wait "$pid"
rc=$?
expect_rc 130
expect_exists "$CACHE/imagenette2-160.tgz.part"
no_dataset imagenette2-160
done_case "get: Ctrl-C keeps the .part, ends by the signal"

# ---- downloads that must not be used ---------------------------------------

fresh_cache
run get imagenette2-160 --url "$URL/normal/good/imagenette2-160.tgz" --md5 "$WRONG_MD5" -q
expect_error "$CACHE/imagenette2-160.tgz: MD5 is $GOOD_MD5, expected $WRONG_MD5" "removed it"
expect_absent "$CACHE/imagenette2-160.tgz"
expect_absent "$CACHE/imagenette2-160.tgz.part"
no_dataset imagenette2-160
done_case "get: a wrong checksum"

# A real name against the published checks: this small file fails them.
fresh_cache
NOISETTE_MIRROR=$URL/normal/good run labels imagewoof2-160 -o "$TMP/woof.csv"
expect_rc 1
expect_in "$ERR" "imagewoof2-160 is not in the cache $CACHE; downloading it (92.6 MB)"
expect_in "$ERR" "imagewoof2-160.tgz: $(wc -c <"$SRV/good/imagewoof2-160.tgz" | tr -d ' ') bytes"
expect_in "$ERR" "expected 92612825"
expect_in "$ERR" "removed it"
expect_absent "$CACHE/imagewoof2-160.tgz"
expect_absent "$TMP/woof.csv"
no_dataset imagewoof2-160
done_case "labels NAME: fetched from NOISETTE_MIRROR, fails the known size"

fresh_cache
run labels imagenette --offline -o "$TMP/nette.csv" -q
expect_error "imagenette2-320 is not in the cache $CACHE" \
    "run \`noisette get imagenette2-320\` first"
expect_absent "$CACHE"
done_case "labels NAME --offline: a clear error, nothing fetched"

fresh_cache
run get imagenette2-160 --url "$URL/normal/bad/truncated.tgz" --no-verify -q
expect_error "$CACHE/imagenette2-160.tgz" "truncated"
expect_in "$ERR" "removed the archive"
expect_absent "$CACHE/imagenette2-160.tgz"
no_dataset imagenette2-160
done_case "get: a truncated archive"

fresh_cache
run get imagenette2-160 --url "$URL/normal/bad/wrong.tgz" --no-verify -q
expect_error "$CACHE/imagenette2-160.tgz" "cannot read as an archive"
expect_absent "$CACHE/imagenette2-160.tgz"
no_dataset imagenette2-160
done_case "get: wrong content (an HTML page)"

for kind in absolute dotdot symlink; do
    fresh_cache
    run get imagenette2-160 --url "$URL/normal/bad/$kind.tgz" --no-verify -q
    expect_error "$CACHE/imagenette2-160.tgz" "refusing entry"
    expect_absent "$CACHE/imagenette2-160.tgz"
    no_dataset imagenette2-160
    for evil in "$TMP/evil-$kind" "$CACHE/evil-$kind" "$TMP/evil-symlink" "/evil-symlink"; do
        expect_absent "$evil"
    done
    done_case "get: path traversal ($kind) refused"
done

stop_server
finish
