/*
 * main.c - the Linux firmware.
 *
 *   sxs-fw [options]                  text loop on stdin/stdout
 *   sxs-fw [options] --transcript F   SPEC.md section 8 transcript of F
 *   sxs-fw [options] --check          load the image and report, then exit
 *   sxs-fw [options] --pty            serve the link (docs/link.md) on a new pty
 *   sxs-fw [options] --serial PATH    ... on an existing tty
 *   sxs-fw [options] --stdio          ... on stdin/stdout
 *
 * Text loop: input is cut into requests at line ends where brackets and
 * strings balance; each runs on processor 0 (the scheduler runs until idle,
 * sleeping until sxs_next_timer when only timers are pending).  Output:
 * `log: TEXT`, `=> VALUE`, `event: CH/TOPIC: PAYLOAD` lines.  A trap prints
 * `!! trap: MESSAGE` and reboots the image.  This loop is for pipes and the
 * bench; a board's line (text and framed modes, slots) is --pty/--serial.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board_posix.h"
#include "sxs_board.h"
#include "sxs_posix.h"

static void usage(FILE *f)
{
    fputs("usage: sxs-fw [--image PATH] [--stack BYTES] [--max-pages N] [--processors N] [--max-input BYTES]\n"
          "              [--budget STEPS] [--flash FILE] [--transcript FILE | --check]\n"
          "       sxs-fw --pty | --serial PATH | --stdio [--flash FILE] [--image PATH] [--link-idle MS]\n"
          "              [--baud N] [--commit-in-place] [--clock real|virtual] [limits as above]\n"
          "  --pty              create a pseudo-terminal, print its path as the first line of stdout,\n"
          "                     and serve the link of docs/link.md on it until SIGTERM/SIGINT\n"
          "  --serial PATH      serve the link on an existing tty\n"
          "  --stdio            serve the link on stdin/stdout\n"
          "  --clock CLOCK      the image's clock: real (default) or virtual (starts at 0, jumps\n"
          "                     to the next timer when the image is idle, as in transcripts)\n"
          "  --commit-in-place  FLASH_COMMIT stops the running image and checks the new one in\n"
          "                     its place, as a board with RAM for one engine does (ESP32\n"
          "                     without PSRAM); default: a second engine beside it\n"
          "  --link-idle MS     framed mode falls back to text mode after MS without a frame\n"
          "                     (default 30000; 0: never)\n"
          "  --baud N           the line rate: paces the sender, and sets the tty speed with --serial\n"
          "                     (default: none, as on a pty)\n"
          "  --image PATH       the image (default build/sxs.wasm); with --pty/--serial/--stdio it is\n"
          "                     installed into slot A when the flash holds no image (a bare .wasm\n"
          "                     gets its header built in memory)\n"
          "  --stack BYTES      wasm3 runtime stack (default 65536)\n"
          "  --max-pages N      linear memory limit in 64 KiB pages (sxs_limit 4)\n"
          "  --processors N     processors (sxs_limit 1)\n"
          "  --max-input BYTES  longest request text (sxs_limit 3; default 16384)\n"
          "  --budget STEPS     evaluation steps per sxs_run call (default 10000)\n"
          "  --flash FILE       the flash file (NOR semantics; created if missing; default: a blank\n"
          "                     temporary one, so the store starts empty)\n"
          "  --transcript FILE  print the SPEC.md section 8 transcript of FILE\n"
          "  --check            load and compile the image, print facts, exit\n"
          "  --version          print the firmware and wasm3 versions\n", f);
}

/* ---- the text loop ---------------------------------------------------------- */

typedef struct repl {
    FILE *out;
} repl;

static void r_result(void *c, int32_t req, const uint8_t *t, uint32_t len)
{
    (void)req;
    sxs_print_line(((repl *)c)->out, "=> ", t, len);
}

static void r_log(void *c, const uint8_t *t, uint32_t len)
{
    sxs_print_line(((repl *)c)->out, "log: ", t, len);
}

static void r_event(void *c, int32_t ch, int32_t topic, const uint8_t *t, uint32_t len)
{
    repl *x = c;
    fprintf(x->out, "event: %c/%d: ", ch >= 1 && ch <= 6 ? 'A' + ch - 1 : '?', (int)topic);
    fwrite(t, 1, len, x->out);
    fputc('\n', x->out);
}

