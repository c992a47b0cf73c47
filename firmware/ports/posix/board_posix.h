/* board_posix.h - set-up calls of the Linux board (core/sxs_board.h). */
#ifndef SXS_BOARD_POSIX_H
#define SXS_BOARD_POSIX_H

#include "sxs_flash_layout.h"

#include <stddef.h>
#include <stdint.h>

/* The serial line is the pair of descriptors (stdin/stdout, or a pty). */
void sxs_board_posix_init(int serial_in, int serial_out, char **argv);
/* A new pseudo-terminal (posix_openpt, grantpt, unlockpt; raw mode) as the
 * serial line; its slave path goes to path.  0 or -1. */
int sxs_board_posix_open_pty(char *path, size_t cap);
/* An existing tty (raw mode, at baud when it is a standard rate; 0 keeps the
 * tty's rate) as the serial line.  0 or -1. */
int sxs_board_posix_open_serial(const char *path, uint32_t baud);
/* After a soft reset (sxs_board_reset re-executes the firmware): take the
 * line and the reset info from the environment.  1 if this is a resume. */
int sxs_board_posix_resume(void);
/* ... and the flash file the previous run had open.  0 or -1. */
int sxs_board_posix_resume_flash(void);
/* The three partitions live in one file, laid out back to back:
 * image A (512 KiB), image B (512 KiB), K/V (256 KiB).  SXS_FLASH_* result. */
int sxs_board_posix_open_flash(const char *path);
int sxs_board_posix_open_temp_flash(void);
void sxs_board_posix_close_flash(void);
/* Offset of a partition inside the flash file. */
uint32_t sxs_board_posix_partition_offset(int part);

/* the flash file's layout is core/sxs_flash_layout.h, shared with the qemu-rv32 port */

#endif
