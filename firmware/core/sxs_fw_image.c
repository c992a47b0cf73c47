/* sxs_fw_image.c - the image's life on the board: open the engine on a slot's image,
 * boot (first boot of a blank flash, a PENDING image's trial, rollback), and stop and
 * restart the image after a trap or a crash loop.  Part of sxs_fw (sxs_fw_internal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sxs_crc32.h"
#include "sxs_fw_internal.h"
#include "sxs_msg.h"

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
uint8_t sxs_fw_open_slot(sxs_fw *fw, int slot, sxs_engine **out, sxs_image_header *h, int safe,
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
    reason = sxs_fw_open_slot(fw, slot, &fw->e, &h, fw->safe_mode, &sxs_fw_host_ops);
    if (reason) return reason;
    fw->running_slot = (uint8_t)slot;
    fw->image_crc = h.wasm_crc;
    fw->more = 1;
    fw->next_timer = -1;
    fw->image_started_ms = sxs_fw_ms(fw);
    if (!trial) return 0;
    /* autorun (the boot key) to idle; the output is kept for after HELLO */
    fw->capturing = 1;
    for (;;) {
        int32_t more = 0;
        const char *m = sxs_fw_run(fw, &more);
        if (m) {
            snprintf(fw->err, sizeof fw->err, "%s", m);
            reason = SXS_RB_TRAP;
            break;
        }
        if (!more) break;
        if ((uint32_t)(sxs_fw_ms(fw) - boot_start) >= SXS_FW_HELLO_DEADLINE_MS) {
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

/* The first boot of a sxs_fw_blank (or foreign) flash: find or install an image. */
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

void sxs_fw_boot_image(sxs_fw *fw, uint32_t boot_start)
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

/* ---- stopping and restarting the image ----------------------------------------------------- */

/* Close the running instance.  Every unanswered request of the host is lost with it and
 * gets ERROR INTERNAL "WHAT: WHY"; so does a fragmented EXEC staged in it. */
void sxs_fw_close_image(sxs_fw *fw, const char *what, const char *why)
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
            if (!text[i]) sxs_fw_send_error(fw, (uint32_t)ids[i], SXS_ERR_INTERNAL, "%s: %s", what, why);
    if (fw->in.active && fw->in.type == SXS_MSG_EXEC) {
        sxs_fw_send_error(fw, fw->in.req, SXS_ERR_INTERNAL, "%s: %s", what, why);
        fw->in.active = 0;
        fw->in.skip = 1;
    }
}

/* Start the image of `slot` again (memory-only state is lost; the K/V store comes back
 * from flash); the session's watches carry over.  Says so when it does not come up. */
void sxs_fw_restart_image(sxs_fw *fw, int slot, uint32_t now)
{
    if (slot <= 1 && start_slot(fw, slot, 0, now) == 0) {
        for (uint32_t i = 0; i < fw->nwatches && fw->e; i++) {
            int32_t r;
            if (sxs_engine_watch(fw->e, fw->watches[i].channel, fw->watches[i].topic, 1, &r)) break;
        }
    } else if (fw->mode == SXS_FW_FRAMED) {
        char line[360];
        int k = snprintf(line, sizeof line, "sxs: the image does not restart: %s", fw->err);
        sxs_fw_send_msg(fw, SXS_MSG_LOG, 0, NULL, 0, (const uint8_t *)line, (size_t)(k < (int)sizeof line ? k : (int)sizeof line - 1), 0);
    } else {
        sxs_fw_outf(fw, "sxs: the image does not restart: %s\r\n", fw->err);
    }
}

/* A trap: report it, then restart the image (three quick traps: in safe mode). */
void sxs_fw_trap(sxs_fw *fw, const char *msg)
{
    char m[300];
    snprintf(m, sizeof m, "%s", msg);
    uint32_t now = sxs_fw_ms(fw);
    fw->quick_traps = (uint32_t)(now - fw->image_started_ms) < 2000 ? fw->quick_traps + 1 : 1;
    int safe = fw->safe_mode || fw->quick_traps >= 3;
    /* the same line in both modes (a LOG in framed mode), as the V8 board says it */
    char line[400];
    int k = snprintf(line, sizeof line, "sxs: image trapped: %s; restarting%s", m, safe && !fw->safe_mode ? " in safe mode" : "");
    size_t len = (size_t)(k < (int)sizeof line ? k : (int)sizeof line - 1);
    if (fw->mode == SXS_FW_FRAMED) sxs_fw_send_msg(fw, SXS_MSG_LOG, 0, NULL, 0, (const uint8_t *)line, len, 0);
    else sxs_fw_outf(fw, "%s\r\n", line);
    int slot = fw->running_slot;
    sxs_fw_close_image(fw, "image trapped", m);
    fw->safe_mode = (uint8_t)safe;
    sxs_fw_restart_image(fw, slot, now);
    if (fw->mode == SXS_FW_TEXT) sxs_fw_prompt(fw);
}
