/*
 * sxs_engine.c - the image under wasm3: load, link the four imports of
 * docs/abi.md, compile everything up front, and wrap each export.
 */
#include "sxs_engine.h"
#include "sxs_board.h"

#define SXS_STR2(x) #x
#define SXS_STR(x) SXS_STR2(x)

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sxs_m3.h"
#include "sxs_wasm_check.h"

enum {
    X_ABI_VERSION, X_LIMIT, X_INIT, X_INPUT, X_SUBMIT, X_RUN, X_NEXT_TIMER,
    X_INTERRUPT, X_WATCH, X_SPLIT, X_FREE, X_STAT, X_COUNT
};

static const struct {
    const char *name;
    uint32_t nargs;
    int ret; /* c_m3Type_* */
} exports[X_COUNT] = {
    [X_ABI_VERSION] = { "sxs_abi_version", 0, c_m3Type_i32 },
    [X_LIMIT] = { "sxs_limit", 2, c_m3Type_i32 },
    [X_INIT] = { "sxs_init", 0, c_m3Type_i32 },
    [X_INPUT] = { "sxs_input", 1, c_m3Type_i32 },
    [X_SUBMIT] = { "sxs_submit", 3, c_m3Type_i32 },
    [X_RUN] = { "sxs_run", 1, c_m3Type_i32 },
    [X_NEXT_TIMER] = { "sxs_next_timer", 0, c_m3Type_f64 },
    [X_INTERRUPT] = { "sxs_interrupt", 1, c_m3Type_i32 },
    [X_WATCH] = { "sxs_watch", 3, c_m3Type_i32 },
    [X_SPLIT] = { "sxs_split", 1, c_m3Type_i32 },
    [X_FREE] = { "sxs_free", 1, c_m3Type_none },
    [X_STAT] = { "sxs_stat", 1, c_m3Type_f64 },
};

enum { I_RESULT, I_LOG, I_EVENT, I_NOW, I_FLASH_SIZE, I_FLASH_READ, I_FLASH_WRITE, I_FLASH_ERASE, I_COUNT };

struct sxs_engine {
    IM3Environment env;
    IM3Runtime rt;
    IM3Module mod; /* owned by rt once loaded */
    int loaded;
    uint8_t *image; /* owned Wasm bytes, only while opening */
    IM3Function fn[X_COUNT];
    sxs_m3_import imports[I_COUNT];
    sxs_host_ops ops;
    void *ctx;
    int busy;
    int trapped;
    char err[256];
};

/* ---- imports ------------------------------------------------------------ */

static const uint8_t *mem_range(IM3Runtime rt, uint64_t ptr, uint64_t len)
{
    uint32_t size = 0;
    uint8_t *mem = m3_GetMemory(rt, &size, 0);
    uint32_t p = (uint32_t)ptr, l = (uint32_t)len;
    if (!mem || (uint64_t)p + l > size) return NULL;
    return mem + p;
}

static const char *imp_result(void *ud, IM3Runtime rt, const uint64_t *a, uint64_t *ret)
{
    (void)ret;
    sxs_engine *e = ud;
    const uint8_t *t = mem_range(rt, a[1], a[2]);
    if (!t) return "[trap] host_result: text outside linear memory";
    if (e->ops.result) e->ops.result(e->ctx, (int32_t)(uint32_t)a[0], t, (uint32_t)a[2]);
    return NULL;
}

static const char *imp_log(void *ud, IM3Runtime rt, const uint64_t *a, uint64_t *ret)
{
    (void)ret;
    sxs_engine *e = ud;
    const uint8_t *t = mem_range(rt, a[0], a[1]);
    if (!t) return "[trap] host_log: text outside linear memory";
    if (e->ops.log) e->ops.log(e->ctx, t, (uint32_t)a[1]);
    return NULL;
}

static const char *imp_event(void *ud, IM3Runtime rt, const uint64_t *a, uint64_t *ret)
{
    (void)ret;
    sxs_engine *e = ud;
    const uint8_t *t = mem_range(rt, a[2], a[3]);
    if (!t) return "[trap] host_event: text outside linear memory";
    if (e->ops.event)
        e->ops.event(e->ctx, (int32_t)(uint32_t)a[0], (int32_t)(uint32_t)a[1], t, (uint32_t)a[3]);
    return NULL;
}

static const char *imp_now(void *ud, IM3Runtime rt, const uint64_t *a, uint64_t *ret)
{
    (void)rt;
    (void)a;
    sxs_engine *e = ud;
    double t = e->ops.now ? e->ops.now(e->ctx) : 0.0;
    memcpy(ret, &t, sizeof t);
    return NULL;
}

