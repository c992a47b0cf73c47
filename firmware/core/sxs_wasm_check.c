/*
 * sxs_wasm_check.c - see sxs_wasm_check.h.  Decodes the type, import, data,
 * element and code sections of a Wasm binary (opcode numbering and immediate
 * encodings from the WebAssembly core specification).
 */
#include "sxs_wasm_check.h"

#include <stdio.h>
#include <string.h>

typedef struct rd {
    const uint8_t *p, *end;
    int bad;
} rd;

static uint8_t rd_u8(rd *r)
{
    if (r->p >= r->end) { r->bad = 1; return 0; }
    return *r->p++;
}

static uint64_t rd_leb(rd *r, int maxbits)
{
    uint64_t v = 0;
    int shift = 0;
    for (;;) {
        if (r->p >= r->end || shift >= maxbits + 7) { r->bad = 1; return 0; }
        uint8_t b = *r->p++;
        if (shift < 64) v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) break;
    }
    return v;
}

static uint32_t rd_u32(rd *r) { return (uint32_t)rd_leb(r, 32); }

static void rd_skip(rd *r, uint32_t n)
{
    if ((uint32_t)(r->end - r->p) < n) { r->bad = 1; r->p = r->end; return; }
    r->p += n;
}

typedef struct ck {
    const uint8_t *base;
    const sxs_wasm_features *feat;
    sxs_wasm_check_result *res;
    uint32_t func_imports;
} ck;

static void flag(ck *c, const char *what, uint32_t func, const uint8_t *at)
{
    if (c->res->unsupported++ == 0) {
        if (func == UINT32_MAX)
            snprintf(c->res->first, sizeof c->res->first, "unsupported: %s (at byte 0x%x)",
                     what, (unsigned)(at - c->base));
        else
            snprintf(c->res->first, sizeof c->res->first,
                     "unsupported: %s in function %u (at byte 0x%x)", what, (unsigned)func,
                     (unsigned)(at - c->base));
    }
}

static int is_valtype(uint8_t b) { return b == 0x7f || b == 0x7e || b == 0x7d || b == 0x7c; }

static void limits(rd *r)
{
    uint8_t f = rd_u8(r);
    rd_u32(r);
    if (f & 1) rd_u32(r);
}

static void sec_types(ck *c, rd *r)
{
    uint32_t n = rd_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        const uint8_t *at = r->p;
        if (rd_u8(r) != 0x60) { r->bad = 1; return; }
        uint32_t np = rd_u32(r);
        for (uint32_t k = 0; k < np && !r->bad; k++) {
            uint8_t t = rd_u8(r);
            if (!is_valtype(t)) flag(c, t == 0x7b ? "v128 value type" : "reference value type", UINT32_MAX, at);
        }
        uint32_t nr = rd_u32(r);
        if (nr > 1 && !c->feat->multi_value) flag(c, "multi-value function type", UINT32_MAX, at);
        for (uint32_t k = 0; k < nr && !r->bad; k++) {
            uint8_t t = rd_u8(r);
            if (!is_valtype(t)) flag(c, t == 0x7b ? "v128 value type" : "reference value type", UINT32_MAX, at);
        }
    }
}

static void sec_imports(ck *c, rd *r)
{
    uint32_t n = rd_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        rd_skip(r, rd_u32(r));
        rd_skip(r, rd_u32(r));
        uint8_t kind = rd_u8(r);
        switch (kind) {
        case 0: rd_u32(r); c->func_imports++; break;
        case 1: rd_u8(r); limits(r); break;
        case 2: limits(r); break;
        case 3: rd_u8(r); rd_u8(r); break;
        default: r->bad = 1; break;
        }
    }
}

/* Skip a constant expression up to its `end`. */
static void const_expr(ck *c, rd *r)
{
    for (;;) {
        const uint8_t *at = r->p;
        uint8_t op = rd_u8(r);
        if (r->bad) return;
        switch (op) {
        case 0x0b: return;
        case 0x41: rd_leb(r, 32); break;
        case 0x42: rd_leb(r, 64); break;
        case 0x43: rd_skip(r, 4); break;
        case 0x44: rd_skip(r, 8); break;
        case 0x23: rd_u32(r); break;
        default: flag(c, "constant expression opcode", UINT32_MAX, at); r->bad = 1; return;
        }
    }
}

