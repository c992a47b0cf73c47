/* board_posix.c - core/sxs_board.h on Linux. */
#define _DEFAULT_SOURCE /* cfmakeraw */
#define _XOPEN_SOURCE 700 /* posix_openpt, grantpt, unlockpt, ptsname */
#include "board_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "flash_file.h"
#include "sxs_board.h"

static int serial_in = 0, serial_out = 1, serial_keep = -1, serial_nonblock;
static char **saved_argv;
static sxs_flash_file flash = { -1, 0 };
static struct timespec t0;
static int t0_set;

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
    return sxs_flash_file_open(&flash, path, SXS_LAYOUT_FLASH_BYTES);
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
    return part >= 0 && part < SXS_PART_COUNT ? sxs_layout_offset(part) : 0;
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

static int stalled; /* nobody drains the line: writes are dropped until it moves */

int sxs_board_serial_write(const uint8_t *buf, size_t len)
{
    int waited = 0;
    while (len) {
        if (stalled) {
            struct pollfd p = { serial_out, POLLOUT, 0 };
            if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLOUT)) return -1;
            stalled = 0;
        }
        ssize_t n = write(serial_out, buf, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && serial_nonblock) {
            /* like a UART with nothing attached, the bytes go nowhere after
               a while (in framed mode the link retransmits them) */
            struct pollfd p = { serial_out, POLLOUT, 0 };
            if (poll(&p, 1, 100) <= 0 && (waited += 100) >= 1000) {
                stalled = 1;
                return -1;
            }
            continue;
        }
        if (n <= 0) return -1;
        waited = 0;
        buf += n, len -= (size_t)n;
    }
    return 0;
}

static speed_t speed_of(uint32_t baud)
{
    static const struct { uint32_t b; speed_t s; } t[] = {
        { 9600, B9600 }, { 19200, B19200 }, { 38400, B38400 }, { 57600, B57600 }, { 115200, B115200 },
        { 230400, B230400 }, { 460800, B460800 }, { 921600, B921600 }, { 1000000, B1000000 },
        { 1500000, B1500000 }, { 2000000, B2000000 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].b == baud) return t[i].s;
    return 0;
}

static int make_raw(int fd, uint32_t baud)
{
    struct termios t;
    if (tcgetattr(fd, &t) != 0) return -1;
    cfmakeraw(&t);
    speed_t sp = speed_of(baud);
    if (sp) cfsetspeed(&t, sp);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag &= ~(tcflag_t)HUPCL;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    return tcsetattr(fd, TCSANOW, &t);
}

int sxs_board_posix_open_pty(char *path, size_t cap)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0) return -1;
    if (grantpt(m) != 0 || unlockpt(m) != 0) {
        close(m);
        return -1;
    }
    const char *name = ptsname(m);
    if (!name || strlen(name) + 1 > cap) {
        close(m);
        return -1;
    }
    snprintf(path, cap, "%s", name);
    /* keep the slave open ourselves: a tool may close and reopen it without
       the master seeing a hang-up, as with a real UART */
    int s = open(path, O_RDWR | O_NOCTTY);
    if (s < 0 || make_raw(s, 0) != 0) {
        if (s >= 0) close(s);
        close(m);
        return -1;
    }
    fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
    serial_in = serial_out = m;
    serial_keep = s;
    serial_nonblock = 1;
    return 0;
}

