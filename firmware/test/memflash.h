/* memflash.h - a NOR flash in memory for tests, behind sxs_flash_ops: the
 * partitions of sxs_board.h, erase = 0xFF on 4 KiB sectors, writes only
 * clear bits, and a power cut after a chosen number of changed bytes (the
 * operation in progress stops part-way, every later access fails). */
#ifndef SXS_TEST_MEMFLASH_H
#define SXS_TEST_MEMFLASH_H

#include <stdint.h>

#include "sxs_slots.h"

typedef struct memflash {
    uint8_t *b;
    uint32_t off[SXS_PART_COUNT], size[SXS_PART_COUNT];
    uint32_t total;
    int64_t budget; /* bytes that may still change; < 0: no cut armed */
    int lost;
    uint32_t writes, erases;
    int mappable;         /* offer map/unmap (views into b), as a board with mapped flash */
    uint32_t maps, unmaps; /* views handed out and given back */
    sxs_flash_ops ops;
} memflash;

/* slot_bytes per image slot, kv_bytes for K/V, two sectors of boot record */
void memflash_init(memflash *m, uint32_t slot_bytes, uint32_t kv_bytes);
void memflash_free(memflash *m);
/* Cut the power after n more changed bytes (an erased sector counts as its bytes). */
void memflash_cut_after(memflash *m, int64_t n);
/* Power back on: accesses work again (the contents stay as they are). */
void memflash_power_on(memflash *m);

#endif
