/* test_vectors.c - the shared link vectors of test/vectors/NAME.json, byte for
 * byte: CRC-32, COBS, every frame and message layout, the fragmented EXEC,
 * refused frames, the noisy deframer stream, image headers, boot records,
 * text mode's line editor; and slp-buffer.json through the image under wasm3 (sxs_encode). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "memflash.h"
#include "sxs_cobs.h"
#include "sxs_crc32.h"
#include "sxs_engine.h"
#include "sxs_frame.h"
#include "sxs_image.h"
#include "sxs_link.h"
#include "sxs_msg.h"
#include "sxs_slots.h"
#include "sxs_text.h"
#include "test.h"

static json *load(const char *name)
{
    char path[1024], err[200];
    snprintf(path, sizeof path, "%s/%s", sxs_test_vector_dir(), name);
    json *j = json_load(path, err, sizeof err);
    if (!j) fprintf(stderr, "    %s\n", err);
    CHECK(j != NULL);
    return j;
}

static int same(const uint8_t *a, size_t na, const uint8_t *b, size_t nb) { return na == nb && (na == 0 || memcmp(a, b, na) == 0); }

/* hex field of an object as bytes (never NULL; *n = 0 for a missing one) */
static uint8_t *hexf(const json *o, const char *key, size_t *n)
{
    const char *h = json_str(o, key, NULL);
    *n = 0;
    if (!h) {
        fprintf(stderr, "    missing %s\n", key);
        sxs_test_check_failures++;
        return calloc(1, 1);
    }
    uint8_t *b = hex_decode(h, n);
    if (!b) {
        fprintf(stderr, "    bad hex in %s\n", key);
        sxs_test_check_failures++;
        return calloc(1, 1);
    }
    return b;
}

static void report(const char *file, int checked, int before)
{
    printf("     %s: %d vectors%s\n", file, checked, sxs_test_check_failures == before ? ", all byte for byte" : "");
}

/* ---- crc32.json ---- */

static void crc32_vectors(void)
{
    int before = sxs_test_check_failures, n = 0;
    json *j = load("crc32.json");
    const json *v = json_get(j, "vectors");
    CHECK(v && v->len > 0);
    for (size_t i = 0; v && i < v->len; i++) {
        const json *t = json_at(v, i);
        size_t len;
        uint8_t *in = hexf(t, "input_hex", &len);
        uint32_t want = (uint32_t)strtoul(json_str(t, "crc32", "0"), NULL, 16);
        uint32_t got = sxs_crc32(in, len);
        if (got != want) fprintf(stderr, "    crc32 %s: %08x, want %08x\n", json_str(t, "name", "?"), got, want);
        CHECK(got == want);
        /* in two pieces, as the streaming update is used */
        uint32_t s = sxs_crc32_update(SXS_CRC32_INIT, in, len / 3);
        s = sxs_crc32_update(s, in + len / 3, len - len / 3);
        CHECK(sxs_crc32_final(s) == want);
        free(in);
        n++;
    }
    json_free(j);
    report("crc32.json", n, before);
}

/* ---- cobs.json ---- */

static void cobs_vectors(void)
{
    int before = sxs_test_check_failures, n = 0;
    json *j = load("cobs.json");
    const json *v = json_get(j, "vectors");
    CHECK(v && v->len > 0);
    for (size_t i = 0; v && i < v->len; i++) {
        const json *t = json_at(v, i);
        size_t dn, en;
        uint8_t *dec = hexf(t, "decoded_hex", &dn), *enc = hexf(t, "encoded_hex", &en);
        uint8_t *out = malloc(SXS_COBS_MAX_ENCODED(dn));
        size_t on = sxs_cobs_encode(dec, dn, out);
        if (!same(out, on, enc, en)) fprintf(stderr, "    cobs encode %s\n", json_str(t, "name", "?"));
        CHECK(same(out, on, enc, en));
        CHECK(on <= SXS_COBS_MAX_ENCODED(dn));
        /* decode, also in place */
        uint8_t *back = malloc(en ? en : 1);
        size_t bn, at;
        CHECK(sxs_cobs_decode(enc, en, back, &bn, &at) == SXS_COBS_OK && same(back, bn, dec, dn));
        CHECK(sxs_cobs_decode(enc, en, enc, &bn, &at) == SXS_COBS_OK && same(enc, bn, dec, dn));
        free(dec), free(enc), free(out), free(back);
        n++;
    }
    v = json_get(j, "also_accepted");
    CHECK(v && v->len > 0);
    for (size_t i = 0; v && i < v->len; i++) {
        const json *t = json_at(v, i);
        size_t dn, en, bn, at;
        uint8_t *dec = hexf(t, "decoded_hex", &dn), *enc = hexf(t, "encoded_hex", &en);
        CHECK(sxs_cobs_decode(enc, en, enc, &bn, &at) == SXS_COBS_OK && same(enc, bn, dec, dn));
        free(dec), free(enc);
        n++;
    }
    v = json_get(j, "invalid");
    CHECK(v && v->len > 0);
    for (size_t i = 0; v && i < v->len; i++) {
        const json *t = json_at(v, i);
        size_t en, bn, at;
        uint8_t *enc = hexf(t, "encoded_hex", &en);
        int r = sxs_cobs_decode(enc, en, enc, &bn, &at);
        const char *want = json_str(t, "reason", "?");
        if (r == SXS_COBS_OK || strcmp(sxs_cobs_reason(r), want) != 0)
            fprintf(stderr, "    cobs invalid %s: got %s want %s\n", json_str(t, "name", "?"), sxs_cobs_reason(r), want);
        CHECK(r != SXS_COBS_OK && strcmp(sxs_cobs_reason(r), want) == 0);
        free(enc);
        n++;
    }
    json_free(j);
    report("cobs.json", n, before);
}

