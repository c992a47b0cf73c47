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
/* test/vectors of the repository ($SXS_VECTORS overrides). */
const char *sxs_test_vector_dir(void);
/* build/sxs.wasm of the repository ($SXS_IMAGE overrides), malloc'd; NULL if missing. */
uint8_t *sxs_test_image(uint32_t *len);

/* An sxs_sendwin_emit that keeps the first 3 frames (test_link.c). */
#include "sxs_frame.h"
struct cap3 {
    int n;
    sxs_frame_hdr h[3];
    uint8_t p[3][SXS_LINK_MAX_PAYLOAD];
};
void sxs_test_capture_emit(void *ctx, uint8_t type, uint8_t flags, uint16_t seq, uint32_t req, const uint8_t *p1,
                           size_t n1, const uint8_t *p2, size_t n2, int retx);

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
extern const sxs_test sxs_tests_vectors[];
extern const sxs_test sxs_tests_link[];
extern const sxs_test sxs_tests_slots[];
extern const sxs_test sxs_tests_fw[];

#endif
