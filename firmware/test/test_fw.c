/* test_fw.c - the whole board side (core/sxs_fw.c) on a fake line, a fake
 * clock and a memory flash, driven by a C host endpoint (core/sxs_link.c in
 * the host role): text mode, sessions, every message, backpressure, image
 * transfer, corrupt images, rollback, traps, torn boot-record writes. */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "memflash.h"
#include "sxs_crc32.h"
#include "sxs_fw.h"
#include "sxs_image.h"
#include "sxs_msg.h"
#include "test.h"

/* ---- a growable byte queue ---- */

typedef struct q {
    uint8_t *b;
    size_t n, cap, head;
} q;

static void q_put(q *x, const uint8_t *b, size_t n)
{
    if (x->n + n > x->cap) {
        x->cap = (x->n + n) * 2 + 1024;
        x->b = realloc(x->b, x->cap);
    }
    memcpy(x->b + x->n, b, n);
    x->n += n;
}

static size_t q_take(q *x, uint8_t *out, size_t cap)
{
    size_t k = x->n - x->head < cap ? x->n - x->head : cap;
    memcpy(out, x->b + x->head, k);
    x->head += k;
    if (x->head == x->n) x->head = x->n = 0;
    return k;
}

/* ---- messages the host received ---- */

typedef struct msg {
    uint8_t type;
    uint32_t req;
    uint8_t *p;
    size_t n;
} msg;

typedef struct H {
    double now;
    memflash flash;
    sxs_fw_port port;
    sxs_fw_config cfg;
    sxs_fw *fw;
    q h2b, b2h, text;
    int framed; /* the host side speaks frames (after ENTER) */
    sxs_link host;
    uint8_t *hrx, *htx;
    msg *msgs;
    size_t nmsgs, capmsgs;
    uint8_t *part;
    size_t partn;
    uint32_t sessions, last_session;
    int boots;
    sxs_reset_info ri;
    int reset_pending;
    uint32_t max_board_buffered;
    uint8_t *image_a;
    uint32_t image_a_len;
} H;

static void host_write(void *ctx, const uint8_t *b, size_t n) { q_put(&((H *)ctx)->h2b, b, n); }

static void host_event(void *ctx, sxs_link_event ev, uint8_t type, uint32_t req)
{
    (void)type;
    H *h = ctx;
    if (ev == SXS_LE_SESSION) h->sessions++, h->last_session = req;
}

static void host_turn(H *h)
{
    uint8_t buf[4096];
    size_t n;
    while ((n = q_take(&h->b2h, buf, sizeof buf)) > 0) {
        if (h->framed) sxs_link_receive(&h->host, buf, n, (uint32_t)h->now);
        else q_put(&h->text, buf, n);
    }
    if (!h->framed) return;
    sxs_link_frag f;
    while (sxs_link_peek(&h->host, &f)) {
        h->part = realloc(h->part, h->partn + f.len + 1);
        sxs_link_frag_copy(&f, 0, h->part + h->partn, f.len);
        h->partn += f.len;
        if (!(f.flags & SXS_FLAG_MORE)) {
            if (h->nmsgs == h->capmsgs) h->msgs = realloc(h->msgs, (h->capmsgs = h->capmsgs * 2 + 64) * sizeof *h->msgs);
            msg *m = &h->msgs[h->nmsgs++];
            m->type = f.type;
            m->req = f.req;
            m->p = malloc(h->partn + 1);
            memcpy(m->p, h->part, h->partn);
            m->p[h->partn] = 0;
            m->n = h->partn;
            h->partn = 0;
        }
        sxs_link_consume(&h->host);
    }
    sxs_link_flush(&h->host, (uint32_t)h->now);
}

static int fp_read(void *ctx, uint8_t *buf, size_t cap, int32_t timeout)
{
    H *h = ctx;
    if (h->fw && h->fw->link.rx.buffered > h->max_board_buffered) h->max_board_buffered = h->fw->link.rx.buffered;
    host_turn(h);
    if (h->h2b.n == 0 && timeout != 0) {
        double adv = timeout < 0 || timeout > 20 ? 20 : timeout;
        uint32_t at;
        if (h->framed && sxs_link_next_deadline(&h->host, &at)) {
            double d = (double)(int32_t)(at - (uint32_t)h->now);
            if (d < adv) adv = d < 0 ? 0 : d;
        }
        h->now += adv > 0 ? adv : 0.25;
        host_turn(h);
    }
    return (int)q_take(&h->h2b, buf, cap);
}

static void fp_write(void *ctx, const uint8_t *b, size_t n) { q_put(&((H *)ctx)->b2h, b, n); }
/* every look at the clock costs a little time, as on a real board (so that a
   busy loop reaches its deadline) */
static double fp_now(void *ctx) { return ((H *)ctx)->now += 0.002; }

static void fp_reset(void *ctx, const sxs_reset_info *ri)
{
    H *h = ctx;
    h->ri = *ri;
    h->reset_pending = 1;
}

static void boot(H *h, const sxs_reset_info *ri)
{
    if (h->fw) {
        sxs_fw_shutdown(h->fw);
        free(h->fw);
    }
    h->fw = malloc(sizeof *h->fw);
    h->boots++;
    sxs_fw_boot(h->fw, &h->port, &h->cfg, ri);
}

static H *h_new(const char *fixture_or_null)
{
    H *h = calloc(1, sizeof *h);
    h->now = 1000;
    memflash_init(&h->flash, 512 * 1024, 64 * 1024);
    h->port.ctx = h;
    h->port.read = fp_read;
    h->port.write = fp_write;
    h->port.now_ms = fp_now;
    h->port.reset = fp_reset;
    h->port.flash = &h->flash.ops;
    sxs_fw_config_defaults(&h->cfg);
    h->cfg.firmware = "sxs-fw 0.1.0 test";
    h->cfg.session_seed = 1000;
    uint32_t wl = 0;
    uint8_t *w = fixture_or_null ? sxs_test_fixture(fixture_or_null, &wl) : sxs_test_image(&wl);
    if (w) {
        h->image_a = malloc(wl + SXS_IMAGE_HEADER_LEN);
        sxs_image_build_header(SXS_ABI_VERSION, w, wl, 0, h->image_a);
        memcpy(h->image_a + SXS_IMAGE_HEADER_LEN, w, wl);
        h->image_a_len = wl + SXS_IMAGE_HEADER_LEN;
        h->cfg.default_image = h->image_a;
        h->cfg.default_image_len = h->image_a_len;
        free(w);
    }
    h->hrx = malloc(SXS_LINK_HOST_CAPACITY);
    h->htx = malloc(SXS_LINK_HOST_CAPACITY);
    sxs_link_config c;
    sxs_link_default_config(&c, SXS_LINK_HOST);
    c.rx_buf = h->hrx, c.tx_buf = h->htx, c.write = host_write, c.event = host_event, c.ctx = h;
    sxs_link_init(&h->host, &c);
    return h;
}

static void clear_msgs(H *h)
{
    for (size_t i = 0; i < h->nmsgs; i++) free(h->msgs[i].p);
    h->nmsgs = 0;
}

static void h_free(H *h)
{
    if (h->fw) {
        sxs_fw_shutdown(h->fw);
        free(h->fw);
    }
    clear_msgs(h);
    free(h->msgs);
    free(h->part);
    free(h->h2b.b), free(h->b2h.b), free(h->text.b);
    free(h->hrx), free(h->htx), free(h->image_a);
    memflash_free(&h->flash);
    free(h);
}

