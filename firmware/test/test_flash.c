/* test_flash.c - the NOR-flash file and the posix board's partitions. */
#include <string.h>
#include <unistd.h>

#include "board_posix.h"
#include "flash_file.h"
#include "sxs_board.h"
#include "test.h"

static int all_ff(const uint8_t *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (b[i] != 0xff) return 0;
    return 1;
}

static void new_file_reads_erased(void)
{
    const char *p = sxs_test_tmp_path("flash");
    sxs_flash_file f;
    CHECK(sxs_flash_file_open(&f, p, 3 * 4096) == SXS_FLASH_OK);
    uint8_t b[3 * 4096];
    CHECK(sxs_flash_file_read(&f, 0, b, sizeof b) == SXS_FLASH_OK);
    CHECK(all_ff(b, sizeof b));
    sxs_flash_file_close(&f);
    unlink(p);
}

static void write_clears_bits_only(void)
{
    const char *p = sxs_test_tmp_path("flash");
    sxs_flash_file f;
    CHECK(sxs_flash_file_open(&f, p, 2 * 4096) == SXS_FLASH_OK);
    uint8_t a[4] = { 0xf0, 0x0f, 0x00, 0xff };
    CHECK(sxs_flash_file_write(&f, 100, a, 4) == SXS_FLASH_OK);
    uint8_t b[4];
    CHECK(sxs_flash_file_read(&f, 100, b, 4) == SXS_FLASH_OK);
    CHECK(memcmp(a, b, 4) == 0);
    /* clearing more bits is fine */
    uint8_t c[4] = { 0x30, 0x01, 0x00, 0x7f };
    CHECK(sxs_flash_file_write(&f, 100, c, 4) == SXS_FLASH_OK);
    CHECK(sxs_flash_file_read(&f, 100, b, 4) == SXS_FLASH_OK);
    CHECK(memcmp(c, b, 4) == 0);
    /* setting a bit is refused, and nothing at all is written */
    uint8_t d[4] = { 0x00, 0x00, 0x01, 0x00 };
    CHECK(sxs_flash_file_write(&f, 100, d, 4) == SXS_FLASH_ESETBIT);
    CHECK(sxs_flash_file_read(&f, 100, b, 4) == SXS_FLASH_OK);
    CHECK(memcmp(c, b, 4) == 0);
    /* a write spanning a sector boundary is checked as a whole */
    uint8_t e[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };
    CHECK(sxs_flash_file_write(&f, 4092, e, 8) == SXS_FLASH_OK);
    sxs_flash_file_close(&f);
    unlink(p);
}

static void erase_sets_ff_on_sectors(void)
{
    const char *p = sxs_test_tmp_path("flash");
    sxs_flash_file f;
    CHECK(sxs_flash_file_open(&f, p, 3 * 4096) == SXS_FLASH_OK);
    uint8_t z[3 * 4096];
    memset(z, 0, sizeof z);
    CHECK(sxs_flash_file_write(&f, 0, z, sizeof z) == SXS_FLASH_OK);
    CHECK(sxs_flash_file_erase(&f, 100, 4096) == SXS_FLASH_EALIGN);
    CHECK(sxs_flash_file_erase(&f, 4096, 100) == SXS_FLASH_EALIGN);
    CHECK(sxs_flash_file_erase(&f, 4096, 4096) == SXS_FLASH_OK);
    uint8_t b[3 * 4096];
    CHECK(sxs_flash_file_read(&f, 0, b, sizeof b) == SXS_FLASH_OK);
    CHECK(b[4095] == 0 && all_ff(b + 4096, 4096) && b[8192] == 0);
    /* after the erase the sector takes any value again */
    uint8_t v = 0x5a;
    CHECK(sxs_flash_file_write(&f, 5000, &v, 1) == SXS_FLASH_OK);
    sxs_flash_file_close(&f);
    unlink(p);
}

