/* sxs_window.c - see sxs_window.h; a line-by-line counterpart of
 * host/link/window.ts on an integer millisecond clock. */
#include "sxs_window.h"

#include <string.h>

#include "sxs_msg.h"

/* ring record: u16 len | u8 type | u8 flags (+ state bits) | u32 req |
 * u32 depart | u32 tx_order | 2 spare | payload */
#define REC_HDR 18u
#define ST_SENT 0x80u
#define ST_RETX 0x40u

void sxs_sendwin_default_config(sxs_sendwin_config *c)
{
    c->bytes_per_ms = 0;
    c->rto_initial = SXS_LINK_RTO_INITIAL_MS;
    c->rto_min = SXS_LINK_RTO_MIN_MS;
    c->rto_max = SXS_LINK_RTO_MAX_MS;
    c->max_retries = SXS_LINK_MAX_RETRIES;
    c->initial_credit = SXS_LINK_INITIAL_CREDIT;
    c->max_ahead_bytes = 2 * SXS_FRAME_MAX_WIRE;
}

static void ring_rd(const sxs_sendwin *w, uint32_t off, void *dst, uint32_t n)
{
    off %= w->cap;
    uint32_t a = w->cap - off < n ? w->cap - off : n;
    memcpy(dst, w->ring + off, a);
    if (n > a) memcpy((uint8_t *)dst + a, w->ring, n - a);
}

static void ring_wr(sxs_sendwin *w, uint32_t off, const void *src, uint32_t n)
{
    off %= w->cap;
    uint32_t a = w->cap - off < n ? w->cap - off : n;
    memcpy(w->ring + off, src, a);
    if (n > a) memcpy(w->ring, (const uint8_t *)src + a, n - a);
}

typedef struct rec {
    uint16_t len;
    uint8_t type, flags;
    uint32_t req, depart, tx_order;
} rec;

static void rec_get(const sxs_sendwin *w, uint32_t off, rec *r)
{
    uint8_t h[16];
    ring_rd(w, off, h, 16);
    r->len = sxs_rd16(h);
    r->type = h[2];
    r->flags = h[3];
    r->req = sxs_rd32(h + 4);
    r->depart = sxs_rd32(h + 8);
    r->tx_order = sxs_rd32(h + 12);
}

static void rec_put(sxs_sendwin *w, uint32_t off, const rec *r)
{
    uint8_t h[16];
    sxs_wr16(h, r->len);
    h[2] = r->type;
    h[3] = r->flags;
    sxs_wr32(h + 4, r->req);
    sxs_wr32(h + 8, r->depart);
    sxs_wr32(h + 12, r->tx_order);
    ring_wr(w, off, h, 16);
}

static uint32_t rec_next(const sxs_sendwin *w, uint32_t off)
{
    uint8_t h[2];
    ring_rd(w, off, h, 2);
    return (off + REC_HDR + sxs_rd16(h)) % w->cap;
}

void sxs_sendwin_init(sxs_sendwin *w, uint8_t *ring, uint32_t cap, const sxs_sendwin_config *cfg)
{
    memset(w, 0, sizeof *w);
    w->ring = ring;
    w->cap = cap;
    if (cfg) w->cfg = *cfg;
    else sxs_sendwin_default_config(&w->cfg);
    sxs_sendwin_reset(w);
}

void sxs_sendwin_reset(sxs_sendwin *w)
{
    sxs_sendwin_config cfg = w->cfg;
    uint8_t *ring = w->ring;
    uint32_t cap = w->cap;
    sxs_send_stats st = w->stats;
    memset(w, 0, sizeof *w);
    w->cfg = cfg;
    w->ring = ring;
    w->cap = cap;
    w->stats = st;
    w->credit = cfg.initial_credit;
    w->rto = cfg.rto_initial;
    w->probe_backoff = 1;
    if (cfg.bytes_per_ms) {
        w->slack_ms = (SXS_FRAME_MAX_WIRE + cfg.bytes_per_ms - 1) / cfg.bytes_per_ms;
        w->max_ahead_ms = cfg.max_ahead_bytes / cfg.bytes_per_ms;
    }
}