/* ---- frames.json ---- */

static uint32_t fnum(const json *fields, const char *k) { return (uint32_t)(int64_t)json_num(fields, k, -1); }

static const uint8_t *fbytes(const json *fields, const char *k, size_t *n, uint8_t **keep)
{
    *keep = hexf(fields, k, n);
    return *keep;
}

/* The message layer: our encoders give the payload from the fields, our
 * decoders give the fields from the payload. */
static void check_message(const char *msg, const json *fields, const uint8_t *p, size_t n, uint8_t type)
{
    const char *name = sxs_msg_name(type);
    CHECK(name && strcmp(name, msg) == 0);
    uint8_t *keep = NULL;
    size_t bn = 0;
    if (!strcmp(msg, "HELLO") || !strcmp(msg, "INFO")) {
        sxs_board_info i, d;
        memset(&i, 0, sizeof i);
        i.proto = (uint8_t)fnum(fields, "proto");
        i.boot_reason = (uint8_t)fnum(fields, "boot_reason");
        i.active_slot = (uint8_t)fnum(fields, "active_slot");
        i.rollback_reason = (uint8_t)fnum(fields, "rollback_reason");
        i.abi_version = (uint16_t)fnum(fields, "abi_version");
        i.max_payload = (uint16_t)fnum(fields, "max_payload");
        i.rx_window = (uint16_t)fnum(fields, "rx_window");
        i.processors = (uint8_t)fnum(fields, "processors");
        i.state_flags = (uint8_t)fnum(fields, "state_flags");
        i.image_crc = fnum(fields, "image_crc");
        i.failed_crc = fnum(fields, "failed_crc");
        i.slot_size = fnum(fields, "slot_size");
        i.max_input = fnum(fields, "max_input");
        i.free_heap = fnum(fields, "free_heap");
        i.uptime_ms = fnum(fields, "uptime_ms");
        i.link_idle_ms = fnum(fields, "link_idle_ms");
        i.heap_used = fnum(fields, "heap_used");
        i.wasm_memory = fnum(fields, "wasm_memory");
        i.kv_entries = fnum(fields, "kv_entries");
        i.queued = fnum(fields, "queued");
        i.bad_frames = fnum(fields, "bad_frames");
        i.retransmits = fnum(fields, "retransmits");
        i.session = fnum(fields, "session");
        const uint8_t *fwb = fbytes(fields, "firmware", &bn, &keep);
        i.fw_len = (uint8_t)bn;
        CHECK(fnum(fields, "fw_len") == bn);
        memcpy(i.firmware, fwb, bn);
        uint8_t out[SXS_BOARD_INFO_MAX];
        size_t on = sxs_board_info_encode(&i, out);
        CHECK(same(out, on, p, n));
        CHECK(sxs_board_info_decode(p, n, &d) == 0);
        CHECK(d.session == i.session && d.image_crc == i.image_crc && d.failed_crc == i.failed_crc &&
              d.rx_window == i.rx_window && d.state_flags == i.state_flags && d.fw_len == i.fw_len &&
              memcmp(d.firmware, i.firmware, i.fw_len) == 0 && d.retransmits == i.retransmits);
        CHECK(sxs_board_info_decode(p, 68, &d) == -1);
    } else if (!strcmp(msg, "OK")) {
        uint8_t out[4];
        sxs_msg_ok(out, fnum(fields, "value"));
        CHECK(same(out, 4, p, n));
    } else if (!strcmp(msg, "ERROR")) {
        uint8_t h[2];
        sxs_msg_error_head(h, (uint16_t)fnum(fields, "code"));
        const uint8_t *m = fbytes(fields, "message", &bn, &keep);
        CHECK(n == 2 + bn && memcmp(p, h, 2) == 0 && memcmp(p + 2, m, bn) == 0);
    } else if (!strcmp(msg, "EVENT")) {
        uint8_t h[4];
        sxs_msg_event_head(h, (uint8_t)fnum(fields, "channel"), (uint16_t)fnum(fields, "topic"));
        const uint8_t *d = fbytes(fields, "data", &bn, &keep);
        CHECK(n == 4 + bn && memcmp(p, h, 4) == 0 && memcmp(p + 4, d, bn) == 0);
    } else if (!strcmp(msg, "RESULT") || !strcmp(msg, "LOG") || !strcmp(msg, "PONG") || !strcmp(msg, "PING")) {
        const char *k = !strcmp(msg, "RESULT") ? "value" : !strcmp(msg, "LOG") ? "text" : "data";
        const uint8_t *d = fbytes(fields, k, &bn, &keep);
        CHECK(same(d, bn, p, n));
    } else if (!strcmp(msg, "EXEC")) {
        uint32_t tl;
        uint8_t proc, h[5];
        CHECK(sxs_msg_exec_head(p, n, &tl, &proc) == 0);
        CHECK(tl == fnum(fields, "text_len") && proc == fnum(fields, "proc") && n == 5 + tl);
        sxs_msg_exec_write(h, tl, proc);
        const uint8_t *t = fbytes(fields, "text", &bn, &keep);
        CHECK(memcmp(h, p, 5) == 0 && same(p + 5, n - 5, t, bn));
    } else if (!strcmp(msg, "WATCH")) {
        uint8_t ch, on, w[8];
        int32_t topic;
        CHECK(sxs_msg_watch(p, n, &ch, &on, &topic) == 0);
        CHECK(ch == fnum(fields, "channel") && on == fnum(fields, "on") && topic == (int32_t)json_num(fields, "topic", 0));
        sxs_msg_watch_write(w, ch, on, topic);
        CHECK(same(w, 8, p, n));
        CHECK(sxs_msg_watch(p, 7, &ch, &on, &topic) == -1);
    } else if (!strcmp(msg, "RESET") || !strcmp(msg, "FLASH_COMMIT")) {
        uint8_t fl;
        CHECK(sxs_msg_flags(p, n, &fl) == 0 && fl == fnum(fields, "flags"));
        CHECK(sxs_msg_flags(p, 0, &fl) == -1);
    } else if (!strcmp(msg, "FLASH_BEGIN")) {
        uint32_t size, crc;
        uint8_t slot, w[12];
        CHECK(sxs_msg_flash_begin(p, n, &size, &crc, &slot) == 0);
        CHECK(size == fnum(fields, "size") && crc == fnum(fields, "crc") && slot == fnum(fields, "slot"));
        sxs_msg_flash_begin_write(w, size, crc, slot);
        CHECK(same(w, 12, p, n));
    } else if (!strcmp(msg, "FLASH_DATA")) {
        uint32_t off;
        CHECK(sxs_msg_flash_data(p, n, &off) == 0 && off == fnum(fields, "offset"));
        const uint8_t *d = fbytes(fields, "data", &bn, &keep);
        CHECK(same(p + 4, n - 4, d, bn));
    } else {
        CHECK(n == 0); /* ACK, NAK, INTERRUPT, GET_INFO, LEAVE */
    }
    free(keep);
}

