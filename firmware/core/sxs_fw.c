/* sxs_fw.c - see sxs_fw.h.  The board side of docs/link.md: the main loop, the two
 * modes and sessions, text mode, the output and the requests.  The image's life (boot,
 * rollback, restart after a trap) is in sxs_fw_image.c, the framed messages in
 * sxs_fw_msg.c; what the three share is in sxs_fw_internal.h. */
#include "sxs_fw.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sxs_fw_internal.h"
#include "sxs_msg.h"

enum { EV_ENTER = 1, EV_INTERRUPT = 2 };

void sxs_fw_config_defaults(sxs_fw_config *c)
{
    memset(c, 0, sizeof *c);
    c->firmware = "sxs-fw " SXS_FW_VERSION;
    c->stack_bytes = 64 * 1024;
    c->budget = SXS_FW_DEFAULT_BUDGET;
    c->link_idle_ms = SXS_FW_LINK_IDLE_MS;
}

uint32_t sxs_fw_ms(sxs_fw *fw) { return (uint32_t)(uint64_t)fw->port->now_ms(fw->port->ctx); }

static void start_session(sxs_fw *fw);
static void leave_framed(sxs_fw *fw);

/* ---- text-mode output ------------------------------------------------------- */

static void out(sxs_fw *fw, const void *b, size_t n)
{
    if (n) fw->port->write(fw->port->ctx, b, n);
}

void sxs_fw_outs(sxs_fw *fw, const char *s) { out(fw, s, strlen(s)); }

void sxs_fw_outf(sxs_fw *fw, const char *fmt, ...)
{
    char b[320];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    if (n > 0) out(fw, b, (size_t)n < sizeof b ? (size_t)n : sizeof b - 1);
}

/* prefix + text, a LF inside the text continuing on a new line (CR LF) */
static void out_lines(sxs_fw *fw, const char *prefix, const uint8_t *t, uint32_t n)
{
    sxs_fw_outs(fw, prefix);
    uint32_t s = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (t[i] == '\n') {
            out(fw, t + s, i - s);
            sxs_fw_outs(fw, "\r\n");
            s = i + 1;
        }
    }
    out(fw, t + s, n - s);
    sxs_fw_outs(fw, "\r\n");
}

static void echo(void *ctx, const uint8_t *b, size_t n) { out(ctx, b, n); }

void sxs_fw_prompt(sxs_fw *fw)
{
    sxs_fw_outs(fw, "> ");
    fw->prompt_shown = 1;
}

/* Output that may come while a person types (a log line, a result): on lines of its
 * own, then the prompt and what was typed of the line so far, drawn again; with
 * prompt_after, a new prompt in any case. */
static void text_async(sxs_fw *fw, const char *prefix, const uint8_t *t, uint32_t n, int prompt_after)
{
    uint32_t tn;
    const uint8_t *typed = sxs_text_typed(&fw->text, &tn);
    uint8_t shown = fw->prompt_shown;
    int open = shown || tn > 0;
    if (open) sxs_fw_outs(fw, "\r\n");
    out_lines(fw, prefix, t, n);
    if (prompt_after) {
        sxs_fw_prompt(fw);
    } else if (open && shown) {
        sxs_fw_outs(fw, shown == 2 ? ".. " : "> ");
    }
    if ((prompt_after || open) && tn) out(fw, typed, tn);
}

/* the longest request text the image takes (its MAX_INPUT limit) */
uint32_t sxs_fw_max_input(const sxs_fw *fw)
{
    return (uint32_t)(fw->cfg.max_input > 0 ? fw->cfg.max_input : SXS_FW_DEFAULT_MAX_INPUT);
}

/* ---- sending in framed mode --------------------------------------------------- */

static void on_link_event(void *ctx, sxs_link_event ev, uint8_t type, uint32_t req)
{
    sxs_fw *fw = ctx;
    (void)type;
    if (ev == SXS_LE_VALID) {
        fw->last_rx_ms = fw->link.now;
        return;
    }
    if (ev == SXS_LE_ENTER) {
        fw->enter_pending = 1;
        if (fw->nevents < SXS_FW_EVENT_QUEUE) {
            fw->events[fw->nevents].kind = EV_ENTER;
            fw->events[fw->nevents++].req = 0;
        }
        return;
    }
    if (ev == SXS_LE_CONTROL && type == SXS_MSG_INTERRUPT && fw->nevents < SXS_FW_EVENT_QUEUE) {
        fw->events[fw->nevents].kind = EV_INTERRUPT;
        fw->events[fw->nevents++].req = req;
    }
    /* a full queue drops the INTERRUPT: the host repeats it every 300 ms */
}

