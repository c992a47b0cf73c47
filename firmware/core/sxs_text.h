/*
 * sxs_text.h - the line editor of text mode (docs/link.md section 2): echo,
 * erase, CR/LF/CRLF line ends, NUL discards the line, ESC-[ CSI sequences
 * ignored, other control bytes except TAB ignored, and the ENTER sequence
 * 00 FF 53 58 53 00 matched on the raw byte stream (its bytes are held back,
 * not echoed, while they match).
 *
 * Complete lines queue up in the buffer, each ending in '\n', ahead of the
 * line being typed; the firmware takes them one by one (sxs_text_line,
 * sxs_text_take).
 */
#ifndef SXS_TEXT_H
#define SXS_TEXT_H

#include <stddef.h>
#include <stdint.h>

typedef struct sxs_text {
    uint8_t *buf;
    uint32_t cap;
    uint32_t form;    /* bytes at the start: earlier lines of an unfinished (continued) form */
    uint32_t pending; /* bytes of complete lines (form included) */
    uint32_t line;    /* bytes of the line being typed, after them */
    uint8_t enter;    /* bytes of ENTER matched so far */
    uint8_t esc;      /* 0, 1 after ESC, 2 inside CSI */
    uint8_t last_cr;
    uint8_t overflow; /* the line being typed was cut: it is dropped at its end */
    void (*echo)(void *ctx, const uint8_t *b, size_t n);
    void *ctx;
} sxs_text;

enum {
    SXS_TEXT_NONE = 0,
    SXS_TEXT_LINE = 1,   /* a line was completed */
    SXS_TEXT_CTRL_C = 2, /* 0x03 */
    SXS_TEXT_ENTER = 3,  /* the ENTER sequence: switch to framed mode */
    SXS_TEXT_TOO_LONG = 4, /* a line ended that did not fit the buffer (dropped) */
};

void sxs_text_init(sxs_text *t, uint8_t *buf, uint32_t cap, void (*echo)(void *, const uint8_t *, size_t), void *ctx);
/* Forget everything typed. */
void sxs_text_reset(sxs_text *t);
/* Feed one byte; returns one of SXS_TEXT_*. */
int sxs_text_feed(sxs_text *t, uint8_t b);
/* Discard the line being typed (keeps complete lines). */
void sxs_text_discard_line(sxs_text *t);
/* Discard complete lines and the unfinished form (keeps the line being typed). */
void sxs_text_discard_pending(sxs_text *t);
/* The next complete line after the unfinished form: 1 and its extent
 * [*start, *end) (without its '\n'), or 0. */
int sxs_text_next_line(const sxs_text *t, uint32_t *start, uint32_t *end);
/* The form plus the next line end at `end`: keep it as an unfinished form. */
void sxs_text_continue(sxs_text *t, uint32_t end);
/* Remove the form and the next line (ending at `end`) from the buffer. */
void sxs_text_take(sxs_text *t, uint32_t end);

#endif