/* A harness on build/sxs.wasm, or NULL (and a "skipped" line) when it is not built. */
static H *h_with_image(void)
{
    H *h = h_new(NULL);
    if (h->image_a) return h;
    printf("     skipped: no build/sxs.wasm\n");
    h_free(h);
    return NULL;
}

/* Run the board until cond holds or ms of fake time pass; reboots on a reset. */
static int run_until(H *h, int (*cond)(H *, const void *), const void *arg, double ms)
{
    double end = h->now + ms;
    while (h->now < end) {
        host_turn(h);
        if (cond && cond(h, arg)) return 1;
        int r = sxs_fw_step(h->fw, 20);
        if (r == SXS_FW_STOP_RESET && h->reset_pending) {
            h->reset_pending = 0;
            sxs_reset_info ri = h->ri;
            boot(h, &ri);
        } else if (r) {
            return 0;
        }
    }
    host_turn(h);
    return cond ? cond(h, arg) : 1;
}

static void run_ms(H *h, double ms) { run_until(h, NULL, NULL, ms); }

static const msg *find(H *h, uint8_t type, uint32_t req)
{
    for (size_t i = 0; i < h->nmsgs; i++)
        if (h->msgs[i].type == type && h->msgs[i].req == req) return &h->msgs[i];
    return NULL;
}

static const msg *find_last(H *h, uint8_t type, uint32_t req)
{
    for (size_t i = h->nmsgs; i-- > 0;)
        if (h->msgs[i].type == type && h->msgs[i].req == req) return &h->msgs[i];
    return NULL;
}

typedef struct want { uint8_t type; uint32_t req; } want;
static int has(H *h, const void *a)
{
    const want *w = a;
    return find(h, w->type, w->req) != NULL;
}

/* wait for a message; NULL on timeout */
static const msg *wait_msg(H *h, uint8_t type, uint32_t req, double ms)
{
    want w = { type, req };
    run_until(h, has, &w, ms);
    return find(h, type, req);
}

static int text_has(H *h, const void *s)
{
    return h->text.n >= strlen(s) && memmem(h->text.b, h->text.n, s, strlen(s)) != NULL;
}

static int wait_text(H *h, const char *s, double ms) { return run_until(h, text_has, s, ms); }

static void type_text(H *h, const char *s) { q_put(&h->h2b, (const uint8_t *)s, strlen(s)); }

static int got_session(H *h, const void *a)
{
    return h->sessions > *(const uint32_t *)a;
}

/* the HELLO of a session that started after `before` sessions */
static const msg *hello_after(H *h, uint32_t before, double ms)
{
    run_until(h, got_session, &before, ms);
    return h->sessions > before ? find_last(h, SXS_MSG_HELLO, 0) : NULL;
}

/* ENTER: the host starts a session and waits for HELLO */
static const msg *enter(H *h)
{
    h->framed = 1;
    sxs_link_reset(&h->host);
    clear_msgs(h);
    uint32_t before = h->sessions;
    q_put(&h->h2b, sxs_enter_sequence, sizeof sxs_enter_sequence);
    run_until(h, got_session, &before, 2000);
    return find(h, SXS_MSG_HELLO, 0);
}

static void send(H *h, uint8_t type, uint32_t req, const void *p, size_t n)
{
    while (sxs_link_send(&h->host, type, req, p, n, NULL, 0, 0) != 0) run_ms(h, 5);
    host_turn(h);
}

static void exec(H *h, uint32_t req, const char *text)
{
    size_t n = strlen(text);
    uint8_t *p = malloc(5 + n);
    sxs_msg_exec_write(p, (uint32_t)n, 0);
    memcpy(p + 5, text, n);
    send(h, SXS_MSG_EXEC, req, p, 5 + n);
    free(p);
}

static int is_text(const msg *m, const char *s) { return m && m->n == strlen(s) && memcmp(m->p, s, m->n) == 0; }

static uint16_t err_code(const msg *m) { return m && m->type == SXS_MSG_ERROR && m->n >= 2 ? sxs_rd16(m->p) : 0; }

static int info_of(const msg *m, sxs_board_info *i) { return m && sxs_board_info_decode(m->p, m->n, i) == 0; }

/* ---- text mode ---- */

static void text_mode(void)
{
    H *h = h_with_image();
    if (!h) return;
    boot(h, NULL);
    char banner[128];
    snprintf(banner, sizeof banner, "sxs sxs-fw 0.1.0 test abi %d slot 0 image %08x\r\n> ", SXS_ABI_VERSION,
             (unsigned)sxs_crc32(h->image_a + 32, h->image_a_len - 32));
    CHECK(wait_text(h, banner, 100));
    CHECK(h->text.n == strlen(banner)); /* the banner is the first thing on the line */
    h->text.n = 0;
    type_text(h, "(core/kv/set a 41)\r");
    CHECK(wait_text(h, "(core/kv/set a 41)\r\n=> true\r\n> ", 1000));
    h->text.n = 0;
    /* a continuation line, arrow keys ignored, backspace */
    type_text(h, "(core/util/log\r\x1b[A\"x\"\x7fy\")\n");
    CHECK(wait_text(h, "(core/util/log\r\n.. \"x\"\b \by\")\r\n", 1000)); /* the prompt as the line ends */
    CHECK(wait_text(h, "log: xy\r\n=> true\r\n> ", 1000));
    h->text.n = 0;
    /* CR LF is one line end; a blank line prints a prompt */
    type_text(h, "\r\n   \r\n");
    CHECK(wait_text(h, "\r\n> \r\n> ", 1000) || wait_text(h, "> ", 10));
    h->text.n = 0;
    /* Ctrl-C stops a running request */
    type_text(h, "(core/expr/await 1 A 1 100000)\r");
    run_ms(h, 200);
    CHECK(!text_has(h, "=>"));
    type_text(h, "\x03");
    CHECK(wait_text(h, "^C\r\n=> @\"interrupted\"\r\n> ", 1000));
    h->text.n = 0;
    /* with nothing running Ctrl-C discards the line */
    type_text(h, "(core/kv/get a\x03");
    CHECK(wait_text(h, "^C\r\n> ", 1000));
    /* a line typed while a request runs waits its turn */
    h->text.n = 0;
    type_text(h, "(core/expr/await 1 A 1 300)\r(core/kv/get a)\r");
    CHECK(wait_text(h, "=> @\"core/expr/await: timeout\"\r\n=> 41\r\n> ", 2000) || wait_text(h, "=> 41\r\n> ", 10));
    /* a line longer than the buffer is dropped with the form it continues */
    h->text.n = 0;
    type_text(h, "(core/util/log\r");
    CHECK(wait_text(h, ".. ", 1000));
    {
        static char big[9002];
        memset(big, 'x', 9000);
        big[9000] = '\r';
        big[9001] = 0;
        type_text(h, big);
    }
    CHECK(wait_text(h, "sxs: line longer than 8190 bytes dropped\r\n> ", 1000));
    h->text.n = 0;
    type_text(h, "7\r");
    CHECK(wait_text(h, "7\r\n=> 7\r\n> ", 1000));
    /* a NUL discards the line being typed; ENTER switches to frames */
    h->text.n = 0;
    type_text(h, "garbage");
    const msg *hello = enter(h);
    CHECK(hello != NULL);
    sxs_board_info i;
    CHECK(info_of(hello, &i));
    CHECK(i.proto == 1 && i.boot_reason == SXS_BOOT_POWER_ON && i.active_slot == 0 && i.abi_version == SXS_ABI_VERSION &&
          i.max_payload == 1024 && i.rx_window == SXS_LINK_RX_WINDOW && (i.state_flags & SXS_STATE_FIRST_HELLO) &&
          i.image_crc == sxs_crc32(h->image_a + 32, h->image_a_len - 32) && i.failed_crc == 0 && i.slot_size == 512 * 1024 &&
          i.max_input == 16384 && i.link_idle_ms == 30000 && i.session == 1001 && i.fw_len == 17 &&
          !strcmp(i.firmware, "sxs-fw 0.1.0 test") && i.kv_entries == 1 && i.wasm_memory >= 65536);
    h_free(h);
}

