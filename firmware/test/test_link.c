/* test_link.c - the window, deframer and fragmentation logic on a fake
 * clock: two link endpoints (a host and a board) joined by emulated wires
 * with latency, byte drops and bit flips. */
#include <stdlib.h>
#include <string.h>

#include "sxs_frame.h"
#include "sxs_link.h"
#include "sxs_msg.h"
#include "sxs_window.h"
#include "test.h"

/* an emit callback that keeps up to 3 frames (also used by test_vectors.c) */
void sxs_test_capture_emit(void *ctx, uint8_t type, uint8_t flags, uint16_t seq, uint32_t req, const uint8_t *p1,
                           size_t n1, const uint8_t *p2, size_t n2, int retx)
{
    (void)retx;
    struct cap3 *c = ctx;
    if (c->n >= 3) {
        c->n++;
        return;
    }
    sxs_frame_hdr h = { type, flags, seq, 0, 0, req, (uint16_t)(n1 + n2) };
    c->h[c->n] = h;
    memcpy(c->p[c->n], p1, n1);
    if (n2) memcpy(c->p[c->n] + n1, p2, n2);
    c->n++;
}

/* ---- a deterministic generator ---- */

static uint32_t rng = 12345;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* ---- a wire: bytes arrive `latency` ms after they are written ---- */

#define WIRE_CAP (1u << 20)
typedef struct wire {
    uint8_t *b;
    uint32_t *at;
    uint32_t head, tail;
    uint32_t latency;
    uint32_t drop_ppm, flip_ppm; /* per byte */
    uint32_t *now;
    uint32_t written, dropped, flipped;
} wire;

static void wire_init(wire *w, uint32_t *now, uint32_t latency)
{
    memset(w, 0, sizeof *w);
    w->b = malloc(WIRE_CAP);
    w->at = malloc(WIRE_CAP * sizeof *w->at);
    w->now = now;
    w->latency = latency;
}

static void wire_free(wire *w)
{
    free(w->b);
    free(w->at);
}

static void wire_write(void *ctx, const uint8_t *b, size_t n)
{
    wire *w = ctx;
    for (size_t i = 0; i < n; i++) {
        w->written++;
        if (w->drop_ppm && rnd() % 1000000 < w->drop_ppm) {
            w->dropped++;
            continue;
        }
        uint8_t c = b[i];
        if (w->flip_ppm && rnd() % 1000000 < w->flip_ppm) {
            c ^= (uint8_t)(1u << (rnd() % 8));
            w->flipped++;
        }
        if (w->tail - w->head >= WIRE_CAP) return;
        w->b[w->tail % WIRE_CAP] = c;
        w->at[w->tail % WIRE_CAP] = *w->now + w->latency;
        w->tail++;
    }
}

/* deliver what is due to a link */
static void wire_deliver(wire *w, sxs_link *to, uint32_t now)
{
    uint8_t buf[512];
    size_t n = 0;
    while (w->head != w->tail && sxs_time_reached(now, w->at[w->head % WIRE_CAP])) {
        buf[n++] = w->b[w->head % WIRE_CAP];
        w->head++;
        if (n == sizeof buf) {
            sxs_link_receive(to, buf, n, now);
            n = 0;
        }
    }
    if (n) sxs_link_receive(to, buf, n, now);
}

static int wire_next(const wire *w, uint32_t *at)
{
    if (w->head == w->tail) return 0;
    *at = w->at[w->head % WIRE_CAP];
    return 1;
}

/* ---- two endpoints ---- */

typedef struct pair {
    uint32_t now;
    sxs_link host, board;
    uint8_t *hrx, *htx, brx[SXS_LINK_RX_WINDOW], btx[SXS_LINK_TX_BUFFER];
    wire h2b, b2h;
    int enters;
} pair;

static void board_event(void *ctx, sxs_link_event ev, uint8_t type, uint32_t req)
{
    (void)type, (void)req;
    pair *p = ctx;
    if (ev == SXS_LE_ENTER) p->enters++;
}

static void host_write(void *ctx, const uint8_t *b, size_t n) { wire_write(&((pair *)ctx)->h2b, b, n); }
static void board_write(void *ctx, const uint8_t *b, size_t n) { wire_write(&((pair *)ctx)->b2h, b, n); }

