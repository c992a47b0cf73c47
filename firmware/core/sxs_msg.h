/*
 * sxs_msg.h - message types, ERROR codes and payload layouts of the link
 * (docs/link.md sections 8-10).  All integers little-endian.
 */
#ifndef SXS_MSG_H
#define SXS_MSG_H

#include <stddef.h>
#include <stdint.h>

enum {
    /* control frames: unsequenced, never acknowledged or fragmented */
    SXS_MSG_ACK = 0x01,
    SXS_MSG_NAK = 0x02,
    SXS_MSG_INTERRUPT = 0x03,
    /* board -> host */
    SXS_MSG_HELLO = 0x10,
    SXS_MSG_INFO = 0x11,
    SXS_MSG_RESULT = 0x12,
    SXS_MSG_LOG = 0x13,
    SXS_MSG_EVENT = 0x14,
    SXS_MSG_PONG = 0x15,
    SXS_MSG_OK = 0x16,
    SXS_MSG_ERROR = 0x17,
    /* host -> board */
    SXS_MSG_EXEC = 0x20,
    SXS_MSG_WATCH = 0x21,
    SXS_MSG_PING = 0x22,
    SXS_MSG_RESET = 0x23,
    SXS_MSG_GET_INFO = 0x24,
    SXS_MSG_LEAVE = 0x25,
    SXS_MSG_FLASH_BEGIN = 0x26,
    SXS_MSG_FLASH_DATA = 0x27,
    SXS_MSG_FLASH_COMMIT = 0x28,
};

/* ERROR codes (u16) */
enum {
    SXS_ERR_UNKNOWN_TYPE = 1,
    SXS_ERR_MALFORMED = 2,
    SXS_ERR_TOO_LARGE = 3,
    SXS_ERR_BAD_REQ = 4,
    SXS_ERR_NO_PROCESSOR = 5,
    SXS_ERR_OUT_OF_MEMORY = 6,
    SXS_ERR_BAD_ARGUMENT = 7,
    SXS_ERR_WATCH_FULL = 8,
    SXS_ERR_NO_IMAGE = 9,
    SXS_ERR_FLASH_BAD_SLOT = 16,
    SXS_ERR_FLASH_TOO_LARGE = 17,
    SXS_ERR_FLASH_NO_TRANSFER = 18,
    SXS_ERR_FLASH_BAD_OFFSET = 19,
    SXS_ERR_FLASH_WRITE = 20,
    SXS_ERR_FLASH_INCOMPLETE = 21,
    SXS_ERR_FLASH_BAD_CRC = 22,
    SXS_ERR_IMAGE_BAD_HEADER = 23,
    SXS_ERR_IMAGE_BAD_ABI = 24,
    SXS_ERR_IMAGE_BAD_CRC = 25,
    SXS_ERR_IMAGE_NOT_WASM = 26,
    SXS_ERR_IMAGE_REJECTED = 27,
    SXS_ERR_INTERNAL = 255,
};

/* HELLO/INFO boot_reason */
enum { SXS_BOOT_POWER_ON = 0, SXS_BOOT_RESET = 1, SXS_BOOT_NEW_IMAGE = 2, SXS_BOOT_ROLLBACK = 3, SXS_BOOT_CRASH = 4 };
/* HELLO/INFO rollback_reason */
enum {
    SXS_RB_NONE = 0,
    SXS_RB_TRAP = 1,     /* trap at start-up */
    SXS_RB_DEADLINE = 2, /* not up within the HELLO deadline */
    SXS_RB_BAD_CRC = 3,  /* CRC of the slot wrong at boot */
    SXS_RB_LOAD = 4,     /* the engine refused the module */
    SXS_RB_INIT = 5,     /* sxs_init failed or wrong ABI */
};
/* HELLO/INFO state_flags */
#define SXS_STATE_SAFE_MODE 0x01u
#define SXS_STATE_FIRST_HELLO 0x02u
/* RESET flags */
#define SXS_RESET_SAFE_MODE 0x01u
#define SXS_RESET_TEXT_MODE 0x02u
/* FLASH_COMMIT flags */
#define SXS_COMMIT_NO_REBOOT 0x01u
/* FLASH_BEGIN slot: the inactive one; HELLO active_slot: none */
#define SXS_SLOT_INACTIVE 0xFFu
#define SXS_SLOT_NONE 0xFFu
#define SXS_LINK_PROTOCOL 1u

/* The board description of HELLO and INFO: 69 + fw_len bytes. */
#define SXS_BOARD_INFO_FIXED 69u
#define SXS_BOARD_INFO_MAX (SXS_BOARD_INFO_FIXED + 255u)
typedef struct sxs_board_info {
    uint8_t proto, boot_reason, active_slot, rollback_reason;
    uint16_t abi_version, max_payload, rx_window;
    uint8_t processors, state_flags;
    uint32_t image_crc, failed_crc, slot_size, max_input, free_heap, uptime_ms, link_idle_ms;
    uint32_t heap_used, wasm_memory, kv_entries, queued, bad_frames, retransmits, session;
    uint8_t fw_len;
    char firmware[256];
} sxs_board_info;

/* Encode into out (room for SXS_BOARD_INFO_MAX); returns the length. */
size_t sxs_board_info_encode(const sxs_board_info *i, uint8_t *out);
/* Decode; 0 ok, -1 malformed (later versions may append: extra bytes are ignored). */
int sxs_board_info_decode(const uint8_t *p, size_t n, sxs_board_info *i);

/* ---- fixed parts of the payloads (section 8) ---- */

/* board -> host */
void sxs_msg_ok(uint8_t out[4], uint32_t value);                              /* OK: u32 value */
void sxs_msg_error_head(uint8_t out[2], uint16_t code);                       /* ERROR: u16 code, message */
void sxs_msg_event_head(uint8_t out[4], uint8_t channel, uint16_t topic);     /* EVENT: u8 ch, u8 0, u16 topic, data */

/* host -> board; each returns 0, or -1 when the payload has the wrong size */
int sxs_msg_exec_head(const uint8_t *p, size_t n, uint32_t *text_len, uint8_t *proc);  /* at least 5 bytes */
int sxs_msg_watch(const uint8_t *p, size_t n, uint8_t *channel, uint8_t *on, int32_t *topic); /* 8 */
int sxs_msg_flash_begin(const uint8_t *p, size_t n, uint32_t *size, uint32_t *crc, uint8_t *slot); /* 12 */
int sxs_msg_flash_data(const uint8_t *p, size_t n, uint32_t *offset);         /* at least 4, data follows */
int sxs_msg_flags(const uint8_t *p, size_t n, uint8_t *flags);                 /* RESET, FLASH_COMMIT: 1 */
/* host side (tests): the same layouts written */
void sxs_msg_exec_write(uint8_t out[5], uint32_t text_len, uint8_t proc);
void sxs_msg_watch_write(uint8_t out[8], uint8_t channel, uint8_t on, int32_t topic);
void sxs_msg_flash_begin_write(uint8_t out[12], uint32_t size, uint32_t crc, uint8_t slot);

/* Name of a message type ("EXEC"), NULL if unknown. */
const char *sxs_msg_name(uint8_t type);

#endif
