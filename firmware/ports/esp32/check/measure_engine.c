/*
 * measure_engine.c - HOST-ONLY: the engine's memory as the ESP32 firmware
 * uses it (firmware/ports/esp32/README.md, "Memory budget").  Not part of
 * the ESP32 build.
 *
 *   measure-engine IMAGE.wasm STACK_BYTES MAX_PAGES
 *
 * Like core/sxs_fw_image.c it hands the engine a malloc'd copy of the Wasm
 * (sxs_engine_open_owned), sets LIMIT_MAX_PAGES, runs sxs_init, then submits
 * the workload of the issue one request at a time (1,000 core/kv/set of a
 * 16-byte key and value, 64 core/event/sub, one core/kv/get), running the
 * scheduler to idle after each.  It prints the heap in use after each phase,
 * the peak, the largest block, the blocks of 2 KiB and more, and the
 * high-water mark of the native stack (a painted thread stack).  The board
 * is ports/posix (a temporary flash file for the K/V log).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "board_posix.h"
#include "sxs_engine.h"
#include "sxs_posix.h"

/* ---- heap accounting (-Wl,--wrap=malloc,...) ---------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

#define HDR 16u
#define MAXB 4096
static size_t cur, peak, largest;
static struct { void *p; size_t n; } blocks[MAXB]; /* the live blocks >= 2 KiB */

static void track(void *p, size_t n)
{
    if (n < 2048) return;
    for (int i = 0; i < MAXB; i++)
        if (!blocks[i].p) {
            blocks[i].p = p;
            blocks[i].n = n;
            return;
        }
}

static void untrack(void *p)
{
    for (int i = 0; i < MAXB; i++)
        if (blocks[i].p == p) {
            blocks[i].p = NULL;
            return;
        }
}

static void grew(size_t n)
{
    if (cur > peak) peak = cur;
    if (n > largest) largest = n;
}

void *__wrap_malloc(size_t n)
{
    uint8_t *p = __real_malloc(n + HDR);
    if (!p) return NULL;
    memcpy(p, &n, sizeof n);
    cur += n;
    grew(n);
    track(p, n);
    return p + HDR;
}

void *__wrap_calloc(size_t k, size_t n)
{
    size_t t = k * n;
    uint8_t *p = __real_calloc(1, t + HDR);
    if (!p) return NULL;
    memcpy(p, &t, sizeof t);
    cur += t;
    grew(t);
    track(p, t);
    return p + HDR;
}

void __wrap_free(void *q)
{
    if (!q) return;
    uint8_t *p = (uint8_t *)q - HDR;
    size_t n;
    memcpy(&n, p, sizeof n);
    cur -= n;
    untrack(p);
    __real_free(p);
}

void *__wrap_realloc(void *q, size_t n)
{
    if (!q) return __wrap_malloc(n);
    uint8_t *p = (uint8_t *)q - HDR;
    size_t old;
    memcpy(&old, p, sizeof old);
    /* a heap that cannot grow the block in place holds both while copying */
    if (cur + n > peak) peak = cur + n;
    uint8_t *r = __real_realloc(p, n + HDR);
    if (!r) return NULL;
    memcpy(r, &n, sizeof n);
    untrack(p);
    track(r, n);
    cur = cur - old + n;
    grew(n);
    return r + HDR;
}

static void report(const char *phase)
{
    size_t big = 0;
    int nb = 0;
    for (int i = 0; i < MAXB; i++)
        if (blocks[i].p) big += blocks[i].n, nb++;
    printf("%-16s heap in use %7zu (blocks >= 2 KiB: %d, %zu bytes:", phase, cur, nb, big);
    /* the sizes, grouped */
    size_t seen[64];
    int ns = 0;
    for (int i = 0; i < MAXB; i++) {
        if (!blocks[i].p) continue;
        int dup = 0;
        for (int j = 0; j < ns; j++) dup |= seen[j] == blocks[i].n;
        if (dup || ns == 64) continue;
        seen[ns++] = blocks[i].n;
        int k = 0;
        for (int j = 0; j < MAXB; j++) k += blocks[j].p && blocks[j].n == blocks[i].n;
        printf(" %dx%zu", k, blocks[i].n);
    }
    printf(")\n");
}

/* ---- the run -------------------------------------------------------------- */

static int results, errors, first_error_req;
static char last[256], first_error[128];