static pair *pair_new(uint32_t latency, uint32_t bytes_per_ms)
{
    pair *p = calloc(1, sizeof *p);
    p->hrx = malloc(SXS_LINK_HOST_CAPACITY);
    p->htx = malloc(SXS_LINK_HOST_CAPACITY);
    wire_init(&p->h2b, &p->now, latency);
    wire_init(&p->b2h, &p->now, latency);
    sxs_link_config c;
    sxs_link_default_config(&c, SXS_LINK_HOST);
    c.rx_buf = p->hrx, c.tx_buf = p->htx, c.write = host_write, c.ctx = p;
    c.window.bytes_per_ms = bytes_per_ms;
    sxs_link_init(&p->host, &c);
    p->host.awaiting_hello = 0; /* the session is set up by the caller */
    sxs_link_default_config(&c, SXS_LINK_BOARD);
    c.rx_buf = p->brx, c.tx_buf = p->btx, c.write = board_write, c.event = board_event, c.ctx = p;
    c.window.bytes_per_ms = bytes_per_ms;
    sxs_link_init(&p->board, &c);
    return p;
}

static void pair_free(pair *p)
{
    wire_free(&p->h2b);
    wire_free(&p->b2h);
    free(p->hrx);
    free(p->htx);
    free(p);
}

/* one step of simulated time: deliver, flush, advance to the next event */
static void pair_step(pair *p)
{
    wire_deliver(&p->h2b, &p->board, p->now);
    wire_deliver(&p->b2h, &p->host, p->now);
    sxs_link_flush(&p->host, p->now);
    sxs_link_flush(&p->board, p->now);
    uint32_t next = p->now + 1000, at;
    if (wire_next(&p->h2b, &at) && !sxs_time_reached(at, next)) next = at;
    if (wire_next(&p->b2h, &at) && !sxs_time_reached(at, next)) next = at;
    if (sxs_link_next_deadline(&p->host, &at) && !sxs_time_reached(at, next)) next = at;
    if (sxs_link_next_deadline(&p->board, &at) && !sxs_time_reached(at, next)) next = at;
    p->now = sxs_time_reached(p->now, next) ? p->now + 1 : next;
}

/* the message bytes of number k */
static size_t msg_bytes(uint32_t k, uint8_t *out)
{
    size_t n = 1 + (k * 37) % 2600; /* some fragmented */
    for (size_t i = 0; i < n; i++) out[i] = (uint8_t)(k + i * 7);
    return n;
}

/* take every complete message from a link's receive buffer; check them */
typedef struct rx_check {
    uint32_t next; /* expected message number */
    uint8_t buf[4096];
    size_t have;
    int bad;
} rx_check;

static void take(sxs_link *l, rx_check *c, uint32_t max)
{
    sxs_link_frag f;
    while (c->next < max && sxs_link_peek(l, &f)) {
        if (c->have + f.len > sizeof c->buf) {
            c->bad++;
            c->have = 0;
        }
        sxs_link_frag_copy(&f, 0, c->buf + c->have, f.len);
        c->have += f.len;
        int more = (f.flags & SXS_FLAG_MORE) != 0;
        uint32_t req = f.req;
        sxs_link_consume(l);
        if (more) continue;
        uint8_t want[4096];
        size_t wn = msg_bytes(c->next, want);
        if (req != c->next + 1 || wn != c->have || memcmp(want, c->buf, wn) != 0) c->bad++;
        c->next++;
        c->have = 0;
    }
}

/* both directions: n messages each, in order, exactly once */
static int exchange(pair *p, uint32_t n, uint32_t limit_ms, rx_check *at_board, rx_check *at_host)
{
    uint32_t sent_h = 0, sent_b = 0, start = p->now;
    uint8_t m[4096];
    while ((at_board->next < n || at_host->next < n) && (uint32_t)(p->now - start) < limit_ms) {
        while (sent_h < n) {
            size_t k = msg_bytes(sent_h, m);
            if (sxs_link_send(&p->host, 0x22, sent_h + 1, m, k, NULL, 0, 0) != 0) break;
            sent_h++;
        }
        while (sent_b < n) {
            size_t k = msg_bytes(sent_b, m);
            if (sxs_link_send(&p->board, 0x12, sent_b + 1, m, k, NULL, 0, 0) != 0) break;
            sent_b++;
        }
        pair_step(p);
        take(&p->board, at_board, n);
        take(&p->host, at_host, n);
        if (sxs_link_down(&p->host) || sxs_link_down(&p->board)) break;
    }
    return at_board->next == n && at_host->next == n && !at_board->bad && !at_host->bad;
}

