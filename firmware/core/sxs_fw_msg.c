/* sxs_fw_msg.c - the framed messages of docs/link.md on the board: EXEC (fragmented),
 * INTERRUPT, WATCH, the FLASH_* transfer, RESET, LEAVE, INFO; and INTERRUPT's text-mode
 * twin, Ctrl-C.  Part of sxs_fw (sxs_fw_internal.h). */
#include <stdio.h>
#include <string.h>

#include "sxs_crc32.h"
#include "sxs_fw_internal.h"
#include "sxs_msg.h"

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
        if (!sxs_fw_ok(fw, m)) break;
        found += r == 1;
    }
    return found;
}

void sxs_fw_interrupt(sxs_fw *fw, uint32_t req)
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
            if (sxs_fw_ok(fw, m)) found += r == 1;
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
    sxs_fw_send_ok(fw, req, found, 0);
}

/* Ctrl-C in text mode: the line being typed and an unfinished form go; the running
 * request is interrupted and the queued forms end as @"interrupted" after it, in order;
 * with nothing running or queued, just a new prompt. */
void sxs_fw_text_interrupt(sxs_fw *fw)
{
    sxs_fw_outs(fw, "^C\r\n");
    fw->prompt_shown = 0;
    sxs_text_discard_line(&fw->text);
    sxs_text_drop_form(&fw->text);
    if (fw->text_running == 0 && !fw->text.queued) {
        sxs_fw_prompt(fw);
        return;
    }
    fw->text_skip = sxs_text_queued_forms(&fw->text);
    if (fw->text_running && fw->e) {
        fw->more = 1;
        interrupt_requests(fw, 1);
    }
}

/* ---- messages --------------------------------------------------------------------------- */

enum { CONSUMED = 1, BUSY = 0 };

static int queue_full(sxs_fw *fw)
{
    if (fw->nreqs >= SXS_FW_MAX_REQUESTS) return 1;
    uint32_t cap = (uint32_t)(fw->cfg.queue > 0 ? fw->cfg.queue : SXS_FW_DEFAULT_QUEUE);
    return sxs_fw_stat_u32(fw, SXS_STAT_QUEUED) >= cap;
}