/* The K/V partition (docs/abi.md): the board's SXS_PART_KV. Failures are answers
 * (non-zero), never traps: the image turns them into `store full`. */
static uint8_t *mem_range_rw(IM3Runtime rt, uint64_t ptr, uint64_t len)
{
    uint32_t size = 0;
    uint8_t *mem = m3_GetMemory(rt, &size, 0);
    uint32_t p = (uint32_t)ptr, l = (uint32_t)len;
    if (!mem || (uint64_t)p + l > size) return NULL;
    return mem + p;
}

static const char *imp_flash_size(void *ud, IM3Runtime rt, const uint64_t *a, uint64_t *ret)
{
    (void)ud, (void)rt, (void)a;
    *ret = (uint32_t)sxs_board_flash_size(SXS_PART_KV);
    return NULL;
}

static const char *imp_flash_read(void *ud, IM3Runtime rt, const uint64_t *a, uint64_t *ret)
{
    (void)ud;
    uint8_t *m = mem_range_rw(rt, a[1], a[2]);
    int r = m ? sxs_board_flash_read(SXS_PART_KV, (uint32_t)a[0], m, (uint32_t)a[2]) : -1;
    *ret = (uint32_t)(r == 0 ? 0 : -1);
    return NULL;
}

static const char *imp_flash_write(void *ud, IM3Runtime rt, const uint64_t *a, uint64_t *ret)
{
    (void)ud;
    const uint8_t *m = mem_range(rt, a[1], a[2]);
    int r = m ? sxs_board_flash_write(SXS_PART_KV, (uint32_t)a[0], m, (uint32_t)a[2]) : -1;
    *ret = (uint32_t)(r == 0 ? 0 : -1);
    return NULL;
}

static const char *imp_flash_erase(void *ud, IM3Runtime rt, const uint64_t *a, uint64_t *ret)
{
    (void)ud, (void)rt;
    int r = sxs_board_flash_erase(SXS_PART_KV, (uint32_t)a[0], (uint32_t)a[1]);
    *ret = (uint32_t)(r == 0 ? 0 : -1);
    return NULL;
}

static const struct {
    const char *name, *sig;
    sxs_m3_host_fn fn;
} imports[I_COUNT] = {
    [I_RESULT] = { "host_result", "v(iii)", imp_result },
    [I_LOG] = { "host_log", "v(ii)", imp_log },
    [I_EVENT] = { "host_event", "v(iiii)", imp_event },
    [I_NOW] = { "host_now", "F()", imp_now },
    [I_FLASH_SIZE] = { "host_flash_size", "i()", imp_flash_size },
    [I_FLASH_READ] = { "host_flash_read", "i(iii)", imp_flash_read },
    [I_FLASH_WRITE] = { "host_flash_write", "i(iii)", imp_flash_write },
    [I_FLASH_ERASE] = { "host_flash_erase", "i(ii)", imp_flash_erase },
};

/* ---- open / close ----------------------------------------------------------- */

const char *sxs_engine_wasm3_version(void) { return sxs_m3_version(); }

static const char *fail(sxs_engine *e, char *err, uint32_t cap, const char *fmt, const char *a,
                        const char *b)
{
    if (cap) snprintf(err, cap, fmt, a, b);
    sxs_engine_close(e);
    return cap ? err : "sxs_engine_open failed";
}