/* A generic reading of `layout`: the fields in order make the payload. */
static void check_layout(const json *layout, const json *fields, const uint8_t *p, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; layout && i < layout->len; i++) {
        const char *lf = json_at(layout, i)->str;
        const char *colon = strchr(lf, ':');
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(colon - lf), lf);
        const char *kind = colon + 1;
        if (!strcmp(kind, "bytes")) {
            size_t bn;
            uint8_t *b = hexf(fields, name, &bn);
            CHECK(o + bn == n && memcmp(p + o, b, bn) == 0);
            o += bn;
            free(b);
            continue;
        }
        double v = json_num(fields, name, NAN);
        CHECK(!isnan(v));
        uint32_t u = (uint32_t)(int64_t)v;
        size_t w = !strcmp(kind, "u8") ? 1 : !strcmp(kind, "u16") ? 2 : 4;
        CHECK(o + w <= n);
        if (o + w > n) return;
        uint32_t got = w == 1 ? p[o] : w == 2 ? sxs_rd16(p + o) : sxs_rd32(p + o);
        CHECK(got == (w == 4 ? u : u & ((1u << (8 * w)) - 1)));
        o += w;
    }
    CHECK(o == n);
}

static void frame_vectors(void)
{
    int before = sxs_test_check_failures, n = 0;
    json *j = load("frames.json");
    const json *v = json_get(j, "frames");
    CHECK(v && v->len >= 20);
    for (size_t i = 0; v && i < v->len; i++) {
        const json *t = json_at(v, i), *hd = json_get(t, "header");
        const char *name = json_str(t, "name", "?");
        int fails = sxs_test_check_failures;
        size_t pn, bn, wn;
        uint8_t *pay = hexf(t, "payload_hex", &pn), *body = hexf(t, "body_hex", &bn), *wire = hexf(t, "wire_hex", &wn);
        sxs_frame_hdr h = { (uint8_t)json_num(hd, "type", 0), (uint8_t)json_num(hd, "flags", 0), (uint16_t)json_num(hd, "seq", 0),
                            (uint16_t)json_num(hd, "ack", 0),  (uint16_t)json_num(hd, "credit", 0), (uint32_t)json_num(hd, "req", 0),
                            (uint16_t)json_num(hd, "len", 0) };
        CHECK(h.len == pn);
        /* encode: body, CRC, wire */
        uint8_t b[SXS_FRAME_MAX_BODY], w[SXS_FRAME_ENCODE_BUF];
        size_t n1 = pn / 3; /* the payload in two pieces, as from a ring */
        size_t got = sxs_frame_body(&h, pay, n1, pay + n1, pn - n1, b);
        CHECK(same(b, got, body, bn));
        uint32_t crc = (uint32_t)strtoul(json_str(t, "crc32", "0"), NULL, 16);
        CHECK(got >= 4 && sxs_rd32(b + got - 4) == crc);
        size_t wl;
        uint8_t *wp = sxs_frame_encode(&h, pay, pn, NULL, 0, w, &wl);
        CHECK(same(wp, wl, wire, wn));
        /* decode through a deframer */
        sxs_deframer *d = malloc(sizeof *d);
        sxs_deframer_init(d, SXS_LINK_MAX_PAYLOAD);
        int events = 0;
        for (size_t k = 0; k < wn; k++) {
            sxs_deframe_event e;
            if (!sxs_deframer_push(d, wire[k], &e)) continue;
            events++;
            CHECK(e.kind == SXS_DF_FRAME);
            if (e.kind != SXS_DF_FRAME) continue;
            CHECK(e.hdr.type == h.type && e.hdr.flags == h.flags && e.hdr.seq == h.seq && e.hdr.ack == h.ack &&
                  e.hdr.credit == h.credit && e.hdr.req == h.req && e.hdr.len == h.len);
            CHECK(same(e.payload, e.hdr.len, pay, pn));
        }
        CHECK(events == 1);
        free(d);
        /* the message layout */
        check_layout(json_get(t, "layout"), json_get(t, "fields"), pay, pn);
        check_message(json_str(t, "message", "?"), json_get(t, "fields"), pay, pn, h.type);
        if (sxs_test_check_failures != fails) fprintf(stderr, "    frame vector %s\n", name);
        free(pay), free(body), free(wire);
        n++;
    }

    /* the fragmented EXEC: our fragmentation gives these frames, our receive
       side puts them back together */
    const json *fr = json_get(j, "fragmented"), *fl = json_get(fr, "frames");
    CHECK(fl && fl->len == 3);
    if (fl && fl->len == 3) {
        size_t tn, b0n;
        uint8_t *text = hexf(fr, "text_hex", &tn);
        uint8_t *b0 = hexf(json_at(fl, 0), "body_hex", &b0n);
        sxs_frame_hdr h0;
        const uint8_t *p0;
        CHECK(sxs_frame_check(b0, b0n, SXS_LINK_MAX_PAYLOAD, &h0, &p0) == SXS_FRAME_OK);
        uint8_t head[5];
        sxs_msg_exec_write(head, (uint32_t)tn, p0[4]);
        CHECK(memcmp(head, p0, 5) == 0);
        static uint8_t rxb[SXS_LINK_HOST_CAPACITY], txb[SXS_LINK_HOST_CAPACITY];
        sxs_link_config c;
        sxs_link_default_config(&c, SXS_LINK_HOST);
        c.rx_buf = rxb, c.tx_buf = txb;
        sxs_link *l = malloc(sizeof *l);
        sxs_link_init(l, &c);
        l->tx.base = l->tx.next_seq = l->tx.sent_high = (uint16_t)json_num(json_at(fl, 0), "seq", 0);
        l->tx.credit = 0xFFFF;
        CHECK(sxs_link_send(l, SXS_MSG_EXEC, h0.req, head, 5, text, tn, 0) == 0);
        CHECK(sxs_sendwin_pending(&l->tx) == 3);
        /* take the frames out of the window: bodies with the vector's ack/credit */
        struct cap3 *cp = calloc(1, sizeof *cp);
        sxs_sendwin_poll(&l->tx, 0, sxs_test_capture_emit, cp);
        CHECK(cp->n == 3);
        for (int k = 0; k < cp->n && k < 3; k++) {
            const json *fk = json_at(fl, (size_t)k);
            size_t bn2, wn2;
            uint8_t *bk = hexf(fk, "body_hex", &bn2), *wk = hexf(fk, "wire_hex", &wn2);
            sxs_frame_hdr hk = cp->h[k];
            hk.ack = h0.ack;
            hk.credit = h0.credit;
            CHECK(hk.seq == (uint16_t)json_num(fk, "seq", -1) && hk.flags == (uint8_t)json_num(fk, "flags", -1) &&
                  hk.len == (uint16_t)json_num(fk, "len", -1));
            uint8_t bb[SXS_FRAME_MAX_BODY], ww[SXS_FRAME_ENCODE_BUF];
            size_t got = sxs_frame_body(&hk, cp->p[k], hk.len, NULL, 0, bb), wl;
            CHECK(same(bb, got, bk, bn2));
            sxs_frame_encode(&hk, cp->p[k], hk.len, NULL, 0, ww, &wl);
            CHECK(same(ww, wl, wk, wn2));
            free(bk), free(wk);
        }
        free(cp);
        free(l);
        /* reassembly on a board's receive side */
        static uint8_t brx[SXS_LINK_RX_WINDOW], btx[SXS_LINK_TX_BUFFER];
        sxs_link_default_config(&c, SXS_LINK_BOARD);
        c.rx_buf = brx, c.tx_buf = btx;
        l = malloc(sizeof *l);
        sxs_link_init(l, &c);
        l->rx.expected = (uint16_t)json_num(json_at(fl, 0), "seq", 0);
        for (int k = 0; k < 3; k++) {
            size_t wn2;
            uint8_t *wk = hexf(json_at(fl, (size_t)k), "wire_hex", &wn2);
            sxs_link_receive(l, wk, wn2, 0);
            free(wk);
        }
        uint8_t *all = malloc(5 + tn);
        size_t o = 0;
        sxs_link_frag f;
        int frags = 0;
        while (sxs_link_peek(l, &f)) {
            CHECK(f.type == SXS_MSG_EXEC && f.req == h0.req && o + f.len <= 5 + tn);
            if (o + f.len > 5 + tn) break;
            sxs_link_frag_copy(&f, 0, all + o, f.len);
            o += f.len;
            frags++;
            CHECK(((f.flags & SXS_FLAG_MORE) != 0) == (frags < 3));
            sxs_link_consume(l);
        }
        CHECK(frags == 3 && o == 5 + tn && memcmp(all, head, 5) == 0 && memcmp(all + 5, text, tn) == 0);
        free(all), free(l), free(text), free(b0);
        n++;
    }

    v = json_get(j, "invalid");
    CHECK(v && v->len >= 5);
    for (size_t i = 0; v && i < v->len; i++) {
        const json *t = json_at(v, i);
        size_t en;
        uint8_t *enc = hexf(t, "encoded_hex", &en);
        sxs_frame_hdr h;
        const uint8_t *p;
        sxs_frame_err e = sxs_frame_decode(enc, en, SXS_LINK_MAX_PAYLOAD, &h, &p);
        const char *want = json_str(t, "reason", "?");
        if (strcmp(sxs_frame_reason(e), want) != 0)
            fprintf(stderr, "    invalid frame %s: got %s want %s\n", json_str(t, "name", "?"), sxs_frame_reason(e), want);
        CHECK(strcmp(sxs_frame_reason(e), want) == 0);
        free(enc);
        n++;
    }
    json_free(j);
    report("frames.json", n, before);
}

