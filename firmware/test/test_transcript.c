/* test_transcript.c - the SPEC.md section 8 output, with the fake image. */
#include <stdlib.h>
#include <string.h>

#include "sxs_posix.h"
#include "test.h"

static char *run(const char *text, int *status)
{
    uint32_t len;
    uint8_t *w = sxs_test_fixture("fake_board", &len);
    if (!w) return NULL;
    char *buf = NULL;
    size_t n = 0;
    FILE *out = open_memstream(&buf, &n);
    FILE *err = fopen("/dev/null", "w");
    sxs_run_options opt = { 64 * 1024, 0, 0, 0, 1000 };
    *status = sxs_transcript(w, len, (const uint8_t *)text, (uint32_t)strlen(text), &opt, out, err);
    fclose(out);
    if (err) fclose(err);
    free(w);
    return buf;
}

static void forms_logs_results_drain(void)
{
    int st;
    char *o = run("echo me\nLline one\nDx\nWait\n", &st);
    CHECK(o != NULL);
    if (!o) return;
    const char *want = "=> echo me\n"
                       "log: line one\n"
                       "=> true\n"
                       "=> Dx\n"
                       "log: drained\n"
                       "=> waited\n";
    CHECK(strcmp(o, want) == 0);
    CHECK(st == 0);
    if (strcmp(o, want) != 0) fprintf(stderr, "    got:\n%s", o);
    free(o);
}

static void log_bytes_pass_through(void)
{
    int st;
    /* the fake image cuts forms at LF, so no log of it can hold one; a TAB
     * shows that log bytes reach the transcript untouched */
    char *o = run("La\tb\n", &st);
    CHECK(o != NULL && strcmp(o, "log: a\tb\n=> true\n") == 0);
    free(o);
}

static void parse_error_prints_one_line(void)
{
    int st;
    char *o = run("fine\nbad!\nfine\n", &st);
    CHECK(o != NULL && strcmp(o, "=> @\"parse: fake at 0\"\n") == 0);
    CHECK(st == 0);
    free(o);
}

static void trap_reboots_and_goes_on(void)
{
    int st;
    char *o = run("one\nTrap\ntwo\n", &st);
    CHECK(o != NULL);
    if (!o) return;
    CHECK(strncmp(o, "=> one\n!! trap: trap in sxs_run: [trap] unreachable", 51) == 0);
    CHECK(strstr(o, "\n=> two\n") != NULL);
    CHECK(st == 3);
    free(o);
}

static void empty_file_prints_nothing(void)
{
    int st;
    char *o = run("", &st);
    CHECK(o != NULL && o[0] == 0 && st == 0);
    free(o);
}

SXS_TESTS(sxs_tests_transcript) = {
    { "transcript: forms, logs, results, drain, virtual clock", forms_logs_results_drain },
    { "transcript: log bytes pass through", log_bytes_pass_through },
    { "transcript: a parse error prints one line", parse_error_prints_one_line },
    { "transcript: a trap is printed, the board reboots", trap_reboots_and_goes_on },
    { "transcript: an empty file prints nothing", empty_file_prints_nothing },
    SXS_TESTS_END
};
