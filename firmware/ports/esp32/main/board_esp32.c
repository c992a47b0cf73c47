/*
 * board_esp32.c - core/sxs_board.h on ESP-IDF 5.x.
 *
 *   serial    the UART driver (uart_driver_install, uart_read_bytes with a
 *             timeout, uart_write_bytes); UART0 at 115200 by default, which
 *             most boards wire to their USB-serial bridge
 *   clock     esp_timer_get_time (microseconds since boot, 64-bit)
 *   flash     the partition API on four data partitions of partitions.csv,
 *             found by type, subtype and label
 *   reset     esp_restart, the reset info kept in RTC memory that a software
 *             reset does not clear (RTC_NOINIT_ATTR)
 *
 * NOR semantics: the chip's own.  An erase sets 4 KiB sectors to 0xFF; a
 * program can only clear bits.  This port also refuses, like the Linux
 * port's flash file, a write that would need a 0 bit to become 1
 * (SXS_FLASH_ESETBIT, nothing written): the real chip would silently store
 * the AND of old and new bytes, so a core bug that forgets an erase would
 * corrupt data here and pass on Linux.  The check costs one read of the
 * bytes about to be written (SPI reads are an order of magnitude faster than
 * programming), see README.md.
 *
 * Unbuilt and untested on hardware: see README.md.
 */
#include "board_esp32.h"

#include <stddef.h>
#include <string.h>

#include "driver/uart.h"
#include "esp_attr.h"
#include "esp_err.h"
#include "esp_intr_alloc.h"
#include "esp_partition.h"
#include "esp_random.h"
#include "esp_system.h"
#include "esp_timer.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "sdkconfig.h"

#include "sxs_board.h"
#include "sxs_crc32.h"
#include "sxs_msg.h"

/* ---- the partitions ------------------------------------------------------ */

/* Data partitions of partitions.csv: subtype and label must both match. */
static const struct {
    uint8_t subtype;
    const char *label;
} part_ids[SXS_PART_COUNT] = {
    [SXS_PART_IMAGE_A] = { 0x40, "sxs_a" },
    [SXS_PART_IMAGE_B] = { 0x41, "sxs_b" },
    [SXS_PART_KV] = { 0x42, "sxs_kv" },
    [SXS_PART_BOOT] = { 0x43, "sxs_boot" },
};

static const esp_partition_t *parts[SXS_PART_COUNT];

static void find_partitions(void)
{
    for (int i = 0; i < SXS_PART_COUNT; i++) {
        const esp_partition_t *p = esp_partition_find_first(
            ESP_PARTITION_TYPE_DATA, (esp_partition_subtype_t)part_ids[i].subtype, part_ids[i].label);
        /* an encrypted partition would make the NOR check meaningless (the
           chip holds ciphertext): not supported */
        if (p && (p->encrypted || p->size % SXS_FLASH_SECTOR != 0)) p = NULL;
        parts[i] = p;
    }
}

uint32_t sxs_board_esp32_partitions(void)
{
    uint32_t m = 0;
    for (int i = 0; i < SXS_PART_COUNT; i++)
        if (parts[i]) m |= 1u << i;
    return m;
}

static const esp_partition_t *part_of(sxs_partition part)
{
    return (int)part >= 0 && part < SXS_PART_COUNT ? parts[part] : NULL;
}

static int range_ok(const esp_partition_t *p, uint32_t off, uint32_t len)
{
    return off <= p->size && len <= p->size - off;
}

uint32_t sxs_board_flash_size(sxs_partition part)
{
    const esp_partition_t *p = part_of(part);
    return p ? (uint32_t)p->size : 0;
}

int sxs_board_flash_read(sxs_partition part, uint32_t off, void *buf, uint32_t len)
{
    const esp_partition_t *p = part_of(part);
    if (!p) return SXS_FLASH_ENODEV;
    if (!range_ok(p, off, len)) return SXS_FLASH_EBOUNDS;
    if (len == 0) return SXS_FLASH_OK;
    return esp_partition_read(p, off, buf, len) == ESP_OK ? SXS_FLASH_OK : SXS_FLASH_EIO;
}

/* A view through the flash cache (the MMU maps whole 64 KiB pages; ESP-IDF rounds and
 * returns the inner pointer).  The image slot is mapped while wasm3 compiles it, so the
 * Wasm bytes take no RAM; ESP_PARTITION_MMAP_DATA allows byte access, as wasm3 reads. */
static struct {
    const void *view;
    esp_partition_mmap_handle_t handle;
} maps[2];

const void *sxs_board_flash_map(sxs_partition part, uint32_t off, uint32_t len)
{
    const esp_partition_t *p = part_of(part);
    if (!p || !range_ok(p, off, len) || len == 0) return NULL;
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
        if (maps[i].view) continue;
        const void *v = NULL;
        if (esp_partition_mmap(p, off, len, ESP_PARTITION_MMAP_DATA, &v, &maps[i].handle) != ESP_OK) return NULL;
        maps[i].view = v;
        return v;
    }
    return NULL;
}

