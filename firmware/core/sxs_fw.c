/* sxs_fw.c - see sxs_fw.h.  The board side of docs/link.md. */
#include "sxs_fw.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sxs_crc32.h"
#include "sxs_msg.h"

static const char interrupted_value[] = "@\"interrupted\"";

enum { EV_ENTER = 1, EV_INTERRUPT = 2 };
enum { LINGER_NONE = 0, LINGER_LEAVE, LINGER_RESET, LINGER_COMMIT };

void sxs_fw_config_defaults(sxs_fw_config *c)
{
    memset(c, 0, sizeof *c);
    c->firmware = "sxs-fw " SXS_FW_VERSION;
    c->stack_bytes = 64 * 1024;
    c->budget = SXS_FW_DEFAULT_BUDGET;
    c->link_idle_ms = SXS_FW_LINK_IDLE_MS;
}

static uint32_t fw_ms(sxs_fw *fw) { return (uint32_t)(uint64_t)fw->port->now_ms(fw->port->ctx); }

static void trap(sxs_fw *fw, const char *msg);
static void start_session(sxs_fw *fw);
static void leave_framed(sxs_fw *fw);

/* ---- text-mode output ------------------------------------------------------- */

static void out(sxs_fw *fw, const void *b, size_t n)
{
    if (n) fw->port->write(fw->port->ctx, b, n);
}

static void outs(sxs_fw *fw, const char *s) { out(fw, s, strlen(s)); }

static void outf(sxs_fw *fw, const char *fmt, ...)
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
    outs(fw, prefix);
    uint32_t s = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (t[i] == '\n') {
            out(fw, t + s, i - s);
            outs(fw, "\r\n");
            s = i + 1;
        }
    }
    out(fw, t + s, n - s);
    outs(fw, "\r\n");
}

static void echo(void *ctx, const uint8_t *b, size_t n) { out(ctx, b, n); }

static void prompt(sxs_fw *fw) { outs(fw, "> "); }

/* the longest request text the image takes (its MAX_INPUT limit) */
static uint32_t max_input(const sxs_fw *fw)
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

static int session_up(sxs_fw *fw)
{
    return fw->mode == SXS_FW_FRAMED && !fw->enter_pending && !fw->link_lost && !fw->stop;
}

/* Move bytes while the retransmit buffer is full (also from inside a host
 * callback): read the line, take ACKs, send.  Messages that arrive are
 * buffered, not handled; ENTER and INTERRUPT wait in the event queue.
 * Returns 0 when the session is gone (the caller drops what it sends). */
static int pump(sxs_fw *fw)
{
    uint32_t now = fw_ms(fw);
    sxs_link_flush(&fw->link, now);
    if (sxs_link_down(&fw->link)) fw->link_lost = 1;
    if (!session_up(fw)) return 0;
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
    now = fw_ms(fw);
    if (n > 0) sxs_link_receive(&fw->link, buf, (size_t)n, now);
    sxs_link_flush(&fw->link, now);
    if (sxs_link_down(&fw->link)) fw->link_lost = 1;
    return session_up(fw);
}

/* Send a message (header bytes h, then text t), fragmented, waiting for room
 * as long as the session is up. */
static void send_msg(sxs_fw *fw, uint8_t type, uint32_t req, const uint8_t *h, size_t hn, const uint8_t *t,
                     size_t tn, int poll)
{
    if (!session_up(fw)) return;
    size_t total = hn + tn, off = 0;
    do {
        while (sxs_link_tx_room(&fw->link) < sxs_link_fragment_cost(&fw->link, total, off))
            if (!pump(fw)) return;
        long k = sxs_link_enqueue_fragment(&fw->link, type, req, h, hn, t, tn, off, poll);
        if (k < 0) return; /* not reached: the room was made */
        off += (size_t)k;
    } while (off < total);
    sxs_link_flush(&fw->link, fw_ms(fw));
}

static void send_ok(sxs_fw *fw, uint32_t req, uint32_t value, int poll)
{
    uint8_t p[4];
    sxs_msg_ok(p, value);
    send_msg(fw, SXS_MSG_OK, req, p, 4, NULL, 0, poll);
}

static void send_error(sxs_fw *fw, uint32_t req, uint16_t code, const char *fmt, ...)
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
    send_msg(fw, SXS_MSG_ERROR, req, h, 2, (const uint8_t *)msg, (size_t)n, 0);
}

/* ---- requests ------------------------------------------------------------------ */

static int req_find(sxs_fw *fw, int32_t id)
{
    for (uint32_t i = 0; i < fw->nreqs; i++)
        if (fw->reqs[i].id == id) return (int)i;
    return -1;
}

static void req_add(sxs_fw *fw, int32_t id, int text)
{
    if (fw->nreqs >= SXS_FW_MAX_REQUESTS) return; /* callers check first */
    fw->reqs[fw->nreqs].id = id;
    fw->reqs[fw->nreqs].text = (uint8_t)text;
    fw->reqs[fw->nreqs].sweep = 0;
    fw->nreqs++;
    if (text) fw->text_running++;
}

static void req_remove(sxs_fw *fw, int i)
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
    int i = req_find(fw, req);
    if (i < 0) return; /* the boot key (req 0), or a request of a restarted image */
    int text = fw->reqs[i].text;
    req_remove(fw, i);
    if (text) {
        if (fw->mode != SXS_FW_TEXT) return; /* dropped: the board went framed */
        out_lines(fw, "=> ", t, n);
        uint32_t s, e;
        if (fw->text_running == 0 && !sxs_text_next_line(&fw->text, &s, &e)) prompt(fw);
    } else if (fw->mode == SXS_FW_FRAMED) {
        send_msg(fw, SXS_MSG_RESULT, (uint32_t)req, NULL, 0, t, n, 0);
    }
}

static void h_log(void *ctx, const uint8_t *t, uint32_t n)
{
    sxs_fw *fw = ctx;
    if (fw->capturing) capture(fw, t, n);
    else if (fw->mode == SXS_FW_FRAMED) send_msg(fw, SXS_MSG_LOG, 0, NULL, 0, t, n, 0);
    else out_lines(fw, "log: ", t, n);
}

static void h_event(void *ctx, int32_t channel, int32_t topic, const uint8_t *t, uint32_t n)
{
    sxs_fw *fw = ctx;
    if (fw->mode != SXS_FW_FRAMED || fw->capturing) return; /* events are not shown in text mode */
    uint8_t h[4];
    sxs_msg_event_head(h, (uint8_t)channel, (uint16_t)topic);
    send_msg(fw, SXS_MSG_EVENT, 0, h, 4, t, n, 0);
}

/* The image's clock: the port's, or the virtual one (cfg.virtual_clock). */
static double image_now(sxs_fw *fw) { return fw->cfg.virtual_clock ? fw->vclock : fw->port->now_ms(fw->port->ctx); }

static double h_now(void *ctx)
{
    sxs_fw *fw = ctx;
    return image_now(fw);
}