static void bounds_are_checked(void)
{
    const char *p = sxs_test_tmp_path("flash");
    sxs_flash_file f;
    CHECK(sxs_flash_file_open(&f, p, 1000) == SXS_FLASH_EALIGN);
    CHECK(sxs_flash_file_open(&f, p, 4096) == SXS_FLASH_OK);
    uint8_t b[8] = { 0 };
    CHECK(sxs_flash_file_read(&f, 4090, b, 8) == SXS_FLASH_EBOUNDS);
    CHECK(sxs_flash_file_write(&f, 4090, b, 8) == SXS_FLASH_EBOUNDS);
    CHECK(sxs_flash_file_write(&f, UINT32_MAX, b, 8) == SXS_FLASH_EBOUNDS);
    CHECK(sxs_flash_file_erase(&f, 4096, 4096) == SXS_FLASH_EBOUNDS);
    CHECK(sxs_flash_file_read(&f, 4088, b, 8) == SXS_FLASH_OK);
    sxs_flash_file_close(&f);
    unlink(p);
}

static void contents_persist_across_reopen(void)
{
    const char *p = sxs_test_tmp_path("flash");
    sxs_flash_file f;
    CHECK(sxs_flash_file_open(&f, p, 4096) == SXS_FLASH_OK);
    const uint8_t msg[5] = { 'h', 'e', 'l', 'l', 'o' };
    CHECK(sxs_flash_file_write(&f, 10, msg, 5) == SXS_FLASH_OK);
    sxs_flash_file_close(&f);
    /* reopening larger keeps the contents and adds erased space */
    CHECK(sxs_flash_file_open(&f, p, 2 * 4096) == SXS_FLASH_OK);
    uint8_t b[5];
    CHECK(sxs_flash_file_read(&f, 10, b, 5) == SXS_FLASH_OK);
    CHECK(memcmp(b, msg, 5) == 0);
    uint8_t t[4096];
    CHECK(sxs_flash_file_read(&f, 4096, t, 4096) == SXS_FLASH_OK);
    CHECK(all_ff(t, 4096));
    sxs_flash_file_close(&f);
    unlink(p);
}

static void board_partitions(void)
{
    const char *p = sxs_test_tmp_path("board");
    CHECK(sxs_board_flash_read(SXS_PART_KV, 0, NULL, 0) == SXS_FLASH_ENODEV);
    CHECK(sxs_board_posix_open_flash(p) == SXS_FLASH_OK);
    CHECK(sxs_board_flash_size(SXS_PART_IMAGE_A) == SXS_LAYOUT_IMAGE_SLOT_BYTES);
    CHECK(sxs_board_flash_size(SXS_PART_KV) == SXS_LAYOUT_KV_BYTES);
    uint8_t v = 0x12, b = 0;
    CHECK(sxs_board_flash_write(SXS_PART_KV, 0, &v, 1) == SXS_FLASH_OK);
    CHECK(sxs_board_flash_read(SXS_PART_KV, 0, &b, 1) == SXS_FLASH_OK && b == 0x12);
    CHECK(sxs_board_flash_read(SXS_PART_IMAGE_B, 0, &b, 1) == SXS_FLASH_OK && b == 0xff);
    CHECK(sxs_board_flash_write(SXS_PART_KV, SXS_LAYOUT_KV_BYTES, &v, 1) == SXS_FLASH_EBOUNDS);
    v = 0xff;
    CHECK(sxs_board_flash_write(SXS_PART_KV, 0, &v, 1) == SXS_FLASH_ESETBIT);
    CHECK(sxs_board_flash_erase(SXS_PART_KV, 0, SXS_FLASH_SECTOR) == SXS_FLASH_OK);
    CHECK(sxs_board_flash_read(SXS_PART_KV, 0, &b, 1) == SXS_FLASH_OK && b == 0xff);
    sxs_board_posix_close_flash();
    unlink(p);
}

static void board_clock_is_monotonic(void)
{
    double a = sxs_board_now_ms();
    sxs_board_sleep_ms(5);
    double b = sxs_board_now_ms();
    CHECK(b >= a + 4.0);
    CHECK(b < a + 1000.0);
}

SXS_TESTS(sxs_tests_flash) = {
    { "flash: a new file reads erased", new_file_reads_erased },
    { "flash: a write may only clear bits", write_clears_bits_only },
    { "flash: erase sets whole sectors to 0xFF", erase_sets_ff_on_sectors },
    { "flash: bounds and alignment are checked", bounds_are_checked },
    { "flash: contents persist across reopen", contents_persist_across_reopen },
    { "board: partitions map onto the flash file", board_partitions },
    { "board: the clock is monotonic", board_clock_is_monotonic },
    SXS_TESTS_END
};
