/*
 * sxs_window.h - reliability and flow control of the link (docs/link.md
 * section 5): go-back-N with cumulative ACKs, NAKs for gaps, a
 * retransmission timer with back-off, byte credits.  The same rules as
 * host/link/window.ts.  Nothing here reads a clock: callers pass `now` in
 * milliseconds (uint32, wrapping; intervals must stay under 2^31 ms) and ask
 * for the next deadline, so the logic runs on a fake clock in tests.
 *
 * The send window keeps its frames (queued and unacknowledged) in a byte
 * ring provided by the caller: each frame takes exactly its credit cost,
 * 18 + payload bytes (a 16-byte record header + payload), so a ring of
 * `tx_buffer` bytes is the board's retransmit buffer of docs/link.md.
 */
#ifndef SXS_WINDOW_H
#define SXS_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "sxs_frame.h"

#ifndef SXS_LINK_RTO_INITIAL_MS
#define SXS_LINK_RTO_INITIAL_MS 300u
#endif
#ifndef SXS_LINK_RTO_MIN_MS
#define SXS_LINK_RTO_MIN_MS 100u
#endif
#ifndef SXS_LINK_RTO_MAX_MS
#define SXS_LINK_RTO_MAX_MS 4000u
#endif
#ifndef SXS_LINK_MAX_RETRIES
#define SXS_LINK_MAX_RETRIES 8u
#endif
#ifndef SXS_LINK_ACK_DELAY_MS
#define SXS_LINK_ACK_DELAY_MS 5u
#endif
#ifndef SXS_LINK_NAK_REPEAT_MS
#define SXS_LINK_NAK_REPEAT_MS 500u
#endif
/* The credit a sender assumes before it has heard from its peer. */
#define SXS_LINK_INITIAL_CREDIT SXS_FRAME_MAX_BODY
#define SXS_SEQ_HALF 0x8000u

static inline uint16_t sxs_seq_diff(uint16_t a, uint16_t b) { return (uint16_t)(a - b); }
/* a is at or after b on the wrapping millisecond clock */
static inline int sxs_time_reached(uint32_t now, uint32_t t) { return (int32_t)(now - t) >= 0; }

typedef struct sxs_sendwin_config {
    uint32_t bytes_per_ms;  /* line rate for pacing and slack; 0: unknown (no pacing, no slack) */
    uint32_t rto_initial, rto_min, rto_max, max_retries;
    uint32_t initial_credit;
    uint32_t max_ahead_bytes; /* pacing: at most this many bytes written and not yet on the wire */
} sxs_sendwin_config;

/* Defaults of docs/link.md. */
void sxs_sendwin_default_config(sxs_sendwin_config *c);

typedef struct sxs_send_stats {
    uint32_t sent, retransmitted, timeouts, naks, naks_ignored, probes;
} sxs_send_stats;

typedef struct sxs_sendwin {
    sxs_sendwin_config cfg;
    uint8_t *ring;
    uint32_t cap;                 /* ring bytes: the tx_buffer */
    uint32_t head, used, count;   /* oldest record, bytes and records in the ring */
    uint32_t send_idx, send_off;  /* next record to (re)transmit */
    uint16_t base, next_seq, sent_high;
    uint32_t credit;
    uint8_t deadline_set, probe_set, pace_set, poll_next, down, wire_set;
    uint32_t deadline, probe_at, pace_at, probe_backoff, retries;
    uint32_t wire_free_at, tx_counter;
    uint32_t slack_ms, max_ahead_ms;
    int have_srtt;
    float srtt, rttvar;
    uint32_t rto;
    sxs_send_stats stats;
} sxs_sendwin;

void sxs_sendwin_init(sxs_sendwin *w, uint8_t *ring, uint32_t cap, const sxs_sendwin_config *cfg);
/* Forget everything (a new session). */
void sxs_sendwin_reset(sxs_sendwin *w);
/* Free ring bytes: a frame of payload n fits when SXS_FRAME_COST(n) <= this. */
static inline uint32_t sxs_sendwin_room(const sxs_sendwin *w) { return w->cap - w->used; }
/* Queue a message frame (payload gathered from two pieces); its sequence
 * number, or -1 when the ring has no room. */