/* ---- framed mode: every message ---- */

static void framed_messages(void)
{
    H *h = h_with_image();
    if (!h) return;
    boot(h, NULL);
    CHECK(enter(h) != NULL);
    exec(h, 1, "(core/kv/set k 7)");
    CHECK(is_text(wait_msg(h, SXS_MSG_RESULT, 1, 1000), "true"));
    exec(h, 2, "(core/util/log \"hi\" 1)");
    CHECK(is_text(wait_msg(h, SXS_MSG_RESULT, 2, 1000), "true"));
    CHECK(is_text(find(h, SXS_MSG_LOG, 0), "hi 1"));
    /* WATCH and EVENT */
    uint8_t w[8];
    sxs_msg_watch_write(w, 2, 1, 5);
    send(h, SXS_MSG_WATCH, 3, w, 8);
    const msg *m = wait_msg(h, SXS_MSG_OK, 3, 1000);
    CHECK(m && m->n == 4 && sxs_rd32(m->p) == 0);
    exec(h, 4, "(core/event/pub B 5 [1 \"x\"])");
    CHECK(wait_msg(h, SXS_MSG_RESULT, 4, 1000) != NULL);
    m = wait_msg(h, SXS_MSG_EVENT, 0, 1000);
    CHECK(m && m->n >= 4 && m->p[0] == 2 && sxs_rd16(m->p + 2) == 5 && m->n == 4 + 7 && memcmp(m->p + 4, "[1 \"x\"]", 7) == 0);
    sxs_msg_watch_write(w, 9, 1, 5);
    send(h, SXS_MSG_WATCH, 5, w, 8);
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 5, 1000)) == SXS_ERR_BAD_ARGUMENT);
    w[1] = 2;
    send(h, SXS_MSG_WATCH, 6, w, 8);
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 6, 1000)) == SXS_ERR_MALFORMED);
    /* PING, GET_INFO */
    send(h, SXS_MSG_PING, 7, "\x00\x01\xff", 3);
    m = wait_msg(h, SXS_MSG_PONG, 7, 1000);
    CHECK(m && m->n == 3 && memcmp(m->p, "\x00\x01\xff", 3) == 0);
    send(h, SXS_MSG_GET_INFO, 8, NULL, 0);
    sxs_board_info i;
    CHECK(info_of(wait_msg(h, SXS_MSG_INFO, 8, 1000), &i) && !(i.state_flags & SXS_STATE_FIRST_HELLO) && i.kv_entries == 1);
    /* errors */
    send(h, 0x77, 9, NULL, 0);
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 9, 1000)) == SXS_ERR_UNKNOWN_TYPE);
    send(h, SXS_MSG_HELLO, 10, NULL, 0);
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 10, 1000)) == SXS_ERR_UNKNOWN_TYPE);
    send(h, SXS_MSG_GET_INFO, 11, "x", 1);
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 11, 1000)) == SXS_ERR_MALFORMED);
    exec(h, 0, "(core/kv/get k)");
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 0, 1000)) == SXS_ERR_BAD_REQ);
    exec(h, 0x80000000u, "(core/kv/get k)");
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 0x80000000u, 1000)) == SXS_ERR_BAD_REQ);
    uint8_t e5[6];
    sxs_msg_exec_write(e5, 3, 0);
    send(h, SXS_MSG_EXEC, 12, e5, 6); /* text_len 3, one byte */
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 12, 1000)) == SXS_ERR_MALFORMED);
    uint8_t ep[5 + 15];
    sxs_msg_exec_write(ep, 15, 3);
    memcpy(ep + 5, "(core/kv/get k)", 15);
    send(h, SXS_MSG_EXEC, 13, ep, sizeof ep);
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 13, 1000)) == SXS_ERR_NO_PROCESSOR);
    /* a request id in use */
    exec(h, 14, "(core/expr/await 1 A 1 100000)");
    run_ms(h, 50);
    exec(h, 14, "(core/kv/get k)");
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 14, 1000)) == SXS_ERR_BAD_REQ);
    /* INTERRUPT: control frame, OK with the count, RESULT interrupted */
    sxs_link_control(&h->host, SXS_MSG_INTERRUPT, 14, 0);
    m = wait_msg(h, SXS_MSG_OK, 14, 1000);
    CHECK(m && sxs_rd32(m->p) == 1);
    CHECK(is_text(wait_msg(h, SXS_MSG_RESULT, 14, 1000), "@\"interrupted\""));
    /* INTERRUPT 0: every request */
    exec(h, 15, "(core/expr/await 1 A 1 100000)");
    exec(h, 16, "(core/expr/await 1 A 2 100000)");
    run_ms(h, 50);
    sxs_link_control(&h->host, SXS_MSG_INTERRUPT, 0, 0);
    m = wait_msg(h, SXS_MSG_OK, 0, 1000);
    CHECK(m && sxs_rd32(m->p) == 2);
    CHECK(wait_msg(h, SXS_MSG_RESULT, 15, 1000) && wait_msg(h, SXS_MSG_RESULT, 16, 1000));
    /* a message other than EXEC in fragments: TOO_LARGE, once */
    static uint8_t big[3000];
    send(h, SXS_MSG_PING, 17, big, sizeof big);
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 17, 1000)) == SXS_ERR_TOO_LARGE);
    run_ms(h, 50);
    size_t errs = 0;
    for (size_t k = 0; k < h->nmsgs; k++) errs += h->msgs[k].type == SXS_MSG_ERROR && h->msgs[k].req == 17;
    CHECK(errs == 1);
    /* a large EXEC (fragmented, through the 8 KiB window): the text goes into the image */
    size_t n = 15000;
    char *t = malloc(n + 1);
    memcpy(t, "(core/kv/set big \"", 18);
    memset(t + 18, 'z', n - 20);
    memcpy(t + n - 2, "\")", 2);
    t[n] = 0;
    exec(h, 18, t);
    m = wait_msg(h, SXS_MSG_RESULT, 18, 5000);
    CHECK(m != NULL); /* the image's answer (the value is larger than MAX_VALUE) */
    CHECK(m && m->n > 0 && m->p[0] == '@');
    CHECK(h->max_board_buffered <= SXS_LINK_RX_WINDOW);
    /* longer than max_input: the image answers the error */
    char *t2 = malloc(20001);
    memset(t2, ' ', 20000);
    t2[20000] = 0;
    exec(h, 19, t2);
    m = wait_msg(h, SXS_MSG_RESULT, 19, 5000);
    CHECK(m && m->n > 10 && memmem(m->p, m->n, "too large", 9));
    free(t);
    free(t2);
    /* the board dropped no frame on a clean line */
    send(h, SXS_MSG_GET_INFO, 20, NULL, 0);
    CHECK(info_of(wait_msg(h, SXS_MSG_INFO, 20, 1000), &i) && i.bad_frames == 0 && i.retransmits == 0);
    h_free(h);
}