/* ---- deframer.json ---- */

static void deframer_vectors(void)
{
    int before = sxs_test_check_failures, n = 0;
    json *j = load("deframer.json");
    size_t sn;
    uint8_t *stream = hexf(j, "stream_hex", &sn);
    const json *evs = json_get(j, "events");
    CHECK(evs && evs->len > 0);
    /* the same events whatever the chunks the line delivers */
    const size_t chunks[] = { 1, 7, 64, 1000000 };
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        sxs_deframer *d = malloc(sizeof *d);
        sxs_deframer_init(d, SXS_LINK_MAX_PAYLOAD);
        size_t k = 0;
        for (size_t off = 0; off < sn; off += chunks[c]) {
            size_t end = off + chunks[c] < sn ? off + chunks[c] : sn;
            for (size_t i = off; i < end; i++) {
                sxs_deframe_event e;
                if (!sxs_deframer_push(d, stream[i], &e)) continue;
                const json *w = json_at(evs, k++);
                CHECK(w != NULL);
                if (!w) continue;
                const char *kind = json_str(w, "kind", "?");
                if (!strcmp(kind, "frame")) {
                    CHECK(e.kind == SXS_DF_FRAME);
                    if (e.kind != SXS_DF_FRAME) continue;
                    size_t pn;
                    uint8_t *p = hexf(w, "payload_hex", &pn);
                    CHECK(e.hdr.type == json_num(w, "type", -1) && e.hdr.seq == json_num(w, "seq", -1) &&
                          e.hdr.req == json_num(w, "req", -1) && same(e.payload, e.hdr.len, p, pn));
                    free(p);
                } else if (!strcmp(kind, "enter")) {
                    CHECK(e.kind == SXS_DF_ENTER);
                } else {
                    CHECK(e.kind == SXS_DF_DROP && strcmp(sxs_frame_reason(e.reason), json_str(w, "reason", "?")) == 0);
                }
            }
        }
        CHECK(k == evs->len);
        CHECK(d->empty == (uint32_t)json_num(j, "empty", -1));
        free(d);
    }
    n = (int)evs->len;
    free(stream);
    json_free(j);
    report("deframer.json", n, before);
}

