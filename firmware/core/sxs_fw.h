/*
 * sxs_fw.h - the portable firmware: hosts the image from its flash slot,
 * serves the serial link of docs/link.md on one line in both modes (text
 * and framed), flashes new images into the inactive slot and rolls back a
 * new image that does not come up.
 *
 * The firmware does not own a thread or a clock: a port supplies the line,
 * the clock, the flash and the reset (sxs_fw_port), calls sxs_fw_boot once
 * per boot and sxs_fw_step in a loop.  Everything is in one statically
 * sizable struct (no allocation besides the engine's own and the image
 * bytes while they load); the buffers are named constants (see
 * firmware/README.md, "Memory").
 */
#ifndef SXS_FW_H
#define SXS_FW_H

#include <stdint.h>

#include "sxs_board.h"
#include "sxs_engine.h"
#include "sxs_link.h"
#include "sxs_slots.h"
#include "sxs_text.h"

#ifndef SXS_FW_MAX_REQUESTS
#define SXS_FW_MAX_REQUESTS 256u /* unanswered requests tracked (EXEC ids, text-mode ids) */
#endif
#ifndef SXS_FW_MAX_WATCHES
#define SXS_FW_MAX_WATCHES 64u /* WATCHes of the session, cleared when it ends */
#endif
#ifndef SXS_FW_HELLO_DEADLINE_MS
#define SXS_FW_HELLO_DEADLINE_MS 5000u /* a new image must be up within this */
#endif
#ifndef SXS_FW_LINK_IDLE_MS
#define SXS_FW_LINK_IDLE_MS 30000u
#endif
#define SXS_FW_LINGER_MS 1000u /* OK linger of LEAVE, RESET, FLASH_COMMIT */
#define SXS_FW_TEXT_REQ_BASE 0x40000000
#define SXS_FW_EVENT_QUEUE 8u
#define SXS_FW_DEFAULT_BUDGET 10000
#define SXS_FW_DEFAULT_QUEUE 1000     /* the image's LIMIT_QUEUE default */
#define SXS_FW_DEFAULT_MAX_INPUT 16384 /* the image's LIMIT_MAX_INPUT default */
#define SXS_FW_VERSION "0.1.0"

typedef struct sxs_fw_port {
    void *ctx;
    /* Up to cap bytes within timeout_ms (0: poll); 0 on timeout, -1 when the
     * line is gone for good (the firmware stops). */
    int (*read)(void *ctx, uint8_t *buf, size_t cap, int32_t timeout_ms);
    void (*write)(void *ctx, const uint8_t *buf, size_t n);
    double (*now_ms)(void *ctx); /* monotonic */
    /* A soft reset handing info to the next boot.  A real port does not
     * return; if it does, the firmware stops (sxs_fw_step returns
     * SXS_FW_STOP_RESET) and the caller boots a new one with fw->reset_info. */
    void (*reset)(void *ctx, const sxs_reset_info *info);
    uint32_t (*free_heap)(void *ctx); /* may be NULL */
    const sxs_flash_ops *flash;
} sxs_fw_port;

typedef struct sxs_fw_config {
    const char *firmware;    /* HELLO `firmware`, e.g. "sxs-fw 0.1.0 posix" */
    uint32_t stack_bytes;    /* wasm3 stack */
    int32_t max_pages, processors, max_input, queue; /* sxs_limit values; 0: image default */
    int32_t budget;          /* steps per sxs_run */
    uint32_t link_idle_ms;   /* 0: never */
    uint32_t bytes_per_ms;   /* line rate for pacing; 0: unknown (pty) */
    uint32_t session_seed;   /* the first session number after power-on */
    /* installed into slot A when the flash holds no image at all (first boot) */
    const uint8_t *default_image;
    uint32_t default_image_len;
    /* FLASH_COMMIT checks the new image after stopping the running one instead of in a
     * second engine beside it: for boards without RAM for two (an ESP32 without PSRAM) */
    uint8_t commit_check_in_place;
    /* The image's clock (host_now) is virtual: it starts at 0 and, when the image is idle
     * with a timer pending, jumps to that timer (transcripts, SPEC.md section 8).  The
     * link keeps the port's real clock. */
    uint8_t virtual_clock;
} sxs_fw_config;