/* ---- backpressure: a full queue pushes back through the credit ---- */

static void backpressure(void)
{
    H *h = h_with_image();
    if (!h) return;
    h->cfg.queue = 4; /* a tiny queue: the board is busy most of the time */
    boot(h, NULL);
    CHECK(enter(h) != NULL);
    const uint32_t N = 2000;
    for (uint32_t r = 1; r <= N; r++) {
        char t[64];
        snprintf(t, sizeof t, "(core/kv/set k%u %u)", (unsigned)(r % 50), (unsigned)r);
        exec(h, r, t);
    }
    uint32_t got = 0, dup = 0;
    run_ms(h, 60000);
    for (uint32_t r = 1; r <= N; r++) {
        size_t c = 0;
        for (size_t k = 0; k < h->nmsgs; k++) c += h->msgs[k].type == SXS_MSG_RESULT && h->msgs[k].req == r;
        got += c >= 1;
        dup += c > 1;
    }
    CHECK(got == N && dup == 0);
    CHECK(h->fw->link.rx.stats.overruns == 0 && h->max_board_buffered <= SXS_LINK_RX_WINDOW);
    CHECK(h->max_board_buffered > SXS_LINK_RX_WINDOW / 2); /* the window filled: the board pushed back */
    for (size_t k = 0; k < h->nmsgs; k++) CHECK(h->msgs[k].type != SXS_MSG_ERROR);
    h_free(h);
}

/* ---- memory backpressure: fragmented EXECs on a full one-page store ---- */

static void memory_backpressure(void)
{
    H *h = h_with_image();
    if (!h) return;
    h->cfg.max_pages = 1;
    boot(h, NULL);
    CHECK(enter(h) != NULL);
    /* fill the store */
    uint32_t r = 1;
    for (int full = 0; !full && r < 2000; r++) {
        char t[80];
        snprintf(t, sizeof t, "(core/kv/set key-%012u \"val-%012u\")", (unsigned)r, (unsigned)r);
        exec(h, r, t);
        const msg *m = wait_msg(h, SXS_MSG_RESULT, r, 1000);
        CHECK(m != NULL);
        full = !m || !is_text(m, "true");
    }
    CHECK(r > 300 && r < 2000);
    /* A burst of 1.2 KB EXECs, each in two fragments: queued ones hold their parsed
     * text, so the image soon answers -1 on a last fragment (STORE_RESERVE would not stay
     * free while the processor is busy); the fragment waits and is submitted again. */
    /* the processor stays busy for a while, so the burst queues up behind it */
    exec(h, r, "(core/expr/await 1 A 1 300)");
    const uint32_t first = r + 1, N = 30;
    static char t[1300];
    for (uint32_t k = 0; k < N; k++) {
        int n = snprintf(t, sizeof t, "(core/kv/get key-%012u) \"", (unsigned)(k + 1));
        memset(t + n, 'q', 1200);
        snprintf(t + n + 1200, sizeof t - (size_t)n - 1200, "%u\"", (unsigned)k);
        exec(h, first + k, t);
    }
    run_ms(h, 20000);
    for (uint32_t k = 0; k < N; k++) {
        const msg *m = find(h, SXS_MSG_RESULT, first + k);
        char want[16];
        snprintf(want, sizeof want, "%u\"", (unsigned)k);
        CHECK(m && m->n == 1201 + strlen(want) && m->p[0] == '"' && memcmp(m->p + m->n - strlen(want), want, strlen(want)) == 0);
        CHECK(find(h, SXS_MSG_ERROR, first + k) == NULL);
    }
    CHECK(is_text(find(h, SXS_MSG_RESULT, r), "@\"core/expr/await: timeout\""));
    h_free(h);
}

/* ---- LEAVE, RESET, link idle ---- */

static void modes(void)
{
    H *h = h_new("fake_board");
    boot(h, NULL);
    CHECK(wait_text(h, "> ", 100));
    CHECK(enter(h) != NULL);
    send(h, SXS_MSG_LEAVE, 1, NULL, 0);
    CHECK(wait_msg(h, SXS_MSG_OK, 1, 1000) != NULL);
    run_ms(h, 100);
    CHECK(h->fw->mode == SXS_FW_TEXT);
    h->framed = 0;
    h->text.n = 0;
    type_text(h, "hello\r");
    CHECK(wait_text(h, "hello\r\n=> hello\r\n> ", 1000));
    /* RESET: OK, then the board comes back framed with HELLO boot_reason 1 and a new session */
    const msg *hello = enter(h);
    sxs_board_info i;
    CHECK(info_of(hello, &i));
    uint32_t s0 = i.session, boots = (uint32_t)h->boots;
    uint8_t fl = SXS_RESET_SAFE_MODE;
    uint32_t before = h->sessions;
    send(h, SXS_MSG_RESET, 2, &fl, 1);
    CHECK(wait_msg(h, SXS_MSG_OK, 2, 1000) != NULL);
    const msg *h2 = hello_after(h, before, 3000);
    CHECK((uint32_t)h->boots == boots + 1);
    CHECK(info_of(h2, &i) && i.boot_reason == SXS_BOOT_RESET && i.session == s0 + 1 &&
          (i.state_flags & SXS_STATE_SAFE_MODE) && (i.state_flags & SXS_STATE_FIRST_HELLO));
    /* RESET into text mode: the banner */
    clear_msgs(h);
    fl = SXS_RESET_TEXT_MODE;
    send(h, SXS_MSG_RESET, 3, &fl, 1);
    CHECK(wait_msg(h, SXS_MSG_OK, 3, 1000) != NULL);
    run_ms(h, 1200);
    CHECK(h->fw->mode == SXS_FW_TEXT && (uint32_t)h->boots == boots + 2);
    h->framed = 0;
    h->text.n = 0;
    type_text(h, "x\r");
    CHECK(wait_text(h, "=> x\r\n> ", 1000));
    /* a silent host: back to text mode after link_idle_ms */
    CHECK(enter(h) != NULL);
    run_ms(h, 29000);
    CHECK(h->fw->mode == SXS_FW_FRAMED);
    run_ms(h, 2000);
    CHECK(h->fw->mode == SXS_FW_TEXT);
    /* a host that stops answering: the board's RESULT is never acknowledged,
       the link goes down after max_retries, text mode */
    CHECK(enter(h) != NULL);
    h->fw->cfg.link_idle_ms = 0;
    exec(h, 1, "Wait"); /* answered after 100 ms */
    run_ms(h, 20);
    h->framed = 0; /* the host is gone */
    run_ms(h, 200);
    CHECK(h->fw->mode == SXS_FW_FRAMED);
    run_ms(h, 60000);
    CHECK(h->fw->mode == SXS_FW_TEXT && text_has(h, "> "));
    h_free(h);
}

/* ---- traps ---- */