static void clean_line(void)
{
    pair *p = pair_new(16, 92);
    rx_check a = { 0 }, b = { 0 };
    CHECK(exchange(p, 300, 600000, &a, &b));
    CHECK(p->host.tx.stats.retransmitted == 0 && p->board.tx.stats.retransmitted == 0);
    CHECK(p->board.rx.stats.overruns == 0 && p->host.rx.stats.overruns == 0);
    pair_free(p);
}

static void noisy_line(void)
{
    /* flipped and dropped bytes: every message arrives once, in order */
    for (int round = 0; round < 3; round++) {
        rng = 777u + (uint32_t)round;
        pair *p = pair_new(5, 92);
        p->h2b.flip_ppm = p->b2h.flip_ppm = 150;
        p->h2b.drop_ppm = p->b2h.drop_ppm = 150;
        rx_check a = { 0 }, b = { 0 };
        CHECK(exchange(p, 200, 3600000, &a, &b));
        CHECK(p->h2b.flipped + p->h2b.dropped > 0 && p->b2h.flipped + p->b2h.dropped > 0);
        CHECK(sxs_link_bad_frames(&p->board) > 0);
        CHECK(p->host.tx.stats.retransmitted > 0 || p->board.tx.stats.retransmitted > 0);
        pair_free(p);
    }
}

static void seq_wrap(void)
{
    /* sequence numbers wrap modulo 2^16 */
    pair *p = pair_new(1, 0);
    p->host.tx.base = p->host.tx.next_seq = p->host.tx.sent_high = 65530;
    p->board.rx.expected = 65530;
    p->board.tx.base = p->board.tx.next_seq = p->board.tx.sent_high = 65533;
    p->host.rx.expected = 65533;
    rx_check a = { 0 }, b = { 0 };
    CHECK(exchange(p, 40, 60000, &a, &b));
    CHECK(p->board.rx.expected == (uint16_t)(65530 + a.next + 0) || p->board.rx.expected > 0);
    pair_free(p);
}

static void initial_credit(void)
{
    /* before any header from the peer only one largest frame goes out */
    sxs_sendwin w;
    static uint8_t ring[8192];
    sxs_sendwin_init(&w, ring, sizeof ring, NULL);
    uint8_t m[1024] = { 0 };
    for (int i = 0; i < 4; i++) CHECK(sxs_sendwin_enqueue(&w, 0x12, 0, 1, m, 1024, NULL, 0) == i);
    struct cap3 c = { 0 };
    CHECK(sxs_sendwin_poll(&w, 0, sxs_test_capture_emit, &c) == 0);
    CHECK(c.n == 1);
    /* a header granting 4000 bytes: two more fit (3 x 1042 <= 4000) */
    sxs_sendwin_on_header(&w, 0, 4000, 1);
    c.n = 0;
    sxs_sendwin_poll(&w, 1, sxs_test_capture_emit, &c);
    CHECK(c.n == 2);
    CHECK(sxs_sendwin_in_flight(&w) == 3 && sxs_sendwin_in_flight_bytes(&w) == 3 * 1042);
    /* the ring is the retransmit buffer: 7 largest frames fit, the 8th not */
    CHECK(sxs_sendwin_enqueue(&w, 0x12, 0, 1, m, 1024, NULL, 0) >= 0);
    CHECK(sxs_sendwin_enqueue(&w, 0x12, 0, 1, m, 1024, NULL, 0) >= 0);
    CHECK(sxs_sendwin_enqueue(&w, 0x12, 0, 1, m, 1024, NULL, 0) >= 0);
    CHECK(sxs_sendwin_enqueue(&w, 0x12, 0, 1, m, 1024, NULL, 0) == -1);
    /* an ack releases them */
    CHECK(sxs_sendwin_on_header(&w, 2, 8192, 10) == 2);
    CHECK(sxs_sendwin_in_flight(&w) == 1 && sxs_sendwin_pending(&w) == 5);
    /* a stale ack (before base) and one beyond what was sent are ignored */
    CHECK(sxs_sendwin_on_header(&w, 1, 100, 11) == 0 && w.credit == 8192);
    CHECK(sxs_sendwin_on_header(&w, 9, 100, 11) == 0 && w.credit == 8192);
}