static void sec_data(ck *c, rd *r)
{
    uint32_t n = rd_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        const uint8_t *at = r->p;
        uint32_t f = rd_u32(r);
        if (f == 0) { const_expr(c, r); }
        else if (f == 1) { flag(c, "passive data segment", UINT32_MAX, at); }
        else if (f == 2) { rd_u32(r); const_expr(c, r); flag(c, "data segment with memory index", UINT32_MAX, at); }
        else { r->bad = 1; return; }
        rd_skip(r, rd_u32(r));
    }
}

static void sec_elems(ck *c, rd *r)
{
    uint32_t n = rd_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        const uint8_t *at = r->p;
        uint32_t f = rd_u32(r);
        if (f != 0) { flag(c, "non-MVP element segment", UINT32_MAX, at); r->bad = 1; return; }
        const_expr(c, r);
        uint32_t k = rd_u32(r);
        for (uint32_t j = 0; j < k && !r->bad; j++) rd_u32(r);
    }
}

static void block_type(ck *c, rd *r, uint32_t func, const uint8_t *at)
{
    if (r->p >= r->end) { r->bad = 1; return; }
    uint8_t b = *r->p;
    if (b == 0x40 || is_valtype(b)) { r->p++; return; }
    if (b == 0x7b || b == 0x70 || b == 0x6f) { r->p++; flag(c, "non-MVP block type", func, at); return; }
    rd_leb(r, 33); /* a type index: multi-value block */
    if (!c->feat->multi_value) flag(c, "multi-value block type", func, at);
}

static const char *fc_name(uint32_t sub)
{
    static const char *names[] = { "i32.trunc_sat_f32_s", "i32.trunc_sat_f32_u", "i32.trunc_sat_f64_s",
                                   "i32.trunc_sat_f64_u", "i64.trunc_sat_f32_s", "i64.trunc_sat_f32_u",
                                   "i64.trunc_sat_f64_s", "i64.trunc_sat_f64_u", "memory.init",
                                   "data.drop", "memory.copy", "memory.fill", "table.init",
                                   "elem.drop", "table.copy", "table.grow", "table.size", "table.fill" };
    return sub < sizeof names / sizeof names[0] ? names[sub] : "0xFC prefixed opcode";
}