int32_t sxs_sendwin_enqueue(sxs_sendwin *w, uint8_t type, uint8_t flags, uint32_t req, const uint8_t *p1,
                            size_t n1, const uint8_t *p2, size_t n2)
{
    size_t n = n1 + n2;
    if (n > 0xFFFF || REC_HDR + n > sxs_sendwin_room(w)) return -1;
    uint32_t off = (w->head + w->used) % w->cap;
    rec r = { (uint16_t)n, type, (uint8_t)(flags & (SXS_FLAG_MORE | SXS_FLAG_POLL)), req, 0, 0 };
    rec_put(w, off, &r);
    uint8_t spare[2] = { 0, 0 };
    ring_wr(w, off + 16, spare, 2);
    if (n1) ring_wr(w, off + REC_HDR, p1, (uint32_t)n1);
    if (n2) ring_wr(w, off + REC_HDR + (uint32_t)n1, p2, (uint32_t)n2);
    w->used += REC_HDR + (uint32_t)n;
    w->count++;
    uint16_t seq = w->next_seq;
    w->next_seq++;
    return seq;
}

uint32_t sxs_sendwin_in_flight_bytes(const sxs_sendwin *w)
{
    uint32_t t = 0, off = w->head, n = sxs_sendwin_in_flight(w);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t h[2];
        ring_rd(w, off, h, 2);
        t += REC_HDR + sxs_rd16(h);
        off = rec_next(w, off);
    }
    return t;
}

void sxs_sendwin_note_write(sxs_sendwin *w, uint32_t wire_bytes, uint32_t now)
{
    if (!w->cfg.bytes_per_ms) return;
    uint32_t start = w->wire_set && !sxs_time_reached(now, w->wire_free_at) ? w->wire_free_at : now;
    w->wire_free_at = start + (wire_bytes + w->cfg.bytes_per_ms - 1) / w->cfg.bytes_per_ms;
    w->wire_set = 1;
}

static void rtt_sample(sxs_sendwin *w, float r)
{
    if (!w->have_srtt) {
        w->srtt = r;
        w->rttvar = r / 2;
        w->have_srtt = 1;
    } else {
        float d = w->srtt - r;
        if (d < 0) d = -d;
        w->rttvar = 0.75f * w->rttvar + 0.25f * d;
        w->srtt = 0.875f * w->srtt + 0.125f * r;
    }
    float v4 = 4 * w->rttvar;
    float rto = w->srtt + (v4 > 1 ? v4 : 1);
    if (rto < (float)w->cfg.rto_min) rto = (float)w->cfg.rto_min;
    if (rto > (float)w->cfg.rto_max) rto = (float)w->cfg.rto_max;
    w->rto = (uint32_t)(rto + 0.5f);
}

static uint32_t later(uint32_t a, uint32_t b) { return sxs_time_reached(a, b) ? a : b; }

uint32_t sxs_sendwin_on_header(sxs_sendwin *w, uint16_t ack, uint16_t credit, uint32_t now)
{
    uint16_t adv = sxs_seq_diff(ack, w->base);
    if (adv > sxs_sendwin_in_flight(w)) return 0;
    if (adv > 0) {
        int have = 0;
        uint32_t sample = 0;
        for (uint32_t i = 0; i < adv; i++) {
            rec r;
            rec_get(w, w->head, &r);
            if (!(r.flags & ST_RETX)) {
                have = 1;
                sample = sxs_time_reached(now, r.depart) ? now - r.depart : 0;
            }
            uint32_t sz = REC_HDR + r.len;
            w->head = (w->head + sz) % w->cap;
            w->used -= sz;
            w->count--;
            if (w->send_idx > 0) {
                w->send_idx--;
            } else {
                w->send_off = w->head;
            }
        }
        if (w->count == 0) w->head = w->send_off = 0, w->used = 0;
        w->base = ack;
        w->retries = 0;
        if (have) rtt_sample(w, (float)sample);
        if (sxs_sendwin_in_flight(w) > 0) {
            rec r;
            rec_get(w, w->head, &r);
            w->deadline = later(now, r.depart) + w->rto + w->slack_ms;
            w->deadline_set = 1;
        } else {
            w->deadline_set = 0;
        }
    }
    int opened = credit > w->credit;
    w->credit = credit;
    if (opened || adv > 0) {
        w->probe_set = 0;
        w->probe_backoff = 1;
    }
    return adv;
}

