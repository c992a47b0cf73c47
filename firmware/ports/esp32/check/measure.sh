#!/bin/sh
# measure.sh - HOST-ONLY measurements behind the memory budget of
# firmware/ports/esp32/README.md.  Nothing here runs on an ESP32.  It builds
# the unchanged firmware C (core/, ports/posix/) against wasm3 0.5.0 from the
# hash-pinned pywasm3 sdist, with the defines of the ESP32 build, in these
# variants:
#
#   m64        x86-64, -O2                       (the Linux firmware's shape)
#   m32        i386 (-m32), -O2                  (32-bit pointers, as on the ESP32)
#   m32-notco  i386, -O2 -fno-optimize-sibling-calls
#   m32-depth  m32-notco with wasm3 built -finstrument-functions: counts the
#              deepest nesting of wasm3 functions (operations and the rest)
#
# "notco": GCC makes no tail calls for the ESP32's windowed Xtensa ABI, so
# every wasm3 operation that passes control to the next keeps a native frame
# until the Wasm call, loop iteration or block it belongs to returns.
#
# Two harnesses per variant:
#   measure_engine.c  the engine as core/sxs_fw.c uses it (malloc'd Wasm handed
#                     over, limits, sxs_init) and the workload of the issue
#                     (1,000 entries, 64 subscriptions) one request at a time:
#                     heap per phase, peak, largest block
#   measure_main.c    the Linux firmware (sxs_posix_main) on each transcript of
#                     the corpus: native stack high-water, and (m32-depth) the
#                     deepest wasm3 frame nesting
#
# Usage:  sh firmware/ports/esp32/check/measure.sh      (repository root or anywhere)
# Needs:  gcc, gcc-multilib (-m32), python3 with pip (or SXS_PYWASM3_SDIST=
#         /path/to/pywasm3-0.5.0.tar.gz), build/sxs.wasm.  Work files: $OUT.
set -eu

ROOT=$(cd "$(dirname "$0")/../../../.." && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
FW=$ROOT/firmware
OUT=${OUT:-/tmp/sxs-esp32-measure}
SHA=5a47c8a39f7f6ae71b3316b2e5d86c9d0db6e771a65f09a86e4d4aa3a19aefcc
VARIANTS=${VARIANTS:-"m64 m32 m32-notco m32-depth"}
IMG=$ROOT/build/sxs.wasm
mkdir -p "$OUT"

# ---- wasm3 0.5.0 from the pinned sdist ------------------------------------
SDIST=${SXS_PYWASM3_SDIST:-$OUT/pywasm3-0.5.0.tar.gz}
if [ ! -f "$SDIST" ]; then
    echo "pywasm3==0.5.0 --hash=sha256:$SHA" > "$OUT/req.txt"
    python3 -m pip download --quiet --no-deps --no-binary :all: --require-hashes -r "$OUT/req.txt" -d "$OUT"
fi
echo "$SHA  $SDIST" | sha256sum -c --quiet -
rm -rf "$OUT/src" && mkdir -p "$OUT/src" && tar xzf "$SDIST" -C "$OUT/src"
W3=$OUT/src/pywasm3-0.5.0/wasm3
DEFS="-Dd_m3LogOutput=0 -Dd_m3Use32BitSlots=0"
POSIX=$(ls "$FW"/ports/posix/*.c | grep -v '/main\.c$')

build() { # variant
    v=$1
    case $v in m32*) arch=-m32 ;; *) arch= ;; esac
    case $v in *notco | *depth) tco=-fno-optimize-sibling-calls ;; *) tco= ;; esac
    case $v in *depth) inst=-finstrument-functions; mdef=-DMEASURE_DEPTH ;; *) inst=; mdef= ;; esac
    mkdir -p "$OUT/obj-$v"
    for c in "$W3"/*.c; do
        gcc $arch -O2 $tco $inst -w $DEFS -I"$W3" -c "$c" -o "$OUT/obj-$v/w3_$(basename "$c" .c).o"
    done
    common="$arch -O2 $tco -std=c11 -D_POSIX_C_SOURCE=200809L -w $DEFS -isystem $W3 -I$FW/core -I$FW/ports/posix"
    wrap="-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free -lpthread -lm"
    gcc $common $mdef "$FW"/core/*.c "$FW"/ports/posix/*.c "$HERE/measure_main.c" "$OUT"/obj-$v/*.o $wrap -o "$OUT/fw-$v"
    gcc $common "$FW"/core/*.c $POSIX "$HERE/measure_engine.c" "$OUT"/obj-$v/*.o $wrap -o "$OUT/engine-$v"
}

field() { # name line
    echo "$2" | sed -n "s/.*$1=\([0-9]*\).*/\1/p"
}

for v in $VARIANTS; do
    if ! build "$v" >"$OUT/build-$v.log" 2>&1; then
        echo "== $v: build failed (see $OUT/build-$v.log; -m32 needs gcc-multilib)"
        continue
    fi
    echo "== $v"
    if [ "$v" != m32-depth ]; then
        echo "-- engine, wasm3 stack 8192, 1 page"
        "$OUT/engine-$v" "$IMG" 8192 1 | sed 's/^/   /' || true
        echo "-- engine, wasm3 stack 8192, 2 pages"
        "$OUT/engine-$v" "$IMG" 8192 2 | sed 's/^/   /' || true
    fi
    base=$("$OUT/fw-$v" --version 2>&1 >/dev/null | grep '^MEASURE' || true)
    load=$("$OUT/fw-$v" --image "$IMG" --stack 8192 --check 2>&1 >/dev/null | grep '^MEASURE' || true)
    echo "-- native stack: baseline (--version) $(field stack_used "$base"), load and compile $(field stack_used "$load") bytes"
    pass=0; fail=0; smax=0; dmax=0; sname=; dname=
    for f in "$ROOT"/test/transcripts/*.slp "$ROOT"/../shared/conformance/*.slp; do
        [ -f "$f" ] || continue
        line=$("$OUT/fw-$v" --image "$IMG" --stack 8192 --transcript "$f" 2>&1 >"$OUT/run.out" | grep '^MEASURE' || true)
        if cmp -s "$OUT/run.out" "${f%.slp}.out"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
        s=$(field stack_used "$line"); d=$(field wasm3_frames "$line")
        if [ "${s:-0}" -gt "$smax" ]; then smax=$s; sname=$(basename "$f"); fi
        if [ "${d:-0}" -gt "$dmax" ]; then dmax=$d; dname=$(basename "$f"); fi
    done
    echo "-- corpus: $pass transcripts as expected, $fail not; native stack high-water $smax bytes ($sname)"
    [ "$v" = m32-depth ] && echo "-- deepest wasm3 frame nesting: $dmax ($dname)"
done
exit 0
