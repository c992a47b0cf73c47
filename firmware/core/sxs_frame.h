/*
 * sxs_frame.h - one link frame (docs/link.md sections 3 and 4) and the
 * streaming deframer.
 *
 * Decoded frame, little-endian:
 *   0 u8 type | 1 u8 flags | 2 u16 seq | 4 u16 ack | 6 u16 credit |
 *   8 u32 req | 12 u16 len | 14 payload[len] | 14+len u32 CRC-32 of 0..13+len
 * On the wire: COBS(frame) 0x00.
 */
#ifndef SXS_FRAME_H
#define SXS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "sxs_cobs.h"

#define SXS_FRAME_HEADER 14u
#define SXS_FRAME_CRC 4u
#define SXS_FRAME_OVERHEAD 18u /* header + CRC: also the credit cost of an empty frame */
#ifndef SXS_LINK_MAX_PAYLOAD
#define SXS_LINK_MAX_PAYLOAD 1024u /* protocol version 1; a board may announce 256..1024 */
#endif
#define SXS_FRAME_MAX_BODY (SXS_FRAME_OVERHEAD + SXS_LINK_MAX_PAYLOAD)   /* 1042 */
#define SXS_FRAME_MAX_ENCODED SXS_COBS_MAX_ENCODED(SXS_FRAME_MAX_BODY)   /* 1047 */
#define SXS_FRAME_MAX_WIRE (SXS_FRAME_MAX_ENCODED + 1u)                  /* 1048 */
/* The encoder builds the frame this many bytes into its buffer and COBS-encodes
 * it in place: the code bytes COBS adds before byte i never exceed i/254 + 1. */
#define SXS_FRAME_ENCODE_SHIFT (SXS_FRAME_MAX_ENCODED - SXS_FRAME_MAX_BODY + 1u)
/* One encode buffer: a largest frame on the wire. */
#define SXS_FRAME_ENCODE_BUF (SXS_FRAME_ENCODE_SHIFT + SXS_FRAME_MAX_BODY)

#define SXS_FLAG_MORE 0x01u
#define SXS_FLAG_POLL 0x02u

/* The credit a frame consumes at its receiver: 18 + payload length. */
#define SXS_FRAME_COST(len) (SXS_FRAME_OVERHEAD + (uint32_t)(len))

typedef struct sxs_frame_hdr {
    uint8_t type, flags;
    uint16_t seq, ack, credit;
    uint32_t req;
    uint16_t len;
} sxs_frame_hdr;

static inline int sxs_frame_is_control(uint8_t type) { return type >= 0x01 && type <= 0x0F; }

/* little-endian helpers */
static inline uint16_t sxs_rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t sxs_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void sxs_wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static inline void sxs_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* Write the decoded frame (header, the payload gathered from up to two
 * pieces, CRC) to body (room for 18 + h->len).  h->len must equal n1 + n2.
 * Returns the body length. */
size_t sxs_frame_body(const sxs_frame_hdr *h, const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2,
                      uint8_t *body);

/* Encode a whole frame for the wire (COBS + 0x00) into buf
 * (SXS_FRAME_ENCODE_BUF bytes, enough for a payload of up to
 * SXS_LINK_MAX_PAYLOAD); returns a pointer into buf (always buf) and the wire
 * length in *wire_len. */
uint8_t *sxs_frame_encode(const sxs_frame_hdr *h, const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2,
                          uint8_t *buf, size_t *wire_len);

/* Reasons a frame is dropped, in the order they are checked. */
typedef enum sxs_frame_err {
    SXS_FRAME_OK = 0,
    SXS_FRAME_ECOBS,     /* "cobs" */
    SXS_FRAME_ESHORT,    /* "short": fewer than 18 bytes */
    SXS_FRAME_EOVERSIZE, /* "oversize": more than 18 + max_payload */
    SXS_FRAME_ECRC,      /* "crc" */
    SXS_FRAME_ELENGTH,   /* "length": len field disagrees */
    SXS_FRAME_EOVERLONG, /* "overlong": more than MAX_ENCODED bytes without a 0x00 (deframer only) */
    SXS_FRAME_NREASONS
} sxs_frame_err;

const char *sxs_frame_reason(sxs_frame_err e);

/* Check a decoded frame (short, oversize, crc, length); on success fill *h
 * and point *payload into body. */
sxs_frame_err sxs_frame_check(const uint8_t *body, size_t n, uint32_t max_payload, sxs_frame_hdr *h,
                              const uint8_t **payload);

/* COBS-decode in place then check. */
sxs_frame_err sxs_frame_decode(uint8_t *enc, size_t n, uint32_t max_payload, sxs_frame_hdr *h,
                               const uint8_t **payload);

/* ---- the streaming deframer ---- */

typedef enum sxs_deframe_kind {
    SXS_DF_NONE = 0,
    SXS_DF_FRAME, /* a valid frame: hdr, payload (valid until the next push) */
    SXS_DF_ENTER, /* the ENTER sequence 00 FF 53 58 53 00 */
    SXS_DF_DROP,  /* a dropped frame: reason, bytes */
} sxs_deframe_kind;

typedef struct sxs_deframe_event {
    sxs_deframe_kind kind;
    sxs_frame_hdr hdr;
    const uint8_t *payload;
    sxs_frame_err reason;
    uint32_t bytes;
} sxs_deframe_event;

typedef struct sxs_deframer {
    uint32_t max_payload, max_encoded;
    uint32_t n;       /* bytes collected */
    int skipping;     /* an overlong run: discard up to the next 0x00 */
    uint32_t skipped;
    uint32_t frames, enters, empty, dropped[SXS_FRAME_NREASONS], dropped_bytes;
    uint8_t buf[SXS_FRAME_MAX_ENCODED]; /* the one decode buffer: frames are decoded in place */
} sxs_deframer;

void sxs_deframer_init(sxs_deframer *d, uint32_t max_payload);
/* Forget a partial frame. */
void sxs_deframer_reset(sxs_deframer *d);
/* Feed one byte; returns 1 and fills *ev when it completes an event. */
int sxs_deframer_push(sxs_deframer *d, uint8_t b, sxs_deframe_event *ev);
uint32_t sxs_deframer_dropped(const sxs_deframer *d);

/* The ENTER sequence. */
extern const uint8_t sxs_enter_sequence[6];

#endif
