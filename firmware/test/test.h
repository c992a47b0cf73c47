/* test.h - a tiny test runner: plain checks, `N passed, N failed`. */
#ifndef SXS_TEST_H
#define SXS_TEST_H

#include <stdint.h>
#include <stdio.h>

extern int sxs_test_check_failures;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            sxs_test_check_failures++;                                                \
            fprintf(stderr, "    check failed %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                             \
    } while (0)

/* The bytes of test/fixtures/NAME.wat assembled by build.rs (malloc'd). */
uint8_t *sxs_test_fixture(const char *name, uint32_t *len);
/* A fresh temporary file path (static buffer). */
const char *sxs_test_tmp_path(const char *tag);

typedef struct sxs_test {
    const char *name;
    void (*fn)(void);
} sxs_test;

#define SXS_TESTS(group) const sxs_test group[]
#define SXS_TESTS_END { 0, 0 }

extern const sxs_test sxs_tests_flash[];
extern const sxs_test sxs_tests_engine[];
extern const sxs_test sxs_tests_transcript[];
extern const sxs_test sxs_tests_wasm3[];

#endif
