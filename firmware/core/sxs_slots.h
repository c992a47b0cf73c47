/*
 * sxs_slots.h - the two image slots, the boot record and image transfer
 * (docs/link.md sections 11-13), on any NOR flash behind sxs_flash_ops.
 *
 * Boot record: 32 bytes at offset 0 of one of the two 4 KiB sectors of the
 * BOOT partition; a new record goes to the sector that does not hold the
 * current one (erase, then one 32-byte write), so a write torn at any byte
 * leaves the previous record valid.  The valid copy with the larger counter
 * wins.
 *   0 "SXSB" | 4 u32 counter | 8 u8 active | 9 u8 state | 10 u8 attempts |
 *   11 u8 previous | 12 u32 active_crc | 16 u32 failed_crc |
 *   20 u8 rollback_reason | 21..27 reserved | 28 u32 CRC-32 of 0..27
 */
#ifndef SXS_SLOTS_H
#define SXS_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "sxs_board.h"
#include "sxs_image.h"

typedef struct sxs_flash_ops {
    void *ctx;
    uint32_t (*size)(void *ctx, sxs_partition part);
    int (*read)(void *ctx, sxs_partition part, uint32_t off, void *buf, uint32_t len);
    int (*write)(void *ctx, sxs_partition part, uint32_t off, const void *buf, uint32_t len);
    int (*erase)(void *ctx, sxs_partition part, uint32_t off, uint32_t len);
    /* optional (NULL: read instead): a read-only view, see sxs_board_flash_map */
    const void *(*map)(void *ctx, sxs_partition part, uint32_t off, uint32_t len);
    void (*unmap)(void *ctx, const void *view);
} sxs_flash_ops;

/* The board's own flash (sxs_board.h) behind sxs_flash_ops. */
extern const sxs_flash_ops sxs_board_flash_ops;

#define SXS_BOOT_RECORD_LEN 32u
enum { SXS_BOOT_CONFIRMED = 0, SXS_BOOT_PENDING = 1 };

typedef struct sxs_boot_record {
    uint32_t counter;
    uint8_t active, state, attempts, previous;
    uint32_t active_crc, failed_crc;
    uint8_t rollback_reason;
} sxs_boot_record;

void sxs_boot_record_encode(const sxs_boot_record *r, uint8_t out[SXS_BOOT_RECORD_LEN]);
/* 0 valid, -1 not a record (magic or CRC). */
int sxs_boot_record_decode(const uint8_t in[SXS_BOOT_RECORD_LEN], sxs_boot_record *r);
/* The winning record; 0, or -1 when neither sector holds a valid one. */
int sxs_boot_record_load(const sxs_flash_ops *f, sxs_boot_record *r);
/* Write r as the new winner (r->counter is set to the current counter + 1);
 * an SXS_FLASH_* result. */
int sxs_boot_record_store(const sxs_flash_ops *f, sxs_boot_record *r);

static inline sxs_partition sxs_slot_part(int slot) { return slot ? SXS_PART_IMAGE_B : SXS_PART_IMAGE_A; }
uint32_t sxs_slot_size(const sxs_flash_ops *f);

/* Every check of section 12 on the image in a slot.  file_len 0: the file
 * is as long as its header says (at boot); else the received size (at
 * FLASH_COMMIT).  *got_crc receives the computed Wasm CRC. */
sxs_image_err sxs_slot_verify(const sxs_flash_ops *f, int slot, uint32_t file_len, uint32_t abi,
                              sxs_image_header *h, uint32_t *got_crc);
/* CRC-32 of the first len bytes of a slot; 0 ok, else an SXS_FLASH_* code. */
int sxs_slot_crc(const sxs_flash_ops *f, int slot, uint32_t len, uint32_t *crc);
/* Write a whole image file into a slot (erasing what it needs). */
int sxs_slot_install(const sxs_flash_ops *f, int slot, const uint8_t *file, uint32_t len);
/* 1 when the flash holds neither a boot record nor an image for `abi` in either slot:
 * a fresh board, which a port gives its default image. */
int sxs_flash_blank(const sxs_flash_ops *f, uint32_t abi);

/* ---- one image transfer (FLASH_BEGIN / FLASH_DATA / FLASH_COMMIT) ---- */

typedef struct sxs_flash_xfer {
    uint8_t active, failed, slot;
    uint32_t req, size, crc, received, erased;
} sxs_flash_xfer;

void sxs_xfer_begin(sxs_flash_xfer *x, uint32_t req, int slot, uint32_t size, uint32_t crc);
/* Write the next bytes (two pieces); 0, or an ERROR code (FLASH_BAD_OFFSET,
 * FLASH_WRITE) after which the transfer is failed.  Sectors are erased
 * lazily, as the data reaches them. */
uint16_t sxs_xfer_data(sxs_flash_xfer *x, const sxs_flash_ops *f, uint32_t offset, const uint8_t *p1, size_t n1,
                       const uint8_t *p2, size_t n2);
/* The checks of FLASH_COMMIT up to the engine: 0, or an ERROR code with a
 * message in msg.  On success *h is the image header. */
uint16_t sxs_xfer_check(sxs_flash_xfer *x, const sxs_flash_ops *f, uint32_t req, uint32_t abi, sxs_image_header *h,
                        char *msg, size_t cap);

#endif
