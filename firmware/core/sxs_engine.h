/*
 * sxs_engine.h - hosts the sxs image (build/sxs.wasm) under wasm3 and wraps
 * the image ABI of docs/abi.md (version 1).
 *
 * Every call returns NULL on success or an error message (a trap, a missing
 * export, ...) that stays valid until the next call on the same engine.
 * After a trap the instance is unusable: every further call fails with the
 * same message until the engine is closed and opened again (a reboot).
 *
 * The host callbacks run synchronously inside the Wasm call that produced
 * them; they must not call back into the engine (such a call fails).
 */
#ifndef SXS_ENGINE_H
#define SXS_ENGINE_H

#include <stdint.h>

#define SXS_ABI_VERSION 2

/* sxs_limit ids */
enum {
    SXS_LIMIT_PROCESSORS = 1,
    SXS_LIMIT_QUEUE = 2,
    SXS_LIMIT_MAX_INPUT = 3,
    SXS_LIMIT_MAX_PAGES = 4,
    SXS_LIMIT_MAX_STEPS = 5,
    SXS_LIMIT_STEP_SLICE = 6,
    SXS_LIMIT_SAFE_MODE = 7,
};

/* sxs_stat ids */
enum {
    SXS_STAT_HEAP_USED = 1,
    SXS_STAT_HEAP_RESERVED = 2,
    SXS_STAT_MEMORY = 3,
    SXS_STAT_KV_ENTRIES = 4,
    SXS_STAT_SUBSCRIPTIONS = 5,
    SXS_STAT_QUEUED = 6,
    SXS_STAT_TASKS = 7,
    SXS_STAT_STEPS = 8,
};

typedef struct sxs_host_ops {
    /* host_result(req, ptr, len) */
    void (*result)(void *ctx, int32_t req, const uint8_t *text, uint32_t len);
    /* host_log(ptr, len) */
    void (*log)(void *ctx, const uint8_t *text, uint32_t len);
    /* host_event(channel, topic, ptr, len) */
    void (*event)(void *ctx, int32_t channel, int32_t topic, const uint8_t *text, uint32_t len);
    /* host_now(): milliseconds */
    double (*now)(void *ctx);
} sxs_host_ops;

typedef struct sxs_engine sxs_engine;

typedef struct sxs_engine_config {
    uint32_t stack_bytes;      /* wasm3 runtime stack (its own, not the C stack) */
} sxs_engine_config;

/* Parse, load, link and compile the image.  `image` is read only while this runs
 * (nothing keeps it: the module is compiled before it returns).  On failure
 * *out is NULL and the message is static or in `err` (err_cap bytes). */
const char *sxs_engine_open(sxs_engine **out, const uint8_t *image, uint32_t len,
                            const sxs_engine_config *cfg, const sxs_host_ops *ops, void *ctx,
                            char *err, uint32_t err_cap);
/* The same, taking ownership of a malloc'd image: the engine frees it as soon as the
 * module is compiled (or on failure), so a running engine holds no copy of the Wasm. */
const char *sxs_engine_open_owned(sxs_engine **out, uint8_t *image, uint32_t len, const sxs_engine_config *cfg,
                                  const sxs_host_ops *ops, void *ctx, char *err, uint32_t err_cap);
void sxs_engine_close(sxs_engine *e);

/* The wasm3 version underneath ("0.4.7"). */
const char *sxs_engine_wasm3_version(void);

const char *sxs_engine_abi_version(sxs_engine *e, int32_t *out);
const char *sxs_engine_limit(sxs_engine *e, int32_t id, int32_t value, int32_t *out);
const char *sxs_engine_init(sxs_engine *e, int32_t *out);
/* sxs_input(len) + copy + sxs_submit(req, proc, len); *out is sxs_submit's
 * answer (0 queued, -1 queue full, -2 no such processor, -3 out of memory). */
const char *sxs_engine_submit(sxs_engine *e, int32_t req, int32_t proc, const uint8_t *text,
                              uint32_t len, int32_t *out);
/* The three steps of sxs_engine_submit, for text that arrives in pieces
 * (a fragmented EXEC): *ptr = sxs_input(len) (0: the text is discarded, the
 * image answers the error itself); copy pieces to ptr + off (bounds
 * checked against linear memory; nothing is copied when ptr is 0); then
 * sxs_submit(req, proc, len). */
const char *sxs_engine_stage(sxs_engine *e, uint32_t len, int32_t *ptr);
const char *sxs_engine_stage_write(sxs_engine *e, int32_t ptr, uint32_t off, const uint8_t *data, uint32_t n);
const char *sxs_engine_submit_staged(sxs_engine *e, int32_t req, int32_t proc, uint32_t len, int32_t *out);
const char *sxs_engine_run(sxs_engine *e, int32_t budget, int32_t *out);
const char *sxs_engine_next_timer(sxs_engine *e, double *out);
const char *sxs_engine_interrupt(sxs_engine *e, int32_t req, int32_t *out);
const char *sxs_engine_watch(sxs_engine *e, int32_t channel, int32_t topic, int32_t on, int32_t *out);
const char *sxs_engine_stat(sxs_engine *e, int32_t id, double *out);

/* sxs_split: n >= 0 forms with byte ranges ranges[2i], ranges[2i+1] into the
 * text; n < 0 a parse error, its printed form in error/error_len.  Free with
 * sxs_split_result_free. */
typedef struct sxs_split_result {
    int32_t n;
    uint32_t *ranges;
    uint8_t *error;
    uint32_t error_len;
} sxs_split_result;

const char *sxs_engine_split(sxs_engine *e, const uint8_t *text, uint32_t len, sxs_split_result *out);
void sxs_split_result_free(sxs_split_result *r);

/* Call an export `(len) -> block` on staged text (sxs_encode, sxs_decode):
 * the block is `i32 status, u32 len, bytes`; *status and a malloc'd copy
 * of the bytes (free it) are returned.  "no such export" if it lacks one. */
const char *sxs_engine_call_block(sxs_engine *e, const char *export_name, const uint8_t *text, uint32_t len,
                                  int32_t *status, uint8_t **bytes, uint32_t *bytes_len);

/* Linear memory size in bytes (0 when not available). */
uint32_t sxs_engine_memory_size(sxs_engine *e);

#endif
