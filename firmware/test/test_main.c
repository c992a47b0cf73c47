/* test_main.c - runs every test group; exit status 1 on any failure.
 * `sxs-fw-test [FIXTURE_DIR] [NAME_SUBSTRING]` */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sxs_engine.h"
#include "test.h"

int sxs_test_check_failures;
static const char *fixture_dir = SXS_FIXTURE_DIR;

uint8_t *sxs_test_fixture(const char *name, uint32_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", fixture_dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "    cannot open fixture %s\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (uint32_t)n;
    return b;
}

const char *sxs_test_tmp_path(const char *tag)
{
    static char path[256];
    static int seq;
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/sxs-fw-test-%ld-%d-%s", dir ? dir : "/tmp", (long)getpid(), seq++, tag);
    unlink(path);
    return path;
}

const char *sxs_test_vector_dir(void)
{
    const char *d = getenv("SXS_VECTORS");
    return d && *d ? d : SXS_VECTOR_DIR;
}

uint8_t *sxs_test_image(uint32_t *len)
{
    const char *p = getenv("SXS_IMAGE");
    if (!p || !*p) p = SXS_IMAGE_PATH;
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (uint32_t)n;
    /* only an image this wasm3 runs (wasm3 0.4 refuses it: README.md) */
    sxs_engine *e = NULL;
    sxs_engine_config cfg = { 64 * 1024 };
    sxs_host_ops ops = { 0 };
    char err[300];
    if (b && sxs_engine_open(&e, b, *len, &cfg, &ops, NULL, err, sizeof err)) {
        printf("     (%s does not run under wasm3 %s: %s)\n", p, sxs_engine_wasm3_version(), err);
        free(b);
        return NULL;
    }
    sxs_engine_close(e);
    return b;
}

int sxs_test_main(int argc, char **argv)
{
    if (argc > 1 && argv[1][0]) fixture_dir = argv[1];
    const char *only = argc > 2 ? argv[2] : NULL;
    const sxs_test *groups[] = { sxs_tests_flash,  sxs_tests_wasm3, sxs_tests_engine, sxs_tests_transcript,
                                 sxs_tests_vectors, sxs_tests_link,  sxs_tests_slots,  sxs_tests_fw };
    int passed = 0, failed = 0;
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        for (const sxs_test *t = groups[g]; t->name; t++) {
            if (only && !strstr(t->name, only)) continue;
            int before = sxs_test_check_failures;
            t->fn();
            if (sxs_test_check_failures == before) {
                passed++;
                printf("ok   %s\n", t->name);
            } else {
                failed++;
                printf("FAIL %s\n", t->name);
            }
            fflush(stdout);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