static void link_write(void *ctx, const uint8_t *b, size_t n) { out(ctx, b, n); }

int sxs_fw_session_up(sxs_fw *fw)
{
    return fw->mode == SXS_FW_FRAMED && !fw->enter_pending && !fw->link_lost && !fw->stop;
}

/* Move bytes while the retransmit buffer is full (also from inside a host
 * callback): read the line, take ACKs, send.  Messages that arrive are
 * buffered, not handled; ENTER and INTERRUPT wait in the event queue.
 * Returns 0 when the session is gone (the caller drops what it sends). */
static int pump(sxs_fw *fw)
{
    uint32_t now = sxs_fw_ms(fw);
    sxs_link_flush(&fw->link, now);
    if (sxs_link_down(&fw->link)) fw->link_lost = 1;
    if (!sxs_fw_session_up(fw)) return 0;
    int32_t timeout = 50;
    uint32_t at;
    if (sxs_link_next_deadline(&fw->link, &at)) {
        int32_t d = (int32_t)(at - now);
        timeout = d < 0 ? 0 : d < 50 ? d : 50;
    }
    uint8_t buf[256];
    int n = fw->port->read(fw->port->ctx, buf, sizeof buf, timeout);
    if (n < 0) {
        fw->stop = SXS_FW_STOP_CLOSED;
        return 0;
    }
    now = sxs_fw_ms(fw);
    if (n > 0) sxs_link_receive(&fw->link, buf, (size_t)n, now);
    sxs_link_flush(&fw->link, now);
    if (sxs_link_down(&fw->link)) fw->link_lost = 1;
    return sxs_fw_session_up(fw);
}

/* Send a message (header bytes h, then text t), fragmented, waiting for room
 * as long as the session is up. */
void sxs_fw_send_msg(sxs_fw *fw, uint8_t type, uint32_t req, const uint8_t *h, size_t hn, const uint8_t *t,
                     size_t tn, int poll)
{
    if (!sxs_fw_session_up(fw)) return;
    size_t total = hn + tn, off = 0;
    do {
        while (sxs_link_tx_room(&fw->link) < sxs_link_fragment_cost(&fw->link, total, off))
            if (!pump(fw)) return;
        long k = sxs_link_enqueue_fragment(&fw->link, type, req, h, hn, t, tn, off, poll);
        if (k < 0) return; /* not reached: the room was made */
        off += (size_t)k;
    } while (off < total);
    sxs_link_flush(&fw->link, sxs_fw_ms(fw));
}

void sxs_fw_send_ok(sxs_fw *fw, uint32_t req, uint32_t value, int poll)
{
    uint8_t p[4];
    sxs_msg_ok(p, value);
    sxs_fw_send_msg(fw, SXS_MSG_OK, req, p, 4, NULL, 0, poll);
}

void sxs_fw_send_error(sxs_fw *fw, uint32_t req, uint16_t code, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof msg) n = sizeof msg - 1;
    uint8_t h[2];
    sxs_msg_error_head(h, code);
    sxs_fw_send_msg(fw, SXS_MSG_ERROR, req, h, 2, (const uint8_t *)msg, (size_t)n, 0);
}

/* ---- requests ------------------------------------------------------------------ */

int sxs_fw_req_find(sxs_fw *fw, int32_t id)
{
    for (uint32_t i = 0; i < fw->nreqs; i++)
        if (fw->reqs[i].id == id) return (int)i;
    return -1;
}

void sxs_fw_req_add(sxs_fw *fw, int32_t id, int text)
{
    if (fw->nreqs >= SXS_FW_MAX_REQUESTS) return; /* callers check first */
    fw->reqs[fw->nreqs].id = id;
    fw->reqs[fw->nreqs].text = (uint8_t)text;
    fw->reqs[fw->nreqs].sweep = 0;
    fw->nreqs++;
    if (text) fw->text_running++;
}

