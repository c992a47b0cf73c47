/* sxs_link.c - see sxs_link.h. */
#include "sxs_link.h"

#include <string.h>

#include "sxs_msg.h"

/* receive-buffer record: u16 len | u8 type | u8 flags | u32 req | u8 mark |
 * 9 spare | payload: exactly the frame's credit cost */
#define RX_HDR 18u

void sxs_link_default_config(sxs_link_config *c, int role)
{
    memset(c, 0, sizeof *c);
    c->role = role;
    c->rx_cap = role == SXS_LINK_HOST ? SXS_LINK_HOST_CAPACITY : SXS_LINK_RX_WINDOW;
    c->tx_cap = role == SXS_LINK_HOST ? SXS_LINK_HOST_CAPACITY : SXS_LINK_TX_BUFFER;
    c->max_payload = SXS_LINK_MAX_PAYLOAD;
    c->nak_repeat = SXS_LINK_NAK_REPEAT_MS;
    c->ack_delay = SXS_LINK_ACK_DELAY_MS;
    sxs_sendwin_default_config(&c->window);
}

void sxs_link_init(sxs_link *l, const sxs_link_config *cfg)
{
    memset(l, 0, sizeof *l - sizeof l->wire);
    l->cfg = *cfg;
    if (l->cfg.max_payload > SXS_LINK_MAX_PAYLOAD || l->cfg.max_payload < 256) l->cfg.max_payload = SXS_LINK_MAX_PAYLOAD;
    sxs_deframer_init(&l->df, l->cfg.max_payload);
    sxs_sendwin_init(&l->tx, cfg->tx_buf, cfg->tx_cap, &cfg->window);
    sxs_recvwin_init(&l->rx, cfg->rx_cap, cfg->nak_repeat, cfg->ack_delay);
    l->cfg.rx_cap = l->rx.capacity;
    l->awaiting_hello = cfg->role == SXS_LINK_HOST;
}

void sxs_link_reset(sxs_link *l)
{
    sxs_sendwin_reset(&l->tx);
    sxs_recvwin_reset(&l->rx);
    sxs_deframer_reset(&l->df);
    l->rx_head = l->rx_used = l->rx_count = 0;
    l->nctl = 0;
    l->awaiting_hello = l->cfg.role == SXS_LINK_HOST;
    l->have_session = 0;
}

static void ev(sxs_link *l, sxs_link_event e, uint8_t type, uint32_t req)
{
    if (l->cfg.event) l->cfg.event(l->cfg.ctx, e, type, req);
}

/* ---- receive buffer ---- */

static void rx_wr(sxs_link *l, uint32_t off, const void *src, uint32_t n)
{
    uint32_t cap = l->cfg.rx_cap;
    off %= cap;
    uint32_t a = cap - off < n ? cap - off : n;
    memcpy(l->cfg.rx_buf + off, src, a);
    if (n > a) memcpy(l->cfg.rx_buf, (const uint8_t *)src + a, n - a);
}

static void rx_rd(const sxs_link *l, uint32_t off, void *dst, uint32_t n)
{
    uint32_t cap = l->cfg.rx_cap;
    off %= cap;
    uint32_t a = cap - off < n ? cap - off : n;
    memcpy(dst, l->cfg.rx_buf + off, a);
    if (n > a) memcpy((uint8_t *)dst + a, l->cfg.rx_buf, n - a);
}

static void rx_push(sxs_link *l, const sxs_frame_hdr *h, const uint8_t *payload)
{
    uint8_t rh[RX_HDR] = { 0 };
    sxs_wr16(rh, h->len);
    rh[2] = h->type;
    rh[3] = h->flags & SXS_FLAG_MORE;
    sxs_wr32(rh + 4, h->req);
    uint32_t off = (l->rx_head + l->rx_used) % l->cfg.rx_cap;
    rx_wr(l, off, rh, RX_HDR);
    rx_wr(l, off + RX_HDR, payload, h->len);
    l->rx_used += RX_HDR + h->len;
    l->rx_count++;
}

int sxs_link_peek(const sxs_link *l, sxs_link_frag *f)
{
    if (!l->rx_count) return 0;
    uint8_t rh[9];
    rx_rd(l, l->rx_head, rh, sizeof rh);
    f->len = sxs_rd16(rh);
    f->type = rh[2];
    f->flags = rh[3];
    f->req = sxs_rd32(rh + 4);
    f->mark = rh[8];
    uint32_t cap = l->cfg.rx_cap, p = (l->rx_head + RX_HDR) % cap;
    uint32_t a = cap - p < f->len ? cap - p : f->len;
    f->p1 = l->cfg.rx_buf + p;
    f->n1 = a;
    f->p2 = l->cfg.rx_buf;
    f->n2 = f->len - a;
    return 1;
}

