/* test_slots.c - boot record, slot verification and image transfer on a
 * memory NOR flash, with power cuts at every byte of a boot-record write. */
#include <stdlib.h>
#include <string.h>

#include "memflash.h"
#include "sxs_crc32.h"
#include "sxs_frame.h"
#include "sxs_image.h"
#include "sxs_msg.h"
#include "sxs_slots.h"
#include "test.h"

static void record_roundtrip(void)
{
    sxs_boot_record r = { 7, 1, SXS_BOOT_PENDING, 2, 0, 0xDEADBEEF, 0x12345678, 3 }, d;
    uint8_t b[SXS_BOOT_RECORD_LEN];
    sxs_boot_record_encode(&r, b);
    CHECK(memcmp(b, "SXSB", 4) == 0 && sxs_rd32(b + 28) == sxs_crc32(b, 28));
    CHECK(b[8] == 1 && b[9] == 1 && b[10] == 2 && b[11] == 0 && sxs_rd32(b + 12) == 0xDEADBEEF && b[20] == 3);
    CHECK(sxs_boot_record_decode(b, &d) == 0);
    CHECK(d.counter == 7 && d.active == 1 && d.state == SXS_BOOT_PENDING && d.attempts == 2 && d.previous == 0 &&
          d.active_crc == 0xDEADBEEF && d.failed_crc == 0x12345678 && d.rollback_reason == 3);
    for (int i = 0; i < 32; i++) {
        uint8_t c[SXS_BOOT_RECORD_LEN];
        memcpy(c, b, sizeof c);
        c[i] ^= 0x10;
        CHECK(sxs_boot_record_decode(c, &d) == -1);
    }
    uint8_t blank[SXS_BOOT_RECORD_LEN];
    memset(blank, 0xFF, sizeof blank);
    CHECK(sxs_boot_record_decode(blank, &d) == -1);
}

static void record_alternates(void)
{
    memflash m;
    memflash_init(&m, 16 * 1024, 8 * 1024);
    sxs_boot_record r, got;
    CHECK(sxs_boot_record_load(&m.ops, &got) == -1);
    for (uint32_t i = 0; i < 6; i++) {
        memset(&r, 0, sizeof r);
        r.active = (uint8_t)(i & 1);
        r.active_crc = i;
        CHECK(sxs_boot_record_store(&m.ops, &r) == 0);
        CHECK(r.counter == i + 1);
        CHECK(sxs_boot_record_load(&m.ops, &got) == 0 && got.counter == i + 1 && got.active_crc == i);
        /* the record went to the sector that did not hold the previous one */
        uint8_t *s0 = m.b + m.off[SXS_PART_BOOT], *s1 = s0 + SXS_FLASH_SECTOR;
        sxs_boot_record a, b;
        int va = sxs_boot_record_decode(s0, &a) == 0, vb = sxs_boot_record_decode(s1, &b) == 0;
        CHECK(va || vb);
        if (i > 0) CHECK(va && vb && (a.counter == i + 1 || b.counter == i + 1) && (a.counter == i || b.counter == i));
    }
    memflash_free(&m);
}

static void record_torn_at_every_byte(void)
{
    /* a write of the next record cut at every byte of its erase and its
       write: the flash always holds a valid record, the old one or the new */
    memflash m;
    memflash_init(&m, 16 * 1024, 8 * 1024);
    sxs_boot_record r = { 0, 0, SXS_BOOT_CONFIRMED, 0, 0xFF, 0xAAAA0000, 0, 0 };
    CHECK(sxs_boot_record_store(&m.ops, &r) == 0);
    r.active = 1, r.active_crc = 0xBBBB0000;
    CHECK(sxs_boot_record_store(&m.ops, &r) == 0);
    uint32_t cases = 0, olds = 0, news = 0;
    uint8_t *snapshot = malloc(m.total);
    memcpy(snapshot, m.b, m.total);
    for (int64_t k = 0; k <= SXS_FLASH_SECTOR + SXS_BOOT_RECORD_LEN; k++) {
        memcpy(m.b, snapshot, m.total);
        memflash_cut_after(&m, k);
        sxs_boot_record n = { 0, 0, SXS_BOOT_PENDING, 0, 1, 0xCCCC0000, 0, 0 };
        int e = sxs_boot_record_store(&m.ops, &n);
        memflash_power_on(&m);
        sxs_boot_record got;
        int ok = sxs_boot_record_load(&m.ops, &got) == 0;
        CHECK(ok);
        if (!ok) continue;
        if (got.active_crc == 0xCCCC0000) {
            news++;
            CHECK(got.counter == 3 && got.state == SXS_BOOT_PENDING && e == 0);
        } else {
            olds++;
            CHECK(got.active_crc == 0xBBBB0000 && got.counter == 2 && e != 0);
        }
        /* and the next write after the cut works */
        sxs_boot_record z = { 0, 0, SXS_BOOT_CONFIRMED, 0, 0xFF, 0xDDDD0000, 0, 0 };
        CHECK(sxs_boot_record_store(&m.ops, &z) == 0);
        CHECK(sxs_boot_record_load(&m.ops, &got) == 0 && got.active_crc == 0xDDDD0000);
        cases++;
    }
    CHECK(cases == SXS_FLASH_SECTOR + SXS_BOOT_RECORD_LEN + 1 && news == 1 && olds == cases - 1);
    free(snapshot);
    memflash_free(&m);
}