int32_t sxs_sendwin_enqueue(sxs_sendwin *w, uint8_t type, uint8_t flags, uint32_t req, const uint8_t *p1,
                            size_t n1, const uint8_t *p2, size_t n2);
/* Frames queued or unacknowledged. */
static inline uint32_t sxs_sendwin_pending(const sxs_sendwin *w) { return w->count; }
/* Frames sent and not yet acknowledged. */
static inline uint32_t sxs_sendwin_in_flight(const sxs_sendwin *w) { return sxs_seq_diff(w->sent_high, w->base); }
uint32_t sxs_sendwin_in_flight_bytes(const sxs_sendwin *w);
/* Bytes written outside the window (control frames), for the wire estimate. */
void sxs_sendwin_note_write(sxs_sendwin *w, uint32_t wire_bytes, uint32_t now);
/* ack/credit of any valid frame from the peer; frames newly acknowledged. */
uint32_t sxs_sendwin_on_header(sxs_sendwin *w, uint16_t ack, uint16_t credit, uint32_t now);
/* A NAK: ack/credit as a header, then go back unless it answers an older round. */
void sxs_sendwin_on_nak(sxs_sendwin *w, uint16_t ack, uint16_t credit, uint16_t trigger, uint32_t now);
/* Next time poll has timer work; 0 if none (then *at is untouched). */
int sxs_sendwin_next_deadline(const sxs_sendwin *w, uint32_t *at);

/* One message frame to transmit (payload in up to two ring pieces). */
typedef void (*sxs_sendwin_emit)(void *ctx, uint8_t type, uint8_t flags, uint16_t seq, uint32_t req,
                                 const uint8_t *p1, size_t n1, const uint8_t *p2, size_t n2, int retransmission);
/* Transmit what may go now (in order, through emit); returns 1 when a
 * zero-window probe (an ACK with POLL) is due as well. */
int sxs_sendwin_poll(sxs_sendwin *w, uint32_t now, sxs_sendwin_emit emit, void *ctx);

/* ---- receiver ---- */

typedef enum sxs_verdict {
    SXS_RX_ACCEPT,    /* in order and fits: deliver it */
    SXS_RX_DUPLICATE, /* already received: drop, ACK */
    SXS_RX_GAP,       /* a frame before it was lost: drop, NAK */
    SXS_RX_FULL,      /* would overrun the buffer: drop, ACK */
} sxs_verdict;

typedef struct sxs_recv_stats {
    uint32_t accepted, duplicates, gaps, overruns, acks, naks;
} sxs_recv_stats;

typedef struct sxs_recvwin {
    uint32_t capacity, nak_repeat, ack_delay;
    uint16_t expected;
    uint32_t buffered;
    uint8_t ack_due, ack_at_set, nak_due, nak_for_set, nak_at_set;
    uint32_t ack_at, unacked, nak_at, advertised;
    uint16_t nak_for, nak_trigger;
    sxs_recv_stats stats;
} sxs_recvwin;

void sxs_recvwin_init(sxs_recvwin *r, uint32_t capacity, uint32_t nak_repeat, uint32_t ack_delay);
void sxs_recvwin_reset(sxs_recvwin *r);
/* The credit field of the next frame we send. */
uint16_t sxs_recvwin_credit(const sxs_recvwin *r);
sxs_verdict sxs_recvwin_on_frame(sxs_recvwin *r, uint16_t seq, uint32_t cost, int poll, uint32_t now);
static inline void sxs_recvwin_on_poll(sxs_recvwin *r) { r->ack_due = 1; }
/* The application took `cost` bytes out of the buffer. */
void sxs_recvwin_consume(sxs_recvwin *r, uint32_t cost);
/* Any frame went out: it carried our ack and credit. */
void sxs_recvwin_note_sent(sxs_recvwin *r);
int sxs_recvwin_next_deadline(const sxs_recvwin *r, uint32_t *at);
/* The standalone control frame due now: 0 none, SXS_MSG_ACK or SXS_MSG_NAK
 * (then its seq field is r->nak_trigger). */
uint8_t sxs_recvwin_take_control(sxs_recvwin *r, uint32_t now);

#endif