/* ---- boot-record.json ---- */

static int same_record(const sxs_boot_record *r, const json *f)
{
    return f && r->counter == (uint32_t)json_num(f, "counter", -1) && r->active == json_num(f, "active", -1) &&
           r->state == json_num(f, "state", -1) && r->attempts == json_num(f, "attempts", -1) &&
           r->previous == json_num(f, "previous", -1) && r->active_crc == (uint32_t)json_num(f, "active_crc", -1) &&
           r->failed_crc == (uint32_t)json_num(f, "failed_crc", -1) &&
           r->rollback_reason == json_num(f, "rollback_reason", -1);
}

static void boot_record_vectors(void)
{
    int before = sxs_test_check_failures, n = 0;
    json *j = load("boot-record.json");
    const json *recs = json_get(j, "records"), *decs = json_get(j, "decodes"), *refused = json_get(j, "refused"),
               *areas = json_get(j, "areas");
    CHECK(recs && recs->len && decs && refused && refused->len && areas && areas->len);
    for (size_t i = 0; recs && i < recs->len; i++, n++) {
        const json *t = json_at(recs, i), *f = json_get(t, "fields");
        size_t hn;
        uint8_t *want = hexf(t, "hex", &hn);
        sxs_boot_record r = { .counter = (uint32_t)json_num(f, "counter", 0),
                              .active = (uint8_t)json_num(f, "active", 0),
                              .state = (uint8_t)json_num(f, "state", 0),
                              .attempts = (uint8_t)json_num(f, "attempts", 0),
                              .previous = (uint8_t)json_num(f, "previous", 0),
                              .active_crc = (uint32_t)json_num(f, "active_crc", 0),
                              .failed_crc = (uint32_t)json_num(f, "failed_crc", 0),
                              .rollback_reason = (uint8_t)json_num(f, "rollback_reason", 0) };
        uint8_t out[SXS_BOOT_RECORD_LEN];
        sxs_boot_record_encode(&r, out);
        CHECK(same(out, sizeof out, want, hn));
        sxs_boot_record d;
        CHECK(hn == SXS_BOOT_RECORD_LEN && sxs_boot_record_decode(want, &d) == 0 && same_record(&d, f));
        free(want);
    }
    for (size_t i = 0; decs && i < decs->len; i++, n++) {
        const json *t = json_at(decs, i);
        size_t hn;
        uint8_t *b = hexf(t, "hex", &hn);
        sxs_boot_record d;
        CHECK(hn == SXS_BOOT_RECORD_LEN && sxs_boot_record_decode(b, &d) == 0 && same_record(&d, json_get(t, "fields")));
        free(b);
    }
    for (size_t i = 0; refused && i < refused->len; i++, n++) {
        size_t hn;
        uint8_t *b = hexf(json_at(refused, i), "hex", &hn);
        sxs_boot_record d;
        CHECK(hn == SXS_BOOT_RECORD_LEN && sxs_boot_record_decode(b, &d) != 0);
        free(b);
    }
    for (size_t i = 0; areas && i < areas->len; i++, n++) {
        const json *t = json_at(areas, i);
        size_t n0, n1;
        uint8_t *s0 = hexf(t, "sector0_hex", &n0), *s1 = hexf(t, "sector1_hex", &n1);
        memflash m;
        memflash_init(&m, 4096, 4096);
        CHECK(m.ops.write(m.ops.ctx, SXS_PART_BOOT, 0, s0, (uint32_t)n0) == 0);
        CHECK(m.ops.write(m.ops.ctx, SXS_PART_BOOT, SXS_FLASH_SECTOR, s1, (uint32_t)n1) == 0);
        sxs_boot_record r;
        const json *w = json_get(t, "winner");
        if (!w || w->kind == JSON_NULL) {
            CHECK(sxs_boot_record_load(&m.ops, &r) == -1);
        } else {
            /* the winner's sector is not in the API: its record is told apart by its counter */
            CHECK(sxs_boot_record_load(&m.ops, &r) == 0 && r.counter == (uint32_t)json_num(t, "counter", -1));
            size_t wn;
            uint8_t *wb = hexf(t, w->num == 0 ? "sector0_hex" : "sector1_hex", &wn);
            uint8_t got[SXS_BOOT_RECORD_LEN]; /* the record loaded is the winner's, byte for byte */
            sxs_boot_record_encode(&r, got);
            CHECK(wn == SXS_BOOT_RECORD_LEN && same(got, sizeof got, wb, wn));
            free(wb);
        }
        memflash_free(&m);
        free(s0), free(s1);
    }
    json_free(j);
    report("boot-record.json", n, before);
}

