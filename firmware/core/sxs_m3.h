/*
 * sxs_m3.h - the thin layer over wasm3's API.
 *
 * wasm3's embedding API changed between the 0.4.x line (the one bundled in
 * crates.io wasm3-sys 0.3.0: no m3_CompileModule, string arguments for
 * m3_CallWithArgs, no result getter) and 0.5.0 (m3_CompileModule, m3_CallV,
 * m3_GetResults, import context).  Everything that depends on that difference
 * lives in sxs_m3.c; the rest of the firmware uses only this header and the
 * public wasm3.h types.
 */
#ifndef SXS_M3_H
#define SXS_M3_H

#include <stdint.h>
#include "wasm3.h"

/* The wasm3 version the firmware was compiled against, "MAJOR.MINOR.REV". */
const char *sxs_m3_version(void);

/* A host import: args[i] holds argument i (i32 in the low 32 bits, f64 as
 * its bits); *ret receives the return value (ignored for void imports).
 * Return NULL, or a static trap message to abort the running Wasm call. */
typedef const char *(*sxs_m3_host_fn)(void *ud, IM3Runtime rt,
                                      const uint64_t *args, uint64_t *ret);

typedef struct sxs_m3_import {
    sxs_m3_host_fn fn;
    void *ud;
    uint32_t nargs;
    uint32_t nrets;
} sxs_m3_import;

/* Link `imp` (which must stay alive as long as the module) as
 * env.NAME with wasm3 signature SIG (e.g. "v(iii)", "F()").
 * Returns NULL, m3Err_functionLookupFailed when the module does not import
 * NAME, or another wasm3 error. */
M3Result sxs_m3_link(IM3Module mod, const char *name, const char *sig,
                     sxs_m3_import *imp);

/* Compile every function of a loaded module now (wasm3 otherwise compiles
 * lazily, at a function's first call) and check that every import is
 * linked.  On failure writes a message naming the function into msg. */
M3Result sxs_m3_compile_all(IM3Module mod, char *msg, uint32_t msg_cap);

/* Function type of an export: number of params, number of results, result
 * type (c_m3Type_*; c_m3Type_none when no result).  Params are checked to
 * be all i32 by *all_i32. */
void sxs_m3_func_type(IM3Function f, uint32_t *nargs, uint32_t *nrets,
                      int *ret_type, int *all_i32);

typedef union sxs_m3_val {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    uint64_t bits;
} sxs_m3_val;

/* Call f with argc i32 arguments; the (single) result goes to *ret. */
M3Result sxs_m3_call(IM3Function f, uint32_t argc, const int32_t *args,
                     sxs_m3_val *ret);

#endif