static const char *open_image(sxs_engine **out, const uint8_t *image, uint8_t *owned, uint32_t len,
                              const sxs_engine_config *cfg, const sxs_host_ops *ops, void *ctx,
                              char *err, uint32_t err_cap)
{
    *out = NULL;
    sxs_engine *e = calloc(1, sizeof *e);
    if (!e) {
        free(owned);
        return "out of memory";
    }
    e->ops = *ops;
    e->ctx = ctx;
    e->image = owned;

    /* 1. refuse features this wasm3 does not implement, with a clear message */
    sxs_wasm_features feat = { 0, 0, 0 };
    const char *ver = sxs_m3_version();
    if (strncmp(ver, "0.4.", 4) != 0) feat.bulk_memory_copy_fill = feat.multi_value = feat.memory_size = 1;
    sxs_wasm_check_result chk;
    if (sxs_wasm_check(image, len, &feat, &chk) != 0)
        return fail(e, err, err_cap, "image rejected: %s%s", chk.first,
                    chk.unsupported > 1 ? " (and more)" : "");

    /* 2. parse and load.  wasm3 keeps pointers into the bytes, but only uses them
     *    while loading (globals, data and element segments) and compiling (function
     *    bodies); names are copied.  Everything is compiled in step 4, so the bytes are
     *    not needed once this function returns: borrowed bytes are not copied, owned
     *    ones are freed at the end (on a board without PSRAM that is the ~32 KB that
     *    decides whether the engine fits; firmware/ports/esp32/README.md). */
    e->env = m3_NewEnvironment();
    if (!e->env) return fail(e, err, err_cap, "%s%s", "out of memory", "");
    e->rt = m3_NewRuntime(e->env, cfg && cfg->stack_bytes ? cfg->stack_bytes : 64 * 1024, NULL);
    if (!e->rt) return fail(e, err, err_cap, "%s%s", "out of memory (wasm3 runtime)", "");
    M3Result r = m3_ParseModule(e->env, &e->mod, image, len);
    if (r) return fail(e, err, err_cap, "image parse: %s%s", r, "");
    r = m3_LoadModule(e->rt, e->mod);
    if (r) return fail(e, err, err_cap, "image load: %s%s", r, "");
    e->loaded = 1;

    /* 3. link the ABI imports (an image need not import all of them) */
    for (int i = 0; i < I_COUNT; i++) {
        e->imports[i].fn = imports[i].fn;
        e->imports[i].ud = e;
        r = sxs_m3_link(e->mod, imports[i].name, imports[i].sig, &e->imports[i]);
        if (r && r != m3Err_functionLookupFailed)
            return fail(e, err, err_cap, "link env.%s: %s", imports[i].name, r);
    }

    /* 4. compile everything now: unknown imports and opcodes surface here */
    char msg[200];
    r = sxs_m3_compile_all(e->mod, msg, sizeof msg);
    if (r) return fail(e, err, err_cap, "image compile: %s%s", msg[0] ? msg : r, "");

    /* 5. the exports */
    uint32_t msize = 0;
    if (!m3_GetMemory(e->rt, &msize, 0)) return fail(e, err, err_cap, "%s%s", "image has no memory", "");
    for (int i = 0; i < X_COUNT; i++) {
        r = m3_FindFunction(&e->fn[i], e->rt, exports[i].name);
        if (r || !e->fn[i]) return fail(e, err, err_cap, "image lacks export %s: %s", exports[i].name, r ? r : "?");
        uint32_t na, nr;
        int rt, all_i32;
        sxs_m3_func_type(e->fn[i], &na, &nr, &rt, &all_i32);
        if (na != exports[i].nargs || !all_i32 || rt != exports[i].ret)
            return fail(e, err, err_cap, "image export %s has the wrong signature%s", exports[i].name, "");
    }
    int32_t v;
    const char *m = sxs_engine_abi_version(e, &v);
    if (m) return fail(e, err, err_cap, "sxs_abi_version: %s%s", m, "");
    if (v != SXS_ABI_VERSION) {
        char num[16];
        snprintf(num, sizeof num, "%d", (int)v);
        return fail(e, err, err_cap, "image ABI version %s, firmware speaks %s", num, SXS_STR(SXS_ABI_VERSION));
    }
    free(e->image); /* compiled: wasm3 reads the bytes no more (step 2) */
    e->image = NULL;
    *out = e;
    return NULL;
}

const char *sxs_engine_open(sxs_engine **out, const uint8_t *image, uint32_t len,
                            const sxs_engine_config *cfg, const sxs_host_ops *ops, void *ctx,
                            char *err, uint32_t err_cap)
{
    return open_image(out, image, NULL, len, cfg, ops, ctx, err, err_cap);
}

const char *sxs_engine_open_owned(sxs_engine **out, uint8_t *image, uint32_t len, const sxs_engine_config *cfg,
                                  const sxs_host_ops *ops, void *ctx, char *err, uint32_t err_cap)
{
    return open_image(out, image, image, len, cfg, ops, ctx, err, err_cap);
}

void sxs_engine_close(sxs_engine *e)
{
    if (!e) return;
    if (e->mod && !e->loaded) m3_FreeModule(e->mod);
    if (e->rt) m3_FreeRuntime(e->rt);
    if (e->env) m3_FreeEnvironment(e->env);
    free(e->image);
    free(e);
}

/* ---- calls ------------------------------------------------------------------- */