void sxs_fw_req_remove(sxs_fw *fw, int i)
{
    if (fw->reqs[i].text && fw->text_running) fw->text_running--;
    fw->reqs[i] = fw->reqs[--fw->nreqs];
}

/* ---- host callbacks ----------------------------------------------------------------- */

static void capture(sxs_fw *fw, const uint8_t *t, uint32_t n)
{
    if (n > 0xFFFF) n = 0xFFFF;
    if (fw->capture_len + 2 + n > sizeof fw->rx_buf) return; /* a bounded boot log: the rest is lost */
    sxs_wr16(fw->rx_buf + fw->capture_len, (uint16_t)n);
    memcpy(fw->rx_buf + fw->capture_len + 2, t, n);
    fw->capture_len += 2 + n;
}

static void h_result(void *ctx, int32_t req, const uint8_t *t, uint32_t n)
{
    sxs_fw *fw = ctx;
    int i = sxs_fw_req_find(fw, req);
    if (i < 0) return; /* the boot key (req 0), or a request of a restarted image */
    int text = fw->reqs[i].text;
    sxs_fw_req_remove(fw, i);
    if (text) {
        if (fw->mode != SXS_FW_TEXT) return; /* dropped: the board went framed */
        /* the prompt comes once nothing waits; the next form runs from the main loop */
        int more = fw->text.queued > 0 || fw->text_running > 0;
        text_async(fw, "=> ", t, n, !more);
        if (more) fw->prompt_shown = 0;
    } else if (fw->mode == SXS_FW_FRAMED) {
        sxs_fw_send_msg(fw, SXS_MSG_RESULT, (uint32_t)req, NULL, 0, t, n, 0);
    }
}

static void h_log(void *ctx, const uint8_t *t, uint32_t n)
{
    sxs_fw *fw = ctx;
    if (fw->capturing) capture(fw, t, n);
    else if (fw->mode == SXS_FW_FRAMED) sxs_fw_send_msg(fw, SXS_MSG_LOG, 0, NULL, 0, t, n, 0);
    else text_async(fw, "log: ", t, n, 0);
}

static void h_event(void *ctx, int32_t channel, int32_t topic, const uint8_t *t, uint32_t n)
{
    sxs_fw *fw = ctx;
    if (fw->mode != SXS_FW_FRAMED || fw->capturing) return; /* events are not shown in text mode */
    uint8_t h[4];
    sxs_msg_event_head(h, (uint8_t)channel, (uint16_t)topic);
    sxs_fw_send_msg(fw, SXS_MSG_EVENT, 0, h, 4, t, n, 0);
}

/* The image's clock: the port's, or the virtual one (cfg.virtual_clock). */
static double image_now(sxs_fw *fw) { return fw->cfg.virtual_clock ? fw->vclock : fw->port->now_ms(fw->port->ctx); }

static double h_now(void *ctx)
{
    sxs_fw *fw = ctx;
    return image_now(fw);
}

const sxs_host_ops sxs_fw_host_ops = { h_result, h_log, h_event, h_now };

static void nop_result(void *c, int32_t r, const uint8_t *t, uint32_t n) { (void)c, (void)r, (void)t, (void)n; }
static void nop_log(void *c, const uint8_t *t, uint32_t n) { (void)c, (void)t, (void)n; }
static void nop_event(void *c, int32_t a, int32_t b, const uint8_t *t, uint32_t n) { (void)c, (void)a, (void)b, (void)t, (void)n; }
const sxs_host_ops sxs_fw_scratch_ops = { nop_result, nop_log, nop_event, h_now };

/* ---- engine calls: a trap restarts the image --------------------------------------------- */

int sxs_fw_ok(sxs_fw *fw, const char *m)
{
    if (!m) return 1;
    sxs_fw_trap(fw, m);
    return 0;
}

const char *sxs_fw_run(sxs_fw *fw, int32_t *more)
{
    fw->in_engine = 1;
    const char *m = sxs_engine_run(fw->e, fw->cfg.budget > 0 ? fw->cfg.budget : SXS_FW_DEFAULT_BUDGET, more);
    fw->in_engine = 0;
    return m;
}