void sxs_fw_config_defaults(sxs_fw_config *c);

enum { SXS_FW_TEXT = 0, SXS_FW_FRAMED = 1 };
enum { SXS_FW_RUNNING = 0, SXS_FW_STOP_RESET = 1, SXS_FW_STOP_CLOSED = 2 };

typedef struct sxs_fw_req {
    int32_t id;
    uint8_t text; /* started from text mode */
    uint8_t sweep;
} sxs_fw_req;

typedef struct sxs_fw {
    const sxs_fw_port *port;
    sxs_fw_config cfg;
    sxs_engine *e;
    uint8_t mode, stop;
    sxs_reset_info reset_info; /* set when stop == SXS_FW_STOP_RESET */

    /* what HELLO/INFO say */
    uint8_t boot_reason, running_slot, rollback_reason, safe_mode, first_hello;
    uint8_t hold_image; /* a crash loop in safe mode: the image is not started (sxs_board.h) */
    uint32_t image_crc, failed_crc, session, boot_ms;
    char boot_note[300]; /* the rollback line, if any */

    /* the link, and the memory it shares with text mode */
    sxs_link link;
    uint8_t rx_buf[SXS_LINK_RX_WINDOW]; /* receive window; text mode's line buffer; boot log capture */
    uint8_t tx_buf[SXS_LINK_TX_BUFFER]; /* retransmit buffer */
    sxs_text text;
    uint8_t prompt_shown; /* text mode: 0 none since the last line end, 1 "> ", 2 ".. " */
    uint32_t text_skip;   /* queued forms that a Ctrl-C ended: answered @"interrupted", not run */
    uint32_t last_rx_ms;

    /* requests and watches */
    sxs_fw_req reqs[SXS_FW_MAX_REQUESTS];
    uint32_t nreqs, text_running;
    int32_t next_text_req;
    struct { uint8_t channel; int32_t topic; } watches[SXS_FW_MAX_WATCHES];
    uint32_t nwatches;

    /* a fragmented message being received */
    struct {
        uint8_t active, skip, type, interrupted, proc;
        uint32_t req, text_len, off;
        int32_t ptr;
    } in;

    sxs_flash_xfer xfer;

    /* after an OK with POLL: LEAVE, RESET or FLASH_COMMIT once acknowledged */
    uint8_t linger, linger_flags;
    uint32_t linger_until;

    /* link events waiting for the main loop (they may come while the image runs) */
    struct { uint8_t kind; uint32_t req; } events[SXS_FW_EVENT_QUEUE];
    uint32_t nevents;
    uint8_t enter_pending, link_lost, in_engine, capturing, busy;
    uint32_t capture_len;

    /* the image's scheduler */
    uint8_t more;
    double next_timer;
    double vclock; /* the image's time with cfg.virtual_clock */
    uint32_t image_started_ms, quick_traps;
    char err[300];
} sxs_fw;

/* Boot: read the boot record, pick and verify the slot, try a PENDING image
 * (rolling back if it fails), start the image, then print the banner (text
 * mode) or send HELLO (framed, after a reset the host asked for). */
void sxs_fw_boot(sxs_fw *fw, const sxs_fw_port *port, const sxs_fw_config *cfg, const sxs_reset_info *ri);
/* One round: wait up to max_wait_ms (-1: until something is due) for
 * input, act on it, run the image a slice, flush the link.  Returns
 * SXS_FW_RUNNING or why it stopped. */
int sxs_fw_step(sxs_fw *fw, int32_t max_wait_ms);
/* Close the engine. */
void sxs_fw_shutdown(sxs_fw *fw);

#endif
