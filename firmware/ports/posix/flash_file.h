/*
 * flash_file.h - NOR flash emulated in a file: 4 KiB sectors, erase sets
 * bytes to 0xFF, a write may only clear bits (one that would set a bit is
 * refused whole), so code that would corrupt a real flash fails here too.
 * Results are the SXS_FLASH_* codes of core/sxs_board.h.
 */
#ifndef SXS_FLASH_FILE_H
#define SXS_FLASH_FILE_H

#include <stdint.h>

typedef struct sxs_flash_file {
    int fd;
    uint32_t size;
} sxs_flash_file;

/* Open or create PATH with `size` bytes (a multiple of 4 KiB).  A new file,
 * or the part of a shorter one beyond its end, reads as erased (0xFF). */
int sxs_flash_file_open(sxs_flash_file *f, const char *path, uint32_t size);
void sxs_flash_file_close(sxs_flash_file *f);
int sxs_flash_file_read(sxs_flash_file *f, uint32_t off, void *buf, uint32_t len);
int sxs_flash_file_write(sxs_flash_file *f, uint32_t off, const void *buf, uint32_t len);
int sxs_flash_file_erase(sxs_flash_file *f, uint32_t off, uint32_t len);

#endif
