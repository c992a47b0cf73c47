/*
 * test_wasm3.c - what the embedded wasm3 runs.  Each probe module exports
 * run() -> i32.  A feature the firmware declares supported must load and
 * give the expected value; one it declares unsupported must be refused by
 * the pre-flight check (sxs_wasm_check) with a message, never handed to
 * wasm3 (whose 0.4 opcode tables are read without bounds checks).
 * Prints the measured table.
 */
#include <stdlib.h>
#include <string.h>

#include "sxs_m3.h"
#include "sxs_wasm_check.h"
#include "test.h"

static sxs_wasm_features features(void)
{
    sxs_wasm_features f = { 0, 0, 0 };
    if (strncmp(sxs_m3_version(), "0.4.", 4) != 0) f.bulk_memory_copy_fill = f.multi_value = f.memory_size = 1;
    return f;
}

/* 1 ran and returned *out; 0 refused by the check (msg); -1 wasm3 error (msg) */
static int probe(const char *name, int32_t *out, char *msg, size_t cap)
{
    uint32_t len;
    uint8_t *w = sxs_test_fixture(name, &len);
    if (!w) { snprintf(msg, cap, "no fixture"); return -1; }
    sxs_wasm_features f = features();
    sxs_wasm_check_result res;
    int rc = sxs_wasm_check(w, len, &f, &res);
    if (rc != 0) {
        snprintf(msg, cap, "%s", res.first);
        free(w);
        return 0;
    }
    IM3Environment env = m3_NewEnvironment();
    IM3Runtime rt = m3_NewRuntime(env, 64 * 1024, NULL);
    IM3Module mod = NULL;
    int ok = -1;
    M3Result r = m3_ParseModule(env, &mod, w, len);
    if (!r) {
        r = m3_LoadModule(rt, mod);
        if (r) m3_FreeModule(mod);
    } else mod = NULL;
    char cm[200] = "";
    if (!r) r = sxs_m3_compile_all(mod, cm, sizeof cm);
    IM3Function fn = NULL;
    if (!r) r = m3_FindFunction(&fn, rt, "run");
    sxs_m3_val v;
    if (!r) r = sxs_m3_call(fn, 0, NULL, &v);
    if (r) snprintf(msg, cap, "%s%s%s", r, cm[0] ? ": " : "", cm);
    else {
        *out = v.i32;
        ok = 1;
    }
    m3_FreeRuntime(rt);
    m3_FreeEnvironment(env);
    free(w);
    return ok;
}

static void feature_table(void)
{
    sxs_wasm_features f = features();
    const struct {
        const char *fixture, *feature;
        int supported;
        int32_t expect;
    } probes[] = {
        { "feat_signext", "sign-extension (i32.extend8_s/16_s)", 1, -1 - 32768 },
        { "feat_truncsat", "saturating float-to-int (trunc_sat)", 1, 2147483647 },
        { "feat_mutglobal", "mutable globals (exported)", 1, 7 },
        { "feat_memcopy", "bulk memory: memory.copy", f.bulk_memory_copy_fill, 7 },
        { "feat_memfill", "bulk memory: memory.fill", f.bulk_memory_copy_fill, 9 },
        { "feat_meminit", "bulk memory: memory.init (passive data)", 0, 5 },
        { "feat_memsize", "memory.size with its register in use", f.memory_size, 4 },
        { "feat_multivalue", "multi-value: function results", f.multi_value, 7 },
        { "feat_multiblock", "multi-value: block parameters", f.multi_value, 7 },
    };
    printf("    wasm3 %s:\n", sxs_m3_version());
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        int32_t got = 0;
        char msg[200] = "";
        int rc = probe(probes[i].fixture, &got, msg, sizeof msg);
        if (rc == 1)
            printf("    %-42s runs (result %d)\n", probes[i].feature, (int)got);
        else
            printf("    %-42s %s: %s\n", probes[i].feature, rc == 0 ? "refused at load" : "FAILS", msg);
        if (probes[i].supported) {
            CHECK(rc == 1);
            CHECK(got == probes[i].expect);
        } else {
            CHECK(rc == 0);
            CHECK(msg[0] != 0);
        }
    }
}

