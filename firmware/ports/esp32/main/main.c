/*
 * main.c - the ESP32 firmware.
 *
 * app_main picks the memory profile (plain ESP32, or ESP32 with PSRAM: see
 * README.md "Memory budget"), starts the firmware task with that profile's
 * stack and returns.  The firmware task sets up the board
 * (board_esp32.c), boots the image from its flash slot with the portable
 * firmware of core/sxs_fw.c (installing the embedded default image on a
 * fresh board), then runs sxs_fw_step for ever.  It blocks in the UART
 * driver while nothing is due, and gives the CPU away for a tick at least
 * every SXS_ESP32_YIELD_MS while the image keeps it busy, so that the idle
 * task (and the task watchdog that watches it) runs.
 *
 * Unbuilt and untested on hardware: see README.md.
 */
#include <stdint.h>
#include <string.h>

#include "esp_heap_caps.h"
#include "esp_random.h"
#include "esp_system.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "sdkconfig.h"

#include "board_esp32.h"
#include "sxs_board.h"
#include "sxs_board_port.h"
#include "sxs_fw.h"
#include "sxs_image.h"
#include "sxs_slots.h"

/* menuconfig "sxs firmware" (main/Kconfig.projbuild); the same defaults here */
#ifndef CONFIG_SXS_UART_NUM
#define CONFIG_SXS_UART_NUM 0
#endif
#ifndef CONFIG_SXS_UART_BAUD
#define CONFIG_SXS_UART_BAUD 115200
#endif
#ifndef CONFIG_SXS_UART_TX_PIN
#define CONFIG_SXS_UART_TX_PIN -1
#endif
#ifndef CONFIG_SXS_UART_RX_PIN
#define CONFIG_SXS_UART_RX_PIN -1
#endif
#ifndef CONFIG_SXS_UART_RX_BUFFER
#define CONFIG_SXS_UART_RX_BUFFER 5632
#endif
#ifndef CONFIG_SXS_UART_TX_BUFFER
#define CONFIG_SXS_UART_TX_BUFFER 1024
#endif
#ifndef CONFIG_SXS_TASK_STACK
#define CONFIG_SXS_TASK_STACK 32768
#endif
#ifndef CONFIG_SXS_WASM3_STACK
#define CONFIG_SXS_WASM3_STACK 8192
#endif
#ifndef CONFIG_SXS_MAX_PAGES
#define CONFIG_SXS_MAX_PAGES 1
#endif
#ifndef CONFIG_SXS_TASK_STACK_PSRAM
#define CONFIG_SXS_TASK_STACK_PSRAM 98304
#endif
#ifndef CONFIG_SXS_WASM3_STACK_PSRAM
#define CONFIG_SXS_WASM3_STACK_PSRAM 32768
#endif
#ifndef CONFIG_SXS_MAX_PAGES_PSRAM
#define CONFIG_SXS_MAX_PAGES_PSRAM 24
#endif
#ifndef CONFIG_SXS_TASK_PRIORITY
#define CONFIG_SXS_TASK_PRIORITY 5
#endif
#ifndef SXS_IMAGE_BUILD_TIME
#define SXS_IMAGE_BUILD_TIME 0u
#endif

#if defined(CONFIG_ESP_CONSOLE_UART_NUM) && CONFIG_ESP_CONSOLE_UART_NUM == CONFIG_SXS_UART_NUM && \
    !defined(CONFIG_ESP_CONSOLE_NONE)
#error "the console writes to the link's UART: set CONFIG_ESP_CONSOLE_NONE (sdkconfig.defaults) or move one of them"
#endif

#define SXS_ESP32_YIELD_MS 20u       /* longest run without blocking */
#define SXS_ESP32_STABLE_MS 30000u   /* up this long: no longer a crash loop */
#define SXS_ESP32_UART2_TX 17        /* UART2's usual pins when none are configured */
#define SXS_ESP32_UART2_RX 16

#if CONFIG_FREERTOS_UNICORE
#define SXS_ESP32_CORE 0
#else
#define SXS_ESP32_CORE 1 /* the APP CPU: the system's tasks keep the PRO CPU */
#endif

/* The default image, embedded by main/CMakeLists.txt (target_add_binary_data). */
extern const uint8_t sxs_default_image_start[] __asm__("_binary_sxs_default_image_bin_start");
extern const uint8_t sxs_default_image_end[] __asm__("_binary_sxs_default_image_bin_end");