static const sxs_host_ops host_ops = { h_result, h_log, h_event, h_now };

static void nop_result(void *c, int32_t r, const uint8_t *t, uint32_t n) { (void)c, (void)r, (void)t, (void)n; }
static void nop_log(void *c, const uint8_t *t, uint32_t n) { (void)c, (void)t, (void)n; }
static void nop_event(void *c, int32_t a, int32_t b, const uint8_t *t, uint32_t n) { (void)c, (void)a, (void)b, (void)t, (void)n; }
static const sxs_host_ops scratch_ops = { nop_result, nop_log, nop_event, h_now };

/* ---- engine calls: a trap restarts the image --------------------------------------------- */

static int ok(sxs_fw *fw, const char *m)
{
    if (!m) return 1;
    trap(fw, m);
    return 0;
}

static const char *run(sxs_fw *fw, int32_t *more)
{
    fw->in_engine = 1;
    const char *m = sxs_engine_run(fw->e, fw->cfg.budget > 0 ? fw->cfg.budget : SXS_FW_DEFAULT_BUDGET, more);
    fw->in_engine = 0;
    return m;
}

static uint32_t stat_u32(sxs_fw *fw, int32_t id)
{
    double v = 0;
    if (!fw->e || sxs_engine_stat(fw->e, id, &v)) return 0;
    return v < 0 ? 0 : v > 4294967295.0 ? 0xFFFFFFFFu : (uint32_t)v;
}

/* ---- loading an image ----------------------------------------------------------------- */

static const char *rb_text(uint8_t r)
{
    switch (r) {
    case SXS_RB_TRAP: return "trap at start-up";
    case SXS_RB_DEADLINE: return "not up within the HELLO deadline";
    case SXS_RB_BAD_CRC: return "CRC of the slot wrong";
    case SXS_RB_LOAD: return "engine refused the module";
    case SXS_RB_INIT: return "sxs_init failed or wrong ABI";
    default: return "none";
    }
}

/* Open the engine on a Wasm (borrowed, or owned: freed by the engine), set the limits,
 * sxs_init.  0 or a rollback reason (message in fw->err). */
static uint8_t open_engine(sxs_fw *fw, sxs_engine **out, const uint8_t *borrowed, uint8_t *owned, uint32_t len,
                           int safe, const sxs_host_ops *ops)
{
    sxs_engine_config ec = { fw->cfg.stack_bytes };
    const char *m = owned ? sxs_engine_open_owned(out, owned, len, &ec, ops, fw, fw->err, sizeof fw->err)
                          : sxs_engine_open(out, borrowed, len, &ec, ops, fw, fw->err, sizeof fw->err);
    if (m) {
        if (m != fw->err) snprintf(fw->err, sizeof fw->err, "%s", m);
        return strncmp(fw->err, "image ABI version", 17) == 0 ? SXS_RB_INIT : SXS_RB_LOAD;
    }
    struct { int32_t id, v; } lim[] = {
        { SXS_LIMIT_PROCESSORS, fw->cfg.processors }, { SXS_LIMIT_MAX_PAGES, fw->cfg.max_pages },
        { SXS_LIMIT_MAX_INPUT, fw->cfg.max_input },   { SXS_LIMIT_QUEUE, fw->cfg.queue },
        { SXS_LIMIT_SAFE_MODE, safe ? 1 : 0 },
    };
    uint8_t reason = 0;
    for (size_t i = 0; i < sizeof lim / sizeof lim[0] && !reason; i++) {
        if (!lim[i].v) continue;
        int32_t r = 0;
        m = sxs_engine_limit(*out, lim[i].id, lim[i].v, &r);
        if (m) snprintf(fw->err, sizeof fw->err, "%s", m), reason = SXS_RB_TRAP;
        else if (r) snprintf(fw->err, sizeof fw->err, "sxs_limit(%d, %d) refused: %d", (int)lim[i].id, (int)lim[i].v, (int)r), reason = SXS_RB_INIT;
    }
    if (!reason) {
        int32_t r = 0;
        fw->in_engine = 1;
        m = sxs_engine_init(*out, &r);
        fw->in_engine = 0;
        if (m) snprintf(fw->err, sizeof fw->err, "%s", m), reason = SXS_RB_TRAP;
        else if (r) {
            snprintf(fw->err, sizeof fw->err, "sxs_init failed: %d (%s)", (int)r,
                     r == -2 ? "the K/V log could not be loaded" : "out of memory");
            reason = SXS_RB_INIT;
        }
    }
    if (reason) {
        sxs_engine_close(*out);
        *out = NULL;
    }
    return reason;
}

/* Open the engine on the verified image of a slot.  The Wasm is mapped where the flash
 * can be (no RAM for it: sxs_board_flash_map), else read into a buffer that the engine
 * frees as soon as it has compiled the module. */
static uint8_t open_slot(sxs_fw *fw, int slot, sxs_engine **out, sxs_image_header *h, int safe,
                         const sxs_host_ops *ops)
{
    const sxs_flash_ops *f = fw->port->flash;
    uint32_t got;
    sxs_image_err e = sxs_slot_verify(f, slot, 0, SXS_ABI_VERSION, h, &got);
    if (e) {
        sxs_image_message(e, h, SXS_IMAGE_HEADER_LEN + h->wasm_len, SXS_ABI_VERSION, got, fw->err, sizeof fw->err);
        return e == SXS_IMG_ABI ? SXS_RB_INIT : SXS_RB_BAD_CRC;
    }
    const void *view = f->map && f->unmap ? f->map(f->ctx, sxs_slot_part(slot), SXS_IMAGE_HEADER_LEN, h->wasm_len) : NULL;
    if (view) {
        uint8_t reason = open_engine(fw, out, view, NULL, h->wasm_len, safe, ops);
        f->unmap(f->ctx, view);
        return reason;
    }
    uint8_t *w = malloc(h->wasm_len ? h->wasm_len : 1);
    if (!w) {
        snprintf(fw->err, sizeof fw->err, "out of memory for %u image bytes", (unsigned)h->wasm_len);
        return SXS_RB_LOAD;
    }
    if (f->read(f->ctx, sxs_slot_part(slot), SXS_IMAGE_HEADER_LEN, w, h->wasm_len)) {
        free(w);
        snprintf(fw->err, sizeof fw->err, "reading slot %d failed", slot);
        return SXS_RB_BAD_CRC;
    }
    return open_engine(fw, out, NULL, w, h->wasm_len, safe, ops);
}

/* Start the image of a slot as the running one.  With trial, also run the
 * autorun to idle within the HELLO deadline (counted from boot_start).
 * 0 or a rollback reason. */