/* wasm3 0.4.x's memory.size: run it anyway (it compiles; the pre-check is
 * what refuses it) to show the wrong result */
static void memory_size_defect(void)
{
    uint32_t len;
    uint8_t *w = sxs_test_fixture("feat_memsize", &len);
    CHECK(w != NULL);
    if (!w) return;
    IM3Environment env = m3_NewEnvironment();
    IM3Runtime rt = m3_NewRuntime(env, 64 * 1024, NULL);
    IM3Module mod = NULL;
    IM3Function fn = NULL;
    sxs_m3_val v = { 0 };
    M3Result r = m3_ParseModule(env, &mod, w, len);
    if (!r) r = m3_LoadModule(rt, mod);
    if (!r) r = m3_FindFunction(&fn, rt, "run");
    if (!r) r = sxs_m3_call(fn, 0, NULL, &v);
    CHECK(r == NULL);
    printf("    (200000 >> 16) + memory.size computes %d (correct: 4)\n", (int)v.i32);
    if (strncmp(sxs_m3_version(), "0.4.", 4) != 0) CHECK(v.i32 == 4);
    m3_FreeRuntime(rt);
    m3_FreeEnvironment(env);
    free(w);
}

static void check_names_the_opcode(void)
{
    uint32_t len;
    uint8_t *w = sxs_test_fixture("feat_memcopy", &len);
    CHECK(w != NULL);
    if (!w) return;
    sxs_wasm_features none = { 0, 0, 0 }, all = { 1, 1, 1 };
    sxs_wasm_check_result res;
    CHECK(sxs_wasm_check(w, len, &none, &res) == -1);
    CHECK(strstr(res.first, "memory.copy (0xfc 10) in function 0") != NULL);
    CHECK(sxs_wasm_check(w, len, &all, &res) == 0);
    CHECK(res.functions == 1);
    free(w);
}

static void check_refuses_garbage(void)
{
    sxs_wasm_features all = { 1, 1, 1 };
    sxs_wasm_check_result res;
    const uint8_t notwasm[] = { 'h', 'e', 'l', 'l', 'o', 0, 0, 0 };
    CHECK(sxs_wasm_check(notwasm, sizeof notwasm, &all, &res) == -2);
    /* a code section whose size runs past the end */
    const uint8_t trunc[] = { 0, 'a', 's', 'm', 1, 0, 0, 0, 10, 0x7f, 1 };
    CHECK(sxs_wasm_check(trunc, sizeof trunc, &all, &res) == -2);
    /* a body with an unknown opcode 0xff */
    const uint8_t bad[] = { 0, 'a', 's', 'm', 1, 0, 0, 0, 10, 4, 1, 2, 0, 0xff };
    CHECK(sxs_wasm_check(bad, sizeof bad, &all, &res) == -1);
    CHECK(strstr(res.first, "opcode 0xff") != NULL);
    /* every prefix of a valid module is refused or accepted, never crashes */
    uint32_t len;
    uint8_t *w = sxs_test_fixture("fake_board", &len);
    CHECK(w != NULL);
    if (!w) return;
    CHECK(sxs_wasm_check(w, len, &all, &res) == 0);
    CHECK(res.functions > 10 && res.instructions > 100);
    for (uint32_t n = 0; n < len; n++) (void)sxs_wasm_check(w, n, &all, &res);
    free(w);
}

SXS_TESTS(sxs_tests_wasm3) = {
    { "wasm3: feature support as measured", feature_table },
    { "wasm3: memory.size with its register in use", memory_size_defect },
    { "check: names the unsupported opcode and function", check_names_the_opcode },
    { "check: malformed binaries are refused, never crash", check_refuses_garbage },
    SXS_TESTS_END
};