static double r_now(void *c)
{
    (void)c;
    return sxs_board_now_ms();
}

/* Scanner state for cutting input into balanced requests. */
typedef struct cutter {
    uint8_t *buf;
    size_t len, cap, scanned;
    int depth, in_str, esc, in_comment, content;
} cutter;

static int cut_push(cutter *c, const uint8_t *p, size_t n)
{
    if (c->len + n > c->cap) {
        size_t nc = c->cap ? c->cap : 4096;
        while (nc < c->len + n) nc *= 2;
        uint8_t *nb = realloc(c->buf, nc);
        if (!nb) return -1;
        c->buf = nb;
        c->cap = nc;
    }
    memcpy(c->buf + c->len, p, n);
    c->len += n;
    return 0;
}

/* Next complete request: its length (the prefix of c->buf), 0 if none yet. */
static size_t cut_next(cutter *c)
{
    for (; c->scanned < c->len; c->scanned++) {
        uint8_t b = c->buf[c->scanned];
        if (c->in_comment) {
            if (b == '\n') c->in_comment = 0;
            else continue;
        }
        if (c->in_str) {
            if (c->esc) c->esc = 0;
            else if (b == '\\') c->esc = 1;
            else if (b == '"') c->in_str = 0;
            continue;
        }
        switch (b) {
        case '"': c->in_str = 1; c->content = 1; break;
        case ';': c->in_comment = 1; break;
        case '(': case '[': case '{': c->depth++; c->content = 1; break;
        case ')': case ']': case '}': c->depth--; c->content = 1; break;
        case ' ': case '\t': case '\r': break;
        case '\n':
            if (c->depth <= 0) {
                size_t n = ++c->scanned;
                int had = c->content;
                c->depth = c->content = 0;
                if (had) return n;
                memmove(c->buf, c->buf + n, c->len - n); /* blank line: drop */
                c->len -= n;
                c->scanned = 0;
                c->scanned--; /* the loop's ++ brings it back to 0 */
            }
            break;
        default: c->content = 1; break;
        }
    }
    return 0;
}

static void cut_drop(cutter *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
    c->scanned -= n;
}

static volatile sig_atomic_t got_sigint;
static void on_sigint(int s)
{
    (void)s;
    got_sigint = 1;
}

