/* sxs_slots.c - see sxs_slots.h. */
#include "sxs_slots.h"

#include <stdio.h>
#include <string.h>

#include "sxs_crc32.h"
#include "sxs_frame.h"
#include "sxs_msg.h"

static const uint8_t rec_magic[4] = { 0x53, 0x58, 0x53, 0x42 };

/* ---- the board's flash ---- */

static uint32_t b_size(void *c, sxs_partition p) { (void)c; return sxs_board_flash_size(p); }
static int b_read(void *c, sxs_partition p, uint32_t o, void *b, uint32_t n) { (void)c; return sxs_board_flash_read(p, o, b, n); }
static int b_write(void *c, sxs_partition p, uint32_t o, const void *b, uint32_t n) { (void)c; return sxs_board_flash_write(p, o, b, n); }
static int b_erase(void *c, sxs_partition p, uint32_t o, uint32_t n) { (void)c; return sxs_board_flash_erase(p, o, n); }
static const void *b_map(void *c, sxs_partition p, uint32_t o, uint32_t n) { (void)c; return sxs_board_flash_map(p, o, n); }
static void b_unmap(void *c, const void *v) { (void)c; sxs_board_flash_unmap(v); }
const sxs_flash_ops sxs_board_flash_ops = { NULL, b_size, b_read, b_write, b_erase, b_map, b_unmap };

/* ---- boot record ---- */

void sxs_boot_record_encode(const sxs_boot_record *r, uint8_t o[SXS_BOOT_RECORD_LEN])
{
    memset(o, 0, SXS_BOOT_RECORD_LEN);
    memcpy(o, rec_magic, 4);
    sxs_wr32(o + 4, r->counter);
    o[8] = r->active;
    o[9] = r->state;
    o[10] = r->attempts;
    o[11] = r->previous;
    sxs_wr32(o + 12, r->active_crc);
    sxs_wr32(o + 16, r->failed_crc);
    o[20] = r->rollback_reason;
    sxs_wr32(o + 28, sxs_crc32(o, 28));
}

int sxs_boot_record_decode(const uint8_t in[SXS_BOOT_RECORD_LEN], sxs_boot_record *r)
{
    if (memcmp(in, rec_magic, 4) != 0 || sxs_rd32(in + 28) != sxs_crc32(in, 28)) return -1;
    r->counter = sxs_rd32(in + 4);
    r->active = in[8];
    r->state = in[9];
    r->attempts = in[10];
    r->previous = in[11];
    r->active_crc = sxs_rd32(in + 12);
    r->failed_crc = sxs_rd32(in + 16);
    r->rollback_reason = in[20];
    return 0;
}

/* The winner's sector (0/1), or -1. */
static int load(const sxs_flash_ops *f, sxs_boot_record *out)
{
    int best = -1;
    for (int s = 0; s < 2; s++) {
        uint8_t b[SXS_BOOT_RECORD_LEN];
        sxs_boot_record r;
        if (f->read(f->ctx, SXS_PART_BOOT, (uint32_t)s * SXS_FLASH_SECTOR, b, sizeof b) != 0) continue;
        if (sxs_boot_record_decode(b, &r) != 0) continue;
        if (best < 0 || r.counter > out->counter) {
            *out = r;
            best = s;
        }
    }
    return best;
}

int sxs_boot_record_load(const sxs_flash_ops *f, sxs_boot_record *r) { return load(f, r) < 0 ? -1 : 0; }

int sxs_boot_record_store(const sxs_flash_ops *f, sxs_boot_record *r)
{
    sxs_boot_record cur;
    int s = load(f, &cur);
    r->counter = s < 0 ? 1 : cur.counter + 1;
    uint32_t off = (s == 0 ? 1u : 0u) * SXS_FLASH_SECTOR;
    int e = f->erase(f->ctx, SXS_PART_BOOT, off, SXS_FLASH_SECTOR);
    if (e) return e;
    uint8_t b[SXS_BOOT_RECORD_LEN];
    sxs_boot_record_encode(r, b);
    return f->write(f->ctx, SXS_PART_BOOT, off, b, sizeof b);
}

/* ---- slots ---- */

uint32_t sxs_slot_size(const sxs_flash_ops *f)
{
    uint32_t a = f->size(f->ctx, SXS_PART_IMAGE_A), b = f->size(f->ctx, SXS_PART_IMAGE_B);
    return a < b ? a : b;
}

static int crc_range(const sxs_flash_ops *f, int slot, uint32_t off, uint32_t len, uint32_t *state)
{
    uint8_t buf[256];
    while (len) {
        uint32_t n = len < sizeof buf ? len : (uint32_t)sizeof buf;
        int e = f->read(f->ctx, sxs_slot_part(slot), off, buf, n);
        if (e) return e;
        *state = sxs_crc32_update(*state, buf, n);
        off += n, len -= n;
    }
    return 0;
}

int sxs_slot_crc(const sxs_flash_ops *f, int slot, uint32_t len, uint32_t *crc)
{
    uint32_t s = SXS_CRC32_INIT;
    int e = crc_range(f, slot, 0, len, &s);
    *crc = sxs_crc32_final(s);
    return e;
}

