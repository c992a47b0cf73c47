/* json.h - a tiny JSON reader for the shared test vectors (test/vectors/NAME.json).
 * Parses a whole document into a tree (malloc'd); numbers as double. */
#ifndef SXS_TEST_JSON_H
#define SXS_TEST_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ } json_kind;

typedef struct json {
    json_kind kind;
    double num;     /* JSON_NUM, JSON_BOOL (0/1) */
    char *str;      /* JSON_STR (NUL-terminated, UTF-8) */
    size_t len;     /* JSON_STR bytes; JSON_ARR/OBJ items */
    struct json *items; /* JSON_ARR / JSON_OBJ values */
    char **keys;        /* JSON_OBJ keys */
} json;

/* Parse text; NULL on a syntax error (message in err). */
json *json_parse(const char *text, size_t len, char *err, size_t cap);
/* Read and parse a file; NULL on error. */
json *json_load(const char *path, char *err, size_t cap);
void json_free(json *j);

/* Member of an object, NULL if missing. */
const json *json_get(const json *o, const char *key);
/* Element i of an array, NULL if out of range. */
const json *json_at(const json *a, size_t i);
/* Shortcuts with defaults. */
const char *json_str(const json *o, const char *key, const char *dflt);
double json_num(const json *o, const char *key, double dflt);

/* Hex string to bytes (malloc'd, *n bytes); NULL on a bad digit. */
uint8_t *hex_decode(const char *hex, size_t *n);

#endif