static int text_loop(const uint8_t *image, uint32_t image_len, const sxs_run_options *opt)
{
    repl x = { stdout };
    sxs_host_ops ops = { r_result, r_log, r_event, r_now };
    char ebuf[300];
    sxs_engine *e;
    if (sxs_posix_boot(&e, image, image_len, opt, &ops, &x, ebuf, sizeof ebuf)) {
        fprintf(stderr, "sxs-fw: %s\n", ebuf);
        return 1;
    }
    signal(SIGINT, on_sigint);
    int32_t budget = opt->budget > 0 ? opt->budget : 10000;
    cutter c = { 0 };
    int eof = 0, status = 0;
    int32_t next_req = 1, last_req = 0;
    uint8_t in[4096];
    for (;;) {
        const char *m = NULL;
        if (got_sigint) {
            got_sigint = 0;
            int32_t found = 0;
            for (int32_t q = last_req; q > 0 && q > last_req - 1000 && !m && !found; q--)
                m = sxs_engine_interrupt(e, q, &found);
        }
        /* submit every complete request */
        size_t n;
        while (!m && (n = cut_next(&c)) > 0) {
            int32_t r = -1;
            uint32_t tn = (uint32_t)n; /* without the line end */
            while (tn && (c.buf[tn - 1] == '\n' || c.buf[tn - 1] == '\r')) tn--;
            int keep = 0;
            for (;;) {
                m = sxs_engine_submit(e, next_req, 0, c.buf, tn, &r);
                if (m || r != -1) break;
                int32_t more;
                m = sxs_engine_run(e, budget, &more);
                if (m) { keep = 1; break; }
            }
            /* a trap while making room: keep this request for the rebooted image */
            if (keep) {
                c.scanned = 0; /* scan it again from the start */
                c.depth = c.in_str = c.esc = c.in_comment = c.content = 0;
                break;
            }
            if (!m && r != 0) fprintf(x.out, "!! request refused: %d\n", (int)r);
            last_req = next_req;
            next_req = next_req == INT32_MAX ? 1 : next_req + 1;
            cut_drop(&c, n);
        }
        int32_t more = 0;
        double nt = -1;
        if (!m) m = sxs_engine_run(e, budget, &more);
        if (!m && !more) m = sxs_engine_next_timer(e, &nt);
        if (m) {
            fprintf(x.out, "!! trap: %s\n", m);
            fflush(x.out);
            status = 3;
            sxs_engine_close(e);
            if (sxs_posix_boot(&e, image, image_len, opt, &ops, &x, ebuf, sizeof ebuf)) {
                fprintf(stderr, "sxs-fw: reboot failed: %s\n", ebuf);
                free(c.buf);
                return 3;
            }
            continue;
        }
        fflush(x.out);
        int32_t timeout = -1;
        if (more) timeout = 0;
        else if (nt >= 0) {
            double d = nt - sxs_board_now_ms();
            timeout = d <= 0 ? 0 : d > 1e9 ? 1000000000 : (int32_t)d + 1;
        }
        if (eof) {
            if (more) continue;
            if (nt < 0) break;
            sxs_board_sleep_ms((double)timeout);
            continue;
        }
        int k = sxs_board_serial_read(in, sizeof in, timeout);
        if (k < 0) {
            eof = 1;
            if (c.len && cut_push(&c, (const uint8_t *)"\n", 1) == 0) { /* a last line without LF */
                c.depth = 0;
                c.in_str = 0;
            }
            continue;
        }
        if (k > 0 && cut_push(&c, in, (size_t)k) != 0) {
            fprintf(stderr, "sxs-fw: out of memory\n");
            break;
        }
    }
    if (c.len && c.content) fprintf(x.out, "!! incomplete request at end of input\n");
    free(c.buf);
    sxs_engine_close(e);
    fflush(x.out);
    return status;
}

/* ---- main ------------------------------------------------------------------- */

static int parse_num(const char *s, long min, long max, long *out)
{
    char *end;
    long v = strtol(s, &end, 0);
    if (!*s || *end || v < min || v > max) return -1;
    *out = v;
    return 0;
}

static void nop_result(void *c, int32_t r, const uint8_t *t, uint32_t l) { (void)c, (void)r, (void)t, (void)l; }
static void nop_log(void *c, const uint8_t *t, uint32_t l) { (void)c, (void)t, (void)l; }

