/* board_posix.c - core/sxs_board.h on Linux. */
#include "board_posix.h"

#include <errno.h>
#include <poll.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>

#include "flash_file.h"
#include "sxs_board.h"

static int serial_in = 0, serial_out = 1;
static char **saved_argv;
static sxs_flash_file flash = { -1, 0 };
static struct timespec t0;
static int t0_set;

static const struct {
    uint32_t off, size;
} parts[SXS_PART_COUNT] = {
    [SXS_PART_IMAGE_A] = { 0, SXS_POSIX_IMAGE_SLOT_BYTES },
    [SXS_PART_IMAGE_B] = { SXS_POSIX_IMAGE_SLOT_BYTES, SXS_POSIX_IMAGE_SLOT_BYTES },
    [SXS_PART_KV] = { 2 * SXS_POSIX_IMAGE_SLOT_BYTES, SXS_POSIX_KV_BYTES },
    [SXS_PART_BOOT] = { 2 * SXS_POSIX_IMAGE_SLOT_BYTES + SXS_POSIX_KV_BYTES, SXS_POSIX_BOOT_BYTES },
};

void sxs_board_posix_init(int in, int out, char **argv)
{
    serial_in = in;
    serial_out = out;
    saved_argv = argv;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    t0_set = 1;
}

int sxs_board_posix_open_flash(const char *path)
{
    sxs_flash_file_close(&flash);
    return sxs_flash_file_open(&flash, path, SXS_POSIX_FLASH_BYTES);
}

/* A blank flash of the same size that disappears with the process: a fresh board. */
int sxs_board_posix_open_temp_flash(void)
{
    char path[] = "/tmp/sxs-flash-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    close(fd);
    int r = sxs_board_posix_open_flash(path);
    unlink(path);
    return r;
}

void sxs_board_posix_close_flash(void) { sxs_flash_file_close(&flash); }

uint32_t sxs_board_posix_partition_offset(int part)
{
    return part >= 0 && part < SXS_PART_COUNT ? parts[part].off : 0;
}

int sxs_board_serial_read(uint8_t *buf, size_t cap, int32_t timeout_ms)
{
    struct pollfd p = { serial_in, POLLIN, 0 };
    int r = poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) return 0; /* a signal: let the caller look */
    if (r < 0) return -1;
    if (r == 0) return 0;
    ssize_t n;
    do n = read(serial_in, buf, cap); while (n < 0 && errno == EINTR);
    if (n <= 0) return -1;
    return (int)n;
}

int sxs_board_serial_write(const uint8_t *buf, size_t len)
{
    while (len) {
        ssize_t n = write(serial_out, buf, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        buf += n, len -= (size_t)n;
    }
    return 0;
}

double sxs_board_now_ms(void)
{
    struct timespec t;
    if (!t0_set) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        t0_set = 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0.tv_sec) * 1000.0 + (double)(t.tv_nsec - t0.tv_nsec) / 1e6;
}

void sxs_board_sleep_ms(double ms)
{
    if (ms <= 0) return;
    struct timespec d = { (time_t)(ms / 1000.0), (long)((ms - (double)(time_t)(ms / 1000.0) * 1000.0) * 1e6) };
    nanosleep(&d, NULL);
}

static int part_ok(sxs_partition part)
{
    return part >= 0 && part < SXS_PART_COUNT;
}

static int range_ok(sxs_partition part, uint32_t off, uint32_t len)
{
    return part_ok(part) && off <= parts[part].size && len <= parts[part].size - off;
}

uint32_t sxs_board_flash_size(sxs_partition part)
{
    return part_ok(part) && flash.fd >= 0 ? parts[part].size : 0;
}

int sxs_board_flash_read(sxs_partition part, uint32_t off, void *buf, uint32_t len)
{
    if (flash.fd < 0) return SXS_FLASH_ENODEV;
    if (!range_ok(part, off, len)) return SXS_FLASH_EBOUNDS;
    return sxs_flash_file_read(&flash, parts[part].off + off, buf, len);
}

int sxs_board_flash_write(sxs_partition part, uint32_t off, const void *buf, uint32_t len)
{
    if (flash.fd < 0) return SXS_FLASH_ENODEV;
    if (!range_ok(part, off, len)) return SXS_FLASH_EBOUNDS;
    return sxs_flash_file_write(&flash, parts[part].off + off, buf, len);
}

int sxs_board_flash_erase(sxs_partition part, uint32_t off, uint32_t len)
{
    if (flash.fd < 0) return SXS_FLASH_ENODEV;
    if (!range_ok(part, off, len)) return SXS_FLASH_EBOUNDS;
    return sxs_flash_file_erase(&flash, parts[part].off + off, len);
}

void sxs_board_reset(void)
{
    sxs_flash_file_close(&flash);
    if (saved_argv && saved_argv[0]) execv("/proc/self/exe", saved_argv);
    _exit(70);
}