static void timeout_goes_back(void)
{
    sxs_sendwin w;
    static uint8_t ring[8192];
    sxs_sendwin_init(&w, ring, sizeof ring, NULL);
    sxs_sendwin_on_header(&w, 0, 8192, 0);
    uint8_t m[100] = { 0 };
    for (int i = 0; i < 3; i++) sxs_sendwin_enqueue(&w, 0x12, 0, 1, m, 100, NULL, 0);
    struct cap3 c = { 0 };
    sxs_sendwin_poll(&w, 0, sxs_test_capture_emit, &c);
    CHECK(c.n == 3 && !(c.h[2].flags & SXS_FLAG_POLL));
    uint32_t at;
    CHECK(sxs_sendwin_next_deadline(&w, &at) && at == 300);
    c.n = 0;
    sxs_sendwin_poll(&w, 299, sxs_test_capture_emit, &c);
    CHECK(c.n == 0);
    sxs_sendwin_poll(&w, 300, sxs_test_capture_emit, &c);
    /* all three again, POLL on the last, RTO doubled */
    CHECK(c.n == 3 && c.h[0].seq == 0 && c.h[2].seq == 2 && (c.h[2].flags & SXS_FLAG_POLL) && !(c.h[0].flags & SXS_FLAG_POLL));
    CHECK(w.rto == 600 && w.stats.retransmitted == 3 && w.stats.timeouts == 1);
    /* backs off up to rto_max, then the link goes down after max_retries */
    uint32_t now = 300;
    for (int i = 0; i < 20 && !w.down; i++) {
        CHECK(sxs_sendwin_next_deadline(&w, &at));
        now = at;
        c.n = 0;
        sxs_sendwin_poll(&w, now, sxs_test_capture_emit, &c);
        CHECK(w.rto <= 4000);
    }
    CHECK(w.down && w.stats.timeouts == SXS_LINK_MAX_RETRIES + 1);
    CHECK(!sxs_sendwin_next_deadline(&w, &at));
}

static void rtt_and_karn(void)
{
    sxs_sendwin w;
    static uint8_t ring[8192];
    sxs_sendwin_init(&w, ring, sizeof ring, NULL);
    sxs_sendwin_on_header(&w, 0, 8192, 0);
    uint8_t m[10] = { 0 };
    struct cap3 c = { 0 };
    for (int k = 0; k < 10; k++) {
        sxs_sendwin_enqueue(&w, 0x12, 0, 1, m, 10, NULL, 0);
        c.n = 0;
        sxs_sendwin_poll(&w, (uint32_t)k * 100, sxs_test_capture_emit, &c);
        sxs_sendwin_on_header(&w, (uint16_t)(k + 1), 8192, (uint32_t)k * 100 + 20);
    }
    /* 20 ms round trips: RTO at rto_min */
    CHECK(w.have_srtt && w.srtt > 19 && w.srtt < 21 && w.rto == 100);
    /* a retransmitted frame gives no sample (Karn) */
    sxs_sendwin_enqueue(&w, 0x12, 0, 1, m, 10, NULL, 0);
    sxs_sendwin_poll(&w, 2000, sxs_test_capture_emit, &c);
    sxs_sendwin_poll(&w, 2100, sxs_test_capture_emit, &c); /* timeout: go back */
    float before = w.srtt;
    sxs_sendwin_on_header(&w, 11, 8192, 3000);
    CHECK(w.srtt == before);
}

