/*
 * sxs_crc32.h - CRC-32/IEEE (ISO-HDLC): reflected, polynomial 0xEDB88320,
 * initial value and final XOR 0xFFFFFFFF; CRC-32("123456789") = 0xCBF43926.
 * Used for link frames, image files and the boot record (docs/link.md).
 */
#ifndef SXS_CRC32_H
#define SXS_CRC32_H

#include <stddef.h>
#include <stdint.h>

#define SXS_CRC32_INIT 0xFFFFFFFFu

/* Continue a CRC over more bytes: start with SXS_CRC32_INIT, end with
 * sxs_crc32_final. */
uint32_t sxs_crc32_update(uint32_t state, const void *data, size_t len);
static inline uint32_t sxs_crc32_final(uint32_t state) { return state ^ 0xFFFFFFFFu; }
/* The CRC-32 of len bytes. */
uint32_t sxs_crc32(const void *data, size_t len);

#endif
