/* sxs_posix.h - the Linux firmware's run modes (text loop, transcripts). */
#ifndef SXS_POSIX_H
#define SXS_POSIX_H

#include <stdint.h>
#include <stdio.h>

#include "sxs_engine.h"

typedef struct sxs_run_options {
    uint32_t stack_bytes; /* wasm3 stack; default 64 KiB */
    int32_t max_pages;    /* sxs_limit(LIMIT_MAX_PAGES), 0: image default */
    int32_t processors;   /* sxs_limit(LIMIT_PROCESSORS), 0: image default */
    int32_t max_input;    /* sxs_limit(LIMIT_MAX_INPUT), 0: image default */
    int32_t budget;       /* steps per sxs_run call */
} sxs_run_options;

/* Open the image, apply the limits, sxs_init.  NULL or an error message
 * (in err). */
const char *sxs_posix_boot(sxs_engine **out, const uint8_t *image, uint32_t image_len,
                           const sxs_run_options *opt, const sxs_host_ops *ops, void *ctx,
                           char *err, uint32_t err_cap);

/* SPEC.md section 8: run each top-level form of `text` as its own request
 * on processor 0 of one fresh board with a virtual clock; print to out.
 * Returns 0, 1 when the image cannot be booted, 3 when it trapped. */
int sxs_transcript(const uint8_t *image, uint32_t image_len, const uint8_t *text,
                   uint32_t text_len, const sxs_run_options *opt, FILE *out, FILE *err);

/* One output line of the text loop and of transcripts: PREFIX, the bytes, a newline. */
void sxs_print_line(FILE *out, const char *prefix, const uint8_t *t, uint32_t len);

/* Read a whole file; NULL on error (errno set). */
uint8_t *sxs_read_file(const char *path, uint32_t *len);

enum { SXS_LINE_PTY = 1, SXS_LINE_SERIAL = 2, SXS_LINE_STDIO = 3 };

typedef struct sxs_serve_options {
    int line;                /* SXS_LINE_* */
    const char *serial_path; /* --serial PATH */
    const char *flash_path;  /* NULL: a temporary flash */
    const char *image_path;  /* installed when the flash holds no image */
    uint32_t link_idle_ms;
    uint32_t baud;           /* 0: unknown (no pacing) */
    int commit_in_place;     /* FLASH_COMMIT checks in place of the running image */
    int virtual_clock;       /* the image's clock is virtual (transcripts) */
    sxs_run_options run;
} sxs_serve_options;

/* --pty, --serial, --stdio: the link of docs/link.md (serve.c). */
int sxs_posix_serve(const sxs_serve_options *o);

/* The posix firmware's main (called from the Rust shim in src/main.rs). */
int sxs_posix_main(int argc, char **argv);

#endif
