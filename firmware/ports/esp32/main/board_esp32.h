/* board_esp32.h - set-up calls of the ESP32 board (core/sxs_board.h). */
#ifndef SXS_BOARD_ESP32_H
#define SXS_BOARD_ESP32_H

#include <stdint.h>

typedef struct sxs_esp32_uart {
    int num;                /* UART_NUM_0 .. UART_NUM_2 */
    int tx_pin, rx_pin;     /* -1: the UART's default pins */
    uint32_t baud;
    int rx_buffer, tx_buffer; /* driver rings, bytes */
} sxs_esp32_uart;

/* Find the four partitions and take the reset info the previous boot left
 * in RTC memory (once per boot, first).  A missing partition is not an
 * error here: the flash calls answer SXS_FLASH_ENODEV for it. */
void sxs_board_esp32_init(void);

/* Set up the UART of the link (8N1, no flow control) and install its
 * driver.  0, or -1 when it cannot be set up (UART1 without pins, a driver
 * error). */
int sxs_board_esp32_uart(const sxs_esp32_uart *uart);

/* Bitmask of the partitions found (bit i: sxs_partition i). */
uint32_t sxs_board_esp32_partitions(void);

/* Milliseconds since the firmware task last blocked (for its yield rule). */
uint32_t sxs_board_esp32_ms_since_block(void);
/* Give the CPU away for one tick (the idle task and its watchdog run). */
void sxs_board_esp32_yield(void);
/* The firmware has run long enough since boot: crash resets before this
 * no longer count towards the crash loop that boots in safe mode. */
void sxs_board_esp32_stable(void);

#endif