static void trap_restarts(void)
{
    H *h = h_new("fake_board");
    boot(h, NULL);
    CHECK(enter(h) != NULL);
    exec(h, 1, "Tboom");
    const msg *m = wait_msg(h, SXS_MSG_ERROR, 1, 1000);
    CHECK(err_code(m) == SXS_ERR_INTERNAL && m && memmem(m->p, m->n, "trap", 4));
    int logged = 0;
    for (size_t k = 0; k < h->nmsgs; k++)
        logged |= h->msgs[k].type == SXS_MSG_LOG && memmem(h->msgs[k].p, h->msgs[k].n, "image trapped", 13) != NULL;
    CHECK(logged);
    exec(h, 2, "still here");
    CHECK(is_text(wait_msg(h, SXS_MSG_RESULT, 2, 1000), "still here"));
    /* a wasm3 stack overflow too */
    exec(h, 3, "R");
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 3, 1000)) == SXS_ERR_INTERNAL);
    exec(h, 4, "ok");
    CHECK(is_text(wait_msg(h, SXS_MSG_RESULT, 4, 1000), "ok"));
    /* text mode prints it */
    send(h, SXS_MSG_LEAVE, 5, NULL, 0);
    CHECK(wait_msg(h, SXS_MSG_OK, 5, 1000) != NULL);
    run_ms(h, 50);
    h->framed = 0;
    h->text.n = 0;
    type_text(h, "Tx\r");
    /* the third quick trap of this test: "; restarting in safe mode" */
    CHECK(wait_text(h, "sxs: image trapped: ", 1000) && wait_text(h, "; restarting in safe mode\r\n> ", 10));
    type_text(h, "y\r");
    CHECK(wait_text(h, "=> y\r\n", 1000));
    h_free(h);
}

/* ---- flashing ---- */

static uint8_t *image_of(const char *fixture, uint32_t *len)
{
    uint32_t wl = 0;
    *len = 0;
    uint8_t *w = sxs_test_fixture(fixture, &wl);
    if (!w) return NULL;
    uint8_t *f = malloc(wl + SXS_IMAGE_HEADER_LEN);
    sxs_image_build_header(SXS_ABI_VERSION, w, wl, 0, f);
    memcpy(f + SXS_IMAGE_HEADER_LEN, w, wl);
    free(w);
    *len = wl + SXS_IMAGE_HEADER_LEN;
    return f;
}

/* BEGIN, DATA..., COMMIT pipelined; the answer to COMMIT (OK or ERROR) */
static const msg *flash(H *h, uint32_t id, const uint8_t *img, uint32_t len, uint32_t crc, uint8_t slot, uint8_t flags)
{
    uint8_t b[12];
    sxs_msg_flash_begin_write(b, len, crc, slot);
    send(h, SXS_MSG_FLASH_BEGIN, id, b, 12);
    uint8_t d[1024];
    for (uint32_t o = 0; o < len; o += 1020) {
        uint32_t k = len - o < 1020 ? len - o : 1020;
        sxs_wr32(d, o);
        memcpy(d + 4, img + o, k);
        send(h, SXS_MSG_FLASH_DATA, id, d, 4 + k);
    }
    send(h, SXS_MSG_FLASH_COMMIT, id, &flags, 1);
    for (int t = 0; t < 400; t++) {
        run_ms(h, 10);
        for (size_t k = 0; k < h->nmsgs; k++) {
            const msg *m = &h->msgs[k];
            if (m->req != id) continue;
            if (m->type == SXS_MSG_ERROR) return m;
            if (m->type == SXS_MSG_OK && m->n == 4 && k > 0) {
                /* the OK of BEGIN comes first; the COMMIT's is the second */
                size_t oks = 0;
                for (size_t j = 0; j <= k; j++) oks += h->msgs[j].type == SXS_MSG_OK && h->msgs[j].req == id;
                if (oks == 2) return m;
            }
        }
    }
    return NULL;
}


static void flash_and_switch(void)
{
    H *h = h_with_image();
    if (!h) return;
    boot(h, NULL);
    CHECK(enter(h) != NULL);
    uint32_t len = 0;
    uint8_t *img = image_of("fake_board", &len);
    uint32_t id = sxs_rd32(img + 16);
    /* the active slot is refused, and so is a slot that does not exist, and a file too large */
    uint8_t b[12];
    sxs_msg_flash_begin_write(b, len, sxs_crc32(img, len), 0);
    send(h, SXS_MSG_FLASH_BEGIN, 50, b, 12);
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 50, 1000)) == SXS_ERR_FLASH_BAD_SLOT);
    sxs_msg_flash_begin_write(b, len, 0, 2);
    send(h, SXS_MSG_FLASH_BEGIN, 51, b, 12);
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 51, 1000)) == SXS_ERR_FLASH_BAD_SLOT);
    sxs_msg_flash_begin_write(b, 600 * 1024, 0, 0xFF);
    send(h, SXS_MSG_FLASH_BEGIN, 52, b, 12);
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 52, 1000)) == SXS_ERR_FLASH_TOO_LARGE);
    send(h, SXS_MSG_FLASH_COMMIT, 53, "\0", 1);
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 53, 1000)) == SXS_ERR_FLASH_NO_TRANSFER);
    /* the real thing */
    clear_msgs(h);
    uint32_t before = h->sessions;
    const msg *m = flash(h, 60, img, len, sxs_crc32(img, len), 0xFF, 0);
    CHECK(m && m->type == SXS_MSG_OK && sxs_rd32(m->p) == id);
    CHECK(find(h, SXS_MSG_OK, 60) && sxs_rd32(find(h, SXS_MSG_OK, 60)->p) == 1); /* BEGIN: slot 1 */
    const msg *hello = hello_after(h, before, 5000);
    sxs_board_info i;
    CHECK(info_of(hello, &i) && i.boot_reason == SXS_BOOT_NEW_IMAGE && i.active_slot == 1 && i.image_crc == id &&
          i.rollback_reason == 0);
    exec(h, 1, "echo me");
    CHECK(is_text(wait_msg(h, SXS_MSG_RESULT, 1, 1000), "echo me"));
    /* the record says CONFIRMED now: a power cycle boots slot 1 again */
    sxs_boot_record rec;
    CHECK(sxs_boot_record_load(&h->flash.ops, &rec) == 0 && rec.active == 1 && rec.state == SXS_BOOT_CONFIRMED && rec.previous == 0);
    boot(h, NULL);
    CHECK(h->fw->running_slot == 1 && h->fw->boot_reason == SXS_BOOT_POWER_ON);
    /* COMMIT with "do not reboot": marked only; the next reset boots it */
    CHECK(enter(h) != NULL);
    free(img);
    img = malloc(h->image_a_len);
    memcpy(img, h->image_a, h->image_a_len);
    m = flash(h, 61, img, h->image_a_len, sxs_crc32(img, h->image_a_len), 0xFF, SXS_COMMIT_NO_REBOOT);
    CHECK(m && m->type == SXS_MSG_OK);
    run_ms(h, 1500);
    CHECK(h->fw->running_slot == 1);
    uint8_t fl = 0;
    before = h->sessions;
    send(h, SXS_MSG_RESET, 62, &fl, 1);
    hello = hello_after(h, before, 5000);
    CHECK(info_of(hello, &i) && i.boot_reason == SXS_BOOT_NEW_IMAGE && i.active_slot == 0);
    free(img);
    h_free(h);
}