static uint8_t *make_image(uint32_t wasm_len, uint32_t abi, uint32_t *len)
{
    uint8_t *f = malloc(SXS_IMAGE_HEADER_LEN + wasm_len);
    uint8_t *w = f + SXS_IMAGE_HEADER_LEN;
    for (uint32_t i = 0; i < wasm_len; i++) w[i] = (uint8_t)(i * 13 + 1);
    memcpy(w, sxs_wasm_preamble, wasm_len < 8 ? wasm_len : 8);
    sxs_image_build_header(abi, w, wasm_len, 0, f);
    *len = SXS_IMAGE_HEADER_LEN + wasm_len;
    return f;
}

static void slot_verify(void)
{
    memflash m;
    memflash_init(&m, 16 * 1024, 8 * 1024);
    uint32_t len, got;
    uint8_t *img = make_image(5000, 2, &len);
    sxs_image_header h;
    CHECK(sxs_slot_verify(&m.ops, 0, 0, 2, &h, &got) == SXS_IMG_MAGIC); /* erased */
    CHECK(sxs_slot_install(&m.ops, 0, img, len) == 0);
    CHECK(sxs_slot_verify(&m.ops, 0, 0, 2, &h, &got) == SXS_IMG_OK && h.wasm_len == 5000 && got == h.wasm_crc);
    CHECK(sxs_slot_verify(&m.ops, 0, len, 2, &h, &got) == SXS_IMG_OK);
    CHECK(sxs_slot_verify(&m.ops, 0, len + 1, 2, &h, &got) == SXS_IMG_LENGTH);
    CHECK(sxs_slot_verify(&m.ops, 0, 0, 3, &h, &got) == SXS_IMG_ABI);
    /* a flipped bit of the Wasm in flash */
    m.b[m.off[SXS_PART_IMAGE_A] + 100] &= 0xFE;
    CHECK(sxs_slot_verify(&m.ops, 0, 0, 2, &h, &got) == SXS_IMG_WASM_CRC);
    /* a header claiming more than the slot holds */
    uint8_t *big = make_image(20000, 2, &len);
    CHECK(sxs_slot_install(&m.ops, 1, big, len) == SXS_FLASH_EBOUNDS);
    free(img);
    free(big);
    memflash_free(&m);
}

static void transfer(void)
{
    memflash m;
    memflash_init(&m, 16 * 1024, 8 * 1024);
    uint32_t len;
    uint8_t *img = make_image(9000, 2, &len);
    sxs_flash_xfer x;
    sxs_image_header h;
    char msg[200];
    /* a slot full of an old image: the transfer erases sectors as data reaches them */
    uint8_t *old = make_image(12000, 2, &len);
    sxs_slot_install(&m.ops, 1, old, len);
    len = SXS_IMAGE_HEADER_LEN + 9000;
    sxs_xfer_begin(&x, 100, 1, len, sxs_crc32(img, len));
    CHECK(sxs_xfer_check(&x, &m.ops, 100, 2, &h, msg, sizeof msg) == SXS_ERR_FLASH_INCOMPLETE);
    uint32_t erases = m.erases;
    for (uint32_t o = 0; o < len; o += 1020) {
        uint32_t k = len - o < 1020 ? len - o : 1020;
        CHECK(sxs_xfer_data(&x, &m.ops, o, img + o, k / 2, img + o + k / 2, k - k / 2) == 0);
    }
    CHECK(m.erases - erases == 3); /* 9032 bytes: three sectors, no more */
    CHECK(sxs_xfer_check(&x, &m.ops, 101, 2, &h, msg, sizeof msg) == SXS_ERR_FLASH_NO_TRANSFER);
    CHECK(sxs_xfer_check(&x, &m.ops, 100, 2, &h, msg, sizeof msg) == 0 && h.wasm_len == 9000);
    CHECK(sxs_xfer_check(&x, &m.ops, 100, 1, &h, msg, sizeof msg) == SXS_ERR_IMAGE_BAD_ABI);
    /* wrong offset: failed for good */
    sxs_xfer_begin(&x, 5, 1, len, 0);
    CHECK(sxs_xfer_data(&x, &m.ops, 10, img, 10, NULL, 0) == SXS_ERR_FLASH_BAD_OFFSET && x.failed);
    CHECK(sxs_xfer_check(&x, &m.ops, 5, 2, &h, msg, sizeof msg) == SXS_ERR_FLASH_NO_TRANSFER);
    /* beyond size */
    sxs_xfer_begin(&x, 6, 1, 10, 0);
    CHECK(sxs_xfer_data(&x, &m.ops, 0, img, 11, NULL, 0) == SXS_ERR_FLASH_BAD_OFFSET);
    /* the bytes do not have the CRC of FLASH_BEGIN */
    sxs_xfer_begin(&x, 7, 1, len, 0x1234);
    CHECK(sxs_xfer_data(&x, &m.ops, 0, img, len, NULL, 0) == 0);
    CHECK(sxs_xfer_check(&x, &m.ops, 7, 2, &h, msg, sizeof msg) == SXS_ERR_FLASH_BAD_CRC);
    /* a write failure is FLASH_WRITE */
    sxs_xfer_begin(&x, 8, 1, len, 0);
    memflash_cut_after(&m, 100);
    CHECK(sxs_xfer_data(&x, &m.ops, 0, img, len, NULL, 0) == SXS_ERR_FLASH_WRITE && x.failed);
    memflash_power_on(&m);
    free(img);
    free(old);
    memflash_free(&m);
}

SXS_TESTS(sxs_tests_slots) = {
    { "slots: boot record layout, CRC, any flipped bit refused", record_roundtrip },
    { "slots: boot record written alternately, larger counter wins", record_alternates },
    { "slots: boot-record write cut at every byte leaves a valid record", record_torn_at_every_byte },
    { "slots: slot verification (header, length, ABI, Wasm CRC)", slot_verify },
    { "slots: transfer with lazy erase, offsets, CRC read back, write failure", transfer },
    SXS_TESTS_END
};