/* ---- the memory profile ------------------------------------------------------- */

typedef struct profile {
    const char *firmware; /* HELLO/INFO `firmware` and the banner */
    uint32_t task_stack;  /* native stack of the firmware task (internal RAM) */
    uint32_t wasm3_stack; /* wasm3's own stack */
    int32_t max_pages;    /* sxs_limit(LIMIT_MAX_PAGES) */
    uint8_t one_engine;   /* RAM for one wasm3 instance only: FLASH_COMMIT checks in place */
} profile;

static const profile plain = { "sxs-fw " SXS_FW_VERSION " esp32", CONFIG_SXS_TASK_STACK, CONFIG_SXS_WASM3_STACK,
                               CONFIG_SXS_MAX_PAGES, 1 };
static const profile psram = { "sxs-fw " SXS_FW_VERSION " esp32+psram", CONFIG_SXS_TASK_STACK_PSRAM,
                               CONFIG_SXS_WASM3_STACK_PSRAM, CONFIG_SXS_MAX_PAGES_PSRAM, 0 };
static profile prof;

/* ---- the port of core/sxs_fw.h ------------------------------------------------------ */

static int p_read(void *ctx, uint8_t *buf, size_t cap, int32_t timeout_ms)
{
    (void)ctx;
    return sxs_board_serial_read(buf, cap, timeout_ms); /* never -1: a UART does not go away */
}

static uint32_t p_free_heap(void *ctx)
{
    (void)ctx;
    return (uint32_t)heap_caps_get_free_size(MALLOC_CAP_8BIT); /* internal RAM and PSRAM */
}

static const sxs_fw_port port = { NULL, p_read, sxs_board_port_write, sxs_board_port_now, sxs_board_port_reset, p_free_heap, &sxs_board_flash_ops };

/* ---- the default image --------------------------------------------------------------- */

/* The embedded image, for a fresh board.  An image file is handed to
 * sxs_fw_boot, which installs it into slot A when the flash holds no boot
 * record and no image (reading it where it is, in flash).  A bare .wasm
 * needs its 32-byte header: in that same case it is written into slot A
 * here, header first, then the Wasm straight from flash, and sxs_fw_boot
 * finds it there.  Neither needs a copy in RAM, which a board without PSRAM
 * could not spare next to the engine (README.md, "Memory budget"). */
static void default_image(sxs_fw_config *cfg)
{
    const uint8_t *b = sxs_default_image_start;
    uint32_t n = (uint32_t)(sxs_default_image_end - sxs_default_image_start);
    if (n >= 4 && memcmp(b, "SXSI", 4) == 0) {
        cfg->default_image = b;
        cfg->default_image_len = n;
        return;
    }
    if (n < 8 || memcmp(b, sxs_wasm_preamble, 8) != 0) return;
    const sxs_flash_ops *f = &sxs_board_flash_ops;
    if (!sxs_flash_blank(f, SXS_ABI_VERSION)) return; /* not a fresh board, or sxs_fw_boot finds the image */
    uint32_t len = n + SXS_IMAGE_HEADER_LEN;
    if (len > f->size(f->ctx, SXS_PART_IMAGE_A)) return;
    uint8_t hdr[SXS_IMAGE_HEADER_LEN];
    sxs_image_build_header(SXS_ABI_VERSION, b, n, SXS_IMAGE_BUILD_TIME, hdr);
    uint32_t er = (len + SXS_FLASH_SECTOR - 1) / SXS_FLASH_SECTOR * SXS_FLASH_SECTOR;
    if (f->erase(f->ctx, SXS_PART_IMAGE_A, 0, er) != SXS_FLASH_OK) return;
    if (f->write(f->ctx, SXS_PART_IMAGE_A, 0, hdr, sizeof hdr) != SXS_FLASH_OK) return;
    f->write(f->ctx, SXS_PART_IMAGE_A, SXS_IMAGE_HEADER_LEN, b, n); /* a torn write fails the CRC: done again next boot */
}

/* ---- the firmware task ------------------------------------------------------------------- */

static sxs_fw fw; /* link buffers and state, 15 208 bytes on a 32-bit target: static, like posix's serve.c */

static void say(const char *s) { sxs_board_serial_write((const uint8_t *)s, strlen(s)); }

