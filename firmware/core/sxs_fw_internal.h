/*
 * sxs_fw_internal.h - what the three parts of the firmware share (not for ports):
 *   sxs_fw.c        main loop, modes and sessions, text mode, output, requests
 *   sxs_fw_image.c  opening a slot's image, boot and rollback, restart after a trap
 *   sxs_fw_msg.c    the framed messages (EXEC, INTERRUPT, WATCH, FLASH_*, ...)
 * Every function takes the firmware's one struct (sxs_fw.h).
 */
#ifndef SXS_FW_INTERNAL_H
#define SXS_FW_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sxs_fw.h"

/* the value of a request that was interrupted */
#define SXS_FW_INTERRUPTED "@\"interrupted\""

/* what an OK with POLL leaves to do once it is acknowledged (fw->linger) */
enum { LINGER_NONE = 0, LINGER_LEAVE, LINGER_RESET, LINGER_COMMIT };

/* ---- sxs_fw.c ---- */
uint32_t sxs_fw_ms(sxs_fw *fw); /* the port's clock, in ms (wraps) */
int sxs_fw_blank(const uint8_t *t, uint32_t n);
uint32_t sxs_fw_max_input(const sxs_fw *fw); /* the longest request text the image takes */
int sxs_fw_session_up(sxs_fw *fw);

/* text mode's output */
void sxs_fw_outs(sxs_fw *fw, const char *s);
void sxs_fw_outf(sxs_fw *fw, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sxs_fw_prompt(sxs_fw *fw);

/* framed mode's output: a message, fragmented, waiting for room in the retransmit buffer */
void sxs_fw_send_msg(sxs_fw *fw, uint8_t type, uint32_t req, const uint8_t *h, size_t hn, const uint8_t *t,
                     size_t tn, int poll);
void sxs_fw_send_ok(sxs_fw *fw, uint32_t req, uint32_t value, int poll);
void sxs_fw_send_error(sxs_fw *fw, uint32_t req, uint16_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
size_t sxs_fw_board_info(sxs_fw *fw, uint8_t *o, int hello); /* HELLO / INFO body */

/* the unanswered requests the firmware tracks */
int sxs_fw_req_find(sxs_fw *fw, int32_t id);
void sxs_fw_req_add(sxs_fw *fw, int32_t id, int text);
void sxs_fw_req_remove(sxs_fw *fw, int i);

/* the image's host callbacks: the running image's, and those of an image opened beside
 * it only to be checked (FLASH_COMMIT), which say nothing */
extern const sxs_host_ops sxs_fw_host_ops;
extern const sxs_host_ops sxs_fw_scratch_ops;

/* engine calls: sxs_fw_ok takes an engine call's trap message (NULL: none) and, on a
 * trap, restarts the image and returns 0 */
int sxs_fw_ok(sxs_fw *fw, const char *m);
const char *sxs_fw_run(sxs_fw *fw, int32_t *more);
uint32_t sxs_fw_stat_u32(sxs_fw *fw, int32_t id);

/* ---- sxs_fw_image.c ---- */
void sxs_fw_boot_image(sxs_fw *fw, uint32_t boot_start);
uint8_t sxs_fw_open_slot(sxs_fw *fw, int slot, sxs_engine **out, sxs_image_header *h, int safe,
                         const sxs_host_ops *ops);
void sxs_fw_close_image(sxs_fw *fw, const char *what, const char *why);
void sxs_fw_restart_image(sxs_fw *fw, int slot, uint32_t now);
void sxs_fw_trap(sxs_fw *fw, const char *msg);

/* ---- sxs_fw_msg.c ---- */
int sxs_fw_deliver(sxs_fw *fw); /* act on the frames received; 1 when the next must wait (no room, BUSY) */
void sxs_fw_interrupt(sxs_fw *fw, uint32_t req);
void sxs_fw_text_interrupt(sxs_fw *fw);

#endif