void sxs_link_consume(sxs_link *l)
{
    if (!l->rx_count) return;
    uint8_t rh[2];
    rx_rd(l, l->rx_head, rh, 2);
    uint32_t cost = RX_HDR + sxs_rd16(rh);
    l->rx_head = (l->rx_head + cost) % l->cfg.rx_cap;
    l->rx_used -= cost;
    if (--l->rx_count == 0) l->rx_head = l->rx_used = 0;
    sxs_recvwin_consume(&l->rx, cost);
}

void sxs_link_frag_copy(const sxs_link_frag *f, size_t off, void *dst, size_t n)
{
    uint8_t *d = dst;
    if (off < f->n1) {
        size_t a = f->n1 - off < n ? f->n1 - off : n;
        memcpy(d, f->p1 + off, a);
        d += a, n -= a, off = 0;
    } else {
        off -= f->n1;
    }
    if (n) memcpy(d, f->p2 + off, n);
}

uint32_t sxs_link_mark(sxs_link *l, uint8_t type, uint32_t req, uint8_t mark, int first_continues)
{
    uint32_t off = l->rx_head, found = 0;
    int prev_more = 0;
    uint8_t prev_type = 0;
    uint32_t prev_req = 0;
    for (uint32_t i = 0; i < l->rx_count; i++) {
        uint8_t rh[9];
        rx_rd(l, off, rh, sizeof rh);
        uint16_t len = sxs_rd16(rh);
        uint8_t t = rh[2], fl = rh[3];
        uint32_t r = sxs_rd32(rh + 4);
        int continues = i == 0 ? first_continues : (prev_more && prev_type == t && prev_req == r);
        if (t == type && (req == 0 || r == req)) {
            rh[8] = mark;
            rx_wr(l, off + 8, rh + 8, 1);
            if (!continues) found++;
        }
        prev_more = (fl & SXS_FLAG_MORE) != 0;
        prev_type = t;
        prev_req = r;
        off = (off + RX_HDR + len) % l->cfg.rx_cap;
    }
    return found;
}

/* ---- receiving ---- */

static void on_frame(sxs_link *l, const sxs_frame_hdr *h, const uint8_t *payload, uint32_t now)
{
    l->stats.frames_in++;
    if (l->cfg.role == SXS_LINK_HOST && h->type == SXS_MSG_HELLO && h->seq == 0 && h->len >= 68) {
        uint32_t s = sxs_rd32(payload + 64);
        if (!l->have_session || s != l->session) {
            sxs_link_reset(l);
            l->awaiting_hello = 0;
            l->have_session = 1;
            l->session = s;
            ev(l, SXS_LE_SESSION, h->type, s);
        }
    }
    if (l->awaiting_hello) return;
    ev(l, SXS_LE_VALID, h->type, h->req);
    int poll = (h->flags & SXS_FLAG_POLL) != 0;
    if (sxs_frame_is_control(h->type)) {
        if (h->type == SXS_MSG_NAK) sxs_sendwin_on_nak(&l->tx, h->ack, h->credit, h->seq, now);
        else sxs_sendwin_on_header(&l->tx, h->ack, h->credit, now);
        if (poll) sxs_recvwin_on_poll(&l->rx);
        if (h->type != SXS_MSG_ACK && h->type != SXS_MSG_NAK) ev(l, SXS_LE_CONTROL, h->type, h->req);
        return;
    }
    sxs_sendwin_on_header(&l->tx, h->ack, h->credit, now);
    if (sxs_recvwin_on_frame(&l->rx, h->seq, SXS_FRAME_COST(h->len), poll, now) == SXS_RX_ACCEPT)
        rx_push(l, h, payload);
}

void sxs_link_receive(sxs_link *l, const uint8_t *bytes, size_t n, uint32_t now)
{
    l->now = now;
    for (size_t i = 0; i < n; i++) {
        sxs_deframe_event e;
        if (!sxs_deframer_push(&l->df, bytes[i], &e)) continue;
        if (e.kind == SXS_DF_ENTER) ev(l, SXS_LE_ENTER, 0, 0);
        else if (e.kind == SXS_DF_DROP) ev(l, SXS_LE_DROP, (uint8_t)e.reason, e.bytes);
        else on_frame(l, &e.hdr, e.payload, now);
    }
}

/* ---- sending ---- */

int sxs_link_enqueue(sxs_link *l, uint8_t type, uint8_t flags, uint32_t req, const uint8_t *p1, size_t n1,
                     const uint8_t *p2, size_t n2)
{
    if (n1 + n2 > l->cfg.max_payload) return -1;
    return sxs_sendwin_enqueue(&l->tx, type, flags, req, p1, n1, p2, n2) < 0 ? -1 : 0;
}

uint32_t sxs_link_message_cost(const sxs_link *l, size_t n)
{
    uint32_t mp = l->cfg.max_payload;
    uint32_t frames = n == 0 ? 1 : (uint32_t)((n + mp - 1) / mp);
    return frames * SXS_FRAME_OVERHEAD + (uint32_t)n;
}