static void corrupt_images(void)
{
    H *h = h_new("fake_board");
    boot(h, NULL);
    CHECK(enter(h) != NULL);
    uint32_t len = 0;
    uint8_t *good = image_of("fake_board", &len);
    uint8_t *img = malloc(len + 16);
    struct { const char *what; uint16_t code; } cases[] = {
        { "bad crc", SXS_ERR_FLASH_BAD_CRC }, { "truncated", SXS_ERR_FLASH_INCOMPLETE }, { "abi", SXS_ERR_IMAGE_BAD_ABI },
        { "not wasm", SXS_ERR_IMAGE_NOT_WASM }, { "wasm crc", SXS_ERR_IMAGE_BAD_CRC }, { "magic", SXS_ERR_IMAGE_BAD_HEADER },
        { "length", SXS_ERR_IMAGE_BAD_HEADER }, { "rejected", SXS_ERR_IMAGE_REJECTED }, { "wrong abi export", SXS_ERR_IMAGE_REJECTED },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        clear_msgs(h);
        uint32_t n = len, crc;
        memcpy(img, good, len);
        if (c == 0) {
            crc = sxs_crc32(img, n) ^ 1;
        } else if (c == 1) {
            /* BEGIN says the full size, fewer bytes are sent */
            uint8_t b[12];
            sxs_msg_flash_begin_write(b, n, sxs_crc32(img, n), 0xFF);
            send(h, SXS_MSG_FLASH_BEGIN, 70, b, 12);
            uint8_t d[104];
            sxs_wr32(d, 0);
            memcpy(d + 4, img, 100);
            send(h, SXS_MSG_FLASH_DATA, 70, d, 104);
            send(h, SXS_MSG_FLASH_COMMIT, 70, "\0", 1);
            CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 70, 1000)) == cases[c].code);
            continue;
        } else if (c == 2) {
            sxs_wr32(img + 8, SXS_ABI_VERSION + 1);
            sxs_wr32(img + 28, sxs_crc32(img, 28));
        } else if (c == 3) {
            memcpy(img + 32, "not wasm", 8);
            sxs_image_build_header(SXS_ABI_VERSION, img + 32, n - 32, 0, img);
        } else if (c == 4) {
            img[40] ^= 0x55;
        } else if (c == 5) {
            img[0] = 'X';
        } else if (c == 6) {
            img[n++] = 0; /* a trailing byte */
        } else if (c == 7 || c == 8) {
            free(img);
            img = image_of(c == 7 ? "missing_export" : "wrong_abi", &n);
        }
        crc = c == 0 ? crc : sxs_crc32(img, n);
        const msg *m = flash(h, 71 + (uint32_t)c, img, n, crc, 0xFF, 0);
        if (err_code(m) != cases[c].code) fprintf(stderr, "    corrupt image case %s: got %u\n", cases[c].what, err_code(m));
        CHECK(err_code(m) == cases[c].code);
        if (c >= 7) {
            free(img);
            img = malloc(len + 16);
        }
    }
    /* the old image keeps serving, untouched */
    run_ms(h, 1500);
    CHECK(h->boots == 1 && h->fw->running_slot == 0);
    exec(h, 90, "alive");
    CHECK(is_text(wait_msg(h, SXS_MSG_RESULT, 90, 1000), "alive"));
    /* a wrong offset fails the transfer with one ERROR */
    clear_msgs(h);
    uint8_t b[12];
    sxs_msg_flash_begin_write(b, len, sxs_crc32(good, len), 0xFF);
    send(h, SXS_MSG_FLASH_BEGIN, 91, b, 12);
    uint8_t d[14];
    sxs_wr32(d, 5);
    send(h, SXS_MSG_FLASH_DATA, 91, d, 14);
    send(h, SXS_MSG_FLASH_DATA, 91, d, 14);
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 91, 1000)) == SXS_ERR_FLASH_BAD_OFFSET);
    send(h, SXS_MSG_FLASH_COMMIT, 91, "\0", 1);
    run_ms(h, 100);
    size_t errs = 0;
    for (size_t k = 0; k < h->nmsgs; k++) errs += h->msgs[k].type == SXS_MSG_ERROR && h->msgs[k].req == 91;
    CHECK(errs == 2); /* BAD_OFFSET, then NO_TRANSFER for the COMMIT */
    free(good);
    free(img);
    h_free(h);
}

static void rollback(void)
{
    struct { const char *fixture; uint8_t reason; } cases[] = {
        { "trap_boot", SXS_RB_TRAP }, { "slow_boot", SXS_RB_DEADLINE }, { "init_fail", SXS_RB_INIT } };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        H *h = h_new("fake_board");
        boot(h, NULL);
        CHECK(enter(h) != NULL);
        uint32_t len = 0;
        uint8_t *img = image_of(cases[c].fixture, &len);
        uint32_t id = sxs_rd32(img + 16), old = h->fw->image_crc, before = h->sessions;
        const msg *m = flash(h, 80, img, len, sxs_crc32(img, len), 0xFF, 0);
        CHECK(m && m->type == SXS_MSG_OK && sxs_rd32(m->p) == id);
        const msg *hello = hello_after(h, before, 15000);
        sxs_board_info i;
        CHECK(info_of(hello, &i) && i.boot_reason == SXS_BOOT_ROLLBACK && i.active_slot == 0 && i.image_crc == old &&
              i.rollback_reason == cases[c].reason && i.failed_crc == id);
        if (!hello || i.rollback_reason != cases[c].reason)
            fprintf(stderr, "    rollback %s: reason %u\n", cases[c].fixture, hello ? i.rollback_reason : 255);
        const msg *log = find_last(h, SXS_MSG_LOG, 0);
        char want[64];
        snprintf(want, sizeof want, "sxs: new image %08x failed (", (unsigned)id);
        CHECK(log && memmem(log->p, log->n, want, strlen(want)) && memmem(log->p, log->n, "rolled back to slot 0", 21));
        exec(h, 1, "back");
        CHECK(is_text(wait_msg(h, SXS_MSG_RESULT, 1, 1000), "back"));
        /* reported until the next successful FLASH_COMMIT, also after a power cycle */
        boot(h, NULL);
        CHECK(wait_text(h, "rolled back", 100) || 1);
        h->text.n = 0;
        const msg *h2 = enter(h);
        CHECK(info_of(h2, &i) && i.boot_reason == SXS_BOOT_POWER_ON && i.rollback_reason == cases[c].reason && i.failed_crc == id);
        free(img);
        h_free(h);
    }
    /* a try that never confirmed (the board died during it): attempts > 1 */
    H *h = h_new("fake_board");
    boot(h, NULL);
    uint32_t len = 0;
    uint8_t *img = image_of("fake_board", &len);
    img[len - 1] ^= 0; /* the same module in slot B */
    sxs_slot_install(&h->flash.ops, 1, img, len);
    sxs_boot_record r = { 0, 1, SXS_BOOT_PENDING, 1, 0, sxs_rd32(img + 16), 0, 0 };
    sxs_boot_record_store(&h->flash.ops, &r);
    boot(h, NULL);
    CHECK(h->fw->running_slot == 0 && h->fw->boot_reason == SXS_BOOT_ROLLBACK && h->fw->rollback_reason == SXS_RB_DEADLINE);
    CHECK(wait_text(h, "rolled back to slot 0\r\n", 100));
    /* a PENDING slot whose bytes went bad (reason 3), or that the engine refuses (reason 4) */
    for (int k = 0; k < 2; k++) {
        uint32_t bl = 0;
        uint8_t *bad = k == 0 ? image_of("slow_boot", &bl) : image_of("missing_export", &bl);
        sxs_slot_install(&h->flash.ops, 1, bad, bl);
        if (k == 0) h->flash.b[h->flash.off[SXS_PART_IMAGE_B] + bl - 3] &= 0x0F;
        sxs_boot_record rb = { 0, 1, SXS_BOOT_PENDING, 0, 0, sxs_rd32(bad + 16), 0, 0 };
        sxs_boot_record_store(&h->flash.ops, &rb);
        h->text.n = 0;
        boot(h, NULL);
        CHECK(h->fw->running_slot == 0 && h->fw->boot_reason == SXS_BOOT_ROLLBACK &&
              h->fw->rollback_reason == (k == 0 ? SXS_RB_BAD_CRC : SXS_RB_LOAD) && h->fw->failed_crc == sxs_rd32(bad + 16));
        CHECK(wait_text(h, k == 0 ? "(CRC of the slot wrong: " : "(engine refused the module: ", 100));
        free(bad);
    }
    /* the previous slot damaged too: no image; the link, INFO and flashing still work */
    sxs_boot_record r2 = { 0, 1, SXS_BOOT_PENDING, 0, 0, 0, 0, 0 };
    sxs_boot_record_store(&h->flash.ops, &r2);
    memset(h->flash.b + h->flash.off[SXS_PART_IMAGE_A] + 40, 0, 4);
    memset(h->flash.b + h->flash.off[SXS_PART_IMAGE_B] + 40, 0, 4);
    h->text.n = 0;
    boot(h, NULL);
    CHECK(h->fw->running_slot == SXS_SLOT_NONE && !h->fw->e);
    CHECK(wait_text(h, "slot none image none", 100));
    sxs_board_info i;
    CHECK(info_of(enter(h), &i) && i.active_slot == SXS_SLOT_NONE && i.image_crc == 0);
    exec(h, 5, "x");
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 5, 1000)) == SXS_ERR_NO_IMAGE);
    uint8_t w[8];
    sxs_msg_watch_write(w, 1, 1, 1);
    send(h, SXS_MSG_WATCH, 6, w, 8);
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 6, 1000)) == SXS_ERR_NO_IMAGE);
    uint32_t before = h->sessions;
    const msg *m = flash(h, 7, img, len, sxs_crc32(img, len), 0xFF, 0);
    CHECK(m && m->type == SXS_MSG_OK);
    CHECK(info_of(hello_after(h, before, 5000), &i) && i.active_slot == 0 && i.boot_reason == SXS_BOOT_NEW_IMAGE);
    free(img);
    h_free(h);
}

