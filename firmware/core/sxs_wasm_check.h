/*
 * sxs_wasm_check.h - a pre-flight scan of a Wasm binary for features the
 * embedded wasm3 does not implement.
 *
 * wasm3 0.4.x reads its opcode tables without bounds checks: an opcode it
 * does not know (memory.copy, SIMD, ...) is undefined behaviour there, not a
 * clean error.  So the firmware walks every function body itself before
 * handing the image to wasm3 and refuses it with a precise message.
 */
#ifndef SXS_WASM_CHECK_H
#define SXS_WASM_CHECK_H

#include <stdint.h>

typedef struct sxs_wasm_features {
    int bulk_memory_copy_fill; /* memory.copy / memory.fill (0xFC 10, 11) */
    int multi_value;           /* several results, block types by index  */
    int memory_size;           /* memory.size: wasm3 0.4.x miscompiles it (it
                                  clobbers a value held in its register) */
} sxs_wasm_features;

typedef struct sxs_wasm_check_result {
    uint32_t unsupported;      /* number of unsupported uses found */
    uint32_t functions;        /* function bodies scanned */
    uint32_t instructions;     /* instructions scanned */
    char first[160];           /* the first problem, "" when none */
} sxs_wasm_check_result;

/* 0: the image uses only supported features; -1: unsupported features
 * (see res->first); -2: malformed binary (see res->first). */
int sxs_wasm_check(const uint8_t *wasm, uint32_t len, const sxs_wasm_features *feat,
                   sxs_wasm_check_result *res);

#endif