uint32_t sxs_fw_stat_u32(sxs_fw *fw, int32_t id)
{
    double v = 0;
    if (!fw->e || sxs_engine_stat(fw->e, id, &v)) return 0;
    return v < 0 ? 0 : v > 4294967295.0 ? 0xFFFFFFFFu : (uint32_t)v;
}

/* ---- HELLO / INFO ----------------------------------------------------------------------- */

size_t sxs_fw_board_info(sxs_fw *fw, uint8_t *o, int hello)
{
    sxs_board_info i;
    memset(&i, 0, sizeof i);
    i.proto = SXS_LINK_PROTOCOL;
    i.boot_reason = fw->boot_reason;
    i.active_slot = fw->running_slot;
    i.rollback_reason = fw->rollback_reason;
    i.abi_version = SXS_ABI_VERSION;
    i.max_payload = (uint16_t)fw->link.cfg.max_payload;
    i.rx_window = (uint16_t)fw->link.cfg.rx_cap;
    i.processors = (uint8_t)(fw->cfg.processors > 0 ? fw->cfg.processors : 1);
    i.state_flags = (uint8_t)((fw->safe_mode ? SXS_STATE_SAFE_MODE : 0) | (hello && fw->first_hello ? SXS_STATE_FIRST_HELLO : 0));
    i.image_crc = fw->e ? fw->image_crc : 0;
    i.failed_crc = fw->rollback_reason ? fw->failed_crc : 0;
    i.slot_size = sxs_slot_size(fw->port->flash);
    i.max_input = sxs_fw_max_input(fw);
    i.free_heap = fw->port->free_heap ? fw->port->free_heap(fw->port->ctx) : 0;
    i.uptime_ms = sxs_fw_ms(fw) - fw->boot_ms;
    i.link_idle_ms = fw->cfg.link_idle_ms;
    i.heap_used = sxs_fw_stat_u32(fw, SXS_STAT_HEAP_USED);
    i.wasm_memory = sxs_fw_stat_u32(fw, SXS_STAT_MEMORY);
    i.kv_entries = sxs_fw_stat_u32(fw, SXS_STAT_KV_ENTRIES);
    i.queued = sxs_fw_stat_u32(fw, SXS_STAT_QUEUED);
    i.bad_frames = sxs_link_bad_frames(&fw->link) + fw->link.rx.stats.gaps + fw->link.rx.stats.duplicates +
                   fw->link.rx.stats.overruns;
    i.retransmits = fw->link.tx.stats.retransmitted;
    i.session = fw->session;
    size_t n = strlen(fw->cfg.firmware);
    i.fw_len = (uint8_t)(n > 255 ? 255 : n);
    memcpy(i.firmware, fw->cfg.firmware, i.fw_len);
    size_t len = sxs_board_info_encode(&i, o);
    /* appended after `firmware` (docs/link.md section 8): live tasks, so that a host
       knows the board is idle only when nothing is queued and nothing runs or waits */
    uint32_t live = sxs_fw_stat_u32(fw, SXS_STAT_TASKS);
    for (int k = 0; k < 4; k++) o[len + (size_t)k] = (uint8_t)(live >> (8 * k));
    return len + 4;
}

/* ---- sessions and modes ------------------------------------------------------------------- */

static void clear_watches(sxs_fw *fw)
{
    for (uint32_t i = 0; i < fw->nwatches && fw->e; i++) {
        int32_t r;
        if (!sxs_fw_ok(fw, sxs_engine_watch(fw->e, fw->watches[i].channel, fw->watches[i].topic, 0, &r))) break;
    }
    fw->nwatches = 0;
}

static void drop_link_state(sxs_fw *fw)
{
    sxs_link_reset(&fw->link);
    memset(&fw->in, 0, sizeof fw->in);
    fw->xfer.active = 0;
    fw->linger = LINGER_NONE;
    fw->nevents = 0;
    fw->enter_pending = 0;
    fw->link_lost = 0;
}

