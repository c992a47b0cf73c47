/* flash_file.c - see flash_file.h. */
#include "flash_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sxs_board.h"

static int pread_all(int fd, void *buf, uint32_t len, uint32_t off)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return SXS_FLASH_EIO;
        p += n, len -= (uint32_t)n, off += (uint32_t)n;
    }
    return SXS_FLASH_OK;
}

static int pwrite_all(int fd, const void *buf, uint32_t len, uint32_t off)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return SXS_FLASH_EIO;
        p += n, len -= (uint32_t)n, off += (uint32_t)n;
    }
    return SXS_FLASH_OK;
}

int sxs_flash_file_open(sxs_flash_file *f, const char *path, uint32_t size)
{
    f->fd = -1;
    f->size = 0;
    if (size == 0 || size % SXS_FLASH_SECTOR) return SXS_FLASH_EALIGN;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return SXS_FLASH_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0) { close(fd); return SXS_FLASH_EIO; }
    uint8_t ff[SXS_FLASH_SECTOR];
    memset(ff, 0xff, sizeof ff);
    for (uint32_t off = (uint32_t)(st.st_size < (off_t)size ? st.st_size : size); off < size;) {
        uint32_t n = size - off < sizeof ff ? size - off : (uint32_t)sizeof ff;
        if (pwrite_all(fd, ff, n, off) != SXS_FLASH_OK) { close(fd); return SXS_FLASH_EIO; }
        off += n;
    }
    f->fd = fd;
    f->size = size;
    return SXS_FLASH_OK;
}

void sxs_flash_file_close(sxs_flash_file *f)
{
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
}

static int in_bounds(const sxs_flash_file *f, uint32_t off, uint32_t len)
{
    return f->fd >= 0 && off <= f->size && len <= f->size - off;
}

int sxs_flash_file_read(sxs_flash_file *f, uint32_t off, void *buf, uint32_t len)
{
    if (!in_bounds(f, off, len)) return SXS_FLASH_EBOUNDS;
    return pread_all(f->fd, buf, len, off);
}

int sxs_flash_file_write(sxs_flash_file *f, uint32_t off, const void *buf, uint32_t len)
{
    if (!in_bounds(f, off, len)) return SXS_FLASH_EBOUNDS;
    const uint8_t *src = buf;
    uint8_t cur[256];
    /* check the whole range first: a refused write changes nothing */
    for (uint32_t done = 0; done < len;) {
        uint32_t n = len - done < sizeof cur ? len - done : (uint32_t)sizeof cur;
        int r = pread_all(f->fd, cur, n, off + done);
        if (r) return r;
        for (uint32_t i = 0; i < n; i++)
            if (src[done + i] & ~cur[i]) return SXS_FLASH_ESETBIT;
        done += n;
    }
    return pwrite_all(f->fd, src, len, off);
}

int sxs_flash_file_erase(sxs_flash_file *f, uint32_t off, uint32_t len)
{
    if (!in_bounds(f, off, len)) return SXS_FLASH_EBOUNDS;
    if (off % SXS_FLASH_SECTOR || len % SXS_FLASH_SECTOR) return SXS_FLASH_EALIGN;
    uint8_t ff[SXS_FLASH_SECTOR];
    memset(ff, 0xff, sizeof ff);
    for (uint32_t done = 0; done < len; done += SXS_FLASH_SECTOR) {
        int r = pwrite_all(f->fd, ff, SXS_FLASH_SECTOR, off + done);
        if (r) return r;
    }
    return SXS_FLASH_OK;
}
