/*
 * measure_main.c - HOST-ONLY measurement harness for the ESP32 memory budget
 * (firmware/ports/esp32/README.md, "Memory budget").  Not part of the ESP32
 * build.  It runs the Linux firmware (ports/posix, unchanged) and reports:
 *
 *   - heap: bytes in use at the peak, at exit, and the largest single block,
 *     counted by wrapping malloc/calloc/realloc/free of the firmware's own
 *     objects (wasm3 + core + posix; -Wl,--wrap=...);
 *   - native stack: the high-water mark of a painted thread stack on which
 *     sxs_posix_main runs.
 *
 * Built by measure.sh in several variants (64/32-bit, with and without
 * sibling-call optimisation in wasm3, which ESP32's windowed Xtensa ABI
 * does not have).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int sxs_posix_main(int argc, char **argv);

/* ---- heap accounting ---------------------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

#define HDR 16u /* keeps 16-byte alignment; holds the block size */
static size_t cur, peak, largest, count, peak_count;

static FILE *trace; /* MEASURE_TRACE=FILE: "+ ptr size" / "- ptr" per event */

static void note(size_t add, size_t sub, size_t blk)
{
    cur += add;
    cur -= sub;
    if (cur > peak) peak = cur;
    if (blk > largest) largest = blk;
    if (count > peak_count) peak_count = count;
}

void *__wrap_malloc(size_t n)
{
    uint8_t *p = __real_malloc(n + HDR);
    if (!p) return NULL;
    memcpy(p, &n, sizeof n);
    count++;
    note(n, 0, n);
    if (trace) fprintf(trace, "+ %p %zu\n", (void *)p, n);
    return p + HDR;
}

void *__wrap_calloc(size_t k, size_t n)
{
    size_t t = k * n;
    uint8_t *p = __real_calloc(1, t + HDR);
    if (!p) return NULL;
    memcpy(p, &t, sizeof t);
    count++;
    note(t, 0, t);
    if (trace) fprintf(trace, "+ %p %zu\n", (void *)p, t);
    return p + HDR;
}

void __wrap_free(void *q)
{
    if (!q) return;
    uint8_t *p = (uint8_t *)q - HDR;
    size_t n;
    memcpy(&n, p, sizeof n);
    count--;
    note(0, n, 0);
    if (trace) fprintf(trace, "- %p\n", (void *)p);
    __real_free(p);
}

void *__wrap_realloc(void *q, size_t n)
{
    if (!q) return __wrap_malloc(n);
    uint8_t *p = (uint8_t *)q - HDR;
    size_t old;
    memcpy(&old, p, sizeof old);
    /* the worst case of a heap that cannot grow the block in place: the old
       and the new block are both live while the bytes are copied */
    if (cur + n > peak) peak = cur + n;
    uint8_t *r = __real_realloc(p, n + HDR);
    if (!r) return NULL;
    memcpy(r, &n, sizeof n);
    note(n, old, n);
    if (trace) fprintf(trace, "- %p\n+ %p %zu\n", (void *)p, (void *)r, n);
    return r + HDR;
}

/* ---- call depth (variant m32-depth: wasm3 built with -finstrument-functions) */

#ifdef MEASURE_DEPTH
static long depth, depth_max;
void __cyg_profile_func_enter(void *f, void *c) __attribute__((no_instrument_function));
void __cyg_profile_func_exit(void *f, void *c) __attribute__((no_instrument_function));
void __cyg_profile_func_enter(void *f, void *c)
{
    (void)f, (void)c;
    if (++depth > depth_max) depth_max = depth;
}
void __cyg_profile_func_exit(void *f, void *c)
{
    (void)f, (void)c;
    depth--;
}
#define DEPTH_MAX depth_max
#else
#define DEPTH_MAX 0L
#endif

/* ---- painted stack ------------------------------------------------------ */

#define STACK_BYTES (64u << 20)
#define PAINT 0xA5

struct run {
    int argc;
    char **argv;
    int status;
};

static void *runner(void *a)
{
    struct run *r = a;
    r->status = sxs_posix_main(r->argc, r->argv);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *tr = getenv("MEASURE_TRACE");
    if (tr) trace = fopen(tr, "w");
    uint8_t *stk = mmap(NULL, STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stk == MAP_FAILED) return 99;
    memset(stk, PAINT, STACK_BYTES);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstack(&at, stk, STACK_BYTES);
    struct run r = { argc, argv, 0 };
    pthread_t t;
    if (pthread_create(&t, &at, runner, &r) != 0) return 98;
    pthread_join(t, NULL);
    size_t i = 0;
    while (i < STACK_BYTES && stk[i] == PAINT) i++;
    /* glibc keeps the thread descriptor and TLS at the top of a user stack */
    fflush(stdout);
    fprintf(stderr, "MEASURE heap_peak=%zu heap_at_exit=%zu largest_block=%zu blocks_peak=%zu stack_used=%zu wasm3_frames=%ld\n",
            peak, cur, largest, peak_count, (size_t)STACK_BYTES - i, DEPTH_MAX);
    return r.status;
}