void sxs_board_flash_unmap(const void *view)
{
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
        if (maps[i].view && maps[i].view == view) {
            esp_partition_munmap(maps[i].handle);
            maps[i].view = NULL;
            return;
        }
    }
}

#define CHUNK 256u /* one flash page; on the task stack */

static int all_ff(const uint8_t *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (b[i] != 0xFF) return 0;
    return 1;
}

int sxs_board_flash_write(sxs_partition part, uint32_t off, const void *buf, uint32_t len)
{
    const esp_partition_t *p = part_of(part);
    if (!p) return SXS_FLASH_ENODEV;
    if (!range_ok(p, off, len)) return SXS_FLASH_EBOUNDS;
    const uint8_t *src = buf;
    uint8_t tmp[CHUNK];
    /* 1. nothing is written when any bit would have to go from 0 to 1 */
    for (uint32_t i = 0; i < len;) {
        uint32_t n = len - i < CHUNK ? len - i : CHUNK;
        if (esp_partition_read(p, off + i, tmp, n) != ESP_OK) return SXS_FLASH_EIO;
        for (uint32_t j = 0; j < n; j++)
            if (src[i + j] & (uint8_t)~tmp[j]) return SXS_FLASH_ESETBIT;
        i += n;
    }
    /* 2. program, page by page, from internal RAM: the source may be in
       PSRAM (the image's linear memory) or in flash (the embedded default
       image), neither readable while the flash is being written */
    for (uint32_t i = 0; i < len;) {
        uint32_t n = len - i < CHUNK ? len - i : CHUNK;
        memcpy(tmp, src + i, n);
        if (!all_ff(tmp, n) && esp_partition_write(p, off + i, tmp, n) != ESP_OK) return SXS_FLASH_EIO;
        i += n;
    }
    return SXS_FLASH_OK;
}

int sxs_board_flash_erase(sxs_partition part, uint32_t off, uint32_t len)
{
    const esp_partition_t *p = part_of(part);
    if (!p) return SXS_FLASH_ENODEV;
    if (!range_ok(p, off, len)) return SXS_FLASH_EBOUNDS;
    if (off % SXS_FLASH_SECTOR || len % SXS_FLASH_SECTOR) return SXS_FLASH_EALIGN;
    if (p->erase_size && (off % p->erase_size || len % p->erase_size)) return SXS_FLASH_EALIGN;
    if (len == 0) return SXS_FLASH_OK;
    return esp_partition_erase_range(p, off, len) == ESP_OK ? SXS_FLASH_OK : SXS_FLASH_EIO;
}

/* ---- the clock ------------------------------------------------------------- */

static int64_t last_block_us;

double sxs_board_now_ms(void) { return (double)esp_timer_get_time() / 1000.0; }

/* Milliseconds to ticks, rounded up (a wait of 1..tick-1 ms is one tick,
   not a busy poll). */
static TickType_t ticks_of(double ms)
{
    if (ms <= 0) return 0;
    double t = (ms * (double)configTICK_RATE_HZ + 999.0) / 1000.0;
    if (t >= (double)(portMAX_DELAY - 1)) return portMAX_DELAY - 1;
    return t < 1 ? 1 : (TickType_t)t;
}

void sxs_board_sleep_ms(double ms)
{
    TickType_t t = ticks_of(ms);
    if (!t) return;
    vTaskDelay(t);
    last_block_us = esp_timer_get_time();
}

uint32_t sxs_board_esp32_ms_since_block(void)
{
    int64_t d = (esp_timer_get_time() - last_block_us) / 1000;
    return d < 0 ? 0 : d > 0x7FFFFFFF ? 0x7FFFFFFFu : (uint32_t)d;
}

void sxs_board_esp32_yield(void)
{
    vTaskDelay(1);
    last_block_us = esp_timer_get_time();
}

/* ---- the serial line ------------------------------------------------------- */

static uart_port_t uart = UART_NUM_0;
static int uart_ready;

int sxs_board_serial_read(uint8_t *buf, size_t cap, int32_t timeout_ms)
{
    if (!uart_ready || cap == 0) return 0;
    size_t avail = 0;
    int got = 0;
    if (uart_get_buffered_data_len(uart, &avail) != ESP_OK) avail = 0;
    if (avail == 0) {
        if (timeout_ms == 0) return 0;
        /* uart_read_bytes waits until it has *all* the bytes asked for or
           the time is up: ask for one, then take what else is there */
        TickType_t t = timeout_ms < 0 ? portMAX_DELAY : ticks_of((double)timeout_ms);
        int n = uart_read_bytes(uart, buf, 1, t);
        last_block_us = esp_timer_get_time();
        if (n <= 0) return 0; /* timeout; a UART error is not the end of the line */
        got = 1;
        if (uart_get_buffered_data_len(uart, &avail) != ESP_OK) avail = 0;
    }
    size_t room = cap - (size_t)got;
    size_t want = avail < room ? avail : room;
    if (want) {
        int n = uart_read_bytes(uart, buf + got, (uint32_t)want, 0);
        if (n > 0) got += n;
    }
    return got;
}