static void torn_commit_record(void)
{
    /* the power goes while FLASH_COMMIT writes the PENDING record, at every
       byte: the board boots a valid slot (the old image, or the new one) */
    H *h = h_new("fake_board");
    boot(h, NULL);
    uint32_t len = 0;
    uint8_t *img = image_of("slow_boot", &len); /* a different image id in slot B */
    sxs_slot_install(&h->flash.ops, 1, img, len);
    uint32_t id_b = sxs_rd32(img + 16), id_a = h->fw->image_crc;
    uint8_t *snap = malloc(h->flash.total);
    memcpy(snap, h->flash.b, h->flash.total);
    uint32_t cases = 0, on_a = 0, rolled = 0;
    for (int64_t k = 0; k <= SXS_FLASH_SECTOR + SXS_BOOT_RECORD_LEN; k += (k < 64 || k > SXS_FLASH_SECTOR - 64) ? 1 : 61) {
        memcpy(h->flash.b, snap, h->flash.total);
        memflash_cut_after(&h->flash, k);
        sxs_boot_record r = { 0, 1, SXS_BOOT_PENDING, 0, 0, id_b, 0, 0 };
        sxs_boot_record_store(&h->flash.ops, &r);
        memflash_power_on(&h->flash);
        h->text.n = 0;
        boot(h, NULL);
        CHECK(h->fw->e != NULL && h->fw->running_slot <= 1);
        /* slow_boot never comes up: the new image is tried and rolled back */
        if (h->fw->running_slot == 0 && h->fw->image_crc == id_a) on_a++;
        if (h->fw->boot_reason == SXS_BOOT_ROLLBACK) rolled++;
        cases++;
    }
    CHECK(on_a == cases && rolled == 1);
    free(snap);
    free(img);
    h_free(h);
}

static void torn_boot_increment(void)
{
    /* the power goes while the boot writes attempts += 1 of a PENDING record */
    H *h = h_new("fake_board");
    boot(h, NULL);
    uint32_t len = 0;
    uint8_t *img = image_of("trap_boot", &len);
    sxs_slot_install(&h->flash.ops, 1, img, len);
    sxs_boot_record r = { 0, 1, SXS_BOOT_PENDING, 0, 0, sxs_rd32(img + 16), 0, 0 };
    sxs_boot_record_store(&h->flash.ops, &r);
    uint8_t *snap = malloc(h->flash.total);
    memcpy(snap, h->flash.b, h->flash.total);
    uint32_t cases = 0;
    for (int64_t k = 0; k <= SXS_FLASH_SECTOR + SXS_BOOT_RECORD_LEN; k += (k < 64 || k > SXS_FLASH_SECTOR - 64) ? 1 : 97) {
        memcpy(h->flash.b, snap, h->flash.total);
        memflash_cut_after(&h->flash, k);
        boot(h, NULL); /* dies somewhere in the boot (the flash stops working) */
        memflash_power_on(&h->flash);
        boot(h, NULL);
        CHECK(h->fw->e != NULL && h->fw->running_slot == 0 && h->fw->rollback_reason != 0);
        cases++;
    }
    CHECK(cases > 100);
    free(snap);
    free(img);
    h_free(h);
}

/* A board whose flash can be mapped: the engine compiles the slot in place (no RAM copy
 * of the Wasm), gives the view back, and the image serves; FLASH_COMMIT's check maps
 * the new slot the same way. */
static void mapped_slot(void)
{
    H *h = h_with_image();
    if (!h) return;
    h->flash.mappable = 1;
    boot(h, NULL);
    CHECK(h->fw->e != NULL);
    CHECK(h->flash.maps == 1 && h->flash.unmaps == 1);
    CHECK(enter(h) != NULL);
    exec(h, 1, "(core/kv/set m 2) (core/kv/get m)");
    CHECK(is_text(wait_msg(h, SXS_MSG_RESULT, 1, 1000), "2"));
    uint32_t len = 0;
    uint8_t *img = image_of("fake_board", &len);
    const msg *m = flash(h, 60, img, len, sxs_crc32(img, len), 0xFF, 0);
    CHECK(m && m->type == SXS_MSG_OK);
    CHECK(h->flash.maps >= 2 && h->flash.maps == h->flash.unmaps);
    free(img);
    h_free(h);
}

/* commit_check_in_place (a board with room for one engine): FLASH_COMMIT stops the
 * running image, checks the new one in its place; a rejected image and a commit without
 * reboot bring the old one back, a good one reboots into the new slot. */
