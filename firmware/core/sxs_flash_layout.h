/*
 * sxs_flash_layout.h - the four partitions laid out one after the other in one flash
 * image: the layout of the ports that keep their flash in a host file (posix, qemu-rv32),
 * with the ESP32 port's partition sizes (ports/esp32/partitions.csv).  One definition, so
 * that a flash file of one port is a flash file of the other.
 */
#ifndef SXS_FLASH_LAYOUT_H
#define SXS_FLASH_LAYOUT_H

#include <stdint.h>

#include "sxs_board.h"

#define SXS_LAYOUT_IMAGE_SLOT_BYTES (512u * 1024u)
#define SXS_LAYOUT_KV_BYTES (256u * 1024u)
#define SXS_LAYOUT_BOOT_BYTES (8u * 1024u) /* the boot record (docs/link.md): two sectors */
#define SXS_LAYOUT_FLASH_BYTES (2u * SXS_LAYOUT_IMAGE_SLOT_BYTES + SXS_LAYOUT_KV_BYTES + SXS_LAYOUT_BOOT_BYTES)

/* Where partition `part` starts in the image, and how long it is (0 for no partition). */
static inline uint32_t sxs_layout_offset(sxs_partition part)
{
    switch (part) {
    case SXS_PART_IMAGE_A: return 0;
    case SXS_PART_IMAGE_B: return SXS_LAYOUT_IMAGE_SLOT_BYTES;
    case SXS_PART_KV: return 2u * SXS_LAYOUT_IMAGE_SLOT_BYTES;
    case SXS_PART_BOOT: return 2u * SXS_LAYOUT_IMAGE_SLOT_BYTES + SXS_LAYOUT_KV_BYTES;
    default: return 0;
    }
}

static inline uint32_t sxs_layout_size(sxs_partition part)
{
    switch (part) {
    case SXS_PART_IMAGE_A:
    case SXS_PART_IMAGE_B: return SXS_LAYOUT_IMAGE_SLOT_BYTES;
    case SXS_PART_KV: return SXS_LAYOUT_KV_BYTES;
    case SXS_PART_BOOT: return SXS_LAYOUT_BOOT_BYTES;
    default: return 0;
    }
}

#endif
