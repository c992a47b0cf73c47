/*
 * sxs_cobs.h - Consistent Overhead Byte Stuffing (docs/link.md section 3).
 * The encoded form holds no 0x00; on the wire each encoded frame is
 * followed by one 0x00 delimiter, which these functions do not add.
 *
 * Encoders write the minimal form (no code byte after a full 0xFF block that
 * ends the input; the empty input is the single byte 0x01).  Decoders accept
 * a redundant final 0x01 after such a block and refuse an empty input, a
 * 0x00 anywhere, and a code byte announcing more bytes than remain.
 */
#ifndef SXS_COBS_H
#define SXS_COBS_H

#include <stddef.h>
#include <stdint.h>

/* Largest encoded size of n bytes: 1 for n = 0, else n + ceil(n / 254). */
#define SXS_COBS_MAX_ENCODED(n) ((n) == 0 ? 1u : (size_t)(n) + ((size_t)(n) + 253u) / 254u)

/* Encode n bytes of `in` into `out` (room for SXS_COBS_MAX_ENCODED(n));
 * returns the encoded length.  `out` may overlap `in` when
 * in >= out + SXS_COBS_MAX_ENCODED(n) - n (the encoder never writes past
 * the byte it reads next). */
size_t sxs_cobs_encode(const uint8_t *in, size_t n, uint8_t *out);

enum {
    SXS_COBS_OK = 0,
    SXS_COBS_ZERO = -1,      /* "zero byte" */
    SXS_COBS_TRUNCATED = -2, /* "truncated run" (also: empty input) */
};

/* Decode n encoded bytes into `out` (room for n bytes; may be `in` itself:
 * decoding in place works because the output never outgrows the input).
 * Returns SXS_COBS_OK with *out_len set, or an error with *err_at = the
 * offset of the offending byte. */
int sxs_cobs_decode(const uint8_t *in, size_t n, uint8_t *out, size_t *out_len, size_t *err_at);

/* "zero byte", "truncated run" */
const char *sxs_cobs_reason(int err);

#endif
