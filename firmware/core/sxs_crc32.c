/* sxs_crc32.c - see sxs_crc32.h.  A 1 KiB table, built once (const-able in
 * flash on a board, but computed here to keep the source short). */
#include "sxs_crc32.h"

static uint32_t table[256];
static int table_ready;

static void build(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[n] = c;
    }
    table_ready = 1;
}

uint32_t sxs_crc32_update(uint32_t state, const void *data, size_t len)
{
    if (!table_ready) build();
    const uint8_t *p = data;
    uint32_t c = state;
    for (size_t i = 0; i < len; i++) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c;
}

uint32_t sxs_crc32(const void *data, size_t len)
{
    return sxs_crc32_final(sxs_crc32_update(SXS_CRC32_INIT, data, len));
}