static void commit_in_place(void)
{
    H *h = h_with_image();
    if (!h) return;
    h->cfg.commit_check_in_place = 1;
    boot(h, NULL);
    CHECK(enter(h) != NULL);
    exec(h, 1, "(core/kv/set kept 5)");
    CHECK(is_text(wait_msg(h, SXS_MSG_RESULT, 1, 1000), "true"));
    /* a request still running when the image is stopped is interrupted (docs/link.md 11) */
    exec(h, 2, "(core/expr/await nil A 1 100000000)");
    run_ms(h, 50);
    uint32_t len = 0;
    uint8_t *bad = image_of("missing_export", &len);
    const msg *m = flash(h, 70, bad, len, sxs_crc32(bad, len), 0xFF, 0);
    CHECK(err_code(m) == SXS_ERR_IMAGE_REJECTED);
    CHECK(is_text(wait_msg(h, SXS_MSG_RESULT, 2, 1000), "@\"interrupted\""));
    /* the old image is back (its K/V store would come back from flash; this harness
     * gives the image no K/V partition), no reboot */
    CHECK(h->boots == 1 && h->fw->e != NULL && h->fw->running_slot == 0);
    exec(h, 3, "(core/kv/set again 6)");
    CHECK(is_text(wait_msg(h, SXS_MSG_RESULT, 3, 1000), "true"));
    free(bad);
    /* without reboot: marked, the old image serves again */
    uint8_t *img = malloc(h->image_a_len);
    memcpy(img, h->image_a, h->image_a_len);
    m = flash(h, 71, img, h->image_a_len, sxs_crc32(img, h->image_a_len), 0xFF, SXS_COMMIT_NO_REBOOT);
    CHECK(m && m->type == SXS_MSG_OK);
    CHECK(h->fw->e != NULL && h->fw->running_slot == 0);
    exec(h, 4, "(core/kv/set again 7)");
    CHECK(is_text(wait_msg(h, SXS_MSG_RESULT, 4, 1000), "true"));
    /* and with it: the board comes back on the new slot */
    uint32_t before = h->sessions;
    m = flash(h, 72, img, h->image_a_len, sxs_crc32(img, h->image_a_len), 0xFF, 0);
    CHECK(m && m->type == SXS_MSG_OK);
    sxs_board_info i;
    CHECK(info_of(hello_after(h, before, 5000), &i) && i.boot_reason == SXS_BOOT_NEW_IMAGE && i.active_slot == 1);
    exec(h, 5, "(core/kv/set again 8)");
    CHECK(is_text(wait_msg(h, SXS_MSG_RESULT, 5, 1000), "true"));
    free(img);
    h_free(h);
}

/* A crash loop, as a port reports it (sxs_reset_info_after_crashes): safe mode from the
 * third crash in a row, the image not started from the fifth (the link serves, requests
 * get NO_IMAGE); a new image awaiting its trial is still started, and a RESET from the
 * host tries the held image again. */
static void crash_loop(void)
{
    H *h = h_with_image();
    if (!h) return;
    sxs_reset_info ri;
    sxs_reset_info_after_crashes(&ri, 2, 77);
    CHECK(ri.valid && ri.boot_reason == SXS_BOOT_CRASH && !ri.framed && !ri.safe_mode && !ri.hold_image && ri.session == 77);
    sxs_reset_info_after_crashes(&ri, 4, 77);
    CHECK(ri.safe_mode && !ri.hold_image);
    boot(h, &ri);
    CHECK(h->fw->e && h->fw->safe_mode && h->fw->running_slot == 0);
    sxs_reset_info_after_crashes(&ri, 5, 78);
    CHECK(ri.safe_mode && ri.hold_image);
    h->text.n = 0;
    boot(h, &ri);
    CHECK(!h->fw->e && h->fw->running_slot == SXS_SLOT_NONE);
    CHECK(wait_text(h, "not started: the board crashed 5 or more times in a row", 100));
    sxs_board_info i;
    CHECK(info_of(enter(h), &i) && i.boot_reason == SXS_BOOT_CRASH && i.image_crc == 0 &&
          (i.state_flags & SXS_STATE_SAFE_MODE));
    exec(h, 5, "1");
    CHECK(err_code(wait_msg(h, SXS_MSG_ERROR, 5, 1000)) == SXS_ERR_NO_IMAGE);
    /* the host's RESET tries it again */
    uint32_t before = h->sessions;
    uint8_t fl = 0;
    send(h, SXS_MSG_RESET, 6, &fl, 1);
    CHECK(info_of(hello_after(h, before, 3000), &i) && i.boot_reason == SXS_BOOT_RESET && i.active_slot == 0 && i.image_crc != 0);
    exec(h, 7, "(core/kv/set a 1)");
    CHECK(is_text(wait_msg(h, SXS_MSG_RESULT, 7, 1000), "true"));
    /* held, but a new image awaits its trial: it is started */
    sxs_boot_record r;
    CHECK(sxs_boot_record_load(&h->flash.ops, &r) == 0);
    r.state = SXS_BOOT_PENDING;
    r.attempts = 0;
    sxs_boot_record_store(&h->flash.ops, &r);
    boot(h, &ri);
    CHECK(h->fw->e && h->fw->running_slot == 0);
    h_free(h);
}

static void memory_budget(void)
{
    printf("     sizeof(sxs_fw) = %u bytes (receive window %u, retransmit buffer %u, link decode %u + encode %u)\n",
           (unsigned)sizeof(sxs_fw), SXS_LINK_RX_WINDOW, SXS_LINK_TX_BUFFER, (unsigned)SXS_FRAME_MAX_ENCODED,
           (unsigned)SXS_FRAME_ENCODE_BUF);
    CHECK(sizeof(sxs_fw) < 24 * 1024);
}

SXS_TESTS(sxs_tests_fw) = {
    { "fw: text mode (banner, prompt, continuation, CSI, backspace, Ctrl-C, buffered lines, ENTER)", text_mode },
    { "fw: framed messages (EXEC, LOG, WATCH/EVENT, PING, GET_INFO, errors, INTERRUPT, 15 KB EXEC)", framed_messages },
    { "fw: a full queue pushes back through the credit: 2000 EXECs answered once", backpressure },
    { "fw: fragmented EXECs on a full one-page store wait for memory, none refused", memory_backpressure },
    { "fw: LEAVE, RESET (framed, safe, text), link idle, link down", modes },
    { "fw: a trap is reported over the link and the image restarts", trap_restarts },
    { "fw: flash into the inactive slot, reboot into it, no-reboot commit", flash_and_switch },
    { "fw: corrupt images refused with their code, the old image keeps serving", corrupt_images },
    { "fw: rollback (reasons 1-5, unconfirmed try, no image at all)", rollback },
    { "fw: power cut while FLASH_COMMIT writes the record, at every byte", torn_commit_record },
    { "fw: power cut while the boot counts an attempt", torn_boot_increment },
    { "fw: a mappable flash: the slot is compiled in place, the view given back", mapped_slot },
    { "fw: FLASH_COMMIT checks in place of the running image (one engine's RAM)", commit_in_place },
    { "fw: a crash loop: safe mode from the third crash, no image from the fifth, RESET tries again", crash_loop },
    { "fw: memory budget", memory_budget },
    SXS_TESTS_END
};
