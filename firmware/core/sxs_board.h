/*
 * sxs_board.h - what the portable core needs from a board.  One
 * implementation per port: ports/posix/board_posix.c (Linux), later
 * ports/esp32 (UART driver, partition API, FreeRTOS).
 */
#ifndef SXS_BOARD_H
#define SXS_BOARD_H

#include <stddef.h>
#include <stdint.h>

/* ---- serial line ---- */

/* Read up to `cap` bytes, waiting at most timeout_ms (-1: forever, 0: poll).
 * Returns the number of bytes read (0 on timeout), or -1 at end of input or
 * on error. */
int sxs_board_serial_read(uint8_t *buf, size_t cap, int32_t timeout_ms);
/* Write all `len` bytes; 0 on success, -1 on error. */
int sxs_board_serial_write(const uint8_t *buf, size_t len);

/* ---- clock ---- */

/* Monotonic milliseconds since boot (fractions allowed). */
double sxs_board_now_ms(void);
/* Sleep up to ms milliseconds (may return early). */
void sxs_board_sleep_ms(double ms);

/* ---- flash partitions (NOR semantics) ---- */

typedef enum sxs_partition {
    SXS_PART_IMAGE_A = 0, /* image slot A */
    SXS_PART_IMAGE_B = 1, /* image slot B */
    SXS_PART_KV = 2,      /* the K/V log */
    SXS_PART_BOOT = 3,    /* the boot record: active slot, trial state (docs/link.md) */
    SXS_PART_COUNT
} sxs_partition;

#define SXS_FLASH_SECTOR 4096u

/* Results of the flash calls. */
enum {
    SXS_FLASH_OK = 0,
    SXS_FLASH_EBOUNDS = -1,  /* outside the partition */
    SXS_FLASH_EALIGN = -2,   /* erase not on 4 KiB sector boundaries */
    SXS_FLASH_ESETBIT = -3,  /* a write would turn a 0 bit into 1: erase first */
    SXS_FLASH_EIO = -4,      /* the medium failed */
    SXS_FLASH_ENODEV = -5,   /* no flash configured */
};

uint32_t sxs_board_flash_size(sxs_partition part);
int sxs_board_flash_read(sxs_partition part, uint32_t off, void *buf, uint32_t len);
/* NOR write: may only clear bits; nothing is written when any bit would be set. */
int sxs_board_flash_write(sxs_partition part, uint32_t off, const void *buf, uint32_t len);
/* Erase whole sectors to 0xFF: off and len multiples of SXS_FLASH_SECTOR. */
int sxs_board_flash_erase(sxs_partition part, uint32_t off, uint32_t len);
/* A read-only view of len bytes of flash, or NULL where the board cannot map it (the
 * caller then reads into RAM).  The core maps an image slot only while the engine
 * compiles it, so a board with memory-mapped flash (ESP32: esp_partition_mmap) needs
 * no RAM for the Wasm bytes.  Valid until sxs_board_flash_unmap; the range is not
 * written meanwhile. */
const void *sxs_board_flash_map(sxs_partition part, uint32_t off, uint32_t len);
void sxs_board_flash_unmap(const void *view);

/* ---- reset ---- */

/* What a soft reset hands to the next boot (docs/link.md section 7: a reset
 * the host asked for in framed mode comes back framed; the session counter
 * survives soft resets).  A port keeps it where a reset does not clear it
 * (posix: the environment of the re-executed process; ESP32: RTC memory). */
typedef struct sxs_reset_info {
    uint8_t valid;       /* 0: a power-on */
    uint8_t framed;      /* come back in framed mode and send HELLO unasked */
    uint8_t safe_mode;   /* sxs_limit(LIMIT_SAFE_MODE, 1) before sxs_init */
    uint8_t boot_reason; /* HELLO boot_reason (1: reset asked by the host) */
    uint8_t hold_image;  /* a crash loop went on in safe mode: do not start the image */
    uint32_t session;    /* the last session number */
} sxs_reset_info;

/* A crash loop.  A port counts crash resets in a row (native stack overflow, CPU
 * exception, watchdog) where a reset does not clear them, and forgets them once the
 * firmware has run stably.  From SXS_CRASHES_SAFE_MODE on, the board boots in safe mode
 * (no autorun: the boot key may be what crashes).  From SXS_CRASHES_HOLD_IMAGE on, the
 * image is not started at all (its load, compile or init is what crashes), and the link
 * serves without it so that a tool can flash another; a new image awaiting its trial is
 * still started.  Fills `info` for a boot after `crashes` crash resets in a row. */
#define SXS_CRASHES_SAFE_MODE 3u
#define SXS_CRASHES_HOLD_IMAGE 5u
void sxs_reset_info_after_crashes(sxs_reset_info *info, uint32_t crashes, uint32_t session);

/* Restart the firmware from scratch, handing `info` to the next boot; does
 * not return. */
void sxs_board_reset(const sxs_reset_info *info);
/* What the previous soft reset handed over (info->valid = 0 after a power-on). */
void sxs_board_reset_info(sxs_reset_info *info);

#endif