static void go_back(sxs_sendwin *w)
{
    uint32_t n = sxs_sendwin_in_flight(w), off = w->head;
    for (uint32_t i = 0; i < n; i++) {
        rec r;
        rec_get(w, off, &r);
        r.flags |= ST_RETX;
        rec_put(w, off, &r);
        off = rec_next(w, off);
    }
    w->send_idx = 0;
    w->send_off = w->head;
}

void sxs_sendwin_on_nak(sxs_sendwin *w, uint16_t ack, uint16_t credit, uint16_t trigger, uint32_t now)
{
    sxs_sendwin_on_header(w, ack, credit, now);
    uint32_t inflight = sxs_sendwin_in_flight(w);
    if (ack != w->base || inflight == 0) return;
    rec first;
    rec_get(w, w->head, &first);
    uint16_t k = sxs_seq_diff(trigger, w->base);
    if (k < inflight) {
        uint32_t off = w->head;
        for (uint32_t i = 0; i < k; i++) off = rec_next(w, off);
        rec t;
        rec_get(w, off, &t);
        if (t.tx_order < first.tx_order) {
            w->stats.naks_ignored++;
            return;
        }
    }
    w->stats.naks++;
    go_back(w);
}

int sxs_sendwin_next_deadline(const sxs_sendwin *w, uint32_t *at)
{
    if (w->down) return 0;
    int have = 0;
    uint32_t t = 0;
    const struct { uint8_t set; uint32_t v; } c[3] = {
        { w->deadline_set, w->deadline }, { w->probe_set, w->probe_at }, { w->pace_set, w->pace_at } };
    for (int i = 0; i < 3; i++)
        if (c[i].set && (!have || !sxs_time_reached(c[i].v, t))) t = c[i].v, have = 1;
    if (have) *at = t;
    return have;
}

