/* sxs_board_port.h - sxs_fw_port entries that only forward to the board interface
 * (sxs_board.h), for ports whose line, clock and reset are the board's own: each port
 * then writes just what differs (reading the line, free heap). */
#ifndef SXS_BOARD_PORT_H
#define SXS_BOARD_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "sxs_board.h"

void sxs_board_port_write(void *ctx, const uint8_t *buf, size_t n);
double sxs_board_port_now(void *ctx);
void sxs_board_port_reset(void *ctx, const sxs_reset_info *info);

#endif