static void on_result(void *c, int32_t req, const uint8_t *t, uint32_t len)
{
    (void)c;
    results++;
    if (len && t[0] == '@' && !errors++) {
        first_error_req = req;
        snprintf(first_error, sizeof first_error, "%.*s", (int)(len < 100 ? len : 100), (const char *)t);
    }
    snprintf(last, sizeof last, "%.*s", (int)(len < 200 ? len : 200), (const char *)t);
}
static void on_log(void *c, const uint8_t *t, uint32_t len) { (void)c, (void)t, (void)len; }
static double on_now(void *c) { (void)c; return 0; }

struct args {
    const char *image;
    uint32_t stack;
    int32_t pages;
    int status;
};

static const char *drain(sxs_engine *e)
{
    int32_t more = 1;
    const char *m = NULL;
    while (!m && more) m = sxs_engine_run(e, 10000, &more);
    return m;
}

static const char *submit(sxs_engine *e, int32_t req, const char *text)
{
    int32_t r = 0;
    const char *m = sxs_engine_submit(e, req, 0, (const uint8_t *)text, (uint32_t)strlen(text), &r);
    if (!m && r != 0) errors++;
    return m ? m : drain(e);
}

static void *run(void *a)
{
    struct args *x = a;
    x->status = 1;
    static char *argv0[] = { "measure-engine", NULL };
    sxs_board_posix_init(0, 1, argv0);
    if (sxs_board_posix_open_temp_flash() != 0) return NULL;
    uint32_t len = 0;
    uint8_t *file = sxs_read_file(x->image, &len);
    if (!file) return NULL;
    report("start");
    uint8_t *w = malloc(len); /* what sxs_fw_open_slot hands over where flash is not mapped */
    memcpy(w, file, len);
    free(file);
    sxs_host_ops ops = { on_result, on_log, NULL, on_now };
    sxs_engine_config cfg = { x->stack };
    sxs_engine *e = NULL;
    char err[300];
    const char *m = sxs_engine_open_owned(&e, w, len, &cfg, &ops, NULL, err, sizeof err);
    if (m) {
        printf("open: %s\n", m);
        return NULL;
    }
    report("loaded");
    int32_t r = 0;
    if (x->pages) m = sxs_engine_limit(e, SXS_LIMIT_MAX_PAGES, x->pages, &r);
    if (!m) m = sxs_engine_init(e, &r);
    if (m || r) {
        printf("init: %s %d\n", m ? m : "", (int)r);
        return NULL;
    }
    report("initialised");
    char text[128];
    int32_t req = 1;
    for (int i = 0; i < 1000 && !m; i++) {
        snprintf(text, sizeof text, "(core/kv/set key-%012d \"val-%012d\")", i, i);
        m = submit(e, req++, text);
    }
    if (!m) report("1000 entries");
    for (int i = 0; i < 64 && !m; i++) {
        snprintf(text, sizeof text, "(core/event/sub $CHANNEL_B %d {(core/kv/set seen $data)})", i);
        m = submit(e, req++, text);
    }
    if (!m) m = submit(e, req++, "(core/kv/get key-000000000999)");
    if (m) {
        printf("trap: %s\n", m);
        return NULL;
    }
    report("+64 subs, get");
    printf("workload: %d results, %d errors, last => %s; linear memory %u bytes\n", results, errors, last,
           (unsigned)sxs_engine_memory_size(e));
    if (errors) printf("first error: request %d => %s\n", first_error_req, first_error);
    sxs_engine_close(e);
    report("closed");
    x->status = errors ? 3 : 0;
    return NULL;
}

#define STACK_BYTES (16u << 20)
#define PAINT 0x5A

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: measure-engine IMAGE.wasm STACK_BYTES MAX_PAGES\n");
        return 2;
    }
    struct args a = { argv[1], (uint32_t)strtoul(argv[2], NULL, 0), (int32_t)strtol(argv[3], NULL, 0), 1 };
    uint8_t *stk = mmap(NULL, STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stk == MAP_FAILED) return 99;
    memset(stk, PAINT, STACK_BYTES);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstack(&at, stk, STACK_BYTES);
    pthread_t t;
    if (pthread_create(&t, &at, run, &a) != 0) return 98;
    pthread_join(t, NULL);
    size_t i = 0;
    while (i < STACK_BYTES && stk[i] == PAINT) i++;
    printf("peak heap %zu, largest block %zu, native stack high-water %zu (incl. thread descriptor and TLS)\n",
           peak, largest, (size_t)STACK_BYTES - i);
    return a.status;
}