int sxs_board_posix_open_serial(const char *path, uint32_t baud)
{
    int fd = open(path, O_RDWR | O_NOCTTY);
    if (fd < 0) return -1;
    if (isatty(fd) && make_raw(fd, baud) != 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    serial_in = serial_out = fd;
    serial_nonblock = 1;
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
    return part_ok(part) && off <= sxs_layout_size(part) && len <= sxs_layout_size(part) - off;
}

uint32_t sxs_board_flash_size(sxs_partition part)
{
    return part_ok(part) && flash.fd >= 0 ? sxs_layout_size(part) : 0;
}

int sxs_board_flash_read(sxs_partition part, uint32_t off, void *buf, uint32_t len)
{
    if (flash.fd < 0) return SXS_FLASH_ENODEV;
    if (!range_ok(part, off, len)) return SXS_FLASH_EBOUNDS;
    return sxs_flash_file_read(&flash, sxs_layout_offset(part) + off, buf, len);
}

int sxs_board_flash_write(sxs_partition part, uint32_t off, const void *buf, uint32_t len)
{
    if (flash.fd < 0) return SXS_FLASH_ENODEV;
    if (!range_ok(part, off, len)) return SXS_FLASH_EBOUNDS;
    return sxs_flash_file_write(&flash, sxs_layout_offset(part) + off, buf, len);
}

int sxs_board_flash_erase(sxs_partition part, uint32_t off, uint32_t len)
{
    if (flash.fd < 0) return SXS_FLASH_ENODEV;
    if (!range_ok(part, off, len)) return SXS_FLASH_EBOUNDS;
    return sxs_flash_file_erase(&flash, sxs_layout_offset(part) + off, len);
}

/* A view of the flash file: mmap from the page that holds the start (mmap wants a
 * page-aligned file offset); MAP_SHARED, so it shows what pwrite writes. */
static struct {
    void *base;
    size_t len;
    const void *view;
} maps[4];

const void *sxs_board_flash_map(sxs_partition part, uint32_t off, uint32_t len)
{
    if (flash.fd < 0 || !range_ok(part, off, len) || len == 0) return NULL;
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
        if (maps[i].base) continue;
        long page = sysconf(_SC_PAGESIZE);
        off_t at = (off_t)sxs_layout_offset(part) + off;
        off_t from = at - at % (page > 0 ? page : 4096);
        size_t n = (size_t)(at - from) + len;
        void *p = mmap(NULL, n, PROT_READ, MAP_SHARED, flash.fd, from);
        if (p == MAP_FAILED) return NULL; /* the caller reads instead */
        maps[i].base = p;
        maps[i].len = n;
        maps[i].view = (const uint8_t *)p + (at - from);
        return maps[i].view;
    }
    return NULL;
}

void sxs_board_flash_unmap(const void *view)
{
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
        if (maps[i].base && maps[i].view == view) {
            munmap(maps[i].base, maps[i].len);
            maps[i].base = NULL;
            return;
        }
    }
}

/* A soft reset re-executes the firmware with the same arguments; the line
 * (pty or tty), the flash file and the reset info go through the exec in
 * SXS_FW_RESUME, so the tool on the other end of the line sees a board that
 * restarts, not a line that disappears. */
#define RESUME_ENV "SXS_FW_RESUME"

static void keep_fd(int fd)
{
    if (fd >= 0) fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) & ~FD_CLOEXEC);
}

void sxs_board_reset(const sxs_reset_info *info)
{
    char v[160];
    snprintf(v, sizeof v, "1:%u:%u:%u:%u:%d:%d:%d:%d:%d", (unsigned)info->framed, (unsigned)info->safe_mode,
             (unsigned)info->boot_reason, (unsigned)info->session, serial_in, serial_out, serial_keep, flash.fd,
             serial_nonblock);
    keep_fd(serial_in);
    keep_fd(serial_out);
    keep_fd(serial_keep);
    keep_fd(flash.fd);
    setenv(RESUME_ENV, v, 1);
    if (saved_argv && saved_argv[0]) execv("/proc/self/exe", saved_argv);
    _exit(70);
}

static sxs_reset_info resume;
static int resume_flash = -1;

int sxs_board_posix_resume(void)
{
    const char *v = getenv(RESUME_ENV);
    memset(&resume, 0, sizeof resume);
    if (!v) return 0;
    unsigned fr, sm, br, se;
    int in, outfd, keep, ffd, nb;
    int k = sscanf(v, "1:%u:%u:%u:%u:%d:%d:%d:%d:%d", &fr, &sm, &br, &se, &in, &outfd, &keep, &ffd, &nb);
    unsetenv(RESUME_ENV);
    if (k != 9) return 0;
    resume.valid = 1;
    resume.framed = (uint8_t)fr;
    resume.safe_mode = (uint8_t)sm;
    resume.boot_reason = (uint8_t)br;
    resume.session = se;
    serial_in = in;
    serial_out = outfd;
    serial_keep = keep;
    serial_nonblock = nb;
    resume_flash = ffd;
    return 1;
}

int sxs_board_posix_resume_flash(void)
{
    if (resume_flash < 0) return -1;
    sxs_flash_file_close(&flash);
    flash.fd = resume_flash;
    flash.size = SXS_LAYOUT_FLASH_BYTES;
    fcntl(flash.fd, F_SETFD, fcntl(flash.fd, F_GETFD) | FD_CLOEXEC);
    return 0;
}

void sxs_board_reset_info(sxs_reset_info *info) { *info = resume; }
