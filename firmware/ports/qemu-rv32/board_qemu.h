/* board_qemu.h - set-up calls and memory figures of the emulated RISC-V board
 * (QEMU's riscv32 `virt` machine; core/sxs_board.h for the rest). */
#ifndef SXS_BOARD_QEMU_H
#define SXS_BOARD_QEMU_H

#include <stdint.h>

/* Open (or create, erased) the flash file on the host and read it into the board's
 * flash, a region of the emulated address space outside RAM (as an ESP32's flash is
 * outside its DRAM).  0, or -1 when the file cannot be opened or read. */
int sxs_board_qemu_flash_open(const char *host_path);
/* Take what the last boot left (reset info, crash count), install the trap vector and
 * the stack guard, and start the UART's receive interrupt.  First thing in main. */
void sxs_board_qemu_init(void);
/* Up long enough: crashes before this no longer count towards a crash loop. */
void sxs_board_qemu_stable(void);

/* Free heap: what malloc has free plus what the heap may still grow into. */
uint32_t sxs_board_qemu_free_heap(void);
/* Bytes the heap has ever spanned (malloc grows it and never gives it back): the most
 * heap that was in use at once, with the allocator's overhead and holes. */
uint32_t sxs_board_qemu_heap_span(void);
/* Static data (.data, .bss, the link's buffers among them) and the RAM in all. */
uint32_t sxs_board_qemu_static_bytes(void);
uint32_t sxs_board_qemu_ram_bytes(void);
/* Bytes of the stack ever used (the stack is painted at boot). */
uint32_t sxs_board_qemu_stack_used(void);
void sxs_board_qemu_paint_stack(void);

/* Power off the machine (QEMU exits with `code`). */
void sxs_board_qemu_poweroff(int code) __attribute__((noreturn));

#endif