/* ---- text-editor.json ---- */

/* what the editor echoes, gathered as the vectors write it: consecutive echoes joined */
typedef struct {
    uint8_t b[256];
    size_t n;
} echo_buf;

static void collect_echo(void *ctx, const uint8_t *b, size_t n)
{
    echo_buf *e = ctx;
    for (size_t i = 0; i < n && e->n < sizeof e->b; i++) e->b[e->n++] = b[i];
}

/* the next item of `out` must be the echo gathered so far, if there is any */
static void check_echo(const json *out, size_t *k, echo_buf *e)
{
    if (!e->n) return;
    const json *w = json_at(out, (*k)++);
    size_t wn = 0;
    uint8_t *want = w && json_get(w, "echo_hex") ? hexf(w, "echo_hex", &wn) : NULL;
    CHECK(want && same(e->b, e->n, want, wn));
    free(want);
    e->n = 0;
}

static void text_editor_vectors(void)
{
    int before = sxs_test_check_failures, n = 0;
    json *j = load("text-editor.json");
    const json *cases = json_get(j, "cases");
    CHECK(cases && cases->len > 0);
    for (size_t i = 0; cases && i < cases->len; i++) {
        const json *t = json_at(cases, i);
        const json *out = json_get(t, "out");
        int f0 = sxs_test_check_failures;
        size_t in_n, k = 0;
        uint8_t *in = hexf(t, "in_hex", &in_n);
        uint8_t buf[256];
        echo_buf e = { .n = 0 };
        sxs_text ed;
        sxs_text_init(&ed, buf, sizeof buf, collect_echo, &e);
        for (size_t b = 0; b < in_n; b++) {
            int r = sxs_text_feed(&ed, in[b]);
            if (r == SXS_TEXT_NONE) continue;
            check_echo(out, &k, &e);
            const json *w = json_at(out, k++);
            const char *ev = w ? json_str(w, "event", "?") : "(none)";
            if (r == SXS_TEXT_LINE) {
                const uint8_t *line;
                uint32_t ln;
                CHECK(!strcmp(ev, "line") && !sxs_text_form(&ed, &line, &ln)); /* one line: nothing continued */
                size_t wn = 0;
                uint8_t *want = w && json_get(w, "line_hex") ? hexf(w, "line_hex", &wn) : NULL;
                CHECK(want && same(line, ln, want, wn));
                free(want);
                sxs_text_drop_form(&ed);
            } else {
                CHECK(!strcmp(ev, r == SXS_TEXT_CTRL_C ? "ctrl-c" : r == SXS_TEXT_ENTER ? "enter" : "?"));
            }
        }
        check_echo(out, &k, &e);
        CHECK(out && k == out->len);
        if (sxs_test_check_failures != f0) fprintf(stderr, "    text-editor case: %s\n", json_str(t, "name", "?"));
        free(in);
        n++;
    }
    json_free(j);
    report("text-editor.json", n, before);
}

