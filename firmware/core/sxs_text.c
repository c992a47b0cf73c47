/* sxs_text.c - see sxs_text.h. */
#include "sxs_text.h"

#include <string.h>

static const uint8_t enter_seq[6] = { 0x00, 0xFF, 0x53, 0x58, 0x53, 0x00 };

void sxs_text_init(sxs_text *t, uint8_t *buf, uint32_t cap, void (*echo)(void *, const uint8_t *, size_t), void *ctx)
{
    memset(t, 0, sizeof *t);
    t->buf = buf;
    t->cap = cap;
    t->echo = echo;
    t->ctx = ctx;
}

void sxs_text_reset(sxs_text *t)
{
    t->form = t->pending = t->line = 0;
    t->enter = t->esc = t->last_cr = t->overflow = 0;
}

static void out(sxs_text *t, const char *s, size_t n)
{
    if (t->echo) t->echo(t->ctx, (const uint8_t *)s, n);
}

void sxs_text_discard_line(sxs_text *t)
{
    t->line = 0;
    t->overflow = 0;
}

void sxs_text_discard_pending(sxs_text *t)
{
    if (t->pending) memmove(t->buf, t->buf + t->pending, t->line);
    t->pending = t->form = 0;
}

/* One byte through the editor (not the ENTER matcher). */
static int edit(sxs_text *t, uint8_t b)
{
    if (t->esc == 1) {
        t->esc = b == '[' ? 2 : 0;
        if (t->esc) return SXS_TEXT_NONE;
    } else if (t->esc == 2) {
        if (b >= 0x40 && b <= 0x7E) t->esc = 0;
        return SXS_TEXT_NONE;
    }
    int cr = t->last_cr;
    t->last_cr = 0;
    switch (b) {
    case 0x03: return SXS_TEXT_CTRL_C;
    case 0x08:
    case 0x7F:
        if (t->line) {
            t->line--;
            out(t, "\b \b", 3);
        }
        return SXS_TEXT_NONE;
    case 0x00: sxs_text_discard_line(t); return SXS_TEXT_NONE;
    case 0x1B: t->esc = 1; return SXS_TEXT_NONE;
    case 0x0A:
        if (cr) return SXS_TEXT_NONE;
        /* fall through */
    case 0x0D:
        t->last_cr = b == 0x0D;
        out(t, "\r\n", 2);
        if (t->overflow) {
            t->overflow = 0;
            t->line = 0;
            return SXS_TEXT_TOO_LONG;
        }
        if (t->pending + t->line + 1 > t->cap) { /* no room for the '\n' */
            t->line = 0;
            return SXS_TEXT_TOO_LONG;
        }
        t->buf[t->pending + t->line] = '\n';
        t->pending += t->line + 1;
        t->line = 0;
        return SXS_TEXT_LINE;
    default:
        if (b < 0x20 && b != '\t') return SXS_TEXT_NONE;
        if (t->pending + t->line + 2 > t->cap) { /* keep room for the '\n' */
            t->overflow = 1;
            return SXS_TEXT_NONE;
        }
        t->buf[t->pending + t->line++] = b;
        out(t, (const char *)&b, 1);
        return SXS_TEXT_NONE;
    }
}

int sxs_text_feed(sxs_text *t, uint8_t b)
{
    if (b == enter_seq[t->enter] || (t->enter > 0 && b == 0x00)) {
        if (b == 0x00 && t->enter > 0 && t->enter < 5) {
            /* a NUL that breaks a partial match: replay the held bytes, then
               this NUL starts a new match */
            uint8_t held = t->enter;
            t->enter = 0;
            for (uint8_t i = 1; i < held; i++) edit(t, enter_seq[i]);
            edit(t, 0x00);
            t->enter = 1;
            return SXS_TEXT_NONE;
        }
        t->enter++;
        if (t->enter == 1) {
            edit(t, 0x00); /* a NUL discards the line whatever follows */
            return SXS_TEXT_NONE;
        }
        if (t->enter == 6) {
            t->enter = 0;
            return SXS_TEXT_ENTER;
        }
        return SXS_TEXT_NONE;
    }
    if (t->enter > 0) {
        /* the match broke: the held bytes (after the NUL) were ordinary input */
        uint8_t held = t->enter;
        t->enter = 0;
        int r = SXS_TEXT_NONE;
        for (uint8_t i = 1; i < held; i++) {
            int k = edit(t, enter_seq[i]);
            if (k) r = k;
        }
        int k = edit(t, b);
        return k ? k : r;
    }
    return edit(t, b);
}

int sxs_text_next_line(const sxs_text *t, uint32_t *start, uint32_t *end)
{
    for (uint32_t i = t->form; i < t->pending; i++) {
        if (t->buf[i] == '\n') {
            *start = t->form;
            *end = i;
            return 1;
        }
    }
    return 0;
}

void sxs_text_continue(sxs_text *t, uint32_t end) { t->form = end + 1; }

void sxs_text_take(sxs_text *t, uint32_t end)
{
    uint32_t n = end + 1;
    memmove(t->buf, t->buf + n, t->pending - n + t->line);
    t->pending -= n;
    t->form = 0;
}