static void replay_capture(sxs_fw *fw)
{
    uint32_t o = 0, n = fw->capture_len;
    fw->capture_len = 0;
    while (o + 2 <= n) {
        uint32_t k = sxs_rd16(fw->rx_buf + o);
        if (fw->mode == SXS_FW_FRAMED) {
            /* the log lies in the receive buffer, which waiting for room
               would reuse: send what fits now, drop the rest */
            if (sxs_link_send(&fw->link, SXS_MSG_LOG, 0, fw->rx_buf + o + 2, k, NULL, 0, 0) != 0) break;
        } else {
            out_lines(fw, "log: ", fw->rx_buf + o + 2, k);
        }
        o += 2 + k;
    }
    if (fw->mode == SXS_FW_FRAMED) sxs_link_flush(&fw->link, sxs_fw_ms(fw));
}

/* The board starts a session: ENTER (either mode), or a reboot the host
 * asked for in framed mode.  HELLO is frame 0. */
static void start_session(sxs_fw *fw)
{
    int was_text = fw->mode == SXS_FW_TEXT;
    fw->mode = SXS_FW_FRAMED;
    drop_link_state(fw);
    if (was_text) {
        sxs_text_reset(&fw->text);
        fw->text_skip = 0;
        fw->prompt_shown = 0;
    }
    clear_watches(fw);
    fw->session++;
    fw->last_rx_ms = sxs_fw_ms(fw);
    uint8_t info[SXS_BOARD_INFO_MAX + 4];
    size_t n = sxs_fw_board_info(fw, info, 1);
    fw->first_hello = 0;
    /* a delimiter first: whatever text mode wrote before (the echo, a
       banner) ends there in the host's deframer instead of spoiling HELLO */
    static const uint8_t zero = 0;
    out(fw, &zero, 1);
    sxs_fw_send_msg(fw, SXS_MSG_HELLO, 0, info, n, NULL, 0, 0);
}

static void enter_text(sxs_fw *fw)
{
    fw->mode = SXS_FW_TEXT;
    sxs_text_init(&fw->text, fw->rx_buf, sizeof fw->rx_buf, echo, fw);
    fw->text_skip = 0;
    fw->prompt_shown = 0;
}

/* LEAVE, link_idle_ms, or the link went down: back to text mode. */
static void leave_framed(sxs_fw *fw)
{
    clear_watches(fw);
    drop_link_state(fw);
    enter_text(fw);
    sxs_fw_outs(fw, "\r\n");
    sxs_fw_prompt(fw);
}

/* ---- text mode ------------------------------------------------------------------------------- */

int sxs_fw_blank(const uint8_t *t, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (t[i] != ' ' && t[i] != '\t' && t[i] != '\n' && t[i] != '\r') return 0;
    return 1;
}

/* Run the queued forms one at a time (text mode runs one request at a time); forms
 * queued before a Ctrl-C answer @"interrupted" instead.  Then, with nothing left to
 * run, the prompt. */
static void text_work(sxs_fw *fw)
{
    const uint8_t *t;
    uint32_t n;
    while (fw->mode == SXS_FW_TEXT && !fw->stop && fw->text_running == 0 && sxs_text_next_form(&fw->text, &t, &n)) {
        if (fw->text_skip) {
            fw->text_skip--;
            sxs_text_take_form(&fw->text);
            sxs_fw_outs(fw, "=> " SXS_FW_INTERRUPTED "\r\n");
            continue;
        }
        if (!fw->e) {
            sxs_text_take_form(&fw->text);
            sxs_fw_outs(fw, "sxs: no image runs\r\n");
            continue;
        }
        if (fw->nreqs >= SXS_FW_MAX_REQUESTS) return; /* after some results */
        int32_t id = fw->next_text_req, r = 0;
        sxs_fw_req_add(fw, id, 1); /* before sxs_submit: the image may answer at once */
        fw->in_engine = 1;
        const char *m = sxs_engine_submit(fw->e, id, 0, t, n, &r);
        fw->in_engine = 0;
        if (m) {
            sxs_text_take_form(&fw->text);
            sxs_fw_trap(fw, m);
            continue;
        }
        if (r != 0) {
            int i = sxs_fw_req_find(fw, id);
            if (i >= 0) sxs_fw_req_remove(fw, i);
        }
        if (r == -1) return; /* queue full: the form waits, the image runs */
        fw->next_text_req = fw->next_text_req == 0x7FFFFFFF ? SXS_FW_TEXT_REQ_BASE : fw->next_text_req + 1;
        sxs_text_take_form(&fw->text);
        if (r == 0) {
            fw->more = 1;
        } else {
            if (r == -3) sxs_fw_outs(fw, "sxs: out of memory\r\n");
            else sxs_fw_outf(fw, "sxs: request refused: %d\r\n", (int)r);
        }
    }
    if (fw->mode == SXS_FW_TEXT && !fw->stop && fw->text_running == 0 && !fw->text.queued && !fw->prompt_shown)
        sxs_fw_prompt(fw);
}

