# wasm3.cmake - wasm3 0.5.0 as a declared, hash-pinned dependency.
#
# The same package firmware/build.rs uses for the Linux build: PyPI's sdist
# of pywasm3 0.5.0, whose wasm3/ directory holds wasm3 0.5.0's C sources.
# CMake downloads it at configure time (FetchContent), checks its SHA-256 and
# unpacks it under the build directory; no wasm3 source is copied into this
# repository.  The URL is the one PyPI's index gives for that file (found
# through https://pypi.org/simple/pywasm3/ with
# "Accept: application/vnd.pypi.simple.v1+json", whose "hashes" entry matches
# the pin below).
#
# Offline: set SXS_PYWASM3_SDIST (environment or -D) to a local copy of
# pywasm3-0.5.0.tar.gz, as for the Linux build; the hash is checked all the same.
#
# Sets:
#   SXS_WASM3_DIR      wasm3's source directory (wasm3.h, m3_*.h)
#   SXS_WASM3_SOURCES  its .c files
#   SXS_WASM3_DEFINES  the configuration both wasm3 and firmware/core are
#                      compiled with (the list of firmware/build.rs:
#                      WASM3_DEFINES; core/sxs_m3.c includes wasm3's internal
#                      headers, whose struct layouts depend on them)
#
# Usable outside ESP-IDF too (check/cmake/ includes it to test the fetch).

include_guard(GLOBAL)
include(FetchContent)

set(SXS_PYWASM3_URL
    "https://files.pythonhosted.org/packages/40/d9/5c4d0f09aa47e19f192feafba535f947ea547d24f1f5aaffdfa7bfe9fa78/pywasm3-0.5.0.tar.gz")
set(SXS_PYWASM3_SHA256 "5a47c8a39f7f6ae71b3316b2e5d86c9d0db6e771a65f09a86e4d4aa3a19aefcc")

if(NOT SXS_PYWASM3_SDIST AND DEFINED ENV{SXS_PYWASM3_SDIST})
    set(SXS_PYWASM3_SDIST "$ENV{SXS_PYWASM3_SDIST}")
endif()
if(SXS_PYWASM3_SDIST)
    if(NOT EXISTS "${SXS_PYWASM3_SDIST}")
        message(FATAL_ERROR "SXS_PYWASM3_SDIST=${SXS_PYWASM3_SDIST}: no such file")
    endif()
    set(_sxs_wasm3_url "${SXS_PYWASM3_SDIST}")
else()
    set(_sxs_wasm3_url "${SXS_PYWASM3_URL}")
endif()

set(_sxs_wasm3_extra "")
if(NOT CMAKE_VERSION VERSION_LESS 3.24)
    list(APPEND _sxs_wasm3_extra DOWNLOAD_EXTRACT_TIMESTAMP TRUE)
endif()

FetchContent_Declare(sxs_pywasm3
    URL "${_sxs_wasm3_url}"
    URL_HASH "SHA256=${SXS_PYWASM3_SHA256}"
    ${_sxs_wasm3_extra})
# The sdist has no CMakeLists.txt (it is a Python package), so this only
# downloads, checks and unpacks it; the C files are compiled by whoever
# includes this file.
FetchContent_MakeAvailable(sxs_pywasm3)

set(SXS_WASM3_DIR "${sxs_pywasm3_SOURCE_DIR}/wasm3")
if(NOT EXISTS "${SXS_WASM3_DIR}/wasm3.h")
    message(FATAL_ERROR "no wasm3/wasm3.h in the pywasm3 0.5.0 sdist (${sxs_pywasm3_SOURCE_DIR})")
endif()
file(GLOB SXS_WASM3_SOURCES "${SXS_WASM3_DIR}/*.c")
list(SORT SXS_WASM3_SOURCES)
set(SXS_WASM3_DEFINES d_m3LogOutput=0 d_m3Use32BitSlots=0)