static void body(ck *c, rd *r, uint32_t func)
{
    uint32_t ngroups = rd_u32(r);
    for (uint32_t i = 0; i < ngroups && !r->bad; i++) {
        const uint8_t *at = r->p;
        rd_u32(r);
        uint8_t t = rd_u8(r);
        if (!is_valtype(t)) flag(c, "non-MVP local type", func, at);
    }
    uint32_t depth = 1;
    while (!r->bad && r->p < r->end) {
        const uint8_t *at = r->p;
        uint8_t op = rd_u8(r);
        c->res->instructions++;
        char what[64];
        switch (op) {
        case 0x00: case 0x01: case 0x0f: case 0x1a: case 0x1b: break;
        case 0x02: case 0x03: case 0x04: block_type(c, r, func, at); depth++; break;
        case 0x05: break;
        case 0x0b: if (--depth == 0) return; break;
        case 0x0c: case 0x0d: rd_u32(r); break;
        case 0x0e: { uint32_t n = rd_u32(r); for (uint32_t i = 0; i <= n && !r->bad; i++) rd_u32(r); break; }
        case 0x10: rd_u32(r); break;
        case 0x11: rd_u32(r); if (rd_u32(r) != 0) flag(c, "call_indirect on table other than 0", func, at); break;
        case 0x12: case 0x13: flag(c, "tail call", func, at); rd_u32(r); if (op == 0x13) rd_u32(r); break;
        case 0x1c: { flag(c, "typed select", func, at); uint32_t n = rd_u32(r); rd_skip(r, n); break; }
        case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: rd_u32(r); break;
        case 0x25: case 0x26: flag(c, "table.get/table.set", func, at); rd_u32(r); break;
        case 0x3f:
            if (!c->feat->memory_size) flag(c, "memory.size (miscompiled by wasm3 0.4)", func, at);
            rd_u8(r);
            break;
        case 0x40: rd_u8(r); break;
        case 0x41: rd_leb(r, 32); break;
        case 0x42: rd_leb(r, 64); break;
        case 0x43: rd_skip(r, 4); break;
        case 0x44: rd_skip(r, 8); break;
        case 0xd0: flag(c, "ref.null", func, at); rd_u8(r); break;
        case 0xd1: flag(c, "ref.is_null", func, at); break;
        case 0xd2: flag(c, "ref.func", func, at); rd_u32(r); break;
        case 0xfc: {
            uint32_t sub = rd_u32(r);
            int ok = sub <= 7 || ((sub == 10 || sub == 11) && c->feat->bulk_memory_copy_fill);
            if (!ok) {
                snprintf(what, sizeof what, "%s (0xfc %u)", fc_name(sub), (unsigned)sub);
                flag(c, what, func, at);
            }
            switch (sub) {
            case 8: rd_u32(r); rd_u8(r); break;
            case 9: case 13: case 15: case 16: case 17: rd_u32(r); break;
            case 10: case 12: case 14: rd_u32(r); rd_u32(r); break;
            case 11: rd_u8(r); break;
            default: if (sub > 17) r->bad = 1; break;
            }
            break;
        }
        default:
            if (op >= 0x28 && op <= 0x3e) { rd_u32(r); rd_u32(r); break; }
            if (op >= 0x45 && op <= 0xc4) break;
            snprintf(what, sizeof what, "opcode 0x%02x%s", op,
                     op == 0xfd ? " (SIMD)" : op == 0xfe ? " (threads)" : op >= 0x06 && op <= 0x09 ? " (exceptions)" : "");
            flag(c, what, func, at);
            r->bad = 1; /* immediates unknown: cannot go on */
            return;
        }
    }
    r->bad = 1; /* ran off the body */
}

static void sec_code(ck *c, rd *r)
{
    uint32_t n = rd_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        uint32_t size = rd_u32(r);
        if (r->bad || (uint32_t)(r->end - r->p) < size) { r->bad = 1; return; }
        rd b = { r->p, r->p + size, 0 };
        c->res->functions++;
        body(c, &b, c->func_imports + i);
        if (b.bad && c->res->unsupported == 0) {
            snprintf(c->res->first, sizeof c->res->first, "malformed body of function %u",
                     (unsigned)(c->func_imports + i));
            r->bad = 1;
            return;
        }
        r->p += size;
    }
}

int sxs_wasm_check(const uint8_t *wasm, uint32_t len, const sxs_wasm_features *feat,
                   sxs_wasm_check_result *res)
{
    memset(res, 0, sizeof *res);
    ck c = { wasm, feat, res, 0 };
    static const uint8_t head[8] = { 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00 };
    if (len < 8 || memcmp(wasm, head, 8) != 0) {
        snprintf(res->first, sizeof res->first, "not a Wasm 1.0 binary");
        return -2;
    }
    rd r = { wasm + 8, wasm + len, 0 };
    while (!r.bad && r.p < r.end) {
        uint8_t id = rd_u8(&r);
        uint32_t size = rd_u32(&r);
        if (r.bad || (uint32_t)(r.end - r.p) < size) { r.bad = 1; break; }
        rd s = { r.p, r.p + size, 0 };
        switch (id) {
        case 1: sec_types(&c, &s); break;
        case 2: sec_imports(&c, &s); break;
        case 9: sec_elems(&c, &s); break;
        case 10: sec_code(&c, &s); break;
        case 11: sec_data(&c, &s); break;
        default: break;
        }
        if (s.bad) {
            if (res->unsupported) return -1;
            if (!res->first[0])
                snprintf(res->first, sizeof res->first, "malformed section %u", (unsigned)id);
            return -2;
        }
        r.p += size;
    }
    if (r.bad) {
        snprintf(res->first, sizeof res->first, "malformed section header");
        return -2;
    }
    return res->unsupported ? -1 : 0;
}