static size_t fragment_len(const sxs_link *l, size_t total, size_t off)
{
    size_t mp = l->cfg.max_payload;
    return total - off < mp ? total - off : mp;
}

uint32_t sxs_link_fragment_cost(const sxs_link *l, size_t total, size_t off)
{
    return SXS_FRAME_COST(fragment_len(l, total, off));
}

long sxs_link_enqueue_fragment(sxs_link *l, uint8_t type, uint32_t req, const uint8_t *p1, size_t n1,
                               const uint8_t *p2, size_t n2, size_t off, int poll)
{
    size_t n = n1 + n2, k = fragment_len(l, n, off);
    /* the piece [off, off+k) of p1 ++ p2, as up to two spans */
    const uint8_t *a, *b = NULL;
    size_t na, nb = 0;
    if (off < n1) {
        a = p1 + off;
        na = n1 - off < k ? n1 - off : k;
        b = p2;
        nb = k - na;
    } else {
        a = p2 + (off - n1);
        na = k;
    }
    uint8_t fl = off + k < n ? SXS_FLAG_MORE : (poll ? SXS_FLAG_POLL : 0);
    return sxs_sendwin_enqueue(&l->tx, type, fl, req, a, na, b, nb) < 0 ? -1 : (long)k;
}

int sxs_link_send(sxs_link *l, uint8_t type, uint32_t req, const uint8_t *p1, size_t n1, const uint8_t *p2,
                  size_t n2, int poll)
{
    size_t n = n1 + n2, off = 0;
    if (sxs_link_message_cost(l, n) > sxs_link_tx_room(l)) return -1;
    do {
        long k = sxs_link_enqueue_fragment(l, type, req, p1, n1, p2, n2, off, poll);
        if (k < 0) return -1; /* not reached: the room was checked */
        off += (size_t)k;
    } while (off < n);
    return 0;
}

int sxs_link_control(sxs_link *l, uint8_t type, uint32_t req, uint8_t flags)
{
    if (l->nctl >= SXS_LINK_CONTROL_QUEUE) return -1;
    l->ctl[l->nctl].type = type;
    l->ctl[l->nctl].req = req;
    l->ctl[l->nctl].flags = flags;
    l->nctl++;
    return 0;
}

static void emit(sxs_link *l, uint8_t type, uint8_t flags, uint16_t seq, uint32_t req, const uint8_t *p1,
                 size_t n1, const uint8_t *p2, size_t n2, int control)
{
    sxs_frame_hdr h = { type, flags, seq, l->rx.expected, sxs_recvwin_credit(&l->rx), req, (uint16_t)(n1 + n2) };
    size_t wl;
    uint8_t *w = sxs_frame_encode(&h, p1, n1, p2, n2, l->wire, &wl);
    if (l->cfg.write) l->cfg.write(l->cfg.ctx, w, wl);
    if (control) sxs_sendwin_note_write(&l->tx, (uint32_t)wl, l->now);
    sxs_recvwin_note_sent(&l->rx);
    l->stats.frames_out++;
    l->stats.bytes_out += (uint32_t)wl;
}

static void emit_msg(void *ctx, uint8_t type, uint8_t flags, uint16_t seq, uint32_t req, const uint8_t *p1,
                     size_t n1, const uint8_t *p2, size_t n2, int retx)
{
    (void)retx;
    emit(ctx, type, flags, seq, req, p1, n1, p2, n2, 0);
}

void sxs_link_flush(sxs_link *l, uint32_t now)
{
    l->now = now;
    if (l->awaiting_hello) return;
    for (uint32_t i = 0; i < l->nctl; i++) emit(l, l->ctl[i].type, l->ctl[i].flags, 0, l->ctl[i].req, NULL, 0, NULL, 0, 1);
    l->nctl = 0;
    int probe = sxs_sendwin_poll(&l->tx, now, emit_msg, l);
    if (probe) emit(l, SXS_MSG_ACK, SXS_FLAG_POLL, 0, 0, NULL, 0, NULL, 0, 1);
    uint8_t c = sxs_recvwin_take_control(&l->rx, now);
    if (c == SXS_MSG_ACK) emit(l, SXS_MSG_ACK, 0, 0, 0, NULL, 0, NULL, 0, 1);
    else if (c == SXS_MSG_NAK) emit(l, SXS_MSG_NAK, 0, l->rx.nak_trigger, 0, NULL, 0, NULL, 0, 1);
}

int sxs_link_next_deadline(const sxs_link *l, uint32_t *at)
{
    uint32_t a, b;
    int ha = sxs_sendwin_next_deadline(&l->tx, &a), hb = sxs_recvwin_next_deadline(&l->rx, &b);
    if (!ha && !hb) return 0;
    if (ha && hb) *at = sxs_time_reached(a, b) ? b : a;
    else *at = ha ? a : b;
    return 1;
}
