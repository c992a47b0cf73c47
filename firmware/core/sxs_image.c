/* sxs_image.c - see sxs_image.h. */
#include "sxs_image.h"

#include <stdio.h>
#include <string.h>

#include "sxs_crc32.h"
#include "sxs_frame.h"
#include "sxs_msg.h"

const uint8_t sxs_wasm_preamble[8] = { 0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00 };
static const uint8_t magic[4] = { 0x53, 0x58, 0x53, 0x49 };

const char *sxs_image_reason(sxs_image_err e)
{
    static const char *const n[] = { "ok", "truncated", "magic", "header-crc", "format", "abi", "length",
                                     "wasm-crc", "not-wasm", "io" };
    return (unsigned)e < sizeof n / sizeof n[0] ? n[e] : "?";
}

uint16_t sxs_image_error_code(sxs_image_err e)
{
    switch (e) {
    case SXS_IMG_OK: return 0;
    case SXS_IMG_ABI: return SXS_ERR_IMAGE_BAD_ABI;
    case SXS_IMG_WASM_CRC: return SXS_ERR_IMAGE_BAD_CRC;
    case SXS_IMG_NOT_WASM: return SXS_ERR_IMAGE_NOT_WASM;
    case SXS_IMG_IO: return SXS_ERR_FLASH_WRITE;
    default: return SXS_ERR_IMAGE_BAD_HEADER;
    }
}

sxs_image_err sxs_image_check_header(const uint8_t *f, uint32_t have, uint32_t file_len, uint32_t abi,
                                     sxs_image_header *h)
{
    memset(h, 0, sizeof *h);
    if (file_len < SXS_IMAGE_HEADER_LEN || have < SXS_IMAGE_HEADER_LEN) return SXS_IMG_TRUNCATED;
    if (memcmp(f, magic, 4) != 0) return SXS_IMG_MAGIC;
    h->format = sxs_rd16(f + 4);
    h->header_len = sxs_rd16(f + 6);
    h->abi_version = sxs_rd32(f + 8);
    h->wasm_len = sxs_rd32(f + 12);
    h->wasm_crc = sxs_rd32(f + 16);
    h->flags = sxs_rd32(f + 20);
    h->build_time = sxs_rd32(f + 24);
    h->header_crc = sxs_rd32(f + 28);
    if (sxs_crc32(f, 28) != h->header_crc) return SXS_IMG_HEADER_CRC;
    if (h->format != SXS_IMAGE_FORMAT || h->header_len != SXS_IMAGE_HEADER_LEN) return SXS_IMG_FORMAT;
    if (h->abi_version != abi) return SXS_IMG_ABI;
    if ((uint64_t)file_len != (uint64_t)SXS_IMAGE_HEADER_LEN + h->wasm_len) return SXS_IMG_LENGTH;
    return SXS_IMG_OK;
}

sxs_image_err sxs_image_verify(const uint8_t *file, uint32_t len, uint32_t abi, sxs_image_header *h)
{
    sxs_image_err e = sxs_image_check_header(file, len, len, abi, h);
    if (e) return e;
    const uint8_t *w = file + SXS_IMAGE_HEADER_LEN;
    if (sxs_crc32(w, h->wasm_len) != h->wasm_crc) return SXS_IMG_WASM_CRC;
    if (h->wasm_len < 8 || memcmp(w, sxs_wasm_preamble, 8) != 0) return SXS_IMG_NOT_WASM;
    return SXS_IMG_OK;
}

void sxs_image_message(sxs_image_err e, const sxs_image_header *h, uint32_t file_len, uint32_t abi,
                       uint32_t got_crc, char *buf, size_t cap)
{
    switch (e) {
    case SXS_IMG_OK: snprintf(buf, cap, "image ok"); break;
    case SXS_IMG_TRUNCATED:
        snprintf(buf, cap, "image: %u bytes, shorter than the %u-byte header", (unsigned)file_len, SXS_IMAGE_HEADER_LEN);
        break;
    case SXS_IMG_MAGIC: snprintf(buf, cap, "image: bad magic (not an sxs image)"); break;
    case SXS_IMG_HEADER_CRC: snprintf(buf, cap, "image: header CRC mismatch"); break;
    case SXS_IMG_FORMAT:
        snprintf(buf, cap, "image: format %u with a %u-byte header is not supported", (unsigned)h->format,
                 (unsigned)h->header_len);
        break;
    case SXS_IMG_ABI:
        snprintf(buf, cap, "image: ABI version %u, this board runs ABI %u", (unsigned)h->abi_version, (unsigned)abi);
        break;
    case SXS_IMG_LENGTH:
        snprintf(buf, cap, "image: header says %u Wasm bytes but the file has %u%s", (unsigned)h->wasm_len,
                 (unsigned)(file_len - SXS_IMAGE_HEADER_LEN),
                 file_len < SXS_IMAGE_HEADER_LEN + h->wasm_len ? " (truncated)" : "");
        break;
    case SXS_IMG_WASM_CRC:
        snprintf(buf, cap, "image: Wasm CRC-32 0x%08x but header says 0x%08x", (unsigned)got_crc, (unsigned)h->wasm_crc);
        break;
    case SXS_IMG_NOT_WASM: snprintf(buf, cap, "image: the payload is not a Wasm version-1 module"); break;
    case SXS_IMG_IO: snprintf(buf, cap, "image: reading the slot failed"); break;
    }
}

void sxs_image_build_header(uint32_t abi, const uint8_t *wasm, uint32_t wasm_len, uint32_t build_time,
                            uint8_t out[SXS_IMAGE_HEADER_LEN])
{
    memcpy(out, magic, 4);
    sxs_wr16(out + 4, SXS_IMAGE_FORMAT);
    sxs_wr16(out + 6, SXS_IMAGE_HEADER_LEN);
    sxs_wr32(out + 8, abi);
    sxs_wr32(out + 12, wasm_len);
    sxs_wr32(out + 16, sxs_crc32(wasm, wasm_len));
    sxs_wr32(out + 20, 0);
    sxs_wr32(out + 24, build_time);
    sxs_wr32(out + 28, sxs_crc32(out, 28));
}
