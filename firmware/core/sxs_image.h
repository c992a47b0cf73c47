/*
 * sxs_image.h - the image file (docs/link.md section 12): a 32-byte header
 * then the Wasm module.
 *   0 "SXSI" | 4 u16 format = 1 | 6 u16 header_len = 32 | 8 u32 abi_version |
 *   12 u32 wasm_len | 16 u32 wasm_crc (the image id) | 20 u32 flags |
 *   24 u32 build_time | 28 u32 header_crc (CRC-32 of bytes 0..27)
 */
#ifndef SXS_IMAGE_H
#define SXS_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define SXS_IMAGE_HEADER_LEN 32u
#define SXS_IMAGE_FORMAT 1u

typedef struct sxs_image_header {
    uint16_t format, header_len;
    uint32_t abi_version, wasm_len, wasm_crc, flags, build_time, header_crc;
} sxs_image_header;

/* The checks, in the order they are made; the first failure is reported. */
typedef enum sxs_image_err {
    SXS_IMG_OK = 0,
    SXS_IMG_TRUNCATED,  /* shorter than the header        IMAGE_BAD_HEADER */
    SXS_IMG_MAGIC,      /* not "SXSI"                     IMAGE_BAD_HEADER */
    SXS_IMG_HEADER_CRC, /* header CRC wrong               IMAGE_BAD_HEADER */
    SXS_IMG_FORMAT,     /* format != 1 or header_len != 32 IMAGE_BAD_HEADER */
    SXS_IMG_ABI,        /* not the firmware's ABI          IMAGE_BAD_ABI */
    SXS_IMG_LENGTH,     /* file size != 32 + wasm_len      IMAGE_BAD_HEADER */
    SXS_IMG_WASM_CRC,   /* CRC-32 of the Wasm wrong        IMAGE_BAD_CRC */
    SXS_IMG_NOT_WASM,   /* no Wasm version-1 preamble      IMAGE_NOT_WASM */
    SXS_IMG_IO,         /* reading the slot failed         FLASH_WRITE */
} sxs_image_err;

extern const uint8_t sxs_wasm_preamble[8];

/* "truncated", "magic", "header-crc", "format", "abi", "length", "wasm-crc", "not-wasm" */
const char *sxs_image_reason(sxs_image_err e);
/* The ERROR code of docs/link.md section 10 (0 for OK). */
uint16_t sxs_image_error_code(sxs_image_err e);

/* Checks truncated .. length from the first `have` bytes (at least the
 * header, if the file has one) of a file of file_len bytes. */
sxs_image_err sxs_image_check_header(const uint8_t *file, uint32_t have, uint32_t file_len, uint32_t abi,
                                     sxs_image_header *h);
/* Every check on a whole file in memory. */
sxs_image_err sxs_image_verify(const uint8_t *file, uint32_t len, uint32_t abi, sxs_image_header *h);
/* A human message for a failed check (like host/link/image-header.ts). */
void sxs_image_message(sxs_image_err e, const sxs_image_header *h, uint32_t file_len, uint32_t abi,
                       uint32_t got_crc, char *buf, size_t cap);
/* Write the header of an image holding `wasm`. */
void sxs_image_build_header(uint32_t abi, const uint8_t *wasm, uint32_t wasm_len, uint32_t build_time,
                            uint8_t out[SXS_IMAGE_HEADER_LEN]);

#endif