int sxs_sendwin_poll(sxs_sendwin *w, uint32_t now, sxs_sendwin_emit emit, void *ctx)
{
    if (w->down) return 0;
    if (w->deadline_set && sxs_time_reached(now, w->deadline) && sxs_sendwin_in_flight(w) > 0) {
        w->stats.timeouts++;
        w->retries++;
        if (w->retries > w->cfg.max_retries) {
            w->down = 1;
            w->deadline_set = w->probe_set = 0;
            return 0;
        }
        w->rto = w->rto * 2 < w->cfg.rto_max ? w->rto * 2 : w->cfg.rto_max;
        go_back(w);
        w->poll_next = 1;
        w->deadline_set = 0;
    }
    /* cost of the records before send_idx */
    uint32_t cum = 0, off = w->head;
    for (uint32_t i = 0; i < w->send_idx; i++) {
        uint8_t h[2];
        ring_rd(w, off, h, 2);
        cum += REC_HDR + sxs_rd16(h);
        off = rec_next(w, off);
    }
    w->pace_set = 0;
    int held = 0; /* a frame decided but not yet emitted (POLL goes on the last one) */
    uint32_t held_off = 0;
    uint16_t held_seq = 0;
    int held_retx = 0;
    uint32_t sent_now = 0;
    while (w->send_idx < w->count) {
        rec r;
        rec_get(w, w->send_off, &r);
        if (w->cfg.bytes_per_ms && w->wire_set && !sxs_time_reached(now, w->wire_free_at) &&
            w->wire_free_at - now > w->max_ahead_ms) {
            w->pace_at = w->wire_free_at - w->max_ahead_ms;
            w->pace_set = 1;
            break;
        }
        uint32_t cost = REC_HDR + r.len;
        uint16_t seq = (uint16_t)(w->base + w->send_idx);
        if (!(r.flags & ST_SENT)) {
            if (cum + cost > w->credit || cum + cost > w->cap || sxs_seq_diff(seq, w->base) >= SXS_SEQ_HALF) break;
        }
        cum += cost;
        int retx = (r.flags & ST_SENT) != 0;
        if (retx) w->stats.retransmitted++;
        else w->stats.sent++;
        r.flags |= ST_SENT;
        r.tx_order = ++w->tx_counter;
        if (w->cfg.bytes_per_ms) {
            uint32_t start = w->wire_set && !sxs_time_reached(now, w->wire_free_at) ? w->wire_free_at : now;
            uint32_t wire = (uint32_t)SXS_COBS_MAX_ENCODED(cost) + 1;
            r.depart = start + (wire + w->cfg.bytes_per_ms - 1) / w->cfg.bytes_per_ms;
            w->wire_free_at = r.depart;
            w->wire_set = 1;
        } else {
            r.depart = now;
        }
        rec_put(w, w->send_off, &r);
        if (held) {
            rec h;
            rec_get(w, held_off, &h);
            uint32_t p = (held_off + REC_HDR) % w->cap, a = w->cap - p < h.len ? w->cap - p : h.len;
            emit(ctx, h.type, h.flags & (SXS_FLAG_MORE | SXS_FLAG_POLL), held_seq, h.req, w->ring + p, a, w->ring,
                 h.len - a, held_retx);
        }
        held = 1;
        held_off = w->send_off;
        held_seq = seq;
        held_retx = retx;
        sent_now++;
        w->send_idx++;
        w->send_off = rec_next(w, w->send_off);
        if (sxs_seq_diff(w->sent_high, w->base) < w->send_idx) w->sent_high = (uint16_t)(w->base + w->send_idx);
    }
    if (held) {
        rec h;
        rec_get(w, held_off, &h);
        uint8_t fl = h.flags & (SXS_FLAG_MORE | SXS_FLAG_POLL);
        if (w->poll_next) {
            fl |= SXS_FLAG_POLL;
            w->poll_next = 0;
        }
        uint32_t p = (held_off + REC_HDR) % w->cap, a = w->cap - p < h.len ? w->cap - p : h.len;
        emit(ctx, h.type, fl, held_seq, h.req, w->ring + p, a, w->ring, h.len - a, held_retx);
    }
    if (sent_now > 0 && !w->deadline_set) {
        rec r;
        rec_get(w, w->head, &r);
        w->deadline = later(now, r.depart) + w->rto + w->slack_ms;
        w->deadline_set = 1;
    }
    int probe = 0;
    uint32_t inflight = sxs_sendwin_in_flight(w);
    if (inflight == 0 && w->send_idx < w->count) {
        if (!w->probe_set) {
            w->probe_at = now + w->rto * w->probe_backoff;
            w->probe_set = 1;
        } else if (sxs_time_reached(now, w->probe_at)) {
            probe = 1;
            w->stats.probes++;
            uint32_t lim = w->cfg.rto_max / (w->rto ? w->rto : 1);
            if (lim < 1) lim = 1;
            w->probe_backoff = w->probe_backoff * 2 < lim ? w->probe_backoff * 2 : lim;
            w->probe_at = now + w->rto * w->probe_backoff;
        }
    } else if (inflight > 0) {
        w->probe_set = 0;
    }
    return probe;
}

/* ---- receiver ---- */

