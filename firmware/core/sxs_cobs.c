/* sxs_cobs.c - see sxs_cobs.h. */
#include "sxs_cobs.h"

size_t sxs_cobs_encode(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t code_at = 0, o = 1;
    uint8_t code = 1;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = in[i];
        if (b != 0) {
            out[o++] = b;
            code++;
        }
        if (b == 0 || code == 0xFF) {
            out[code_at] = code;
            code = 1;
            code_at = o;
            /* after a full block at the very end, no further code byte */
            if (b == 0 || i + 1 < n) o++;
        }
    }
    if (code_at < o) out[code_at] = code;
    return o;
}

int sxs_cobs_decode(const uint8_t *in, size_t n, uint8_t *out, size_t *out_len, size_t *err_at)
{
    size_t i = 0, o = 0;
    *out_len = 0;
    if (n == 0) {
        *err_at = 0;
        return SXS_COBS_TRUNCATED;
    }
    while (i < n) {
        uint8_t code = in[i];
        if (code == 0) {
            *err_at = i;
            return SXS_COBS_ZERO;
        }
        size_t end = i + code;
        if (end > n) {
            *err_at = i;
            return SXS_COBS_TRUNCATED;
        }
        for (size_t j = i + 1; j < end; j++) {
            uint8_t b = in[j];
            if (b == 0) {
                *err_at = j;
                return SXS_COBS_ZERO;
            }
            out[o++] = b; /* o < j: in-place decoding never overtakes the reader */
        }
        i = end;
        if (code != 0xFF && i < n) out[o++] = 0;
    }
    *out_len = o;
    return SXS_COBS_OK;
}

const char *sxs_cobs_reason(int err)
{
    return err == SXS_COBS_ZERO ? "zero byte" : err == SXS_COBS_TRUNCATED ? "truncated run" : "ok";
}