sxs_image_err sxs_slot_verify(const sxs_flash_ops *f, int slot, uint32_t file_len, uint32_t abi,
                              sxs_image_header *h, uint32_t *got_crc)
{
    uint32_t size = f->size(f->ctx, sxs_slot_part(slot));
    uint8_t hb[SXS_IMAGE_HEADER_LEN];
    *got_crc = 0;
    memset(h, 0, sizeof *h);
    if (size < SXS_IMAGE_HEADER_LEN) return SXS_IMG_IO;
    if (f->read(f->ctx, sxs_slot_part(slot), 0, hb, sizeof hb) != 0) return SXS_IMG_IO;
    if (file_len == 0) {
        /* at boot the file is what the header says; an erased slot reads 0xFF */
        uint32_t wl = sxs_rd32(hb + 12);
        file_len = wl <= size - SXS_IMAGE_HEADER_LEN ? SXS_IMAGE_HEADER_LEN + wl : size;
    }
    sxs_image_err e = sxs_image_check_header(hb, sizeof hb, file_len, abi, h);
    if (e) return e;
    if ((uint64_t)SXS_IMAGE_HEADER_LEN + h->wasm_len > size) return SXS_IMG_LENGTH;
    uint32_t s = SXS_CRC32_INIT;
    if (crc_range(f, slot, SXS_IMAGE_HEADER_LEN, h->wasm_len, &s) != 0) return SXS_IMG_IO;
    *got_crc = sxs_crc32_final(s);
    if (*got_crc != h->wasm_crc) return SXS_IMG_WASM_CRC;
    uint8_t pre[8];
    if (h->wasm_len < 8) return SXS_IMG_NOT_WASM;
    if (f->read(f->ctx, sxs_slot_part(slot), SXS_IMAGE_HEADER_LEN, pre, 8) != 0) return SXS_IMG_IO;
    if (memcmp(pre, sxs_wasm_preamble, 8) != 0) return SXS_IMG_NOT_WASM;
    return SXS_IMG_OK;
}

int sxs_slot_install(const sxs_flash_ops *f, int slot, const uint8_t *file, uint32_t len)
{
    sxs_partition p = sxs_slot_part(slot);
    if (len > f->size(f->ctx, p)) return SXS_FLASH_EBOUNDS;
    uint32_t er = (len + SXS_FLASH_SECTOR - 1) / SXS_FLASH_SECTOR * SXS_FLASH_SECTOR;
    if (er == 0) er = SXS_FLASH_SECTOR;
    int e = f->erase(f->ctx, p, 0, er);
    if (e) return e;
    return len ? f->write(f->ctx, p, 0, file, len) : 0;
}

int sxs_flash_blank(const sxs_flash_ops *f, uint32_t abi)
{
    sxs_boot_record r;
    if (sxs_boot_record_load(f, &r) == 0) return 0;
    for (int s = 0; s < 2; s++) {
        sxs_image_header h;
        uint32_t got;
        if (sxs_slot_verify(f, s, 0, abi, &h, &got) == SXS_IMG_OK) return 0;
    }
    return 1;
}

/* ---- transfer ---- */

void sxs_xfer_begin(sxs_flash_xfer *x, uint32_t req, int slot, uint32_t size, uint32_t crc)
{
    memset(x, 0, sizeof *x);
    x->active = 1;
    x->req = req;
    x->slot = (uint8_t)slot;
    x->size = size;
    x->crc = crc;
}

static int write_piece(sxs_flash_xfer *x, const sxs_flash_ops *f, const uint8_t *p, size_t n)
{
    sxs_partition part = sxs_slot_part(x->slot);
    while (n) {
        if (x->received >= x->erased) {
            int e = f->erase(f->ctx, part, x->erased, SXS_FLASH_SECTOR);
            if (e) return e;
            x->erased += SXS_FLASH_SECTOR;
        }
        uint32_t k = x->erased - x->received;
        if (k > n) k = (uint32_t)n;
        int e = f->write(f->ctx, part, x->received, p, k);
        if (e) return e;
        x->received += k, p += k, n -= k;
    }
    return 0;
}

uint16_t sxs_xfer_data(sxs_flash_xfer *x, const sxs_flash_ops *f, uint32_t offset, const uint8_t *p1, size_t n1,
                       const uint8_t *p2, size_t n2)
{
    if (offset != x->received || (uint64_t)offset + n1 + n2 > x->size) {
        x->failed = 1;
        return SXS_ERR_FLASH_BAD_OFFSET;
    }
    if (write_piece(x, f, p1, n1) || write_piece(x, f, p2, n2)) {
        x->failed = 1;
        return SXS_ERR_FLASH_WRITE;
    }
    return 0;
}

uint16_t sxs_xfer_check(sxs_flash_xfer *x, const sxs_flash_ops *f, uint32_t req, uint32_t abi, sxs_image_header *h,
                        char *msg, size_t cap)
{
    if (!x->active || x->failed || x->req != req) {
        if (x->active && x->req == req) snprintf(msg, cap, "transfer %u failed", (unsigned)req);
        else snprintf(msg, cap, "no transfer %u in progress", (unsigned)req);
        return SXS_ERR_FLASH_NO_TRANSFER;
    }
    if (x->received != x->size) {
        snprintf(msg, cap, "%u of %u bytes received", (unsigned)x->received, (unsigned)x->size);
        return SXS_ERR_FLASH_INCOMPLETE;
    }
    uint32_t crc;
    if (sxs_slot_crc(f, x->slot, x->size, &crc) != 0) {
        snprintf(msg, cap, "reading slot %u back failed", (unsigned)x->slot);
        return SXS_ERR_FLASH_WRITE;
    }
    if (crc != x->crc) {
        snprintf(msg, cap, "the slot reads back with CRC-32 %08x, FLASH_BEGIN said %08x", (unsigned)crc,
                 (unsigned)x->crc);
        return SXS_ERR_FLASH_BAD_CRC;
    }
    uint32_t got;
    sxs_image_err e = sxs_slot_verify(f, x->slot, x->size, abi, h, &got);
    if (e) {
        sxs_image_message(e, h, x->size, abi, got, msg, cap);
        return sxs_image_error_code(e);
    }
    return 0;
}
