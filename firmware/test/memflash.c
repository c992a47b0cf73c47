/* memflash.c - see memflash.h. */
#include "memflash.h"

#include <stdlib.h>
#include <string.h>

static int range(memflash *m, sxs_partition p, uint32_t off, uint32_t len)
{
    return p < SXS_PART_COUNT && off <= m->size[p] && len <= m->size[p] - off;
}

static uint32_t f_size(void *c, sxs_partition p)
{
    memflash *m = c;
    return p < SXS_PART_COUNT ? m->size[p] : 0;
}

static int f_read(void *c, sxs_partition p, uint32_t off, void *buf, uint32_t len)
{
    memflash *m = c;
    if (m->lost) return SXS_FLASH_EIO;
    if (!range(m, p, off, len)) return SXS_FLASH_EBOUNDS;
    memcpy(buf, m->b + m->off[p] + off, len);
    return 0;
}

/* how many of n bytes may change before the cut */
static uint32_t allow(memflash *m, uint32_t n)
{
    if (m->budget < 0) return n;
    if ((int64_t)n <= m->budget) {
        m->budget -= n;
        return n;
    }
    uint32_t k = (uint32_t)m->budget;
    m->budget = 0;
    m->lost = 1;
    return k;
}

static int f_write(void *c, sxs_partition p, uint32_t off, const void *buf, uint32_t len)
{
    memflash *m = c;
    if (m->lost) return SXS_FLASH_EIO;
    if (!range(m, p, off, len)) return SXS_FLASH_EBOUNDS;
    uint8_t *d = m->b + m->off[p] + off;
    const uint8_t *s = buf;
    for (uint32_t i = 0; i < len; i++)
        if (s[i] & ~d[i]) return SXS_FLASH_ESETBIT;
    m->writes++;
    uint32_t k = allow(m, len);
    for (uint32_t i = 0; i < k; i++) d[i] &= s[i];
    return k == len ? 0 : SXS_FLASH_EIO;
}

static int f_erase(void *c, sxs_partition p, uint32_t off, uint32_t len)
{
    memflash *m = c;
    if (m->lost) return SXS_FLASH_EIO;
    if (!range(m, p, off, len)) return SXS_FLASH_EBOUNDS;
    if (off % SXS_FLASH_SECTOR || len % SXS_FLASH_SECTOR) return SXS_FLASH_EALIGN;
    m->erases++;
    uint32_t k = allow(m, len);
    memset(m->b + m->off[p] + off, 0xFF, k);
    return k == len ? 0 : SXS_FLASH_EIO;
}

static const void *f_map(void *c, sxs_partition p, uint32_t off, uint32_t len)
{
    memflash *m = c;
    if (!m->mappable || m->lost || !range(m, p, off, len)) return NULL;
    m->maps++;
    return m->b + m->off[p] + off;
}

static void f_unmap(void *c, const void *view)
{
    memflash *m = c;
    (void)view;
    m->unmaps++;
}

void memflash_init(memflash *m, uint32_t slot_bytes, uint32_t kv_bytes)
{
    memset(m, 0, sizeof *m);
    m->size[SXS_PART_IMAGE_A] = m->size[SXS_PART_IMAGE_B] = slot_bytes;
    m->size[SXS_PART_KV] = kv_bytes;
    m->size[SXS_PART_BOOT] = 2 * SXS_FLASH_SECTOR;
    uint32_t o = 0;
    for (int p = 0; p < SXS_PART_COUNT; p++) m->off[p] = o, o += m->size[p];
    m->total = o;
    m->b = malloc(o);
    memset(m->b, 0xFF, o);
    m->budget = -1;
    m->ops.ctx = m;
    m->ops.size = f_size;
    m->ops.read = f_read;
    m->ops.write = f_write;
    m->ops.erase = f_erase;
    m->ops.map = f_map;
    m->ops.unmap = f_unmap;
}

void memflash_free(memflash *m) { free(m->b); }

void memflash_cut_after(memflash *m, int64_t n)
{
    m->budget = n;
    m->lost = 0;
}

void memflash_power_on(memflash *m)
{
    m->budget = -1;
    m->lost = 0;
}
