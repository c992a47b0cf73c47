/*
 * serve.c - `sxs-fw --pty | --serial PATH | --stdio`: the firmware of
 * core/sxs_fw.c serving the link of docs/link.md on a pseudo-terminal, an
 * existing tty, or stdin/stdout, until SIGTERM/SIGINT.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "board_posix.h"
#include "sxs_board.h"
#include "sxs_board_port.h"
#include "sxs_fw.h"
#include "sxs_image.h"
#include "sxs_posix.h"

static volatile sig_atomic_t stop_signal;
static void on_stop(int s)
{
    (void)s;
    stop_signal = 1;
}

static int p_read(void *ctx, uint8_t *buf, size_t cap, int32_t timeout)
{
    (void)ctx;
    if (stop_signal) return -1;
    int n = sxs_board_serial_read(buf, cap, timeout);
    if (stop_signal) return -1;
    return n;
}

static uint32_t p_free_heap(void *ctx)
{
    (void)ctx;
    struct mallinfo2 mi = mallinfo2();
    return mi.fordblks > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)mi.fordblks;
}

/* The image for a blank flash: an image file as is, a bare .wasm with a
 * header built here (malloc'd). */
static uint8_t *image_file(const char *path, uint32_t *len, char *err, size_t cap)
{
    uint8_t *b = sxs_read_file(path, len);
    if (!b) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (*len >= 8 && memcmp(b, sxs_wasm_preamble, 8) == 0) {
        uint8_t *f = malloc((size_t)*len + SXS_IMAGE_HEADER_LEN);
        if (!f) {
            free(b);
            snprintf(err, cap, "out of memory");
            return NULL;
        }
        sxs_image_build_header(SXS_ABI_VERSION, b, *len, (uint32_t)time(NULL), f);
        memcpy(f + SXS_IMAGE_HEADER_LEN, b, *len);
        free(b);
        *len += SXS_IMAGE_HEADER_LEN;
        return f;
    }
    sxs_image_header h;
    sxs_image_err e = sxs_image_verify(b, *len, SXS_ABI_VERSION, &h);
    if (e) {
        sxs_image_message(e, &h, *len, SXS_ABI_VERSION, 0, err, cap);
        free(b);
        return NULL;
    }
    return b;
}

static sxs_fw fw; /* about 20 KiB of link buffers: static, as on a board */

int sxs_posix_serve(const sxs_serve_options *o)
{
    int resumed = sxs_board_posix_resume();
    char path[256] = "";
    if (!resumed) {
        if (o->line == SXS_LINE_PTY) {
            if (sxs_board_posix_open_pty(path, sizeof path) != 0) {
                fprintf(stderr, "sxs-fw: cannot create a pseudo-terminal: %s\n", strerror(errno));
                return 1;
            }
        } else if (o->line == SXS_LINE_SERIAL) {
            if (sxs_board_posix_open_serial(o->serial_path, o->baud) != 0) {
                fprintf(stderr, "sxs-fw: cannot open %s: %s\n", o->serial_path, strerror(errno));
                return 1;
            }
        }
    }
    int fr = resumed && sxs_board_posix_resume_flash() == 0 ? 0
           : o->flash_path ? sxs_board_posix_open_flash(o->flash_path)
                           : sxs_board_posix_open_temp_flash();
    if (fr) {
        fprintf(stderr, "sxs-fw: cannot open flash file %s (%d)\n", o->flash_path ? o->flash_path : "(temporary)", fr);
        return 1;
    }
    uint32_t ilen = 0;
    uint8_t *image = NULL;
    if (o->image_path) {
        char err[300];
        image = image_file(o->image_path, &ilen, err, sizeof err);
        if (!image && !resumed) {
            fprintf(stderr, "sxs-fw: %s\n", err);
            return 1;
        }
    }
    if (path[0]) {
        /* the first line of stdout: where a tool should connect; only once the flash and
           the image are there, so that a launcher sees a firmware that cannot serve exit
           (with its reason on stderr) instead of a path that goes away */
        printf("%s\n", path);
        fflush(stdout);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: poll returns */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);

    sxs_fw_config cfg;
    sxs_fw_config_defaults(&cfg);
    cfg.firmware = "sxs-fw " SXS_FW_VERSION " posix";
    cfg.stack_bytes = o->run.stack_bytes;
    cfg.max_pages = o->run.max_pages;
    cfg.processors = o->run.processors;
    cfg.max_input = o->run.max_input;
    cfg.budget = o->run.budget;
    cfg.link_idle_ms = o->link_idle_ms;
    cfg.commit_check_in_place = (uint8_t)o->commit_in_place;
    cfg.virtual_clock = (uint8_t)o->virtual_clock;
    cfg.bytes_per_ms = o->baud / 10000u;
    cfg.session_seed = (uint32_t)time(NULL) * 2654435761u ^ (uint32_t)getpid() << 16;
    cfg.default_image = image;
    cfg.default_image_len = ilen;
    static const sxs_fw_port port = { NULL, p_read, sxs_board_port_write, sxs_board_port_now, sxs_board_port_reset, p_free_heap, &sxs_board_flash_ops };
    sxs_reset_info ri;
    sxs_board_reset_info(&ri);
    sxs_fw_boot(&fw, &port, &cfg, &ri);
    int r = SXS_FW_RUNNING;
    while (!stop_signal && (r = sxs_fw_step(&fw, 1000)) == SXS_FW_RUNNING) {
    }
    sxs_fw_shutdown(&fw);
    free(image);
    sxs_board_posix_close_flash();
    return 0;
}