void sxs_recvwin_init(sxs_recvwin *r, uint32_t capacity, uint32_t nak_repeat, uint32_t ack_delay)
{
    memset(r, 0, sizeof *r);
    if (capacity < SXS_FRAME_MAX_BODY) capacity = SXS_FRAME_MAX_BODY;
    if (capacity > 0xFFFF) capacity = 0xFFFF;
    r->capacity = capacity;
    r->nak_repeat = nak_repeat;
    r->ack_delay = ack_delay;
    r->advertised = capacity;
}

void sxs_recvwin_reset(sxs_recvwin *r)
{
    sxs_recv_stats st = r->stats;
    sxs_recvwin_init(r, r->capacity, r->nak_repeat, r->ack_delay);
    r->stats = st;
}

uint16_t sxs_recvwin_credit(const sxs_recvwin *r)
{
    uint32_t c = r->buffered >= r->capacity ? 0 : r->capacity - r->buffered;
    return (uint16_t)(c > 0xFFFF ? 0xFFFF : c);
}

sxs_verdict sxs_recvwin_on_frame(sxs_recvwin *r, uint16_t seq, uint32_t cost, int poll, uint32_t now)
{
    if (poll) r->ack_due = 1;
    uint16_t d = sxs_seq_diff(seq, r->expected);
    if (d == 0) {
        if (r->buffered + cost > r->capacity) {
            r->stats.overruns++;
            r->ack_due = 1;
            return SXS_RX_FULL;
        }
        r->expected++;
        r->buffered += cost;
        r->stats.accepted++;
        r->unacked += cost;
        if (r->unacked * 4 >= r->capacity) r->ack_due = 1;
        else if (!r->ack_at_set) {
            r->ack_at = now + r->ack_delay;
            r->ack_at_set = 1;
        }
        r->nak_for_set = 0;
        return SXS_RX_ACCEPT;
    }
    if (d < SXS_SEQ_HALF) {
        r->stats.gaps++;
        if (!r->nak_for_set || r->nak_for != r->expected || d <= sxs_seq_diff(r->nak_trigger, r->expected) ||
            !r->nak_at_set || sxs_time_reached(now, r->nak_at + r->nak_repeat)) {
            r->nak_due = 1;
            r->nak_for = r->expected;
            r->nak_for_set = 1;
            r->nak_trigger = seq;
            r->nak_at = now;
            r->nak_at_set = 1;
        }
        return SXS_RX_GAP;
    }
    r->stats.duplicates++;
    r->ack_due = 1;
    return SXS_RX_DUPLICATE;
}

void sxs_recvwin_consume(sxs_recvwin *r, uint32_t cost)
{
    r->buffered = r->buffered > cost ? r->buffered - cost : 0;
    uint32_t c = sxs_recvwin_credit(r);
    uint32_t step = r->capacity / 4 < SXS_FRAME_MAX_BODY ? r->capacity / 4 : SXS_FRAME_MAX_BODY;
    if ((c > r->advertised && c - r->advertised >= step) || (r->buffered == 0 && r->advertised < r->capacity))
        r->ack_due = 1;
}

void sxs_recvwin_note_sent(sxs_recvwin *r)
{
    r->ack_due = 0;
    r->ack_at_set = 0;
    r->unacked = 0;
    r->advertised = sxs_recvwin_credit(r);
}

int sxs_recvwin_next_deadline(const sxs_recvwin *r, uint32_t *at)
{
    if (r->ack_due || r->nak_due || !r->ack_at_set) return 0;
    *at = r->ack_at;
    return 1;
}

uint8_t sxs_recvwin_take_control(sxs_recvwin *r, uint32_t now)
{
    if (r->nak_due) {
        r->nak_due = 0;
        r->stats.naks++;
        return SXS_MSG_NAK;
    }
    if (r->ack_due || (r->ack_at_set && sxs_time_reached(now, r->ack_at))) {
        r->stats.acks++;
        return SXS_MSG_ACK;
    }
    return 0;
}
