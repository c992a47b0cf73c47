/* sxs_frame.c - see sxs_frame.h. */
#include "sxs_frame.h"

#include <string.h>

#include "sxs_crc32.h"

const uint8_t sxs_enter_sequence[6] = { 0x00, 0xFF, 0x53, 0x58, 0x53, 0x00 };
static const uint8_t enter_inner[4] = { 0xFF, 0x53, 0x58, 0x53 };

size_t sxs_frame_body(const sxs_frame_hdr *h, const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2,
                      uint8_t *body)
{
    body[0] = h->type;
    body[1] = h->flags;
    sxs_wr16(body + 2, h->seq);
    sxs_wr16(body + 4, h->ack);
    sxs_wr16(body + 6, h->credit);
    sxs_wr32(body + 8, h->req);
    sxs_wr16(body + 12, (uint16_t)(n1 + n2));
    if (n1) memmove(body + SXS_FRAME_HEADER, p1, n1);
    if (n2) memmove(body + SXS_FRAME_HEADER + n1, p2, n2);
    size_t end = SXS_FRAME_HEADER + n1 + n2;
    sxs_wr32(body + end, sxs_crc32(body, end));
    return end + SXS_FRAME_CRC;
}

uint8_t *sxs_frame_encode(const sxs_frame_hdr *h, const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2,
                          uint8_t *buf, size_t *wire_len)
{
    uint8_t *body = buf + SXS_FRAME_ENCODE_SHIFT;
    size_t n = sxs_frame_body(h, p1, n1, p2, n2, body);
    size_t e = sxs_cobs_encode(body, n, buf);
    buf[e] = 0;
    *wire_len = e + 1;
    return buf;
}

const char *sxs_frame_reason(sxs_frame_err e)
{
    static const char *const names[SXS_FRAME_NREASONS] = { "ok", "cobs", "short", "oversize", "crc", "length", "overlong" };
    return (unsigned)e < SXS_FRAME_NREASONS ? names[e] : "?";
}

sxs_frame_err sxs_frame_check(const uint8_t *body, size_t n, uint32_t max_payload, sxs_frame_hdr *h,
                              const uint8_t **payload)
{
    if (n < SXS_FRAME_OVERHEAD) return SXS_FRAME_ESHORT;
    if (n > SXS_FRAME_OVERHEAD + max_payload) return SXS_FRAME_EOVERSIZE;
    size_t end = n - SXS_FRAME_CRC;
    if (sxs_rd32(body + end) != sxs_crc32(body, end)) return SXS_FRAME_ECRC;
    uint16_t len = sxs_rd16(body + 12);
    if (len != end - SXS_FRAME_HEADER) return SXS_FRAME_ELENGTH;
    h->type = body[0];
    h->flags = body[1];
    h->seq = sxs_rd16(body + 2);
    h->ack = sxs_rd16(body + 4);
    h->credit = sxs_rd16(body + 6);
    h->req = sxs_rd32(body + 8);
    h->len = len;
    *payload = body + SXS_FRAME_HEADER;
    return SXS_FRAME_OK;
}

sxs_frame_err sxs_frame_decode(uint8_t *enc, size_t n, uint32_t max_payload, sxs_frame_hdr *h,
                               const uint8_t **payload)
{
    size_t len, at;
    if (sxs_cobs_decode(enc, n, enc, &len, &at) != SXS_COBS_OK) return SXS_FRAME_ECOBS;
    return sxs_frame_check(enc, len, max_payload, h, payload);
}

void sxs_deframer_init(sxs_deframer *d, uint32_t max_payload)
{
    memset(d, 0, sizeof *d - sizeof d->buf);
    if (max_payload > SXS_LINK_MAX_PAYLOAD) max_payload = SXS_LINK_MAX_PAYLOAD;
    d->max_payload = max_payload;
    d->max_encoded = (uint32_t)SXS_COBS_MAX_ENCODED(SXS_FRAME_OVERHEAD + max_payload);
}

void sxs_deframer_reset(sxs_deframer *d)
{
    d->n = 0;
    d->skipping = 0;
    d->skipped = 0;
}

static int drop(sxs_deframer *d, sxs_deframe_event *ev, sxs_frame_err why, uint32_t bytes)
{
    d->dropped[why]++;
    d->dropped_bytes += bytes;
    ev->kind = SXS_DF_DROP;
    ev->reason = why;
    ev->bytes = bytes;
    return 1;
}

int sxs_deframer_push(sxs_deframer *d, uint8_t b, sxs_deframe_event *ev)
{
    if (b != 0) {
        if (d->skipping) d->skipped++;
        else if (d->n < d->max_encoded) d->buf[d->n++] = b;
        else {
            d->skipping = 1;
            d->skipped = d->n + 1;
            d->n = 0;
        }
        return 0;
    }
    if (d->skipping) {
        uint32_t k = d->skipped;
        d->skipping = 0;
        d->skipped = 0;
        return drop(d, ev, SXS_FRAME_EOVERLONG, k);
    }
    uint32_t len = d->n;
    d->n = 0;
    if (len == 0) {
        d->empty++;
        return 0;
    }
    if (len == sizeof enter_inner && memcmp(d->buf, enter_inner, sizeof enter_inner) == 0) {
        d->enters++;
        ev->kind = SXS_DF_ENTER;
        return 1;
    }
    sxs_frame_err e = sxs_frame_decode(d->buf, len, d->max_payload, &ev->hdr, &ev->payload);
    if (e != SXS_FRAME_OK) return drop(d, ev, e, len);
    d->frames++;
    ev->kind = SXS_DF_FRAME;
    return 1;
}

uint32_t sxs_deframer_dropped(const sxs_deframer *d)
{
    uint32_t t = 0;
    for (int i = 1; i < SXS_FRAME_NREASONS; i++) t += d->dropped[i];
    return t;
}