static const char *call(sxs_engine *e, int x, uint32_t argc, const int32_t *args, sxs_m3_val *ret)
{
    if (e->trapped) return e->err;
    if (e->busy) return "engine called from inside a host callback";
    e->busy = 1;
    M3Result r = sxs_m3_call(e->fn[x], argc, args, ret);
    e->busy = 0;
    if (!r) return NULL;
    M3ErrorInfo info;
    m3_GetErrorInfo(e->rt, &info);
    if (info.message && info.message[0])
        snprintf(e->err, sizeof e->err, "trap in %s: %s (%s)", exports[x].name, r, info.message);
    else
        snprintf(e->err, sizeof e->err, "trap in %s: %s", exports[x].name, r);
    e->trapped = 1;
    return e->err;
}

static const char *call_i32(sxs_engine *e, int x, uint32_t argc, const int32_t *args, int32_t *out)
{
    sxs_m3_val v;
    const char *m = call(e, x, argc, args, &v);
    if (!m && out) *out = v.i32;
    return m;
}

static const char *call_f64(sxs_engine *e, int x, uint32_t argc, const int32_t *args, double *out)
{
    sxs_m3_val v;
    const char *m = call(e, x, argc, args, &v);
    if (!m && out) *out = v.f64;
    return m;
}

const char *sxs_engine_abi_version(sxs_engine *e, int32_t *out) { return call_i32(e, X_ABI_VERSION, 0, NULL, out); }

const char *sxs_engine_limit(sxs_engine *e, int32_t id, int32_t value, int32_t *out)
{
    int32_t a[2] = { id, value };
    return call_i32(e, X_LIMIT, 2, a, out);
}

const char *sxs_engine_init(sxs_engine *e, int32_t *out) { return call_i32(e, X_INIT, 0, NULL, out); }

/* sxs_input(len), then copy the text to the staging buffer. */
static const char *stage(sxs_engine *e, const uint8_t *text, uint32_t len)
{
    int32_t a[1] = { (int32_t)len }, ptr = 0;
    const char *m = call_i32(e, X_INPUT, 1, a, &ptr);
    if (m) return m;
    if (ptr == 0) return NULL; /* too large or no memory: the image answers with the error */
    uint32_t size = 0;
    uint8_t *mem = m3_GetMemory(e->rt, &size, 0);
    if (!mem || (uint64_t)(uint32_t)ptr + len > size) {
        snprintf(e->err, sizeof e->err, "sxs_input returned a buffer outside linear memory");
        e->trapped = 1;
        return e->err;
    }
    if (len) memcpy(mem + (uint32_t)ptr, text, len);
    return NULL;
}

const char *sxs_engine_submit(sxs_engine *e, int32_t req, int32_t proc, const uint8_t *text,
                              uint32_t len, int32_t *out)
{
    const char *m = stage(e, text, len);
    if (m) return m;
    int32_t a[3] = { req, proc, (int32_t)len };
    return call_i32(e, X_SUBMIT, 3, a, out);
}

const char *sxs_engine_stage(sxs_engine *e, uint32_t len, int32_t *ptr)
{
    int32_t a[1] = { (int32_t)len };
    *ptr = 0;
    return call_i32(e, X_INPUT, 1, a, ptr);
}

const char *sxs_engine_stage_write(sxs_engine *e, int32_t ptr, uint32_t off, const uint8_t *data, uint32_t n)
{
    if (e->trapped) return e->err;
    if (ptr == 0 || n == 0) return NULL;
    uint32_t size = 0;
    uint8_t *mem = m3_GetMemory(e->rt, &size, 0);
    if (!mem || (uint64_t)(uint32_t)ptr + off + n > size) {
        snprintf(e->err, sizeof e->err, "sxs_input returned a buffer outside linear memory");
        e->trapped = 1;
        return e->err;
    }
    memcpy(mem + (uint32_t)ptr + off, data, n);
    return NULL;
}

const char *sxs_engine_submit_staged(sxs_engine *e, int32_t req, int32_t proc, uint32_t len, int32_t *out)
{
    int32_t a[3] = { req, proc, (int32_t)len };
    return call_i32(e, X_SUBMIT, 3, a, out);
}

const char *sxs_engine_run(sxs_engine *e, int32_t budget, int32_t *out)
{
    int32_t a[1] = { budget };
    return call_i32(e, X_RUN, 1, a, out);
}

const char *sxs_engine_next_timer(sxs_engine *e, double *out) { return call_f64(e, X_NEXT_TIMER, 0, NULL, out); }

const char *sxs_engine_interrupt(sxs_engine *e, int32_t req, int32_t *out)
{
    int32_t a[1] = { req };
    return call_i32(e, X_INTERRUPT, 1, a, out);
}

