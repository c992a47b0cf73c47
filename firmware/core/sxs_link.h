/*
 * sxs_link.h - one side of a framed session (docs/link.md sections 3-7):
 * the deframer, both windows, the receive buffer and the control frames
 * wired together, like host/link/endpoint.ts.  Poll-driven and
 * clock-injected: feed received bytes with sxs_link_receive, queue frames
 * with sxs_link_enqueue/sxs_link_send, take delivered frames with
 * sxs_link_peek/sxs_link_consume, and call sxs_link_flush (which writes
 * through the configured write function) after each of those and again at
 * sxs_link_next_deadline.
 *
 * Memory: the caller provides the receive buffer (rx_window bytes: accepted
 * frames wait there, each taking exactly its credit cost) and the
 * retransmit buffer (tx_buffer bytes); the link itself holds one decode
 * buffer (the deframer's, 1047 bytes) and one encode buffer (1048 bytes).
 * Message reassembly belongs to the caller (the board copies EXEC fragments
 * straight into the image, docs/link.md section 6).
 */
#ifndef SXS_LINK_H
#define SXS_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "sxs_frame.h"
#include "sxs_window.h"

#ifndef SXS_LINK_RX_WINDOW
#define SXS_LINK_RX_WINDOW 8192u /* board receive buffer: rx_window in HELLO */
#endif
#ifndef SXS_LINK_TX_BUFFER
#define SXS_LINK_TX_BUFFER 8192u /* board retransmit buffer */
#endif
#define SXS_LINK_HOST_CAPACITY 65535u
#define SXS_LINK_CONTROL_QUEUE 4u

enum { SXS_LINK_BOARD = 0, SXS_LINK_HOST = 1 };

/* What sxs_link_receive reports besides accepted frames. */
typedef enum sxs_link_event {
    SXS_LE_ENTER,   /* the ENTER sequence (board: start a session) */
    SXS_LE_SESSION, /* host: a HELLO with a new session number; state was reset; req = session */
    SXS_LE_CONTROL, /* an INTERRUPT (type, req): acts at once, out of order */
    SXS_LE_DROP,    /* a dropped frame (type = sxs_frame_err) */
    SXS_LE_VALID,   /* any frame passed the checks (board: the link is alive) */
} sxs_link_event;

typedef struct sxs_link_config {
    int role;
    uint8_t *rx_buf;
    uint32_t rx_cap; /* 1042..65535 */
    uint8_t *tx_buf;
    uint32_t tx_cap;
    uint32_t max_payload; /* 256..1024 */
    uint32_t nak_repeat, ack_delay;
    sxs_sendwin_config window;
    /* write bytes to the line; returns nothing (a lost write is a lost frame) */
    void (*write)(void *ctx, const uint8_t *buf, size_t n);
    void (*event)(void *ctx, sxs_link_event ev, uint8_t type, uint32_t req);
    void *ctx;
} sxs_link_config;

/* Defaults of docs/link.md for a role (buffers and callbacks left NULL). */
void sxs_link_default_config(sxs_link_config *c, int role);

typedef struct sxs_link_stats {
    uint32_t frames_in, frames_out, bytes_out;
} sxs_link_stats;

typedef struct sxs_link {
    sxs_link_config cfg;
    sxs_deframer df;
    sxs_sendwin tx;
    sxs_recvwin rx;
    uint32_t rx_head, rx_used, rx_count; /* the receive buffer: a ring of accepted frames */
    struct { uint8_t type, flags; uint32_t req; } ctl[SXS_LINK_CONTROL_QUEUE];
    uint32_t nctl;
    int awaiting_hello; /* host: frames are ignored until a HELLO opens a session */
    int have_session;
    uint32_t session;
    uint32_t now; /* the time of the current receive/flush */
    sxs_link_stats stats;
    uint8_t wire[SXS_FRAME_ENCODE_BUF];
} sxs_link;

void sxs_link_init(sxs_link *l, const sxs_link_config *cfg);
/* A new session: forget every queued, unacknowledged and received frame. */
void sxs_link_reset(sxs_link *l);
/* Feed received bytes. */
void sxs_link_receive(sxs_link *l, const uint8_t *bytes, size_t n, uint32_t now);
/* Write what is due now. */
void sxs_link_flush(sxs_link *l, uint32_t now);
/* When flush has timer work next; 0 if none. */
int sxs_link_next_deadline(const sxs_link *l, uint32_t *at);

/* Queue one message frame (flags: MORE, POLL); 0, or -1 when the retransmit
 * buffer has no room for it. */
int sxs_link_enqueue(sxs_link *l, uint8_t type, uint8_t flags, uint32_t req, const uint8_t *p1, size_t n1,
                     const uint8_t *p2, size_t n2);
/* Queue the fragment of a message (p1 ++ p2) that starts at byte off: at most
 * max_payload bytes, MORE unless it is the last, POLL on the last if poll.  Its
 * length, or -1 when the retransmit buffer has no room for it. */
long sxs_link_enqueue_fragment(sxs_link *l, uint8_t type, uint32_t req, const uint8_t *p1, size_t n1,
                               const uint8_t *p2, size_t n2, size_t off, int poll);
/* The retransmit buffer the fragment at off needs. */
uint32_t sxs_link_fragment_cost(const sxs_link *l, size_t total, size_t off);
/* Queue a whole message, fragmented at max_payload (POLL on the last
 * fragment if poll); 0, or -1 (nothing queued) when it does not fit. */
int sxs_link_send(sxs_link *l, uint8_t type, uint32_t req, const uint8_t *p1, size_t n1, const uint8_t *p2,
                  size_t n2, int poll);
/* Bytes of retransmit buffer the message needs (its fragments' costs). */
uint32_t sxs_link_message_cost(const sxs_link *l, size_t payload_len);
static inline uint32_t sxs_link_tx_room(const sxs_link *l) { return sxs_sendwin_room(&l->tx); }
/* Queue a control frame (host: INTERRUPT); 0 or -1 when the queue is full. */
int sxs_link_control(sxs_link *l, uint8_t type, uint32_t req, uint8_t flags);

/* The oldest accepted frame not yet consumed. */
typedef struct sxs_link_frag {
    uint8_t type, flags, mark;
    uint32_t req;
    uint16_t len;
    const uint8_t *p1, *p2; /* the payload: n1 bytes at p1, then n2 at p2 */
    size_t n1, n2;
} sxs_link_frag;

int sxs_link_peek(const sxs_link *l, sxs_link_frag *f);
void sxs_link_consume(sxs_link *l);
/* Copy n payload bytes from offset off of a frag into dst. */
void sxs_link_frag_copy(const sxs_link_frag *f, size_t off, void *dst, size_t n);
/* Set `mark` on every waiting frame of `type` whose req is `req` (any req
 * when req is 0); returns the number of distinct messages marked (a
 * fragmented message counts once; when first_continues, the oldest waiting
 * frame continues a message the caller has already begun and is not
 * counted). */
uint32_t sxs_link_mark(sxs_link *l, uint8_t type, uint32_t req, uint8_t mark, int first_continues);

/* Every message frame sent so far has been acknowledged (and none waits). */
static inline int sxs_link_all_acked(const sxs_link *l) { return sxs_sendwin_pending(&l->tx) == 0; }
static inline int sxs_link_down(const sxs_link *l) { return l->tx.down; }
static inline uint32_t sxs_link_bad_frames(const sxs_link *l) { return sxs_deframer_dropped(&l->df); }

#endif