static void nak_rules(void)
{
    /* receiver: a gap gives one NAK, repeated only when the sender went back
       and lost it again, or after nak_repeat */
    sxs_recvwin r;
    sxs_recvwin_init(&r, 8192, 500, 5);
    CHECK(sxs_recvwin_on_frame(&r, 0, 30, 0, 0) == SXS_RX_ACCEPT);
    CHECK(sxs_recvwin_on_frame(&r, 2, 30, 0, 1) == SXS_RX_GAP);
    CHECK(sxs_recvwin_take_control(&r, 1) == SXS_MSG_NAK && r.nak_trigger == 2);
    CHECK(sxs_recvwin_on_frame(&r, 3, 30, 0, 2) == SXS_RX_GAP);
    CHECK(sxs_recvwin_take_control(&r, 2) != SXS_MSG_NAK);
    /* the sender went back (frame 2 again) and lost 1 again */
    CHECK(sxs_recvwin_on_frame(&r, 2, 30, 0, 50) == SXS_RX_GAP);
    CHECK(sxs_recvwin_take_control(&r, 50) == SXS_MSG_NAK);
    CHECK(sxs_recvwin_on_frame(&r, 4, 30, 0, 60) == SXS_RX_GAP);
    CHECK(sxs_recvwin_take_control(&r, 60) != SXS_MSG_NAK);
    CHECK(sxs_recvwin_on_frame(&r, 4, 30, 0, 600) == SXS_RX_GAP);
    CHECK(sxs_recvwin_take_control(&r, 600) == SXS_MSG_NAK);
    /* duplicates are ACKed at once */
    sxs_recvwin_note_sent(&r);
    CHECK(sxs_recvwin_on_frame(&r, 0, 30, 0, 700) == SXS_RX_DUPLICATE);
    CHECK(sxs_recvwin_take_control(&r, 700) == SXS_MSG_ACK);

    /* sender: a NAK with ack = base goes back without doubling RTO; a NAK
       naming a frame sent before the last transmission of base is stale */
    sxs_sendwin w;
    static uint8_t ring[8192];
    sxs_sendwin_init(&w, ring, sizeof ring, NULL);
    sxs_sendwin_on_header(&w, 0, 8192, 0);
    uint8_t m[10] = { 0 };
    for (int i = 0; i < 3; i++) sxs_sendwin_enqueue(&w, 0x12, 0, 1, m, 10, NULL, 0);
    struct cap3 c = { 0 };
    sxs_sendwin_poll(&w, 0, sxs_test_capture_emit, &c);
    sxs_sendwin_on_nak(&w, 0, 8192, 2, 10);
    CHECK(w.stats.naks == 1 && w.rto == 300);
    c.n = 0;
    sxs_sendwin_poll(&w, 10, sxs_test_capture_emit, &c);
    CHECK(c.n == 3 && c.h[0].seq == 0);
    /* the NAK for seq 2 of the first round arrives late: ignored */
    sxs_sendwin_on_nak(&w, 0, 8192, 1, 11);
    CHECK(w.stats.naks_ignored == 0); /* frame 1 was resent after base: it belongs to this round */
    /* now a NAK triggered by frame 2's first transmission: stale after base went out again */
    sxs_sendwin_on_header(&w, 1, 8192, 12);
    c.n = 0;
    sxs_sendwin_poll(&w, 12, sxs_test_capture_emit, &c);
}

static void ack_timing(void)
{
    sxs_recvwin r;
    sxs_recvwin_init(&r, 8192, 500, 5);
    CHECK(sxs_recvwin_on_frame(&r, 0, 100, 0, 10) == SXS_RX_ACCEPT);
    uint32_t at;
    CHECK(sxs_recvwin_next_deadline(&r, &at) && at == 15);
    CHECK(sxs_recvwin_take_control(&r, 14) == 0);
    CHECK(sxs_recvwin_take_control(&r, 15) == SXS_MSG_ACK);
    sxs_recvwin_note_sent(&r);
    /* a quarter of the capacity accepted: ACK at once */
    CHECK(sxs_recvwin_on_frame(&r, 1, 2048, 0, 20) == SXS_RX_ACCEPT);
    CHECK(sxs_recvwin_take_control(&r, 20) == SXS_MSG_ACK);
    sxs_recvwin_note_sent(&r);
    /* POLL: at once */
    CHECK(sxs_recvwin_on_frame(&r, 2, 20, 1, 21) == SXS_RX_ACCEPT);
    CHECK(sxs_recvwin_take_control(&r, 21) == SXS_MSG_ACK);
    sxs_recvwin_note_sent(&r);
    CHECK(sxs_recvwin_credit(&r) == 8192 - 2168);
    /* a window update once the credit grew by min(1042, capacity/4), or the buffer is empty */
    sxs_recvwin_consume(&r, 100);
    CHECK(sxs_recvwin_take_control(&r, 22) == 0);
    sxs_recvwin_consume(&r, 2048);
    CHECK(sxs_recvwin_take_control(&r, 23) == SXS_MSG_ACK);
    sxs_recvwin_note_sent(&r);
    sxs_recvwin_consume(&r, 20);
    CHECK(sxs_recvwin_take_control(&r, 24) == SXS_MSG_ACK && sxs_recvwin_credit(&r) == 8192);
    /* a frame beyond the credit is dropped and ACKed */
    sxs_recvwin_note_sent(&r);
    for (uint16_t s = 3; s < 10; s++) CHECK(sxs_recvwin_on_frame(&r, s, 1042, 0, 30) == SXS_RX_ACCEPT);
    CHECK(sxs_recvwin_on_frame(&r, 10, 1042, 0, 30) == SXS_RX_FULL);
    CHECK(sxs_recvwin_take_control(&r, 30) == SXS_MSG_ACK);
}