static void submit_answer(sxs_fw *fw, uint32_t req, int32_t r)
{
    switch (r) {
    case 0: fw->more = 1; break;
    case -2:
        sxs_fw_send_error(fw, req, SXS_ERR_NO_PROCESSOR, "no processor %u (the board has %u)", (unsigned)fw->in.proc,
                          (unsigned)(fw->cfg.processors > 0 ? fw->cfg.processors : 1));
        break;
    case -3: sxs_fw_send_error(fw, req, SXS_ERR_OUT_OF_MEMORY, "out of memory"); break;
    case -4: sxs_fw_send_error(fw, req, SXS_ERR_BAD_REQ, "request %u refused by the image", (unsigned)req); break;
    default: sxs_fw_send_error(fw, req, SXS_ERR_INTERNAL, "sxs_submit returned %d", (int)r); break;
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
        sxs_fw_send_error(fw, req, SXS_ERR_MALFORMED, "EXEC payload of %u bytes, expected at least 5", (unsigned)f->len);
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
        sxs_fw_send_msg(fw, SXS_MSG_RESULT, req, NULL, 0, (const uint8_t *)SXS_FW_INTERRUPTED, sizeof SXS_FW_INTERRUPTED - 1, 0);
        skip_rest(fw, f);
        return CONSUMED;
    }
    if (req == 0 || req > 0x7FFFFFFFu || sxs_fw_req_find(fw, (int32_t)req) >= 0) {
        sxs_fw_send_error(fw, req, SXS_ERR_BAD_REQ, req == 0 || req > 0x7FFFFFFFu ? "request id %u out of range" : "request %u is unanswered", (unsigned)req);
        skip_rest(fw, f);
        return CONSUMED;
    }
    if (!fw->e) {
        sxs_fw_send_error(fw, req, SXS_ERR_NO_IMAGE, "no image is running");
        skip_rest(fw, f);
        return CONSUMED;
    }
    if ((!more && have != text_len) || (more && have >= text_len)) {
        sxs_fw_send_error(fw, req, SXS_ERR_MALFORMED, "text_len %u but %s%u text bytes", (unsigned)text_len, more ? "more than " : "",
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
        sxs_fw_send_error(fw, req, SXS_ERR_INTERNAL, "image trapped: %s", m);
        sxs_fw_trap(fw, m);
        skip_rest(fw, f);
        return CONSUMED;
    }
    /* No memory to stage a long request while others run: it waits for them to finish
     * (a single frame learns the same from sxs_submit's -1 below). */
    if (!ptr && more && text_len <= sxs_fw_max_input(fw) && (fw->nreqs > 0 || fw->more)) return BUSY;
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
    sxs_fw_req_add(fw, (int32_t)req, 0);
    fw->in_engine = 1;
    m = sxs_engine_submit_staged(fw->e, (int32_t)req, proc, text_len, &r);
    fw->in_engine = 0;
    if (m) {
        sxs_fw_trap(fw, m); /* answers every request in the table, this one too */
        return CONSUMED;
    }
    if (r != 0) {
        int i = sxs_fw_req_find(fw, (int32_t)req);
        if (i >= 0) sxs_fw_req_remove(fw, i);
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
        sxs_fw_send_error(fw, req, SXS_ERR_MALFORMED, "text_len %u but %u text bytes", (unsigned)fw->in.text_len,
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
            sxs_fw_send_msg(fw, SXS_MSG_RESULT, req, NULL, 0, (const uint8_t *)SXS_FW_INTERRUPTED, sizeof SXS_FW_INTERRUPTED - 1, 0);
            return CONSUMED;
        }
        int32_t r = 0;
        sxs_fw_req_add(fw, (int32_t)req, 0);
        fw->in_engine = 1;
        m = sxs_engine_submit_staged(fw->e, (int32_t)req, fw->in.proc, fw->in.text_len, &r);
        fw->in_engine = 0;
        if (m) {
            sxs_fw_trap(fw, m); /* answers it with the table */
            return CONSUMED;
        }
        if (r != 0) {
            int i = sxs_fw_req_find(fw, (int32_t)req);
            if (i >= 0) sxs_fw_req_remove(fw, i);
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
        sxs_fw_trap(fw, m); /* fw->in.active: sxs_fw_trap() answers it */
        if (!more) fw->in.skip = 0;
    }
    return CONSUMED;
}

static int fixed(sxs_fw *fw, const sxs_link_frag *f, uint32_t want, uint8_t *p)
{
    if (f->len != want) {
        sxs_fw_send_error(fw, f->req, SXS_ERR_MALFORMED, "%s payload of %u bytes, expected %u", sxs_msg_name(f->type),
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
    fw->linger_until = sxs_fw_ms(fw) + SXS_FW_LINGER_MS;
}

static void do_watch(sxs_fw *fw, const sxs_link_frag *f)
{
    uint8_t p[8], ch, on;
    int32_t topic;
    if (!fixed(fw, f, 8, p)) return;
    sxs_msg_watch(p, 8, &ch, &on, &topic);
    if (on > 1) {
        sxs_fw_send_error(fw, f->req, SXS_ERR_MALFORMED, "on must be 0 or 1, not %u", (unsigned)on);
        return;
    }
    if (!fw->e) {
        sxs_fw_send_error(fw, f->req, SXS_ERR_NO_IMAGE, "no image is running");
        return;
    }
    int32_t r = 0;
    if (!sxs_fw_ok(fw, sxs_engine_watch(fw->e, ch, topic, on, &r))) {
        sxs_fw_send_error(fw, f->req, SXS_ERR_INTERNAL, "image trapped");
        return;
    }
    if (r == -1) {
        sxs_fw_send_error(fw, f->req, SXS_ERR_BAD_ARGUMENT, "channel %u or topic %d out of range", (unsigned)ch, (int)topic);
        return;
    }
    if (r == -2) {
        sxs_fw_send_error(fw, f->req, SXS_ERR_WATCH_FULL, "the watch table is full");
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
    sxs_fw_send_ok(fw, f->req, 0, 0);
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
        sxs_fw_send_error(fw, f->req, SXS_ERR_FLASH_BAD_SLOT, "there is no slot %u", (unsigned)slot);
        return;
    } else if (slot == fw->running_slot) {
        sxs_fw_send_error(fw, f->req, SXS_ERR_FLASH_BAD_SLOT, "slot %u is active", (unsigned)slot);
        return;
    } else target = slot;
    uint32_t cap = sxs_slot_size(fw->port->flash);
    if (size > cap) {
        sxs_fw_send_error(fw, f->req, SXS_ERR_FLASH_TOO_LARGE, "image of %u bytes does not fit a %u-byte slot", (unsigned)size, (unsigned)cap);
        return;
    }
    sxs_xfer_begin(&fw->xfer, f->req, target, size, crc);
    sxs_fw_send_ok(fw, f->req, (uint32_t)target, 0);
}

static void do_flash_data(sxs_fw *fw, const sxs_link_frag *f)
{
    if (f->len < 4) {
        sxs_fw_send_error(fw, f->req, SXS_ERR_MALFORMED, "FLASH_DATA payload of %u bytes, expected at least 4", (unsigned)f->len);
        return;
    }
    if (!fw->xfer.active || fw->xfer.req != f->req) {
        sxs_fw_send_error(fw, f->req, SXS_ERR_FLASH_NO_TRANSFER, "no transfer %u in progress", (unsigned)f->req);
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
        sxs_fw_send_error(fw, f->req, code, "data at offset %u, expected %u (size %u)", (unsigned)offset, (unsigned)expect,
                   (unsigned)fw->xfer.size);
    else if (code)
        sxs_fw_send_error(fw, f->req, code, "writing slot %u at %u failed", (unsigned)fw->xfer.slot, (unsigned)expect);
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
        sxs_fw_send_error(fw, f->req, code, "%s", msg);
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
            if (!sxs_fw_ok(fw, sxs_fw_run(fw, &more)) || !more) break;
        }
        if (fw->e) sxs_fw_close_image(fw, "image stopped", "FLASH_COMMIT checks the new image in its place");
    }
    sxs_engine *scratch = NULL;
    uint8_t reason = sxs_fw_open_slot(fw, slot, &scratch, &h, 1, &sxs_fw_scratch_ops);
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
        sxs_fw_send_error(fw, f->req, fail, "%s", fw->err);
    } else {
        fw->xfer.active = 0;
        fw->rollback_reason = 0;
        fw->failed_crc = 0;
        sxs_fw_send_ok(fw, f->req, h.wasm_crc, 1);
    }
    if (in_place && (fail || !reboot)) sxs_fw_restart_image(fw, running, sxs_fw_ms(fw));
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
        if (fw->in.active) sxs_fw_send_error(fw, fw->in.req, SXS_ERR_MALFORMED, "fragmented message cut short");
        memset(&fw->in, 0, sizeof fw->in);
    }
    if (f->type == SXS_MSG_EXEC) return exec_first(fw, f);
    if (f->flags & SXS_FLAG_MORE) {
        sxs_fw_send_error(fw, f->req, SXS_ERR_TOO_LARGE, "%s may not be fragmented", sxs_msg_name(f->type) ? sxs_msg_name(f->type) : "message");
        skip_rest(fw, f);
        return CONSUMED;
    }
    uint8_t p[1];
    switch (f->type) {
    case SXS_MSG_WATCH: do_watch(fw, f); break;
    case SXS_MSG_PING: sxs_fw_send_msg(fw, SXS_MSG_PONG, f->req, f->p1, f->n1, f->p2, f->n2, 0); break;
    case SXS_MSG_RESET:
        if (fixed(fw, f, 1, p)) {
            sxs_fw_send_ok(fw, f->req, 0, 1);
            linger(fw, LINGER_RESET, p[0]);
        }
        break;
    case SXS_MSG_GET_INFO:
        if (fixed(fw, f, 0, p)) {
            uint8_t info[SXS_BOARD_INFO_MAX + 4];
            size_t n = sxs_fw_board_info(fw, info, 0);
            sxs_fw_send_msg(fw, SXS_MSG_INFO, f->req, info, n, NULL, 0, 0);
        }
        break;
    case SXS_MSG_LEAVE:
        if (fixed(fw, f, 0, p)) {
            sxs_fw_send_ok(fw, f->req, 0, 1);
            linger(fw, LINGER_LEAVE, 0);
        }
        break;
    case SXS_MSG_FLASH_BEGIN: do_flash_begin(fw, f); break;
    case SXS_MSG_FLASH_DATA: do_flash_data(fw, f); break;
    case SXS_MSG_FLASH_COMMIT: do_flash_commit(fw, f); break;
    default:
        if (sxs_msg_name(f->type)) sxs_fw_send_error(fw, f->req, SXS_ERR_UNKNOWN_TYPE, "unknown message type %s", sxs_msg_name(f->type));
        else sxs_fw_send_error(fw, f->req, SXS_ERR_UNKNOWN_TYPE, "unknown message type 0x%02x", (unsigned)f->type);
        break;
    }
    return CONSUMED;
}

int sxs_fw_deliver(sxs_fw *fw)
{
    int busy = 0;
    sxs_link_frag f;
    while (sxs_fw_session_up(fw) && sxs_link_peek(&fw->link, &f)) {
        /* room for any answer first: the board never drops what it sends */
        if (sxs_link_tx_room(&fw->link) < SXS_FRAME_MAX_BODY) {
            busy = 1;
            break;
        }
        if (handle(fw, &f) == BUSY) {
            busy = 1;
            break;
        }
        if (sxs_fw_session_up(fw)) sxs_link_consume(&fw->link);
    }
    return busy;
}