const char *sxs_engine_watch(sxs_engine *e, int32_t channel, int32_t topic, int32_t on, int32_t *out)
{
    int32_t a[3] = { channel, topic, on };
    return call_i32(e, X_WATCH, 3, a, out);
}

const char *sxs_engine_stat(sxs_engine *e, int32_t id, double *out)
{
    int32_t a[1] = { id };
    return call_f64(e, X_STAT, 1, a, out);
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static const char *bad_block(sxs_engine *e)
{
    snprintf(e->err, sizeof e->err, "sxs_split returned a block outside linear memory");
    e->trapped = 1;
    return e->err;
}

const char *sxs_engine_split(sxs_engine *e, const uint8_t *text, uint32_t len, sxs_split_result *out)
{
    memset(out, 0, sizeof *out);
    const char *m = stage(e, text, len);
    if (m) return m;
    int32_t a[1] = { (int32_t)len }, blk = 0;
    m = call_i32(e, X_SPLIT, 1, a, &blk);
    if (m) return m;
    if (blk == 0) return "sxs_split: out of memory";
    uint32_t size = 0;
    const uint8_t *mem = m3_GetMemory(e->rt, &size, 0);
    uint32_t p = (uint32_t)blk;
    if (!mem || (uint64_t)p + 8 > size) return bad_block(e);
    int32_t n = (int32_t)rd32(mem + p);
    if (n >= 0) {
        if ((uint64_t)p + 4 + (uint64_t)n * 8 > size) return bad_block(e);
        out->ranges = malloc(((size_t)n * 2 + 1) * sizeof *out->ranges);
        if (!out->ranges) return "out of memory";
        for (int32_t i = 0; i < 2 * n; i++) {
            out->ranges[i] = rd32(mem + p + 4 + 4 * (uint32_t)i);
            if (out->ranges[i] > len) {
                sxs_split_result_free(out);
                snprintf(e->err, sizeof e->err, "sxs_split returned a range outside the text");
                e->trapped = 1;
                return e->err;
            }
        }
    } else {
        uint32_t el = rd32(mem + p + 4);
        if ((uint64_t)p + 8 + el > size) return bad_block(e);
        out->error = malloc(el ? el : 1);
        if (!out->error) return "out of memory";
        memcpy(out->error, mem + p + 8, el);
        out->error_len = el;
    }
    out->n = n;
    sxs_m3_val v;
    return call(e, X_FREE, 1, &blk, &v);
}

void sxs_split_result_free(sxs_split_result *r)
{
    free(r->ranges);
    free(r->error);
    memset(r, 0, sizeof *r);
}

const char *sxs_engine_call_block(sxs_engine *e, const char *export_name, const uint8_t *text, uint32_t len,
                                  int32_t *status, uint8_t **bytes, uint32_t *bytes_len)
{
    *bytes = NULL;
    *bytes_len = 0;
    *status = 0;
    IM3Function f = NULL;
    if (m3_FindFunction(&f, e->rt, export_name) || !f) return "no such export";
    const char *m = stage(e, text, len);
    if (m) return m;
    if (e->busy) return "engine called from inside a host callback";
    int32_t a[1] = { (int32_t)len };
    sxs_m3_val v;
    e->busy = 1;
    M3Result r = sxs_m3_call(f, 1, a, &v);
    e->busy = 0;
    if (r) {
        snprintf(e->err, sizeof e->err, "trap in %s: %s", export_name, r);
        e->trapped = 1;
        return e->err;
    }
    if (v.i32 == 0) return "out of memory";
    uint32_t size = 0;
    const uint8_t *mem = m3_GetMemory(e->rt, &size, 0);
    uint32_t p = (uint32_t)v.i32;
    if (!mem || (uint64_t)p + 8 > size) return bad_block(e);
    uint32_t n = rd32(mem + p + 4);
    if ((uint64_t)p + 8 + n > size) return bad_block(e);
    *status = (int32_t)rd32(mem + p);
    *bytes = malloc(n ? n : 1);
    if (!*bytes) return "out of memory";
    memcpy(*bytes, mem + p + 8, n);
    *bytes_len = n;
    sxs_m3_val fv;
    int32_t blk = v.i32;
    return call(e, X_FREE, 1, &blk, &fv);
}

uint32_t sxs_engine_memory_size(sxs_engine *e)
{
    uint32_t size = 0;
    if (e && e->rt) m3_GetMemory(e->rt, &size, 0);
    return size;
}
