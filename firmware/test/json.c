/* json.c - see json.h. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct P {
    const char *s, *e;
    char *err;
    size_t cap;
    int failed;
} P;

static void fail(P *p, const char *what)
{
    if (!p->failed && p->cap) snprintf(p->err, p->cap, "json: %s at byte %ld", what, (long)(p->e - p->s));
    p->failed = 1;
}

static const char *cur;
static const char *end_;

static void ws(void)
{
    while (cur < end_ && (*cur == ' ' || *cur == '\t' || *cur == '\n' || *cur == '\r')) cur++;
}

static int parse_value(P *p, json *out, int depth);

static void put_utf8(char **o, unsigned c)
{
    char *d = *o;
    if (c < 0x80) *d++ = (char)c;
    else if (c < 0x800) *d++ = (char)(0xC0 | c >> 6), *d++ = (char)(0x80 | (c & 0x3F));
    else if (c < 0x10000) *d++ = (char)(0xE0 | c >> 12), *d++ = (char)(0x80 | (c >> 6 & 0x3F)), *d++ = (char)(0x80 | (c & 0x3F));
    else *d++ = (char)(0xF0 | c >> 18), *d++ = (char)(0x80 | (c >> 12 & 0x3F)), *d++ = (char)(0x80 | (c >> 6 & 0x3F)), *d++ = (char)(0x80 | (c & 0x3F));
    *o = d;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static char *parse_string(P *p, size_t *len)
{
    if (cur >= end_ || *cur != '"') {
        fail(p, "expected a string");
        return NULL;
    }
    cur++;
    const char *st = cur;
    while (cur < end_ && *cur != '"') cur += *cur == '\\' ? 2 : 1;
    if (cur >= end_) {
        fail(p, "unterminated string");
        return NULL;
    }
    char *out = malloc((size_t)(cur - st) + 1), *o = out;
    for (const char *q = st; q < cur; q++) {
        if (*q != '\\') {
            *o++ = *q;
            continue;
        }
        q++;
        switch (*q) {
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'r': *o++ = '\r'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'u': {
            unsigned c = 0;
            for (int k = 1; k <= 4; k++) c = c << 4 | (unsigned)hexval(q[k]);
            q += 4;
            if (c >= 0xD800 && c < 0xDC00 && q[1] == '\\' && q[2] == 'u') {
                unsigned d = 0;
                for (int k = 3; k <= 6; k++) d = d << 4 | (unsigned)hexval(q[k]);
                c = 0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00);
                q += 6;
            }
            put_utf8(&o, c);
            break;
        }
        default: *o++ = *q; break;
        }
    }
    *o = 0;
    *len = (size_t)(o - out);
    cur++;
    return out;
}

static int parse_value(P *p, json *out, int depth)
{
    memset(out, 0, sizeof *out);
    ws();
    if (depth > 64) {
        fail(p, "too deep");
        return -1;
    }
    if (cur >= end_) {
        fail(p, "unexpected end");
        return -1;
    }
    char c = *cur;
    if (c == '{' || c == '[') {
        int obj = c == '{';
        out->kind = obj ? JSON_OBJ : JSON_ARR;
        cur++;
        size_t cap = 0;
        ws();
        if (cur < end_ && *cur == (obj ? '}' : ']')) {
            cur++;
            return 0;
        }
        for (;;) {
            if (out->len == cap) {
                cap = cap ? cap * 2 : 8;
                out->items = realloc(out->items, cap * sizeof *out->items);
                if (obj) out->keys = realloc(out->keys, cap * sizeof *out->keys);
            }
            if (obj) {
                ws();
                size_t kl;
                char *k = parse_string(p, &kl);
                if (!k) return -1;
                out->keys[out->len] = k;
                ws();
                if (cur >= end_ || *cur != ':') {
                    out->len++;
                    out->items[out->len - 1].kind = JSON_NULL;
                    fail(p, "expected ':'");
                    return -1;
                }
                cur++;
            }
            if (parse_value(p, &out->items[out->len++], depth + 1)) return -1;
            ws();
            if (cur < end_ && *cur == ',') {
                cur++;
                continue;
            }
            if (cur < end_ && *cur == (obj ? '}' : ']')) {
                cur++;
                return 0;
            }
            fail(p, "expected ',' or a closing bracket");
            return -1;
        }
    }
    if (c == '"') {
        out->kind = JSON_STR;
        out->str = parse_string(p, &out->len);
        return out->str ? 0 : -1;
    }
    if (!strncmp(cur, "true", 4)) return out->kind = JSON_BOOL, out->num = 1, cur += 4, 0;
    if (!strncmp(cur, "false", 5)) return out->kind = JSON_BOOL, cur += 5, 0;
    if (!strncmp(cur, "null", 4)) return out->kind = JSON_NULL, cur += 4, 0;
    char *e;
    out->num = strtod(cur, &e);
    if (e == cur) {
        fail(p, "unexpected character");
        return -1;
    }
    out->kind = JSON_NUM;
    cur = e;
    return 0;
}

static void free_inner(json *j)
{
    if (j->kind == JSON_STR) free(j->str);
    if (j->kind == JSON_ARR || j->kind == JSON_OBJ) {
        for (size_t i = 0; i < j->len; i++) {
            free_inner(&j->items[i]);
            if (j->keys) free(j->keys[i]);
        }
        free(j->items);
        free(j->keys);
    }
}

json *json_parse(const char *text, size_t len, char *err, size_t cap)
{
    P p = { text, text, err, cap, 0 };
    cur = text;
    end_ = text + len;
    json *j = calloc(1, sizeof *j);
    int r = parse_value(&p, j, 0);
    p.e = cur;
    if (!r) {
        ws();
        if (cur != end_) fail(&p, "trailing bytes"), r = -1;
    }
    if (r) {
        if (!p.failed) fail(&p, "syntax error");
        free_inner(j);
        free(j);
        return NULL;
    }
    return j;
}

json *json_load(const char *path, char *err, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, cap, "cannot open %s", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(n > 0 ? (size_t)n : 1);
    size_t got = fread(b, 1, (size_t)n, f);
    fclose(f);
    json *j = got == (size_t)n ? json_parse(b, got, err, cap) : NULL;
    free(b);
    return j;
}

void json_free(json *j)
{
    if (!j) return;
    free_inner(j);
    free(j);
}

const json *json_get(const json *o, const char *key)
{
    if (!o || o->kind != JSON_OBJ) return NULL;
    for (size_t i = 0; i < o->len; i++)
        if (!strcmp(o->keys[i], key)) return &o->items[i];
    return NULL;
}

const json *json_at(const json *a, size_t i)
{
    if (!a || (a->kind != JSON_ARR && a->kind != JSON_OBJ) || i >= a->len) return NULL;
    return &a->items[i];
}

const char *json_str(const json *o, const char *key, const char *dflt)
{
    const json *v = json_get(o, key);
    return v && v->kind == JSON_STR ? v->str : dflt;
}

double json_num(const json *o, const char *key, double dflt)
{
    const json *v = json_get(o, key);
    return v && (v->kind == JSON_NUM || v->kind == JSON_BOOL) ? v->num : dflt;
}

uint8_t *hex_decode(const char *hex, size_t *n)
{
    size_t l = strlen(hex);
    if (l % 2) return NULL;
    uint8_t *b = malloc(l / 2 ? l / 2 : 1);
    for (size_t i = 0; i < l / 2; i++) {
        int a = hexval(hex[2 * i]), c = hexval(hex[2 * i + 1]);
        if (a < 0 || c < 0) {
            free(b);
            return NULL;
        }
        b[i] = (uint8_t)(a << 4 | c);
    }
    *n = l / 2;
    return b;
}