static void backpressure_and_probe(void)
{
    /* the board does not consume: its credit falls to 0 and the host stops,
       probing the zero window; consuming reopens it; nothing is lost */
    pair *p = pair_new(2, 0);
    uint8_t m[1000];
    memset(m, 'x', sizeof m);
    uint32_t sent = 0;
    for (int t = 0; t < 4000; t++) {
        while (sent < 40 && sxs_link_send(&p->host, 0x22, sent + 1, m, sizeof m, NULL, 0, 0) == 0) sent++;
        pair_step(p);
        CHECK(p->board.rx.buffered <= SXS_LINK_RX_WINDOW);
    }
    CHECK(p->board.rx.buffered > SXS_LINK_RX_WINDOW - 1018 && p->board.rx.stats.overruns == 0);
    CHECK(p->host.tx.stats.probes > 0);
    CHECK(!sxs_link_down(&p->host));
    uint32_t got = 0;
    for (int t = 0; t < 20000 && got < 40; t++) {
        sxs_link_frag f;
        while (sxs_link_peek(&p->board, &f)) {
            CHECK(f.req == got + 1 && f.len == sizeof m);
            got++;
            sxs_link_consume(&p->board);
        }
        while (sent < 40 && sxs_link_send(&p->host, 0x22, sent + 1, m, sizeof m, NULL, 0, 0) == 0) sent++;
        pair_step(p);
    }
    CHECK(got == 40);
    pair_free(p);
}

static void deframer_resync(void)
{
    sxs_deframer *d = malloc(sizeof *d);
    sxs_deframer_init(d, SXS_LINK_MAX_PAYLOAD);
    sxs_frame_hdr h = { 0x12, 0, 5, 1, 8192, 9, 3 };
    uint8_t w[SXS_FRAME_ENCODE_BUF];
    size_t wl;
    sxs_frame_encode(&h, (const uint8_t *)"abc", 3, NULL, 0, w, &wl);
    sxs_deframe_event e;
    /* 2000 bytes of noise without a delimiter: overlong, then the frame reads cleanly */
    int drops = 0, frames = 0;
    for (int i = 0; i < 2000; i++)
        if (sxs_deframer_push(d, (uint8_t)(1 + i % 250), &e)) drops++;
    CHECK(drops == 0);
    CHECK(sxs_deframer_push(d, 0, &e) && e.kind == SXS_DF_DROP && e.reason == SXS_FRAME_EOVERLONG && e.bytes == 2000);
    for (size_t i = 0; i < wl; i++)
        if (sxs_deframer_push(d, w[i], &e)) frames += e.kind == SXS_DF_FRAME && e.hdr.req == 9;
    CHECK(frames == 1);
    /* a byte turned into 0x00 splits a frame into two bad ones; the next is clean */
    uint8_t bad[SXS_FRAME_ENCODE_BUF];
    memcpy(bad, w, wl);
    bad[5] = 0;
    int ev = 0;
    frames = 0;
    for (size_t i = 0; i < wl; i++)
        if (sxs_deframer_push(d, bad[i], &e)) ev++, frames += e.kind == SXS_DF_FRAME;
    for (size_t i = 0; i < wl; i++)
        if (sxs_deframer_push(d, w[i], &e)) frames += e.kind == SXS_DF_FRAME;
    CHECK(ev == 2 && frames == 1);
    /* ENTER between frames */
    int enters = 0;
    for (int i = 0; i < 6; i++)
        if (sxs_deframer_push(d, sxs_enter_sequence[i], &e)) enters += e.kind == SXS_DF_ENTER;
    CHECK(enters == 1);
    free(d);
}