int sxs_posix_main(int argc, char **argv)
{
    const char *image_path = "build/sxs.wasm", *transcript = NULL, *flash = NULL;
    int check = 0, line = 0, image_given = 0, commit_in_place = 0, virtual_clock = 0;
    const char *serial = NULL;
    long link_idle = 30000, baud = 0;
    sxs_run_options opt = { 64 * 1024, 0, 0, 0, 10000 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        if (!strcmp(a, "--version")) {
            printf("sxs-fw (posix) abi %d, wasm3 %s\n", SXS_ABI_VERSION, sxs_engine_wasm3_version());
            return 0;
        }
        if (!strcmp(a, "--check")) { check = 1; continue; }
        if (!strcmp(a, "--pty")) { line = SXS_LINE_PTY; continue; }
        if (!strcmp(a, "--stdio")) { line = SXS_LINE_STDIO; continue; }
        if (!strcmp(a, "--commit-in-place")) { commit_in_place = 1; continue; }
        if (!v) { fprintf(stderr, "sxs-fw: %s: missing value or unknown option\n", a); usage(stderr); return 2; }
        if (!strcmp(a, "--image")) image_path = v, image_given = 1;
        else if (!strcmp(a, "--serial")) serial = v, line = SXS_LINE_SERIAL;
        else if (!strcmp(a, "--link-idle")) {
            if (parse_num(v, 0, INT32_MAX, &link_idle)) { fprintf(stderr, "sxs-fw: bad --link-idle %s\n", v); return 2; }
        } else if (!strcmp(a, "--baud")) {
            if (parse_num(v, 0, 100000000, &baud)) { fprintf(stderr, "sxs-fw: bad --baud %s\n", v); return 2; }
        }
        else if (!strcmp(a, "--clock")) {
            if (strcmp(v, "real") && strcmp(v, "virtual")) { fprintf(stderr, "sxs-fw: bad --clock %s (real or virtual)\n", v); return 2; }
            virtual_clock = !strcmp(v, "virtual");
        }
        else if (!strcmp(a, "--transcript")) transcript = v;
        else if (!strcmp(a, "--flash")) flash = v;
        else if (!strcmp(a, "--stack")) {
            if (parse_num(v, 1024, 256L * 1024 * 1024, &n)) { fprintf(stderr, "sxs-fw: bad --stack %s\n", v); return 2; }
            opt.stack_bytes = (uint32_t)n;
        } else if (!strcmp(a, "--max-pages")) {
            if (parse_num(v, 1, 65536, &n)) { fprintf(stderr, "sxs-fw: bad --max-pages %s\n", v); return 2; }
            opt.max_pages = (int32_t)n;
        } else if (!strcmp(a, "--processors")) {
            if (parse_num(v, 1, 8, &n)) { fprintf(stderr, "sxs-fw: bad --processors %s\n", v); return 2; }
            opt.processors = (int32_t)n;
        } else if (!strcmp(a, "--max-input")) {
            if (parse_num(v, 64, 1L << 30, &n)) { fprintf(stderr, "sxs-fw: bad --max-input %s\n", v); return 2; }
            opt.max_input = (int32_t)n;
        } else if (!strcmp(a, "--budget")) {
            if (parse_num(v, 1, INT32_MAX, &n)) { fprintf(stderr, "sxs-fw: bad --budget %s\n", v); return 2; }
            opt.budget = (int32_t)n;
        } else { fprintf(stderr, "sxs-fw: unknown option %s\n", a); usage(stderr); return 2; }
        i++;
    }
    sxs_board_posix_init(0, 1, argv);
    if (line) {
        if (check || transcript) { fprintf(stderr, "sxs-fw: --check/--transcript do not go with a line\n"); return 2; }
        sxs_serve_options so = { line, serial, flash, NULL, (uint32_t)link_idle, (uint32_t)baud, commit_in_place, virtual_clock, opt };
        if (image_given || access(image_path, R_OK) == 0) so.image_path = image_path;
        return sxs_posix_serve(&so);
    }
    /* without --flash the board gets a blank temporary flash: a fresh store, as in the
       virtual board, with the same K/V log behaviour */
    int fr = flash ? sxs_board_posix_open_flash(flash) : sxs_board_posix_open_temp_flash();
    if (fr) {
        fprintf(stderr, "sxs-fw: cannot open flash file %s (%d)\n", flash ? flash : "(temporary)", fr);
        return 1;
    }
    uint32_t ilen = 0;
    uint8_t *image = sxs_read_file(image_path, &ilen);
    if (!image) { perror(image_path); return 1; }
    int status;
    if (check) {
        char ebuf[300];
        sxs_engine *e;
        sxs_host_ops ops = { nop_result, nop_log, NULL, r_now };
        if (sxs_posix_boot(&e, image, ilen, &opt, &ops, NULL, ebuf, sizeof ebuf)) {
            fprintf(stderr, "sxs-fw: %s\n", ebuf);
            status = 1;
        } else {
            double mem = 0, heap = 0;
            sxs_engine_stat(e, SXS_STAT_MEMORY, &mem);
            sxs_engine_stat(e, SXS_STAT_HEAP_USED, &heap);
            printf("image %s: %u bytes, abi %d, wasm3 %s, memory %.0f bytes, heap %.0f bytes\n",
                   image_path, (unsigned)ilen, SXS_ABI_VERSION, sxs_engine_wasm3_version(), mem, heap);
            sxs_engine_close(e);
            status = 0;
        }
    } else if (transcript) {
        uint32_t tlen = 0;
        uint8_t *text = sxs_read_file(transcript, &tlen);
        if (!text) { perror(transcript); free(image); return 1; }
        status = sxs_transcript(image, ilen, text, tlen, &opt, stdout, stderr);
        free(text);
    } else {
        status = text_loop(image, ilen, &opt);
    }
    free(image);
    sxs_board_posix_close_flash();
    fflush(stdout);
    return status;
}
