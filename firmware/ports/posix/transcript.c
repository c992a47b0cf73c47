/*
 * transcript.c - `--transcript FILE`, SPEC.md section 8: each top-level form
 * (cut by the image's sxs_split) runs as its own request on processor 0 of one
 * fresh board; the clock is virtual and only advances, straight to the next
 * timer, when nothing is runnable.  Output per form: `log: TEXT` lines emitted
 * while it runs, `=> VALUE`, then the log lines of the drain.
 */
#include <stdlib.h>
#include <string.h>

#include "sxs_posix.h"

typedef struct tctx {
    FILE *out;
    double now;
    int32_t req;
    int got;
} tctx;

static void t_result(void *c, int32_t req, const uint8_t *t, uint32_t len)
{
    tctx *x = c;
    if (req == x->req) x->got = 1;
    sxs_print_line(x->out, "=> ", t, len);
}

static void t_log(void *c, const uint8_t *t, uint32_t len)
{
    sxs_print_line(((tctx *)c)->out, "log: ", t, len);
}

void sxs_print_line(FILE *out, const char *prefix, const uint8_t *t, uint32_t len)
{
    fputs(prefix, out);
    fwrite(t, 1, len, out);
    fputc('\n', out);
}

static double t_now(void *c) { return ((tctx *)c)->now; }

const char *sxs_posix_boot(sxs_engine **out, const uint8_t *image, uint32_t image_len,
                           const sxs_run_options *opt, const sxs_host_ops *ops, void *ctx,
                           char *err, uint32_t err_cap)
{
    static char fallback[300];
    if (!err || err_cap == 0) {
        err = fallback;
        err_cap = sizeof fallback;
    }
    sxs_engine_config cfg = { opt->stack_bytes };
    const char *m = sxs_engine_open(out, image, image_len, &cfg, ops, ctx, err, err_cap);
    if (m) return m;
    struct { int32_t id, v; const char *name; } lim[] = {
        { SXS_LIMIT_PROCESSORS, opt->processors, "processors" },
        { SXS_LIMIT_MAX_PAGES, opt->max_pages, "max pages" },
        { SXS_LIMIT_MAX_INPUT, opt->max_input, "max input" },
    };
    for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++) {
        if (!lim[i].v) continue;
        int32_t r;
        m = sxs_engine_limit(*out, lim[i].id, lim[i].v, &r);
        if (!m && r != 0) {
            snprintf(err, err_cap, "sxs_limit(%s, %d) refused: %d", lim[i].name, (int)lim[i].v, (int)r);
            m = err;
        }
        if (m) goto fail;
    }
    int32_t r;
    m = sxs_engine_init(*out, &r);
    if (!m && r != 0) {
        snprintf(err, err_cap, "sxs_init failed: %d (%s)", (int)r,
                 r == -2 ? "the K/V log could not be loaded" : "out of memory");
        m = err;
    }
    if (!m) return NULL;
fail:
    if (m != err) snprintf(err, err_cap, "%s", m);
    sxs_engine_close(*out);
    *out = NULL;
    return err;
}

/* Run until idle with no timer pending, advancing the virtual clock. */
static const char *drain(sxs_engine *e, tctx *x, int32_t budget, FILE *err)
{
    int stuck = 0;
    for (;;) {
        int32_t more = 0;
        const char *m = sxs_engine_run(e, budget, &more);
        if (m) return m;
        if (more) { stuck = 0; continue; }
        double nt;
        m = sxs_engine_next_timer(e, &nt);
        if (m) return m;
        if (nt < 0) return NULL;
        if (nt > x->now) { x->now = nt; stuck = 0; continue; }
        if (++stuck > 1000) {
            fprintf(err, "sxs-fw: timer at %.3f is due (clock %.3f) but never fires\n", nt, x->now);
            return "scheduler stuck: a due timer never fires";
        }
    }
}

int sxs_transcript(const uint8_t *image, uint32_t image_len, const uint8_t *text,
                   uint32_t text_len, const sxs_run_options *opt, FILE *out, FILE *err)
{
    tctx x = { out, 0.0, 0, 0 };
    sxs_host_ops ops = { t_result, t_log, NULL, t_now };
    char ebuf[300];
    sxs_engine *e;
    int status = 0;
    int32_t budget = opt->budget > 0 ? opt->budget : 10000;
    if (sxs_posix_boot(&e, image, image_len, opt, &ops, &x, ebuf, sizeof ebuf)) {
        fprintf(err, "sxs-fw: %s\n", ebuf);
        return 1;
    }
    sxs_split_result sp;
    const char *m = sxs_engine_split(e, text, text_len, &sp);
    if (m) {
        fprintf(out, "!! trap: %s\n", m);
        fprintf(err, "sxs-fw: %s\n", m);
        sxs_engine_close(e);
        return 3;
    }
    if (sp.n < 0) {
        sxs_print_line(out, "=> ", sp.error, sp.error_len);
    }
    for (int32_t i = 0; i < sp.n; i++) {
        uint32_t a = sp.ranges[2 * i], b = sp.ranges[2 * i + 1];
        if (b < a) b = a;
        x.req++;
        x.got = 0;
        int32_t r = -1;
        for (int tries = 0; !m; tries++) {
            m = sxs_engine_submit(e, x.req, 0, text + a, b - a, &r);
            if (m || r != -1 || tries > 1000) break;
            int32_t more;
            m = sxs_engine_run(e, budget, &more); /* queue full: make room */
        }
        if (!m && r != 0) fprintf(out, "!! sxs_submit refused request %d: %d\n", (int)x.req, (int)r);
        if (!m) m = drain(e, &x, budget, err);
        if (!m && r == 0 && !x.got) fprintf(out, "!! request %d gave no result\n", (int)x.req);
        if (m) {
            /* a trap is an image bug: say so, reboot a fresh board, go on */
            fprintf(out, "!! trap: %s\n", m);
            fprintf(err, "sxs-fw: form %d: %s\n", (int)i + 1, m);
            fflush(out);
            status = 3;
            sxs_engine_close(e);
            m = NULL;
            if (sxs_posix_boot(&e, image, image_len, opt, &ops, &x, ebuf, sizeof ebuf)) {
                fprintf(err, "sxs-fw: reboot failed: %s\n", ebuf);
                sxs_split_result_free(&sp);
                return 3;
            }
        }
    }
    sxs_split_result_free(&sp);
    sxs_engine_close(e);
    fflush(out);
    return status;
}

uint8_t *sxs_read_file(const char *path, uint32_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (n < cap) break;
        uint8_t *nb = cap < (1u << 30) ? realloc(buf, cap * 2) : NULL;
        if (!nb) { free(buf); buf = NULL; break; }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(buf); return NULL; }
    if (buf) *len = (uint32_t)n;
    return buf;
}