static void fragmentation(void)
{
    /* a message is cut at max_payload; each fragment but the last has MORE;
       the cost is what the retransmit buffer takes */
    pair *p = pair_new(1, 0);
    static uint8_t big[3000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)i;
    CHECK(sxs_link_message_cost(&p->board, 3000) == 3 * 18 + 3000);
    CHECK(sxs_link_message_cost(&p->board, 0) == 18);
    uint32_t room = sxs_link_tx_room(&p->board);
    CHECK(sxs_link_send(&p->board, SXS_MSG_RESULT, 7, big, 1000, big + 1000, 2000, 1) == 0);
    CHECK(room - sxs_link_tx_room(&p->board) == 3054);
    CHECK(sxs_sendwin_pending(&p->board.tx) == 3);
    /* all or nothing */
    static uint8_t huge[9000];
    CHECK(sxs_link_send(&p->board, SXS_MSG_RESULT, 8, huge, sizeof huge, NULL, 0, 0) == -1);
    CHECK(sxs_sendwin_pending(&p->board.tx) == 3);
    uint8_t got[3000];
    size_t o = 0;
    int frags = 0, last_poll = 0;
    for (int t = 0; t < 200 && o < 3000; t++) {
        pair_step(p);
        sxs_link_frag f;
        while (sxs_link_peek(&p->host, &f)) {
            frags++;
            sxs_link_frag_copy(&f, 0, got + o, f.len);
            o += f.len;
            CHECK(f.req == 7 && f.type == SXS_MSG_RESULT);
            if (!(f.flags & SXS_FLAG_MORE)) last_poll = 1;
            sxs_link_consume(&p->host);
        }
    }
    CHECK(frags == 3 && o == 3000 && memcmp(got, big, 3000) == 0 && last_poll);
    /* the POLL on the last fragment got an immediate ACK: everything acknowledged */
    for (int t = 0; t < 20; t++) pair_step(p);
    CHECK(sxs_link_all_acked(&p->board));
    pair_free(p);
}

static void host_session(void)
{
    /* the host role ignores everything until a HELLO with seq 0, and resets
       on a HELLO with a new session number */
    static uint8_t hrx[SXS_LINK_HOST_CAPACITY], htx[SXS_LINK_HOST_CAPACITY];
    sxs_link_config c;
    sxs_link_default_config(&c, SXS_LINK_HOST);
    c.rx_buf = hrx, c.tx_buf = htx;
    sxs_link *l = malloc(sizeof *l);
    sxs_link_init(l, &c);
    sxs_frame_hdr h = { SXS_MSG_RESULT, 0, 0, 0, 8192, 1, 1 };
    uint8_t w[SXS_FRAME_ENCODE_BUF];
    size_t wl;
    sxs_frame_encode(&h, (const uint8_t *)"x", 1, NULL, 0, w, &wl);
    sxs_link_receive(l, w, wl, 0);
    CHECK(l->rx_count == 0);
    uint8_t info[SXS_BOARD_INFO_MAX];
    sxs_board_info bi;
    memset(&bi, 0, sizeof bi);
    bi.session = 42;
    size_t n = sxs_board_info_encode(&bi, info);
    sxs_frame_hdr hh = { SXS_MSG_HELLO, 0, 0, 0, 8192, 0, (uint16_t)n };
    sxs_frame_encode(&hh, info, n, NULL, 0, w, &wl);
    sxs_link_receive(l, w, wl, 0);
    CHECK(!l->awaiting_hello && l->session == 42 && l->rx_count == 1);
    free(l);
}

SXS_TESTS(sxs_tests_link) = {
    { "link: two endpoints, 300 messages each way at 921600 baud with 16 ms latency", clean_line },
    { "link: flipped and dropped bytes: every message once, in order", noisy_line },
    { "link: sequence numbers wrap", seq_wrap },
    { "window: initial credit, credit limit, retransmit buffer, stale acks", initial_credit },
    { "window: timeout goes back with POLL, RTO backs off, link down after max_retries", timeout_goes_back },
    { "window: RTT samples (RFC 6298), Karn's rule", rtt_and_karn },
    { "window: NAK rules (receiver and sender)", nak_rules },
    { "window: ACK delay, quarter-capacity ACK, POLL, window updates, overrun", ack_timing },
    { "link: backpressure: credit falls to 0, zero-window probes, nothing lost", backpressure_and_probe },
    { "deframer: overlong noise, split frames, ENTER", deframer_resync },
    { "link: fragmentation, all-or-nothing send, POLL on the last fragment", fragmentation },
    { "link: host role waits for HELLO seq 0", host_session },
    SXS_TESTS_END
};
