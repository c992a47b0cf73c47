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
    t->queued = t->form = t->line = 0;
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

/* where the next typed byte goes */
static uint32_t end(const sxs_text *t) { return t->queued + t->form + t->line; }

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
        if (end(t) + 1 > t->cap) { /* no room for the '\n' */
            t->line = 0;
            return SXS_TEXT_TOO_LONG;
        }
        t->buf[end(t)] = '\n';
        t->form += t->line + 1;
        t->line = 0;
        return SXS_TEXT_LINE;
    default:
        if (b < 0x20 && b != '\t') return SXS_TEXT_NONE;
        if (end(t) + 2 > t->cap) { /* keep room for the '\n' */
            t->overflow = 1;
            return SXS_TEXT_NONE;
        }
        t->buf[end(t)] = b;
        t->line++;
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

int sxs_text_form(const sxs_text *t, const uint8_t **text, uint32_t *n)
{
    *text = t->buf + t->queued;
    *n = t->form ? t->form - 1 : 0;
    return *n > 0 && memchr(*text, '\n', *n) != NULL;
}

void sxs_text_drop_form(sxs_text *t)
{
    memmove(t->buf + t->queued, t->buf + t->queued + t->form, t->line);
    t->form = 0;
}

void sxs_text_queue_form(sxs_text *t)
{
    if (!t->form) return;
    t->buf[t->queued + t->form - 1] = '\0';
    t->queued += t->form;
    t->form = 0;
}

int sxs_text_next_form(const sxs_text *t, const uint8_t **text, uint32_t *n)
{
    if (!t->queued) return 0;
    const uint8_t *z = memchr(t->buf, '\0', t->queued);
    *text = t->buf;
    *n = (uint32_t)(z - t->buf); /* a queued form always ends in '\0' */
    return 1;
}

void sxs_text_take_form(sxs_text *t)
{
    const uint8_t *s;
    uint32_t n;
    if (!sxs_text_next_form(t, &s, &n)) return;
    memmove(t->buf, t->buf + n + 1, t->queued - (n + 1) + t->form + t->line);
    t->queued -= n + 1;
}

uint32_t sxs_text_queued_forms(const sxs_text *t)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < t->queued; i++) k += t->buf[i] == '\0';
    return k;
}

const uint8_t *sxs_text_typed(const sxs_text *t, uint32_t *n)
{
    *n = t->line;
    return t->buf + t->queued + t->form;
}
