/*
 * sxs_text.h - the line editor of text mode (docs/link.md section 2): echo,
 * erase, CR/LF/CRLF line ends, NUL discards the line, ESC-[ CSI sequences
 * ignored, other control bytes except TAB ignored, and the ENTER sequence
 * 00 FF 53 58 53 00 matched on the raw byte stream (its bytes are held back,
 * not echoed, while they match).
 *
 * The buffer holds, in order: the complete forms waiting to run, each ending
 * in '\0' (a byte the editor never stores: NUL discards the line); the lines
 * of the form being typed, each ending in '\n' (more than one while a list
 * or string is left open); and the line being typed.  The editor ends a line
 * (SXS_TEXT_LINE); the firmware then decides at once what the form is: gone
 * (a blank line), continued, or complete and queued (sxs_text_queue_form).
 */
#ifndef SXS_TEXT_H
#define SXS_TEXT_H

#include <stddef.h>
#include <stdint.h>

typedef struct sxs_text {
    uint8_t *buf;
    uint32_t cap;
    uint32_t queued;  /* bytes at the start: complete forms waiting to run, each ending in '\0' */
    uint32_t form;    /* bytes after them: the lines of the form being typed, each ending in '\n' */
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
/* Discard the line being typed. */
void sxs_text_discard_line(sxs_text *t);
/* The form being typed so far: its lines joined by '\n', without the last line end
 * (*text, *n); 1 when it has more than one line. */
int sxs_text_form(const sxs_text *t, const uint8_t **text, uint32_t *n);
/* Discard the form being typed (a blank line, Ctrl-C, no image). */
void sxs_text_drop_form(sxs_text *t);
/* The form being typed is complete: it joins the queue. */
void sxs_text_queue_form(sxs_text *t);
/* The first queued form: 1 and its text (*text, *n, no terminator), or 0. */
int sxs_text_next_form(const sxs_text *t, const uint8_t **text, uint32_t *n);
/* Remove the first queued form. */
void sxs_text_take_form(sxs_text *t);
/* How many forms are queued. */
uint32_t sxs_text_queued_forms(const sxs_text *t);
/* The line being typed (to draw it again after output that came in between). */
const uint8_t *sxs_text_typed(const sxs_text *t, uint32_t *n);

#endif
