/*
 * main.c - the sxs firmware on an emulated 32-bit RISC-V microcontroller (QEMU's
 * riscv32 `virt` machine, bare metal, picolibc): the portable core of core/ and wasm3,
 * cross-compiled, in the RAM of a plain ESP32 (see README.md).
 *
 * The arguments come from the host through semihosting (QEMU's
 * -semihosting-config arg=...):
 *   --flash FILE       the host file that holds the flash (created blank if missing)
 *   --image FILE       installed into slot A when the flash holds no image
 *   --stack BYTES      wasm3's stack (default 8192, as the ESP32 port)
 *   --max-pages N      linear memory pages (default 1, as the ESP32 port)
 *   --processors N, --max-input BYTES, --budget STEPS, --link-idle MS
 *   --clock virtual    the image's clock is virtual (transcripts)
 *   --two-engines      FLASH_COMMIT checks a new image beside the running one (default:
 *                      in its place, as a board with RAM for one engine does)
 *   --report           print memory figures (static data, the heap's span, the stack
 *                      used) to the host's stdout whenever one reaches a new high
 * Then it serves the link of docs/link.md on the UART for as long as the machine runs.
 */
#include <semihost.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board_qemu.h"
#include "sxs_board.h"
#include "sxs_board_port.h"
#include "sxs_fw.h"
#include "sxs_image.h"
#include "sxs_slots.h"

#define QEMU_WASM3_STACK 8192u /* the ESP32 port's defaults without PSRAM */
#define QEMU_MAX_PAGES 1
#define QEMU_STABLE_MS 30000u /* up this long: no longer a crash loop (as on the ESP32) */

typedef struct options {
    const char *flash, *image;
    sxs_fw_config cfg;
    int report;
} options;

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "sxs-fw qemu-rv32: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    sxs_board_qemu_poweroff(1);
}

static int32_t number(const char *opt, const char *v, int32_t min, int32_t max)
{
    char *end;
    long n = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || n < min || n > max) fail("bad value for", opt);
    return (int32_t)n;
}

static void parse(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->flash = "sxs-qemu-flash.bin";
    sxs_fw_config_defaults(&o->cfg);
    o->cfg.firmware = "sxs-fw " SXS_FW_VERSION " qemu-rv32";
    o->cfg.stack_bytes = QEMU_WASM3_STACK;
    o->cfg.max_pages = QEMU_MAX_PAGES;
    o->cfg.commit_check_in_place = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--flash") && v) o->flash = v, i++;
        else if (!strcmp(a, "--image") && v) o->image = v, i++;
        else if (!strcmp(a, "--stack")) o->cfg.stack_bytes = (uint32_t)number(a, v, 1024, 1 << 20), i++;
        else if (!strcmp(a, "--max-pages")) o->cfg.max_pages = number(a, v, 1, 256), i++;
        else if (!strcmp(a, "--processors")) o->cfg.processors = number(a, v, 1, 8), i++;
        else if (!strcmp(a, "--max-input")) o->cfg.max_input = number(a, v, 64, 1 << 30), i++;
        else if (!strcmp(a, "--budget")) o->cfg.budget = number(a, v, 1, INT32_MAX), i++;
        else if (!strcmp(a, "--link-idle")) o->cfg.link_idle_ms = (uint32_t)number(a, v, 0, INT32_MAX), i++;
        else if (!strcmp(a, "--clock") && v && (!strcmp(v, "virtual") || !strcmp(v, "real")))
            o->cfg.virtual_clock = !strcmp(v, "virtual"), i++;
        else if (!strcmp(a, "--two-engines")) o->cfg.commit_check_in_place = 0;
        else if (!strcmp(a, "--report")) o->report = 1;
        else fail("unknown argument", a);
    }
}

/* The image for a fresh board, read from the host file and written into slot A (a bare
 * .wasm behind a header built here), as the ESP32 port installs its embedded one: only
 * when the flash holds neither a boot record nor a valid image.  The file's RAM is free
 * again before the engine starts. */
