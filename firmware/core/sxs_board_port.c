/* sxs_board_port.c - see sxs_board_port.h. */
#include "sxs_board_port.h"

void sxs_board_port_write(void *ctx, const uint8_t *buf, size_t n)
{
    (void)ctx;
    sxs_board_serial_write(buf, n);
}

double sxs_board_port_now(void *ctx)
{
    (void)ctx;
    return sxs_board_now_ms();
}

void sxs_board_port_reset(void *ctx, const sxs_reset_info *info)
{
    (void)ctx;
    sxs_board_reset(info);
}