int sxs_board_serial_write(const uint8_t *buf, size_t len)
{
    if (!uart_ready) return -1;
    while (len) {
        /* blocks until the bytes are in the driver's ring (or the FIFO) */
        int n = uart_write_bytes(uart, buf, len);
        if (n <= 0) return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---- reset: what survives esp_restart -------------------------------------- */

#define HANDOVER_MAGIC 0x52535853u /* "SXSR" */

typedef struct handover {
    uint32_t magic;
    sxs_reset_info info; /* what sxs_board_reset was given */
    uint32_t crashes;    /* crash resets since the firmware last ran stably */
    uint32_t check;      /* CRC-32 of the fields above */
} handover;

/* Not initialised at boot; kept by a software reset, a panic and the
 * watchdogs; garbage after power-on (hence magic and check). */
static RTC_NOINIT_ATTR handover rtc;
static sxs_reset_info resume;

static uint32_t handover_check(const handover *h) { return sxs_crc32(h, offsetof(handover, check)); }

static void handover_seal(void)
{
    rtc.magic = HANDOVER_MAGIC;
    rtc.check = handover_check(&rtc);
}

static int crash_reset(esp_reset_reason_t why)
{
    return why == ESP_RST_PANIC || why == ESP_RST_INT_WDT || why == ESP_RST_TASK_WDT || why == ESP_RST_WDT;
}

/* Read (and consume) what the previous boot left. */
static void take_handover(void)
{
    esp_reset_reason_t why = esp_reset_reason();
    int ok = rtc.magic == HANDOVER_MAGIC && rtc.check == handover_check(&rtc);
    sxs_reset_info saved = ok ? rtc.info : (sxs_reset_info){ 0 };
    uint32_t crashes = ok ? rtc.crashes : 0;
    memset(&resume, 0, sizeof resume);
    if (why == ESP_RST_SW && saved.valid) {
        resume = saved; /* a reset the firmware asked for (RESET, FLASH_COMMIT, ...) */
    } else if (crash_reset(why)) {
        /* docs/link.md HELLO boot_reason 4; text mode (the host did not ask
           for this reset); a fresh random session number.  A crash loop
           (e.g. an autorun that overflows the native stack) ends in safe
           mode, then without the image (core/sxs_board.h), so that a tool
           can still reach the board and fix it. */
        crashes++;
        sxs_reset_info_after_crashes(&resume, crashes, esp_random());
    } else {
        crashes = 0; /* power-on, EN pin, brown-out: a fresh start */
    }
    memset(&rtc.info, 0, sizeof rtc.info); /* consumed: a later crash does not replay it */
    rtc.crashes = crashes;
    handover_seal();
}

void sxs_board_esp32_stable(void)
{
    if (rtc.crashes == 0) return;
    rtc.crashes = 0;
    handover_seal();
}

void sxs_board_reset_info(sxs_reset_info *info) { *info = resume; }

void sxs_board_reset(const sxs_reset_info *info)
{
    rtc.info = *info;
    handover_seal();
    if (uart_ready) uart_wait_tx_done(uart, ticks_of(500)); /* the last frames leave first */
    esp_restart();
}

/* ---- set-up ------------------------------------------------------------------ */

void sxs_board_esp32_init(void)
{
    last_block_us = esp_timer_get_time();
    find_partitions();
    take_handover();
}

int sxs_board_esp32_uart(const sxs_esp32_uart *u)
{
    if (uart_ready) return 0;
    /* UART1's default pins are the flash pins of most modules: it needs pins */
    if (u->num == 1 && (u->tx_pin < 0 || u->rx_pin < 0)) return -1;
    uart = (uart_port_t)u->num;
    uart_config_t c;
    memset(&c, 0, sizeof c);
    c.baud_rate = (int)u->baud;
    c.data_bits = UART_DATA_8_BITS;
    c.parity = UART_PARITY_DISABLE;
    c.stop_bits = UART_STOP_BITS_1;
    c.flow_ctrl = UART_HW_FLOWCTRL_DISABLE;
    c.source_clk = UART_SCLK_DEFAULT;
    int flags = 0;
#if CONFIG_UART_ISR_IN_IRAM
    flags |= ESP_INTR_FLAG_IRAM; /* receive while the flash cache is off */
#endif
    if (uart_param_config(uart, &c) != ESP_OK) return -1;
    if (uart_set_pin(uart, u->tx_pin, u->rx_pin, UART_PIN_NO_CHANGE, UART_PIN_NO_CHANGE) != ESP_OK) return -1;
    if (uart_driver_install(uart, u->rx_buffer, u->tx_buffer, 0, NULL, flags) != ESP_OK) return -1;
    uart_ready = 1;
    return 0;
}