static void install_image(const char *path)
{
    const sxs_flash_ops *f = &sxs_board_flash_ops;
    if (!sxs_flash_blank(f, SXS_ABI_VERSION)) return;
    int fd = sys_semihost_open(path, SH_OPEN_R_B);
    if (fd < 0) fail("cannot open the image", path);
    uint32_t n = (uint32_t)sys_semihost_flen(fd);
    uint8_t *b = n <= f->size(f->ctx, SXS_PART_IMAGE_A) ? malloc(SXS_IMAGE_HEADER_LEN + n) : NULL;
    if (!b || sys_semihost_read(fd, b + SXS_IMAGE_HEADER_LEN, n) != 0) fail("cannot read the image (too large?)", path);
    sys_semihost_close(fd);
    uint8_t *file = b + SXS_IMAGE_HEADER_LEN;
    if (n >= 8 && memcmp(file, sxs_wasm_preamble, 8) == 0) {
        sxs_image_build_header(SXS_ABI_VERSION, file, n, 0, b);
        file = b;
        n += SXS_IMAGE_HEADER_LEN;
    }
    sxs_image_header h;
    sxs_image_err e = sxs_image_verify(file, n, SXS_ABI_VERSION, &h);
    if (e) {
        char msg[200];
        sxs_image_message(e, &h, n, SXS_ABI_VERSION, 0, msg, sizeof msg);
        fail(path, msg);
    }
    if (sxs_slot_install(f, 0, file, n) != 0) fail("cannot write slot A", NULL);
    free(b);
}

static int p_read(void *ctx, uint8_t *buf, size_t cap, int32_t timeout_ms)
{
    (void)ctx;
    return sxs_board_serial_read(buf, cap, timeout_ms); /* never -1: the UART does not go away */
}

static uint32_t p_free_heap(void *ctx)
{
    (void)ctx;
    return sxs_board_qemu_free_heap();
}

static const sxs_fw_port port = { NULL, p_read, sxs_board_port_write, sxs_board_port_now, sxs_board_port_reset,
                                  p_free_heap, &sxs_board_flash_ops };

static sxs_fw fw; /* the link's buffers and state: static, as on the ESP32 */

int main(int argc, char **argv)
{
    sxs_board_qemu_paint_stack();
    sxs_board_qemu_init();
    options o;
    parse(argc, argv, &o);
    if (sxs_board_qemu_flash_open(o.flash) != 0) fail("cannot open the flash file", o.flash);
    if (o.image) install_image(o.image);

    sxs_reset_info ri;
    sxs_board_reset_info(&ri);
    o.cfg.session_seed = (uint32_t)(sxs_board_now_ms() * 1000.0) * 2654435761u;
    uint32_t span = 0, deep = 0;
    int stable = 0;
    sxs_fw_boot(&fw, &port, &o.cfg, &ri);
    sys_semihost_write0("sxs-fw qemu-rv32: serving\n"); /* the launcher waits for this line */
    for (;;) {
        int r = sxs_fw_step(&fw, 1000);
        if (r == SXS_FW_STOP_RESET) sxs_board_reset(&fw.reset_info); /* does not return */
        if (r != SXS_FW_RUNNING) fail("the firmware stopped", NULL);
        if (!stable && sxs_board_now_ms() >= QEMU_STABLE_MS) {
            sxs_board_qemu_stable();
            stable = 1;
        }
        if (o.report) {
            uint32_t h = sxs_board_qemu_heap_span(), used = sxs_board_qemu_stack_used();
            if (h > span || used > deep) {
                span = h > span ? h : span;
                deep = used > deep ? used : deep;
                printf("sxs-report ram %lu static %lu heap-span %lu stack-used %lu free-heap %lu\n",
                       (unsigned long)sxs_board_qemu_ram_bytes(), (unsigned long)sxs_board_qemu_static_bytes(),
                       (unsigned long)span, (unsigned long)deep, (unsigned long)sxs_board_qemu_free_heap());
            }
        }
    }
}