/* ---- image-headers.json ---- */

static void image_vectors(void)
{
    int before = sxs_test_check_failures, n = 0;
    json *j = load("image-headers.json");
    uint32_t abi = (uint32_t)json_num(j, "supported_abi", 0);
    const json *v = json_get(j, "images");
    CHECK(abi > 0 && v && v->len > 0);
    for (size_t i = 0; v && i < v->len; i++) {
        const json *t = json_at(v, i);
        size_t fn;
        uint8_t *file = hexf(t, "file_hex", &fn);
        sxs_image_header h;
        sxs_image_err e = sxs_image_verify(file, (uint32_t)fn, abi, &h);
        const json *valid = json_get(t, "valid");
        if (valid && valid->num) {
            CHECK(e == SXS_IMG_OK);
            const json *hd = json_get(t, "header");
            CHECK(h.abi_version == json_num(hd, "abi_version", -1) && h.wasm_len == json_num(hd, "wasm_len", -1) &&
                  h.wasm_crc == (uint32_t)strtoul(json_str(hd, "wasm_crc", "0"), NULL, 16) &&
                  h.build_time == (uint32_t)json_num(hd, "build_time", -1));
            /* we write the same header */
            uint8_t out[SXS_IMAGE_HEADER_LEN];
            sxs_image_build_header(abi, file + 32, h.wasm_len, h.build_time, out);
            CHECK(memcmp(out, file, 32) == 0);
        } else {
            const char *want = json_str(t, "reason", "?");
            if (strcmp(sxs_image_reason(e), want) != 0)
                fprintf(stderr, "    image %s: got %s want %s\n", json_str(t, "name", "?"), sxs_image_reason(e), want);
            CHECK(strcmp(sxs_image_reason(e), want) == 0);
            CHECK(sxs_image_error_code(e) == (uint16_t)json_num(t, "error", -1));
        }
        free(file);
        n++;
    }
    json_free(j);
    report("image-headers.json", n, before);
}