/* A line ended (the editor has echoed its CR LF).  What it makes of the form being typed
 * is decided at once, so that what the board writes back does not depend on how the
 * bytes were chunked: a blank line goes (a prompt when idle), an unclosed list or string
 * asks for another line (".. "), anything else is a complete form and joins the queue. */
static void text_line(sxs_fw *fw)
{
    fw->prompt_shown = 0;
    const uint8_t *t;
    uint32_t n;
    int continued = sxs_text_form(&fw->text, &t, &n);
    if (!continued && sxs_fw_blank(t, n)) {
        sxs_text_drop_form(&fw->text);
        if (fw->text_running == 0 && !fw->text.queued) sxs_fw_prompt(fw);
        return;
    }
    if (!fw->e) {
        sxs_text_drop_form(&fw->text);
        sxs_fw_outs(fw, "sxs: no image runs: flash one (sxs flash)\r\n");
        sxs_fw_prompt(fw);
        return;
    }
    sxs_split_result sr;
    fw->in_engine = 1;
    const char *m = sxs_engine_split(fw->e, t, n, &sr);
    fw->in_engine = 0;
    if (m) {
        sxs_text_drop_form(&fw->text);
        sxs_fw_trap(fw, m);
        return;
    }
    int unclosed = sr.n < 0 && sr.error_len >= 17 && memcmp(sr.error, "@\"parse: unclosed", 17) == 0;
    sxs_split_result_free(&sr);
    if (unclosed) {
        sxs_fw_outs(fw, ".. ");
        fw->prompt_shown = 2;
        return;
    }
    sxs_text_queue_form(&fw->text);
    text_work(fw);
}

static void input(sxs_fw *fw, const uint8_t *b, size_t n)
{
    size_t i = 0;
    while (i < n && fw->mode == SXS_FW_TEXT) {
        int r = sxs_text_feed(&fw->text, b[i++]);
        if (r == SXS_TEXT_LINE) text_line(fw);
        else if (r == SXS_TEXT_ENTER) start_session(fw);
        else if (r == SXS_TEXT_CTRL_C) sxs_fw_text_interrupt(fw);
        else if (r == SXS_TEXT_TOO_LONG) {
            sxs_fw_outf(fw, "sxs: line longer than %u bytes dropped\r\n", (unsigned)sizeof fw->rx_buf - 2);
            sxs_text_drop_form(&fw->text); /* with the lines of its form before it */
            fw->prompt_shown = 0;          /* the prompt comes when nothing runs (text_work) */
        }
    }
    if (i < n && fw->mode == SXS_FW_FRAMED) sxs_link_receive(&fw->link, b + i, n - i, sxs_fw_ms(fw));
}

/* ---- boot ----------------------------------------------------------------------------------- */