static uint8_t start_slot(sxs_fw *fw, int slot, int trial, uint32_t boot_start)
{
    sxs_image_header h;
    uint8_t reason = 0;
    reason = open_slot(fw, slot, &fw->e, &h, fw->safe_mode, &host_ops);
    if (reason) return reason;
    fw->running_slot = (uint8_t)slot;
    fw->image_crc = h.wasm_crc;
    fw->more = 1;
    fw->next_timer = -1;
    fw->image_started_ms = fw_ms(fw);
    if (!trial) return 0;
    /* autorun (the boot key) to idle; the output is kept for after HELLO */
    fw->capturing = 1;
    for (;;) {
        int32_t more = 0;
        const char *m = run(fw, &more);
        if (m) {
            snprintf(fw->err, sizeof fw->err, "%s", m);
            reason = SXS_RB_TRAP;
            break;
        }
        if (!more) break;
        if ((uint32_t)(fw_ms(fw) - boot_start) >= SXS_FW_HELLO_DEADLINE_MS) {
            snprintf(fw->err, sizeof fw->err, "still busy after %u ms", (unsigned)SXS_FW_HELLO_DEADLINE_MS);
            reason = SXS_RB_DEADLINE;
            break;
        }
    }
    fw->capturing = 0;
    if (reason) {
        sxs_engine_close(fw->e);
        fw->e = NULL;
        fw->running_slot = SXS_SLOT_NONE;
        fw->image_crc = 0;
    }
    return reason;
}

static void store_record(sxs_fw *fw, sxs_boot_record *r)
{
    if (sxs_boot_record_store(fw->port->flash, r) != 0)
        snprintf(fw->boot_note, sizeof fw->boot_note, "sxs: writing the boot record failed");
}

/* The first boot of a blank (or foreign) flash: find or install an image. */
static int first_record(sxs_fw *fw, sxs_boot_record *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->active = rec->previous = SXS_SLOT_NONE;
    for (int s = 0; s < 2; s++) {
        sxs_image_header h;
        uint32_t got;
        if (sxs_slot_verify(fw->port->flash, s, 0, SXS_ABI_VERSION, &h, &got) == SXS_IMG_OK) {
            rec->active = (uint8_t)s;
            rec->active_crc = h.wasm_crc;
            break;
        }
    }
    if (rec->active == SXS_SLOT_NONE && fw->cfg.default_image) {
        sxs_image_header h;
        if (sxs_image_verify(fw->cfg.default_image, fw->cfg.default_image_len, SXS_ABI_VERSION, &h) == SXS_IMG_OK &&
            sxs_slot_install(fw->port->flash, 0, fw->cfg.default_image, fw->cfg.default_image_len) == 0) {
            rec->active = 0;
            rec->active_crc = h.wasm_crc;
        }
    }
    if (rec->active == SXS_SLOT_NONE) return -1;
    store_record(fw, rec);
    return 0;
}

void sxs_reset_info_after_crashes(sxs_reset_info *info, uint32_t crashes, uint32_t session)
{
    memset(info, 0, sizeof *info);
    info->valid = 1;
    info->boot_reason = SXS_BOOT_CRASH; /* text mode: the host did not ask for this reset */
    info->session = session;
    info->safe_mode = crashes >= SXS_CRASHES_SAFE_MODE;
    info->hold_image = crashes >= SXS_CRASHES_HOLD_IMAGE;
}

static void boot_image(sxs_fw *fw, uint32_t boot_start)
{
    const sxs_flash_ops *f = fw->port->flash;
    sxs_boot_record rec;
    if (sxs_boot_record_load(f, &rec) != 0 && first_record(fw, &rec) != 0) {
        snprintf(fw->boot_note, sizeof fw->boot_note, "sxs: no image in flash");
        return;
    }
    fw->rollback_reason = rec.rollback_reason;
    fw->failed_crc = rec.failed_crc;
    if (fw->hold_image && rec.state != SXS_BOOT_PENDING) {
        snprintf(fw->boot_note, sizeof fw->boot_note,
                 "sxs: image %08x not started: the board crashed %u or more times in a row; flash another image, or reset to try it again",
                 (unsigned)rec.active_crc, (unsigned)SXS_CRASHES_HOLD_IMAGE);
        return;
    }
    uint8_t reason = 0;
    int rollback = 0;
    uint32_t failed = 0;
    if (rec.state == SXS_BOOT_PENDING) {
        rec.attempts++;
        store_record(fw, &rec); /* written first: a hang or crash now counts as a try */
        failed = rec.active_crc;
        if (rec.attempts > 1) {
            reason = SXS_RB_DEADLINE;
            snprintf(fw->err, sizeof fw->err, "the previous try never came up");
        } else if (rec.active > 1) {
            reason = SXS_RB_BAD_CRC;
            snprintf(fw->err, sizeof fw->err, "no such slot %u", (unsigned)rec.active);
        } else {
            reason = start_slot(fw, rec.active, 1, boot_start);
        }
        if (reason) {
            rollback = 1;
        } else {
            rec.state = SXS_BOOT_CONFIRMED;
            rec.attempts = 0;
            rec.failed_crc = 0;
            rec.rollback_reason = 0;
            store_record(fw, &rec);
            fw->rollback_reason = 0;
            fw->failed_crc = 0;
            if (fw->boot_reason != SXS_BOOT_CRASH) fw->boot_reason = SXS_BOOT_NEW_IMAGE;
            return;
        }
    } else if (rec.active <= 1) {
        reason = start_slot(fw, rec.active, 0, boot_start);
        if (!reason) return;
        /* the confirmed image is damaged: fall back to the previous one */
        failed = rec.active_crc;
        rollback = 1;
    } else {
        snprintf(fw->boot_note, sizeof fw->boot_note, "sxs: no image in flash");
        return;
    }
    if (rollback) {
        char why[128];
        snprintf(why, sizeof why, "%.120s", fw->err);
        uint8_t target = rec.previous;
        rec.state = SXS_BOOT_CONFIRMED;
        rec.attempts = 0;
        rec.failed_crc = failed;
        rec.rollback_reason = reason;
        rec.previous = SXS_SLOT_NONE;
        fw->boot_reason = SXS_BOOT_ROLLBACK;
        fw->rollback_reason = reason;
        fw->failed_crc = failed;
        if (target <= 1 && start_slot(fw, target, 0, boot_start) == 0) {
            rec.active = target;
            rec.active_crc = fw->image_crc;
            snprintf(fw->boot_note, sizeof fw->boot_note, "sxs: new image %08x failed (%s: %.100s); rolled back to slot %u",
                     (unsigned)failed, rb_text(reason), why, (unsigned)target);
        } else {
            rec.active = SXS_SLOT_NONE;
            rec.active_crc = 0;
            snprintf(fw->boot_note, sizeof fw->boot_note, "sxs: new image %08x failed (%s: %.100s); no previous image to roll back to",
                     (unsigned)failed, rb_text(reason), why);
        }
        store_record(fw, &rec);
    }
}

/* ---- HELLO / INFO ----------------------------------------------------------------------- */