/* ---- slp-buffer.json: the image under wasm3 builds the same buffers as under V8 ---- */

static void slp_vectors(void)
{
    int before = sxs_test_check_failures, n = 0;
    uint32_t len;
    uint8_t *img = sxs_test_image(&len);
    if (!img) {
        printf("     slp-buffer.json: skipped (no build/sxs.wasm)\n");
        return;
    }
    json *j = load("slp-buffer.json");
    sxs_engine *e = NULL;
    char err[300];
    sxs_engine_config cfg = { 64 * 1024 };
    sxs_host_ops ops = { 0 };
    const char *m = sxs_engine_open(&e, img, len, &cfg, &ops, NULL, err, sizeof err);
    CHECK(m == NULL);
    int32_t r;
    if (!m) CHECK(sxs_engine_init(e, &r) == NULL && r == 0);
    const json *v = json_get(j, "vectors");
    for (size_t i = 0; e && v && i < v->len; i++) {
        const json *t = json_at(v, i);
        /* `text` is latin1: one character per byte */
        const char *s = json_str(t, "text", "");
        size_t sl = strlen(s);
        uint8_t *text = malloc(sl + 1);
        size_t tn = 0;
        for (size_t k = 0; k < sl;) {
            unsigned char c = (unsigned char)s[k];
            if (c < 0x80) text[tn++] = c, k++;
            else text[tn++] = (uint8_t)((c & 0x1F) << 6 | ((unsigned char)s[k + 1] & 0x3F)), k += 2;
        }
        size_t hn;
        uint8_t *want = hexf(t, "hex", &hn), *got = NULL;
        int32_t st;
        uint32_t gn;
        m = sxs_engine_call_block(e, "sxs_encode", text, (uint32_t)tn, &st, &got, &gn);
        CHECK(m == NULL && st == 1 && same(got, gn, want, hn));
        if (m || st != 1 || !same(got, gn, want, hn)) fprintf(stderr, "    slp-buffer vector %zu (%s)\n", i, m ? m : "differs");
        free(got), free(want), free(text);
        n++;
    }
    sxs_engine_close(e);
    free(img);
    json_free(j);
    report("slp-buffer.json", n, before);
}

SXS_TESTS(sxs_tests_vectors) = {
    { "vectors: crc32.json", crc32_vectors },
    { "vectors: cobs.json", cobs_vectors },
    { "vectors: frames.json (frames, message layouts, fragmented EXEC, refused frames)", frame_vectors },
    { "vectors: deframer.json (noisy stream, any chunking)", deframer_vectors },
    { "vectors: image-headers.json", image_vectors },
    { "vectors: boot-record.json (records, refused ones, which sector wins)", boot_record_vectors },
    { "vectors: text-editor.json (text mode's line editor)", text_editor_vectors },
    { "vectors: slp-buffer.json (sxs_encode under wasm3)", slp_vectors },
    SXS_TESTS_END
};