void sxs_fw_boot(sxs_fw *fw, const sxs_fw_port *port, const sxs_fw_config *cfg, const sxs_reset_info *ri)
{
    memset(fw, 0, sizeof *fw);
    fw->port = port;
    fw->cfg = *cfg;
    fw->boot_ms = sxs_fw_ms(fw);
    fw->running_slot = SXS_SLOT_NONE;
    fw->first_hello = 1;
    fw->next_text_req = SXS_FW_TEXT_REQ_BASE;
    fw->next_timer = -1;

    sxs_link_config lc;
    sxs_link_default_config(&lc, SXS_LINK_BOARD);
    lc.rx_buf = fw->rx_buf;
    lc.rx_cap = sizeof fw->rx_buf;
    lc.tx_buf = fw->tx_buf;
    lc.tx_cap = sizeof fw->tx_buf;
    lc.window.bytes_per_ms = cfg->bytes_per_ms;
    lc.write = link_write;
    lc.event = on_link_event;
    lc.ctx = fw;
    sxs_link_init(&fw->link, &lc);

    int framed = 0;
    if (ri && ri->valid) {
        framed = ri->framed;
        fw->safe_mode = ri->safe_mode;
        fw->hold_image = ri->hold_image;
        fw->boot_reason = ri->boot_reason;
        fw->session = ri->session;
    } else {
        fw->boot_reason = SXS_BOOT_POWER_ON;
        fw->session = cfg->session_seed;
    }
    fw->mode = SXS_FW_TEXT; /* nothing is sent before the image is settled */
    sxs_fw_boot_image(fw, fw->boot_ms);

    if (framed) {
        start_session(fw);
        if (fw->boot_note[0]) sxs_fw_send_msg(fw, SXS_MSG_LOG, 0, NULL, 0, (const uint8_t *)fw->boot_note, strlen(fw->boot_note), 0);
        replay_capture(fw);
    } else {
        uint32_t keep = fw->capture_len;
        if (fw->e)
            sxs_fw_outf(fw, "sxs %s abi %d slot %u image %08x\r\n", fw->cfg.firmware, SXS_ABI_VERSION, (unsigned)fw->running_slot,
                 (unsigned)fw->image_crc);
        else
            sxs_fw_outf(fw, "sxs %s abi %d slot none image none\r\n", fw->cfg.firmware, SXS_ABI_VERSION);
        if (fw->boot_note[0]) sxs_fw_outf(fw, "%s\r\n", fw->boot_note);
        fw->capture_len = keep;
        replay_capture(fw);
        enter_text(fw);
        sxs_fw_prompt(fw);
    }
}

void sxs_fw_shutdown(sxs_fw *fw)
{
    sxs_engine_close(fw->e);
    fw->e = NULL;
}

/* ---- the main loop ---------------------------------------------------------------------------- */

static void events(sxs_fw *fw)
{
    /* in order: an ENTER restarts the session, INTERRUPTs act */
    while (fw->nevents && !fw->stop) {
        uint8_t kind = fw->events[0].kind;
        uint32_t req = fw->events[0].req;
        memmove(fw->events, fw->events + 1, (fw->nevents - 1) * sizeof fw->events[0]);
        fw->nevents--;
        if (kind == EV_ENTER) {
            fw->enter_pending = 0;
            start_session(fw);
        } else if (kind == EV_INTERRUPT && sxs_fw_session_up(fw)) {
            sxs_fw_interrupt(fw, req);
        }
    }
    if (fw->enter_pending && !fw->stop) { /* the queue overflowed behind it */
        fw->enter_pending = 0;
        start_session(fw);
    }
}

static void run_image(sxs_fw *fw)
{
    if (!fw->e || fw->stop) return;
    /* the board never drops output: no new work while the retransmit buffer is short */
    if (fw->mode == SXS_FW_FRAMED && sxs_link_tx_room(&fw->link) < SXS_FRAME_MAX_BODY) return;
    int due = fw->more;
    if (!due && fw->next_timer >= 0) {
        if (fw->cfg.virtual_clock) {
            /* idle with a timer pending: virtual time jumps to it */
            if (fw->vclock < fw->next_timer) fw->vclock = fw->next_timer;
            due = 1;
        } else if (image_now(fw) >= fw->next_timer) {
            due = 1;
        }
    }
    if (!due) return;
    int32_t more = 0;
    const char *m = sxs_fw_run(fw, &more);
    if (!sxs_fw_ok(fw, m)) return;
    fw->more = (uint8_t)(more != 0);
    if (!more && fw->e) {
        double nt = -1;
        if (sxs_fw_ok(fw, sxs_engine_next_timer(fw->e, &nt))) fw->next_timer = nt;
    }
}