static void setup_uart(void)
{
    sxs_esp32_uart u = { CONFIG_SXS_UART_NUM,      CONFIG_SXS_UART_TX_PIN,    CONFIG_SXS_UART_RX_PIN,
                         CONFIG_SXS_UART_BAUD,     CONFIG_SXS_UART_RX_BUFFER, CONFIG_SXS_UART_TX_BUFFER };
    if (u.num == 2 && u.tx_pin < 0 && u.rx_pin < 0) {
        u.tx_pin = SXS_ESP32_UART2_TX;
        u.rx_pin = SXS_ESP32_UART2_RX;
    }
    if (sxs_board_esp32_uart(&u) == 0) return;
    /* the configured UART cannot be used: UART0 on its usual pins, so that
       the board can still be reached over USB */
    sxs_esp32_uart f = { 0, -1, -1, CONFIG_SXS_UART_BAUD, CONFIG_SXS_UART_RX_BUFFER, CONFIG_SXS_UART_TX_BUFFER };
    if (sxs_board_esp32_uart(&f) == 0) {
        say("sxs: the configured UART could not be set up; using UART0\r\n");
        return;
    }
    for (;;) vTaskDelay(portMAX_DELAY); /* nothing to talk on */
}

static void fw_task(void *arg)
{
    (void)arg;
    sxs_board_esp32_init();
    setup_uart();

    sxs_reset_info ri;
    sxs_board_reset_info(&ri);
    static const char *const names[SXS_PART_COUNT] = { "sxs_a", "sxs_b", "sxs_kv", "sxs_boot" };
    uint32_t found = sxs_board_esp32_partitions();
    if (found != (1u << SXS_PART_COUNT) - 1 && !(ri.valid && ri.framed)) {
        /* text mode: a person is told why there is no image (framed mode
           carries nothing but frames) */
        say("sxs: the partition table lacks");
        for (int i = 0; i < SXS_PART_COUNT; i++)
            if (!(found & (1u << i))) say(" "), say(names[i]);
        say(" (flash the table of partitions.csv: idf.py partition-table-flash)\r\n");
    }

    sxs_fw_config cfg;
    sxs_fw_config_defaults(&cfg);
    cfg.firmware = prof.firmware;
    cfg.stack_bytes = prof.wasm3_stack;
    cfg.max_pages = prof.max_pages;
    /* without PSRAM there is RAM for one engine: FLASH_COMMIT checks a new image after
       stopping the running one (firmware/ports/esp32/README.md, memory budget) */
    cfg.commit_check_in_place = prof.one_engine;
    cfg.bytes_per_ms = (uint32_t)CONFIG_SXS_UART_BAUD / 10000u; /* 10 bits a byte */
    cfg.session_seed = esp_random();
    default_image(&cfg);

    sxs_fw_boot(&fw, &port, &cfg, &ri);

    double started = sxs_board_now_ms();
    int stable = 0;
    for (;;) {
        int r = sxs_fw_step(&fw, 1000);
        if (r == SXS_FW_STOP_RESET) sxs_board_reset(&fw.reset_info); /* p_reset already did; does not return */
        if (r != SXS_FW_RUNNING) esp_restart();                     /* the line never closes on a UART */
        if (!stable && sxs_board_now_ms() - started >= SXS_ESP32_STABLE_MS) {
            sxs_board_esp32_stable();
            stable = 1;
        }
        if (sxs_board_esp32_ms_since_block() >= SXS_ESP32_YIELD_MS) sxs_board_esp32_yield();
    }
}

void app_main(void)
{
    prof = heap_caps_get_total_size(MALLOC_CAP_SPIRAM) > 0 ? psram : plain;
    /* ESP-IDF's FreeRTOS counts stack depth in bytes; the stack comes from
       internal RAM (the task writes flash, which turns the PSRAM cache off) */
    if (xTaskCreatePinnedToCore(fw_task, "sxs", prof.task_stack, NULL, CONFIG_SXS_TASK_PRIORITY, NULL,
                                SXS_ESP32_CORE) == pdPASS)
        return;
    prof = plain; /* PSRAM seen but not enough internal RAM for its deeper stack */
    xTaskCreatePinnedToCore(fw_task, "sxs", prof.task_stack, NULL, CONFIG_SXS_TASK_PRIORITY, NULL, SXS_ESP32_CORE);
}