static size_t board_info(sxs_fw *fw, uint8_t *o, int hello)
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
    i.max_input = max_input(fw);
    i.free_heap = fw->port->free_heap ? fw->port->free_heap(fw->port->ctx) : 0;
    i.uptime_ms = fw_ms(fw) - fw->boot_ms;
    i.link_idle_ms = fw->cfg.link_idle_ms;
    i.heap_used = stat_u32(fw, SXS_STAT_HEAP_USED);
    i.wasm_memory = stat_u32(fw, SXS_STAT_MEMORY);
    i.kv_entries = stat_u32(fw, SXS_STAT_KV_ENTRIES);
    i.queued = stat_u32(fw, SXS_STAT_QUEUED);
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
    uint32_t live = stat_u32(fw, SXS_STAT_TASKS);
    for (int k = 0; k < 4; k++) o[len + (size_t)k] = (uint8_t)(live >> (8 * k));
    return len + 4;
}

/* ---- sessions and modes ------------------------------------------------------------------- */

static void clear_watches(sxs_fw *fw)
{
    for (uint32_t i = 0; i < fw->nwatches && fw->e; i++) {
        int32_t r;
        if (!ok(fw, sxs_engine_watch(fw->e, fw->watches[i].channel, fw->watches[i].topic, 0, &r))) break;
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
    if (fw->mode == SXS_FW_FRAMED) sxs_link_flush(&fw->link, fw_ms(fw));
}

/* The board starts a session: ENTER (either mode), or a reboot the host
 * asked for in framed mode.  HELLO is frame 0. */
static void start_session(sxs_fw *fw)
{
    int was_text = fw->mode == SXS_FW_TEXT;
    fw->mode = SXS_FW_FRAMED;
    drop_link_state(fw);
    if (was_text) sxs_text_reset(&fw->text);
    clear_watches(fw);
    fw->session++;
    fw->last_rx_ms = fw_ms(fw);
    uint8_t info[SXS_BOARD_INFO_MAX + 4];
    size_t n = board_info(fw, info, 1);
    fw->first_hello = 0;
    /* a delimiter first: whatever text mode wrote before (the echo, a
       banner) ends there in the host's deframer instead of spoiling HELLO */
    static const uint8_t zero = 0;
    out(fw, &zero, 1);
    send_msg(fw, SXS_MSG_HELLO, 0, info, n, NULL, 0, 0);
}

static void enter_text(sxs_fw *fw)
{
    fw->mode = SXS_FW_TEXT;
    sxs_text_init(&fw->text, fw->rx_buf, sizeof fw->rx_buf, echo, fw);
}

/* LEAVE, link_idle_ms, or the link went down: back to text mode. */
static void leave_framed(sxs_fw *fw)
{
    clear_watches(fw);
    drop_link_state(fw);
    enter_text(fw);
    outs(fw, "\r\n");
    prompt(fw);
}

/* ---- stopping and restarting the image ----------------------------------------------------- */

/* Close the running instance.  Every unanswered request of the host is lost with it and
 * gets ERROR INTERNAL "WHAT: WHY"; so does a fragmented EXEC staged in it. */
static void close_image(sxs_fw *fw, const char *what, const char *why)
{
    uint32_t n = fw->nreqs;
    int32_t ids[SXS_FW_MAX_REQUESTS];
    uint8_t text[SXS_FW_MAX_REQUESTS];
    for (uint32_t i = 0; i < n; i++) ids[i] = fw->reqs[i].id, text[i] = fw->reqs[i].text;
    fw->nreqs = 0;
    fw->text_running = 0;
    sxs_engine_close(fw->e);
    fw->e = NULL;
    fw->running_slot = SXS_SLOT_NONE;
    fw->image_crc = 0;
    if (fw->mode == SXS_FW_FRAMED)
        for (uint32_t i = 0; i < n; i++)
            if (!text[i]) send_error(fw, (uint32_t)ids[i], SXS_ERR_INTERNAL, "%s: %s", what, why);
    if (fw->in.active && fw->in.type == SXS_MSG_EXEC) {
        send_error(fw, fw->in.req, SXS_ERR_INTERNAL, "%s: %s", what, why);
        fw->in.active = 0;
        fw->in.skip = 1;
    }
}

/* Start the image of `slot` again (memory-only state is lost; the K/V store comes back
 * from flash); the session's watches carry over.  Says so when it does not come up. */
static void restart_image(sxs_fw *fw, int slot, uint32_t now)
{
    if (slot <= 1 && start_slot(fw, slot, 0, now) == 0) {
        for (uint32_t i = 0; i < fw->nwatches && fw->e; i++) {
            int32_t r;
            if (sxs_engine_watch(fw->e, fw->watches[i].channel, fw->watches[i].topic, 1, &r)) break;
        }
    } else if (fw->mode == SXS_FW_FRAMED) {
        char line[360];
        int k = snprintf(line, sizeof line, "sxs: the image does not restart: %s", fw->err);
        send_msg(fw, SXS_MSG_LOG, 0, NULL, 0, (const uint8_t *)line, (size_t)(k < (int)sizeof line ? k : (int)sizeof line - 1), 0);
    } else {
        outf(fw, "!! the image does not restart: %s\r\n", fw->err);
    }
}

/* A trap: report it, then restart the image (three quick traps: in safe mode). */
static void trap(sxs_fw *fw, const char *msg)
{
    char m[300];
    snprintf(m, sizeof m, "%s", msg);
    uint32_t now = fw_ms(fw);
    fw->quick_traps = (uint32_t)(now - fw->image_started_ms) < 2000 ? fw->quick_traps + 1 : 1;
    int safe = fw->safe_mode || fw->quick_traps >= 3;
    if (fw->mode == SXS_FW_FRAMED) {
        char line[400];
        int k = snprintf(line, sizeof line, "sxs: image trapped: %s; restarting%s", m, safe && !fw->safe_mode ? " in safe mode" : "");
        send_msg(fw, SXS_MSG_LOG, 0, NULL, 0, (const uint8_t *)line, (size_t)(k < (int)sizeof line ? k : (int)sizeof line - 1), 0);
    } else {
        outf(fw, "!! trap: %s\r\n", m);
    }
    int slot = fw->running_slot;
    close_image(fw, "image trapped", m);
    fw->safe_mode = (uint8_t)safe;
    restart_image(fw, slot, now);
    if (fw->mode == SXS_FW_TEXT) prompt(fw);
}

/* ---- INTERRUPT ------------------------------------------------------------------------ */

/* Interrupt every unanswered request of the host (text 0) or of text mode (text 1) in
 * the image (each then answers @"interrupted" at its next step); how many it knew. */
static uint32_t interrupt_requests(sxs_fw *fw, int text)
{
    uint32_t found = 0;
    /* a result may remove entries as we go */
    for (uint32_t i = 0; i < fw->nreqs; i++) fw->reqs[i].sweep = fw->reqs[i].text == text;
    for (;;) {
        int k = -1;
        for (uint32_t i = 0; i < fw->nreqs; i++)
            if (fw->reqs[i].sweep) {
                k = (int)i;
                break;
            }
        if (k < 0 || !fw->e) break;
        fw->reqs[k].sweep = 0;
        int32_t r = 0;
        fw->in_engine = 1;
        const char *m = sxs_engine_interrupt(fw->e, fw->reqs[k].id, &r);
        fw->in_engine = 0;
        if (!ok(fw, m)) break;
        found += r == 1;
    }
    return found;
}

static void do_interrupt(sxs_fw *fw, uint32_t req)
{
    uint32_t found = 0;
    if (fw->e) {
        if (req == 0) {
            found = interrupt_requests(fw, 0);
        } else if (req <= 0x7FFFFFFFu) {
            int32_t r = 0;
            fw->in_engine = 1;
            const char *m = sxs_engine_interrupt(fw->e, (int32_t)req, &r);
            fw->in_engine = 0;
            if (ok(fw, m)) found += r == 1;
        }
    }
    /* EXECs still waiting in the receive buffer, or arriving in fragments */
    int cont = fw->in.active && fw->in.type == SXS_MSG_EXEC;
    if (cont && (req == 0 || fw->in.req == req) && !fw->in.interrupted) {
        fw->in.interrupted = 1;
        found++;
    }
    found += sxs_link_mark(&fw->link, SXS_MSG_EXEC, req, 1, cont || (fw->in.skip && fw->in.type == SXS_MSG_EXEC));
    fw->more = 1; /* a running request stops at its next step */
    send_ok(fw, req, found, 0);
}

static void text_interrupt(sxs_fw *fw)
{
    if (fw->text_running && fw->e) {
        outs(fw, "^C\r\n");
        sxs_text_discard_pending(&fw->text);
        fw->more = 1;
        interrupt_requests(fw, 1);
    } else {
        sxs_text_discard_pending(&fw->text);
        sxs_text_discard_line(&fw->text);
        outs(fw, "^C\r\n");
        prompt(fw);
    }
}

/* ---- messages --------------------------------------------------------------------------- */

enum { CONSUMED = 1, BUSY = 0 };

static int queue_full(sxs_fw *fw)
{
    if (fw->nreqs >= SXS_FW_MAX_REQUESTS) return 1;
    uint32_t cap = (uint32_t)(fw->cfg.queue > 0 ? fw->cfg.queue : SXS_FW_DEFAULT_QUEUE);
    return stat_u32(fw, SXS_STAT_QUEUED) >= cap;
}

static void submit_answer(sxs_fw *fw, uint32_t req, int32_t r)
{
    switch (r) {
    case 0: fw->more = 1; break;
    case -2: send_error(fw, req, SXS_ERR_NO_PROCESSOR, "no processor %u", (unsigned)fw->in.proc); break;
    case -3: send_error(fw, req, SXS_ERR_OUT_OF_MEMORY, "out of memory"); break;
    case -4: send_error(fw, req, SXS_ERR_BAD_REQ, "request %u refused by the image", (unsigned)req); break;
    default: send_error(fw, req, SXS_ERR_INTERNAL, "sxs_submit returned %d", (int)r); break;
    }
}

static void skip_rest(sxs_fw *fw, const sxs_link_frag *f)
{
    if (f->flags & SXS_FLAG_MORE) {
        fw->in.skip = 1;
        fw->in.type = f->type;
        fw->in.req = f->req;
    }
}

static int exec_first(sxs_fw *fw, const sxs_link_frag *f)
{
    uint32_t req = f->req;
    if (f->len < 5) {
        send_error(fw, req, SXS_ERR_MALFORMED, "EXEC payload of %u bytes, expected at least 5", (unsigned)f->len);
        skip_rest(fw, f);
        return CONSUMED;
    }
    uint8_t h[5];
    sxs_link_frag_copy(f, 0, h, 5);
    uint32_t text_len;
    uint8_t proc;
    sxs_msg_exec_head(h, 5, &text_len, &proc);
    uint32_t have = f->len - 5u;
    int more = (f->flags & SXS_FLAG_MORE) != 0;
    if (f->mark) {
        send_msg(fw, SXS_MSG_RESULT, req, NULL, 0, (const uint8_t *)interrupted_value, sizeof interrupted_value - 1, 0);
        skip_rest(fw, f);
        return CONSUMED;
    }
    if (req == 0 || req > 0x7FFFFFFFu || req_find(fw, (int32_t)req) >= 0) {
        send_error(fw, req, SXS_ERR_BAD_REQ, req == 0 || req > 0x7FFFFFFFu ? "request id %u out of range" : "request %u is unanswered", (unsigned)req);
        skip_rest(fw, f);
        return CONSUMED;
    }
    if (!fw->e) {
        send_error(fw, req, SXS_ERR_NO_IMAGE, "no image is running");
        skip_rest(fw, f);
        return CONSUMED;
    }
    if ((!more && have != text_len) || (more && have >= text_len)) {
        send_error(fw, req, SXS_ERR_MALFORMED, "text_len %u but %s%u text bytes", (unsigned)text_len, more ? "more than " : "",
                   (unsigned)have);
        skip_rest(fw, f);
        return CONSUMED;
    }
    if (queue_full(fw)) return BUSY;
    fw->in.proc = proc;
    int32_t ptr = 0, r = 0;
    fw->in_engine = 1;
    const char *m = sxs_engine_stage(fw->e, text_len, &ptr);
    fw->in_engine = 0;
    /* copy the text: it starts 5 bytes into the payload, which may wrap */
    if (!m && ptr) {
        size_t off = 5;
        uint32_t dst = 0;
        while (!m && off < f->len) {
            const uint8_t *src;
            size_t n;
            if (off < f->n1) src = f->p1 + off, n = f->n1 - off;
            else src = f->p2 + (off - f->n1), n = f->len - off;
            m = sxs_engine_stage_write(fw->e, ptr, dst, src, (uint32_t)n);
            dst += (uint32_t)n;
            off += n;
        }
    }
    if (m) {
        send_error(fw, req, SXS_ERR_INTERNAL, "image trapped: %s", m);
        trap(fw, m);
        skip_rest(fw, f);
        return CONSUMED;
    }
    /* No memory to stage a long request while others run: it waits for them to finish
     * (a single frame learns the same from sxs_submit's -1 below). */
    if (!ptr && more && text_len <= max_input(fw) && (fw->nreqs > 0 || fw->more)) return BUSY;
    if (more) {
        fw->in.active = 1;
        fw->in.type = SXS_MSG_EXEC;
        fw->in.req = req;
        fw->in.text_len = text_len;
        fw->in.off = have;
        fw->in.ptr = ptr;
        fw->in.interrupted = 0;
        return CONSUMED;
    }
    /* in the table before sxs_submit: the image may answer at once */
    req_add(fw, (int32_t)req, 0);
    fw->in_engine = 1;
    m = sxs_engine_submit_staged(fw->e, (int32_t)req, proc, text_len, &r);
    fw->in_engine = 0;
    if (m) {
        trap(fw, m); /* answers every request in the table, this one too */
        return CONSUMED;
    }
    if (r != 0) {
        int i = req_find(fw, (int32_t)req);
        if (i >= 0) req_remove(fw, i);
    }
    if (r == -1) return BUSY; /* staged again on the retry: the frame is still here */
    submit_answer(fw, req, r);
    return CONSUMED;
}

static int exec_next(sxs_fw *fw, const sxs_link_frag *f)
{
    uint32_t req = fw->in.req;
    int more = (f->flags & SXS_FLAG_MORE) != 0;
    if ((uint64_t)fw->in.off + f->len > fw->in.text_len || (!more && fw->in.off + f->len != fw->in.text_len)) {
        send_error(fw, req, SXS_ERR_MALFORMED, "text_len %u but %u text bytes", (unsigned)fw->in.text_len,
                   (unsigned)(fw->in.off + f->len));
        fw->in.active = 0;
        skip_rest(fw, f);
        return CONSUMED;
    }
    if (!more && !fw->in.interrupted && queue_full(fw)) return BUSY; /* the text waits in the image's staging buffer */
    const char *m = NULL;
    if (fw->in.ptr && !fw->in.interrupted) {
        m = sxs_engine_stage_write(fw->e, fw->in.ptr, fw->in.off, f->p1, (uint32_t)f->n1);
        if (!m) m = sxs_engine_stage_write(fw->e, fw->in.ptr, fw->in.off + (uint32_t)f->n1, f->p2, (uint32_t)f->n2);
    }
    fw->in.off += f->len;
    if (!m && !more) {
        fw->in.active = 0;
        if (fw->in.interrupted) {
            send_msg(fw, SXS_MSG_RESULT, req, NULL, 0, (const uint8_t *)interrupted_value, sizeof interrupted_value - 1, 0);
            return CONSUMED;
        }
        int32_t r = 0;
        req_add(fw, (int32_t)req, 0);
        fw->in_engine = 1;
        m = sxs_engine_submit_staged(fw->e, (int32_t)req, fw->in.proc, fw->in.text_len, &r);
        fw->in_engine = 0;
        if (m) {
            trap(fw, m); /* answers it with the table */
            return CONSUMED;
        }
        if (r != 0) {
            int i = req_find(fw, (int32_t)req);
            if (i >= 0) req_remove(fw, i);
        }
        if (r == -1) {
            /* the image keeps the text staged on -1: this last fragment waits, and its
             * retry writes the same bytes again and submits again */
            fw->in.active = 1;
            fw->in.off -= f->len;
            return BUSY;
        }
        submit_answer(fw, req, r);
        return CONSUMED;
    }
    if (m) {
        trap(fw, m); /* fw->in.active: trap() answers it */
        if (!more) fw->in.skip = 0;
    }
    return CONSUMED;
}

static int fixed(sxs_fw *fw, const sxs_link_frag *f, uint32_t want, uint8_t *p)
{
    if (f->len != want) {
        send_error(fw, f->req, SXS_ERR_MALFORMED, "%s payload of %u bytes, expected %u", sxs_msg_name(f->type),
                   (unsigned)f->len, (unsigned)want);
        return 0;
    }
    sxs_link_frag_copy(f, 0, p, want);
    return 1;
}

static void linger(sxs_fw *fw, uint8_t what, uint8_t flags)
{
    fw->linger = what;
    fw->linger_flags = flags;
    fw->linger_until = fw_ms(fw) + SXS_FW_LINGER_MS;
}

static void do_watch(sxs_fw *fw, const sxs_link_frag *f)
{
    uint8_t p[8], ch, on;
    int32_t topic;
    if (!fixed(fw, f, 8, p)) return;
    sxs_msg_watch(p, 8, &ch, &on, &topic);
    if (on > 1) {
        send_error(fw, f->req, SXS_ERR_MALFORMED, "on must be 0 or 1, not %u", (unsigned)on);
        return;
    }
    if (!fw->e) {
        send_error(fw, f->req, SXS_ERR_NO_IMAGE, "no image is running");
        return;
    }
    int32_t r = 0;
    if (!ok(fw, sxs_engine_watch(fw->e, ch, topic, on, &r))) {
        send_error(fw, f->req, SXS_ERR_INTERNAL, "image trapped");
        return;
    }
    if (r == -1) {
        send_error(fw, f->req, SXS_ERR_BAD_ARGUMENT, "channel %u or topic %d out of range", (unsigned)ch, (int)topic);
        return;
    }
    if (r == -2) {
        send_error(fw, f->req, SXS_ERR_WATCH_FULL, "the watch table is full");
        return;
    }
    uint32_t i = 0;
    while (i < fw->nwatches && !(fw->watches[i].channel == ch && fw->watches[i].topic == topic)) i++;
    if (on && i == fw->nwatches && fw->nwatches < SXS_FW_MAX_WATCHES) {
        fw->watches[fw->nwatches].channel = ch;
        fw->watches[fw->nwatches++].topic = topic;
    } else if (!on && i < fw->nwatches) {
        fw->watches[i] = fw->watches[--fw->nwatches];
    }
    send_ok(fw, f->req, 0, 0);
}

static void do_flash_begin(sxs_fw *fw, const sxs_link_frag *f)
{
    uint8_t p[12], slot;
    uint32_t size, crc;
    if (!fixed(fw, f, 12, p)) return;
    sxs_msg_flash_begin(p, 12, &size, &crc, &slot);
    fw->xfer.active = 0; /* forget any earlier transfer */
    int target;
    if (slot == SXS_SLOT_INACTIVE) target = fw->running_slot == 0 ? 1 : 0;
    else if (slot > 1) {
        send_error(fw, f->req, SXS_ERR_FLASH_BAD_SLOT, "there is no slot %u", (unsigned)slot);
        return;
    } else if (slot == fw->running_slot) {
        send_error(fw, f->req, SXS_ERR_FLASH_BAD_SLOT, "slot %u is active", (unsigned)slot);
        return;
    } else target = slot;
    uint32_t cap = sxs_slot_size(fw->port->flash);
    if (size > cap) {
        send_error(fw, f->req, SXS_ERR_FLASH_TOO_LARGE, "image of %u bytes, a slot holds %u", (unsigned)size, (unsigned)cap);
        return;
    }
    sxs_xfer_begin(&fw->xfer, f->req, target, size, crc);
    send_ok(fw, f->req, (uint32_t)target, 0);
}

static void do_flash_data(sxs_fw *fw, const sxs_link_frag *f)
{
    if (f->len < 4) {
        send_error(fw, f->req, SXS_ERR_MALFORMED, "FLASH_DATA payload of %u bytes, expected at least 4", (unsigned)f->len);
        return;
    }
    if (!fw->xfer.active || fw->xfer.req != f->req) {
        send_error(fw, f->req, SXS_ERR_FLASH_NO_TRANSFER, "no transfer %u in progress", (unsigned)f->req);
        return;
    }
    if (fw->xfer.failed) return; /* one ERROR per transfer; the rest is ignored */
    uint8_t o[4];
    uint32_t offset;
    sxs_link_frag_copy(f, 0, o, 4);
    sxs_msg_flash_data(o, 4, &offset);
    /* the data: payload bytes 4.. (two pieces) */
    const uint8_t *a, *b = NULL;
    size_t na, nb = 0;
    if (f->n1 >= 4) a = f->p1 + 4, na = f->n1 - 4, b = f->p2, nb = f->n2;
    else a = f->p2 + (4 - f->n1), na = f->len - 4;
    uint32_t expect = fw->xfer.received;
    uint16_t code = sxs_xfer_data(&fw->xfer, fw->port->flash, offset, a, na, b, nb);
    if (code == SXS_ERR_FLASH_BAD_OFFSET)
        send_error(fw, f->req, code, "data at offset %u, expected %u (size %u)", (unsigned)offset, (unsigned)expect,
                   (unsigned)fw->xfer.size);
    else if (code)
        send_error(fw, f->req, code, "writing slot %u at %u failed", (unsigned)fw->xfer.slot, (unsigned)expect);
}

static void do_flash_commit(sxs_fw *fw, const sxs_link_frag *f)
{
    uint8_t p[1];
    if (!fixed(fw, f, 1, p)) return;
    sxs_image_header h;
    char msg[200];
    uint16_t code = sxs_xfer_check(&fw->xfer, fw->port->flash, f->req, SXS_ABI_VERSION, &h, msg, sizeof msg);
    if (code) {
        if (fw->xfer.active && fw->xfer.req == f->req) fw->xfer.failed = 1;
        send_error(fw, f->req, code, "%s", msg);
        return;
    }
    /* load it with the engine in a scratch instance: exports, ABI version, sxs_init.
     * A board without room for two instances stops the running one first (its
     * unanswered requests get an ERROR) and starts it again unless it reboots. */
    int slot = fw->xfer.slot;
    int running = fw->running_slot;
    int in_place = fw->cfg.commit_check_in_place && fw->e;
    int reboot = !(p[0] & SXS_COMMIT_NO_REBOOT);
    if (in_place) {
        /* what runs is interrupted and answers @"interrupted" (docs/link.md section 11);
           anything still unanswered after a few slices is lost with the instance */
        interrupt_requests(fw, 0);
        for (int k = 0; k < 16 && fw->e && fw->nreqs; k++) {
            int32_t more = 0;
            if (!ok(fw, run(fw, &more)) || !more) break;
        }
        if (fw->e) close_image(fw, "image stopped", "FLASH_COMMIT checks the new image in its place");
    }
    sxs_engine *scratch = NULL;
    uint8_t reason = open_slot(fw, slot, &scratch, &h, 1, &scratch_ops);
    if (!reason) sxs_engine_close(scratch);
    uint16_t fail = reason ? SXS_ERR_IMAGE_REJECTED : 0;
    if (!fail) {
        sxs_boot_record rec = { 0, (uint8_t)slot, SXS_BOOT_PENDING, 0, (uint8_t)running, h.wasm_crc, 0, 0 };
        if (sxs_boot_record_store(fw->port->flash, &rec) != 0) {
            fail = SXS_ERR_FLASH_WRITE;
            snprintf(fw->err, sizeof fw->err, "writing the boot record failed");
        }
    }
    if (fail) {
        fw->xfer.failed = 1;
        send_error(fw, f->req, fail, "%s", fw->err);
    } else {
        fw->xfer.active = 0;
        fw->rollback_reason = 0;
        fw->failed_crc = 0;
        send_ok(fw, f->req, h.wasm_crc, 1);
    }
    if (in_place && (fail || !reboot)) restart_image(fw, running, fw_ms(fw));
    if (!fail && reboot) linger(fw, LINGER_COMMIT, 0);
}

/* Act on the oldest waiting frame; BUSY leaves it waiting. */
static int handle(sxs_fw *fw, const sxs_link_frag *f)
{
    /* continuing a fragmented message, or cutting it short */
    if (fw->in.active || fw->in.skip) {
        if (f->type == fw->in.type && f->req == fw->in.req) {
            if (fw->in.skip) {
                if (!(f->flags & SXS_FLAG_MORE)) fw->in.skip = 0;
                return CONSUMED;
            }
            return exec_next(fw, f);
        }
        if (fw->in.active) send_error(fw, fw->in.req, SXS_ERR_MALFORMED, "fragmented message cut short");
        memset(&fw->in, 0, sizeof fw->in);
    }
    if (f->type == SXS_MSG_EXEC) return exec_first(fw, f);
    if (f->flags & SXS_FLAG_MORE) {
        send_error(fw, f->req, SXS_ERR_TOO_LARGE, "%s may not be fragmented", sxs_msg_name(f->type) ? sxs_msg_name(f->type) : "message");
        skip_rest(fw, f);
        return CONSUMED;
    }
    uint8_t p[1];
    switch (f->type) {
    case SXS_MSG_WATCH: do_watch(fw, f); break;
    case SXS_MSG_PING: send_msg(fw, SXS_MSG_PONG, f->req, f->p1, f->n1, f->p2, f->n2, 0); break;
    case SXS_MSG_RESET:
        if (fixed(fw, f, 1, p)) {
            send_ok(fw, f->req, 0, 1);
            linger(fw, LINGER_RESET, p[0]);
        }
        break;
    case SXS_MSG_GET_INFO:
        if (fixed(fw, f, 0, p)) {
            uint8_t info[SXS_BOARD_INFO_MAX + 4];
            size_t n = board_info(fw, info, 0);
            send_msg(fw, SXS_MSG_INFO, f->req, info, n, NULL, 0, 0);
        }
        break;
    case SXS_MSG_LEAVE:
        if (fixed(fw, f, 0, p)) {
            send_ok(fw, f->req, 0, 1);
            linger(fw, LINGER_LEAVE, 0);
        }
        break;
    case SXS_MSG_FLASH_BEGIN: do_flash_begin(fw, f); break;
    case SXS_MSG_FLASH_DATA: do_flash_data(fw, f); break;
    case SXS_MSG_FLASH_COMMIT: do_flash_commit(fw, f); break;
    default: send_error(fw, f->req, SXS_ERR_UNKNOWN_TYPE, "unknown message type 0x%02x", (unsigned)f->type); break;
    }
    return CONSUMED;
}

static int deliver(sxs_fw *fw)
{
    int busy = 0;
    sxs_link_frag f;
    while (session_up(fw) && sxs_link_peek(&fw->link, &f)) {
        /* room for any answer first: the board never drops what it sends */
        if (sxs_link_tx_room(&fw->link) < SXS_FRAME_MAX_BODY) {
            busy = 1;
            break;
        }
        if (handle(fw, &f) == BUSY) {
            busy = 1;
            break;
        }
        if (session_up(fw)) sxs_link_consume(&fw->link);
    }
    return busy;
}

/* ---- text mode ------------------------------------------------------------------------------- */

static int blank(const uint8_t *t, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (t[i] != ' ' && t[i] != '\t' && t[i] != '\n' && t[i] != '\r') return 0;
    return 1;
}

static void text_work(sxs_fw *fw)
{
    uint32_t s, end;
    while (fw->mode == SXS_FW_TEXT && !fw->stop && fw->text_running == 0 && sxs_text_next_line(&fw->text, &s, &end)) {
        const uint8_t *t = fw->text.buf;
        if (blank(t, end)) {
            sxs_text_take(&fw->text, end);
            prompt(fw);
            continue;
        }
        if (!fw->e) {
            sxs_text_take(&fw->text, end);
            outs(fw, "!! no image is running\r\n");
            prompt(fw);
            continue;
        }
        sxs_split_result sr;
        fw->in_engine = 1;
        const char *m = sxs_engine_split(fw->e, t, end, &sr);
        fw->in_engine = 0;
        if (m) {
            sxs_text_take(&fw->text, end);
            trap(fw, m);
            continue;
        }
        int unclosed = sr.n < 0 && sr.error_len >= 17 && memcmp(sr.error, "@\"parse: unclosed", 17) == 0;
        sxs_split_result_free(&sr);
        if (unclosed) {
            sxs_text_continue(&fw->text, end);
            outs(fw, ".. ");
            continue;
        }
        if (fw->nreqs >= SXS_FW_MAX_REQUESTS) return; /* after some results */
        int32_t id = fw->next_text_req, r = 0;
        req_add(fw, id, 1); /* before sxs_submit: the image may answer at once */
        fw->in_engine = 1;
        m = sxs_engine_submit(fw->e, id, 0, t, end, &r);
        fw->in_engine = 0;
        if (m) {
            sxs_text_take(&fw->text, end);
            trap(fw, m);
            continue;
        }
        if (r != 0) {
            int i = req_find(fw, id);
            if (i >= 0) req_remove(fw, i);
        }
        if (r == -1) return; /* queue full: the line waits, the image runs */
        fw->next_text_req = fw->next_text_req == 0x7FFFFFFF ? SXS_FW_TEXT_REQ_BASE : fw->next_text_req + 1;
        sxs_text_take(&fw->text, end);
        if (r == 0) {
            fw->more = 1;
        } else {
            if (r == -3) outs(fw, "!! out of memory\r\n");
            else outf(fw, "!! request refused: %d\r\n", (int)r);
            prompt(fw);
        }
    }
}

static void input(sxs_fw *fw, const uint8_t *b, size_t n)
{
    size_t i = 0;
    while (i < n && fw->mode == SXS_FW_TEXT) {
        int r = sxs_text_feed(&fw->text, b[i++]);
        if (r == SXS_TEXT_ENTER) start_session(fw);
        else if (r == SXS_TEXT_CTRL_C) text_interrupt(fw);
        else if (r == SXS_TEXT_TOO_LONG) {
            outf(fw, "!! line longer than %u bytes dropped\r\n", (unsigned)sizeof fw->rx_buf - 2);
            prompt(fw);
        }
    }
    if (i < n && fw->mode == SXS_FW_FRAMED) sxs_link_receive(&fw->link, b + i, n - i, fw_ms(fw));
}

/* ---- boot ----------------------------------------------------------------------------------- */

void sxs_fw_boot(sxs_fw *fw, const sxs_fw_port *port, const sxs_fw_config *cfg, const sxs_reset_info *ri)
{
    memset(fw, 0, sizeof *fw);
    fw->port = port;
    fw->cfg = *cfg;
    fw->boot_ms = fw_ms(fw);
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
    boot_image(fw, fw->boot_ms);

    if (framed) {
        start_session(fw);
        if (fw->boot_note[0]) send_msg(fw, SXS_MSG_LOG, 0, NULL, 0, (const uint8_t *)fw->boot_note, strlen(fw->boot_note), 0);
        replay_capture(fw);
    } else {
        uint32_t keep = fw->capture_len;
        if (fw->e)
            outf(fw, "sxs %s abi %d slot %u image %08x\r\n", fw->cfg.firmware, SXS_ABI_VERSION, (unsigned)fw->running_slot,
                 (unsigned)fw->image_crc);
        else
            outf(fw, "sxs %s abi %d slot none image none\r\n", fw->cfg.firmware, SXS_ABI_VERSION);
        if (fw->boot_note[0]) outf(fw, "%s\r\n", fw->boot_note);
        fw->capture_len = keep;
        replay_capture(fw);
        enter_text(fw);
        prompt(fw);
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
        } else if (kind == EV_INTERRUPT && session_up(fw)) {
            do_interrupt(fw, req);
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
    const char *m = run(fw, &more);
    if (!ok(fw, m)) return;
    fw->more = (uint8_t)(more != 0);
    if (!more && fw->e) {
        double nt = -1;
        if (ok(fw, sxs_engine_next_timer(fw->e, &nt))) fw->next_timer = nt;
    }
}

static void do_linger(sxs_fw *fw)
{
    if (!fw->linger || fw->mode != SXS_FW_FRAMED) return;
    if (!sxs_link_all_acked(&fw->link) && !sxs_time_reached(fw_ms(fw), fw->linger_until)) return;
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
    uint32_t s, e;
    if (fw->nevents || fw->enter_pending) return 0;
    if (fw->e && fw->more && !(fw->mode == SXS_FW_FRAMED && sxs_link_tx_room(&fw->link) < SXS_FRAME_MAX_BODY)) return 0;
    if (fw->mode == SXS_FW_TEXT && fw->text_running == 0 && sxs_text_next_line(&fw->text, &s, &e)) return 0;
    if (fw->mode == SXS_FW_FRAMED && !busy && fw->link.rx_count && sxs_link_tx_room(&fw->link) >= SXS_FRAME_MAX_BODY) return 0;
    uint32_t now = fw_ms(fw);
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
    if (fw->mode == SXS_FW_FRAMED) fw->busy = (uint8_t)deliver(fw);
    else text_work(fw);
    events(fw);
    run_image(fw);
    if (fw->mode == SXS_FW_FRAMED && !fw->stop) {
        sxs_link_flush(&fw->link, fw_ms(fw));
        if (sxs_link_down(&fw->link)) fw->link_lost = 1;
        do_linger(fw);
        if (fw->mode == SXS_FW_FRAMED && !fw->stop) {
            uint32_t now = fw_ms(fw);
            if (fw->link_lost || (fw->cfg.link_idle_ms && sxs_time_reached(now, fw->last_rx_ms + fw->cfg.link_idle_ms)))
                leave_framed(fw);
        }
    }
    return fw->stop;
}
