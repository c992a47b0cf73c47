/*
 * sxs_m3.c - the only file that knows which wasm3 API it is built against.
 * See sxs_m3.h.  It includes wasm3's internal headers (m3_env.h) because the
 * 0.4.x API has no way to compile a module ahead of time or to read a call's
 * result; those headers must be compiled with the same d_m3* configuration as
 * wasm3 itself (build.rs passes the defines wasm3-sys uses).
 */
#include "sxs_m3.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "m3_env.h"
#if M3_VERSION_MAJOR == 0 && M3_VERSION_MINOR < 5
#include "m3_compile.h"
#define SXS_M3_OLD_API 1
#else
#define SXS_M3_OLD_API 0
#endif

const char *sxs_m3_version(void) { return M3_VERSION; }

/* ---- imports ------------------------------------------------------------ */

#define SXS_M3_MAX_IMPORT_ARGS 8

#if SXS_M3_OLD_API
/* 0.4.x: the return slot overlaps argument 0. */
static const void *trampoline(IM3Runtime rt, uint64_t *sp, void *mem, void *cookie)
{
    (void)mem;
    sxs_m3_import *imp = (sxs_m3_import *)cookie;
    uint64_t args[SXS_M3_MAX_IMPORT_ARGS];
    uint64_t ret = 0;
    for (uint32_t i = 0; i < imp->nargs && i < SXS_M3_MAX_IMPORT_ARGS; i++) args[i] = sp[i];
    const char *trap = imp->fn(imp->ud, rt, args, &ret);
    if (trap) return trap;
    if (imp->nrets) sp[0] = ret;
    return m3Err_none;
}
#else
/* 0.5.x: return slots come first, then the arguments. */
static const void *trampoline(IM3Runtime rt, IM3ImportContext ctx, uint64_t *sp, void *mem)
{
    (void)mem;
    sxs_m3_import *imp = (sxs_m3_import *)ctx->userdata;
    uint64_t args[SXS_M3_MAX_IMPORT_ARGS];
    uint64_t ret = 0;
    for (uint32_t i = 0; i < imp->nargs && i < SXS_M3_MAX_IMPORT_ARGS; i++)
        args[i] = sp[imp->nrets + i];
    const char *trap = imp->fn(imp->ud, rt, args, &ret);
    if (trap) return trap;
    if (imp->nrets) sp[0] = ret;
    return m3Err_none;
}
#endif

/* Count the arguments and results in a wasm3 signature string "r(aaa)". */
static void sig_counts(const char *sig, uint32_t *nargs, uint32_t *nrets)
{
    *nrets = (sig[0] && sig[0] != 'v') ? 1 : 0;
    *nargs = 0;
    const char *p = strchr(sig, '(');
    if (!p) return;
    for (p++; *p && *p != ')'; p++)
        if (*p != ' ') (*nargs)++;
}

M3Result sxs_m3_link(IM3Module mod, const char *name, const char *sig, sxs_m3_import *imp)
{
    sig_counts(sig, &imp->nargs, &imp->nrets);
    if (imp->nargs > SXS_M3_MAX_IMPORT_ARGS) return "too many import arguments";
    return m3_LinkRawFunctionEx(mod, "env", name, sig, trampoline, imp);
}

/* ---- ahead-of-time compilation ---------------------------------------- */

static const char *func_name(IM3Function f)
{
#if SXS_M3_OLD_API
    return f->name ? f->name : "?";
#else
    const char *n = m3_GetFunctionName(f);
    return n ? n : "?";
#endif
}

M3Result sxs_m3_compile_all(IM3Module mod, char *msg, uint32_t msg_cap)
{
    if (msg_cap) msg[0] = 0;
    for (uint32_t i = 0; i < mod->numFunctions; i++) {
        IM3Function f = &mod->functions[i];
        if (f->import.moduleUtf8 && !f->compiled) {
            snprintf(msg, msg_cap, "missing import %s.%s", f->import.moduleUtf8,
                     f->import.fieldUtf8 ? f->import.fieldUtf8 : "?");
            return m3Err_functionImportMissing;
        }
    }
#if SXS_M3_OLD_API
    for (uint32_t i = 0; i < mod->numFunctions; i++) {
        IM3Function f = &mod->functions[i];
        if (f->wasm && !f->compiled) {
            M3Result r = Compile_Function(f);
            if (r) {
                snprintf(msg, msg_cap, "function %" PRIu32 " (%s): %s", i, func_name(f), r);
                return r;
            }
        }
    }
    return m3Err_none;
#else
    M3Result r = m3_CompileModule(mod);
    if (r) {
        M3ErrorInfo info;
        m3_GetErrorInfo(mod->runtime, &info);
        if (info.function)
            snprintf(msg, msg_cap, "function %s: %s", func_name(info.function), r);
        else
            snprintf(msg, msg_cap, "%s", r);
    }
    return r;
#endif
}

/* ---- calls ---------------------------------------------------------------- */

void sxs_m3_func_type(IM3Function f, uint32_t *nargs, uint32_t *nrets, int *ret_type, int *all_i32)
{
#if SXS_M3_OLD_API
    IM3FuncType t = f->funcType;
    *nargs = t->numArgs;
    *nrets = t->returnType != c_m3Type_none ? 1 : 0;
    *ret_type = t->returnType;
    *all_i32 = 1;
    for (uint32_t i = 0; i < t->numArgs; i++)
        if (t->argTypes[i] != c_m3Type_i32) *all_i32 = 0;
#else
    *nargs = m3_GetArgCount(f);
    *nrets = m3_GetRetCount(f);
    *ret_type = *nrets ? (int)m3_GetRetType(f, 0) : c_m3Type_none;
    *all_i32 = 1;
    for (uint32_t i = 0; i < *nargs; i++)
        if (m3_GetArgType(f, i) != c_m3Type_i32) *all_i32 = 0;
#endif
}

M3Result sxs_m3_call(IM3Function f, uint32_t argc, const int32_t *args, sxs_m3_val *ret)
{
    uint32_t nargs, nrets;
    int rtype, all_i32;
    sxs_m3_func_type(f, &nargs, &nrets, &rtype, &all_i32);
    if (argc != nargs || !all_i32 || argc > 4) return m3Err_argumentCountMismatch;
    ret->bits = 0;
#if SXS_M3_OLD_API
    /* 0.4.x takes arguments as decimal strings (unsigned bit patterns for
     * i32) and leaves the result in the first stack slot. */
    char buf[4][16];
    const char *argv[4];
    for (uint32_t i = 0; i < argc; i++) {
        snprintf(buf[i], sizeof buf[i], "%" PRIu32, (uint32_t)args[i]);
        argv[i] = buf[i];
    }
    M3Result r = m3_CallWithArgs(f, argc, argv);
    if (r) return r;
    if (nrets) {
        const uint64_t *slot = (const uint64_t *)f->module->runtime->stack;
        switch (rtype) {
        case c_m3Type_i32: ret->i32 = (int32_t)(uint32_t)slot[0]; break;
        case c_m3Type_f32: memcpy(&ret->f32, slot, sizeof ret->f32); break;
        default: ret->bits = slot[0]; break;
        }
    }
    return m3Err_none;
#else
    const void *argp[4];
    for (uint32_t i = 0; i < argc; i++) argp[i] = &args[i];
    M3Result r = m3_Call(f, argc, argp);
    if (r) return r;
    if (nrets) {
        const void *retp[1] = { ret };
        r = m3_GetResults(f, 1, retp);
    }
    return r;
#endif
}
