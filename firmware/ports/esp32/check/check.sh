#!/bin/sh
# check.sh - HOST-ONLY sanity check of the ESP32 port (no ESP-IDF here).
#
# This is not a build of the port: ESP-IDF and its Xtensa toolchain are not
# installed on this machine.  It compiles the port's C (main/*.c) with the
# host gcc, -fsyntax-only -Wall -Wextra -Werror, against check/include/: a
# handful of hand-written declarations of the ESP-IDF functions the port uses
# (API stubs, not ESP-IDF).  It catches typos, type errors and warnings that
# ESP-IDF's -Werror=all would turn into build failures; it cannot catch a
# wrong guess about an ESP-IDF declaration, nor anything at run time.
#
#   sh firmware/ports/esp32/check/check.sh          the port's C, two ways:
#        glibc    the host's headers (64-bit)
#        newlib   -m32 with newlib's headers (Debian: libnewlib-dev) and
#                 int32_t = long, uint32_t = unsigned long, as with ESP-IDF 5's
#                 Xtensa toolchain: printf formats that are wrong there fail
#   sh .../check.sh --all    also: firmware/core/*.c the newlib way, and
#                 check/cmake/ (main/wasm3.cmake outside ESP-IDF: fetch the
#                 pinned pywasm3 sdist, check its hash, build wasm3 + core);
#                 needs cmake and network to PyPI, or SXS_PYWASM3_SDIST;
#                 and, where Debian's gcc-xtensa-lx106 is installed, wasm3 and
#                 firmware/core/*.c compiled for Xtensa (see the section below)
#
# Prints "N passed, N failed" and exits non-zero on a failure.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=$(dirname "$HERE")
CORE=$(cd "$PORT/../../core" && pwd)
ALL=0
[ "${1:-}" = "--all" ] && ALL=1

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

# the definitions main/CMakeLists.txt adds
DEFS="-DSXS_LINK_RX_WINDOW=4608u -DSXS_LINK_TX_BUFFER=4608u -DSXS_IMAGE_BUILD_TIME=0u -Dd_m3LogOutput=0 -Dd_m3Use32BitSlots=0"
WARN="-std=gnu17 -Wall -Wextra -Werror"

# ---- glibc ----------------------------------------------------------------------
for f in "$PORT"/main/*.c; do
    if gcc -fsyntax-only $WARN $DEFS -I"$HERE/include" -I"$CORE" -I"$PORT/main" "$f"; then
        ok "glibc  $(basename "$f")"
    else
        bad "glibc  $(basename "$f")"
    fi
done

# ---- newlib, 32-bit, int32_t = long ---------------------------------------------------
NEWLIB=/usr/include/newlib
GINC=$(gcc -print-file-name=include)
LONG32="-m32 -nostdinc -isystem $GINC -isystem $NEWLIB -U__INT32_TYPE__ -U__UINT32_TYPE__"
if [ -f "$NEWLIB/stdint.h" ] && echo 'int x;' | gcc $LONG32 -fsyntax-only -x c - 2>/dev/null; then
    newlib() { # file [extra flags...]
        f=$1
        shift
        gcc -fsyntax-only $LONG32 '-D__INT32_TYPE__=long int' '-D__UINT32_TYPE__=long unsigned int' \
            $WARN $DEFS "$@" "$f"
    }
    for f in "$PORT"/main/*.c; do
        if newlib "$f" -I"$HERE/include" -I"$CORE" -I"$PORT/main"; then
            ok "newlib $(basename "$f")"
        else
            bad "newlib $(basename "$f")"
        fi
    done
else
    echo "skip newlib checks (no $NEWLIB/stdint.h or no gcc -m32: apt-get install libnewlib-dev gcc-multilib)"
fi

# ---- --all: core the newlib way, and the CMake fetch of wasm3 ---------------------------
if [ $ALL = 1 ]; then
    B=${CMAKE_CHECK_DIR:-/tmp/sxs-esp32-cmake-check}
    rm -rf "$B"
    if cmake -S "$HERE/cmake" -B "$B" >"$B.log" 2>&1 && cmake --build "$B" -j2 >>"$B.log" 2>&1; then
        ok "cmake  main/wasm3.cmake: pinned sdist fetched and checked, wasm3 + core built"
    else
        bad "cmake  main/wasm3.cmake (log: $B.log)"
    fi
    W3="$B/_deps/sxs_pywasm3-src/wasm3"
    if [ -f "$W3/wasm3.h" ] && type newlib >/dev/null 2>&1; then
        for f in "$CORE"/*.c; do
            if newlib "$f" -I"$CORE" -isystem "$W3"; then
                ok "newlib core/$(basename "$f")"
            else
                bad "newlib core/$(basename "$f")"
            fi
        done
    fi
fi

# ---- --all: real Xtensa code generation (not the ESP32's toolchain) ---------------------
# Debian has no ESP32 compiler, but it has the ESP8266's: gcc-xtensa-lx106 with
# picolibc-xtensa-lx106-elf. Same GCC back end and ISA family as ESP-IDF's
# xtensa-esp32-elf-gcc, another core configuration (no register windows: call0 ABI).
# Compiling wasm3 and firmware/core/ with it proves they build for Xtensa with
# -mlongcalls (core: -Wall -Wextra -Werror) and gives their code size; the port's
# main/*.c needs ESP-IDF's headers and is not part of it.
if [ $ALL = 1 ]; then
    XCC=xtensa-lx106-elf-gcc
    XSPECS=/usr/lib/xtensa-lx106-elf/picolibc.specs
    if type $XCC >/dev/null 2>&1 && [ -f "$XSPECS" ] && [ -f "$W3/wasm3.h" ]; then
        X=${XTENSA_CHECK_DIR:-/tmp/sxs-esp32-xtensa-check}
        rm -rf "$X"
        mkdir -p "$X"
        xcc() { $XCC --specs="$XSPECS" -mlongcalls -Os -std=gnu11 -Dd_m3LogOutput=0 -Dd_m3Use32BitSlots=0 "$@"; }
        xok=1
        for f in "$W3"/*.c; do
            xcc -w -c -I"$W3" "$f" -o "$X/wasm3_$(basename "$f" .c).o" 2>>"$X/log" || xok=0
        done
        if [ $xok = 1 ]; then ok "xtensa wasm3 ($(xtensa-lx106-elf-size -t "$X"/wasm3_*.o | tail -1 | awk '{print $1}') bytes of code)"; else bad "xtensa wasm3 (log: $X/log)"; fi
        xok=1
        for f in "$CORE"/*.c; do
            xcc -Wall -Wextra -Werror $DEFS -c -isystem "$W3" -I"$CORE" "$f" -o "$X/core_$(basename "$f" .c).o" 2>>"$X/log" || xok=0
        done
        if [ $xok = 1 ]; then ok "xtensa core/*.c ($(xtensa-lx106-elf-size -t "$X"/core_*.o | tail -1 | awk '{print $1}') bytes of code)"; else bad "xtensa core/*.c (log: $X/log)"; fi
    else
        echo "skip xtensa checks (apt-get install gcc-xtensa-lx106 picolibc-xtensa-lx106-elf)"
    fi
fi

echo "$pass passed, $fail failed"
[ $fail = 0 ]