static void do_linger(sxs_fw *fw)
{
    if (!fw->linger || fw->mode != SXS_FW_FRAMED) return;
    if (!sxs_link_all_acked(&fw->link) && !sxs_time_reached(sxs_fw_ms(fw), fw->linger_until)) return;
    uint8_t what = fw->linger, flags = fw->linger_flags;
    fw->linger = LINGER_NONE;
    if (what == LINGER_LEAVE) {
        leave_framed(fw);
        return;
    }
    /* a reset the host asks for (or a commit's) tries the image again, crash loop or not */
    sxs_reset_info ri = { .valid = 1, .framed = 1, .boot_reason = SXS_BOOT_RESET, .session = fw->session };
    if (what == LINGER_RESET) {
        ri.framed = !(flags & SXS_RESET_TEXT_MODE);
        ri.safe_mode = (flags & SXS_RESET_SAFE_MODE) != 0;
    }
    fw->reset_info = ri;
    fw->stop = SXS_FW_STOP_RESET;
    sxs_engine_close(fw->e);
    fw->e = NULL;
    fw->port->reset(fw->port->ctx, &ri);
}

static int32_t wait_ms(sxs_fw *fw, int32_t max_wait, int busy)
{
    if (fw->nevents || fw->enter_pending) return 0;
    if (fw->e && fw->more && !(fw->mode == SXS_FW_FRAMED && sxs_link_tx_room(&fw->link) < SXS_FRAME_MAX_BODY)) return 0;
    if (fw->mode == SXS_FW_TEXT && fw->text_running == 0 && fw->text.queued) return 0;
    if (fw->mode == SXS_FW_FRAMED && !busy && fw->link.rx_count && sxs_link_tx_room(&fw->link) >= SXS_FRAME_MAX_BODY) return 0;
    uint32_t now = sxs_fw_ms(fw);
    int64_t w = max_wait < 0 ? INT32_MAX : max_wait;
    uint32_t at;
    if (fw->mode == SXS_FW_FRAMED) {
        if (sxs_link_next_deadline(&fw->link, &at)) {
            int64_t d = (int32_t)(at - now);
            if (d < w) w = d;
        }
        if (fw->linger) {
            int64_t d = (int32_t)(fw->linger_until - now);
            if (d < w) w = d;
        }
        if (fw->cfg.link_idle_ms) {
            int64_t d = (int64_t)(int32_t)(fw->last_rx_ms + fw->cfg.link_idle_ms - now);
            if (d < w) w = d;
        }
    }
    if (fw->e && fw->next_timer >= 0) {
        double d = fw->cfg.virtual_clock ? 0 : fw->next_timer - image_now(fw);
        int64_t k = d <= 0 ? 0 : d > 1e9 ? 1000000000 : (int64_t)d + 1;
        if (k < w) w = k;
    }
    return w < 0 ? 0 : w > INT32_MAX ? INT32_MAX : (int32_t)w;
}

int sxs_fw_step(sxs_fw *fw, int32_t max_wait_ms)
{
    if (fw->stop) return fw->stop;
    uint8_t buf[256];
    int n = fw->port->read(fw->port->ctx, buf, sizeof buf, wait_ms(fw, max_wait_ms, fw->busy));
    if (n < 0) {
        fw->stop = SXS_FW_STOP_CLOSED;
        return fw->stop;
    }
    if (n > 0) input(fw, buf, (size_t)n);
    events(fw);
    if (fw->link_lost && fw->mode == SXS_FW_FRAMED) leave_framed(fw);
    fw->busy = 0;
    if (fw->mode == SXS_FW_FRAMED) fw->busy = (uint8_t)sxs_fw_deliver(fw);
    else text_work(fw);
    events(fw);
    run_image(fw);
    if (fw->mode == SXS_FW_FRAMED && !fw->stop) {
        sxs_link_flush(&fw->link, sxs_fw_ms(fw));
        if (sxs_link_down(&fw->link)) fw->link_lost = 1;
        do_linger(fw);
        if (fw->mode == SXS_FW_FRAMED && !fw->stop) {
            uint32_t now = sxs_fw_ms(fw);
            if (fw->link_lost || (fw->cfg.link_idle_ms && sxs_time_reached(now, fw->last_rx_ms + fw->cfg.link_idle_ms)))
                leave_framed(fw);
        }
    }
    return fw->stop;
}
