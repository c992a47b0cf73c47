#!/usr/bin/env python3
"""Writes the transcript corpus test/transcripts/*.slp and *.out (SPEC.md section 8).

Each file is a list of entries: a comment line, or one top-level form with the exact
transcript lines it produces (log lines while it runs, `=> VALUE`, log lines while the
board drains). Every expected line was derived by hand from SPEC.md; this script only
lays them out, builds the long inputs (1024-byte values, 256-byte keys, 64/65-deep
nesting) and cross-checks what can be checked without an evaluator (see slpcheck.py):
each form parses on its own and the file holds exactly one form per entry, each
expected parse-error offset, and the printed value of every plain literal form.

Run: python3 test/transcripts/gen/gen.py   (rewrites the files next to this folder)
"""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import slpcheck  # noqa: E402

OUT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_FILE = 16 * 1024  # stay under MAX_INPUT in case the runner parses the file as one request


def slp(inner):
    """The SLP string literal whose contents are the text `inner`."""
    out = '"'
    for ch in inner:
        out += {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(ch, ch)
    return out + '"'


def ev(inner):
    return "(core/expr/eval " + slp(inner) + ")"


def R(v):
    return "=> " + v


def L(t):
    return "log: " + t


def PE(reason, offset):
    return R('@"parse: %s at %d"' % (reason, offset))


class C:
    def __init__(self, text):
        self.text = text


class T:
    def __init__(self, form, *lines, literal=False, inner=None):
        self.form = form
        self.lines = list(lines)
        self.literal = literal  # check `=> VALUE` against the printed literal
        self.inner = inner  # eval text whose parse error (if any) must match
        results = [l for l in self.lines if l.startswith("=> ")]
        assert len(results) == 1, (form, lines)


def E(inner, *lines):
    """A form `(core/expr/eval "inner")`; parse errors in `lines` are cross-checked."""
    return T(ev(inner), *lines, inner=inner)


def lit(form, value):
    return T(form, R(value), literal=True)


FILES = {}


def nest_eval(n):
    return "(core/expr/eval " * n + "1" + ")" * n


def nest_iter(levels, prefix, inner_body):
    s = inner_body
    for _ in range(levels):
        s = "{(core/kv/iterate %s 0 10 %s)}" % (prefix, s)
    return s  # a body


def iterate_nested(levels, prefix, inner_body):
    """(core/kv/iterate P 0 10 {(core/kv/iterate P 0 10 ... INNER)})."""
    body = nest_iter(levels - 1, prefix, inner_body)
    return "(core/kv/iterate %s 0 10 %s)" % (prefix, body)


# ---------------------------------------------------------------------------
FILES["syntax-tokens"] = [
    C("; SLP tokens (SPEC.md sections 1 and 3): integers, reals, the symbol fallback, strings"),
    C("; and every escape, whitespace, comments, and quote/error literals after whitespace"),
    C("; and comments. Plain literals at top level evaluate to themselves (section 4)."),
    C("; -- integers"),
    lit("42", "42"),
    lit("-7", "-7"),
    lit("+5", "5"),
    lit("0", "0"),
    lit("-0", "0"),
    lit("+0", "0"),
    lit("007", "7"),
    lit("-007", "-7"),
    lit("9223372036854775807", "9223372036854775807"),
    lit("+9223372036854775807", "9223372036854775807"),
    lit("-9223372036854775808", "-9223372036854775808"),
    C("; -- reals: a '.' or an exponent makes a real"),
    lit("3.14", "3.14"),
    lit("-5.67e-3", "-0.00567"),
    lit(".5", "0.5"),
    lit("-.5", "-0.5"),
    lit("+.5", "0.5"),
    lit("1.", "1.0"),
    lit("-1.", "-1.0"),
    lit("2E10", "20000000000.0"),
    lit("1e5", "100000.0"),
    lit("1e+5", "100000.0"),
    lit("1E-0", "1.0"),
    lit("1.e5", "100000.0"),
    lit("1.5E-1", "0.15"),
    lit("007.5", "7.5"),
    lit("0.1e1", "1.0"),
    lit("1.00000000000000000001", "1.0"),
    C("; underflow rounds to 0.0"),
    lit("1e-400", "0.0"),
    C("; -- a token that is not wholly a number is a symbol"),
    lit("12abc", "12abc"),
    lit("-5abc", "-5abc"),
    lit("-", "-"),
    lit("+", "+"),
    lit("1e", "1e"),
    lit("1e+", "1e+"),
    lit(".e5", ".e5"),
    lit(".", "."),
    lit("+.", "+."),
    lit("-.e1", "-.e1"),
    lit("1.2.3", "1.2.3"),
    lit("0x1F", "0x1F"),
    lit("1_000", "1_000"),
    C("; not a number, so not out of range either"),
    lit("99999999999999999999abc", "99999999999999999999abc"),
    lit("1e999x", "1e999x"),
    C("; ' and @ inside a token are part of the symbol"),
    lit("a'b", "a'b"),
    lit("a@b", "a@b"),
    lit("user:1:name", "user:1:name"),
    lit("core/kv/set", "core/kv/set"),
    lit("true", "true"),
    lit("false", "false"),
    lit("nil", "nil"),
    lit("é", "é"),
    lit("'$not-looked-up", "$not-looked-up"),
    C("; -- strings and escapes"),
    lit('"plain"', '"plain"'),
    lit('""', '""'),
    lit(r'"q\" b\\ n\n t\t r\r"', r'"q\" b\\ n\n t\t r\r"'),
    lit(r'"\0"', r'"\x00"'),
    lit(r'"\x41\x62\x7a"', '"Abz"'),
    lit(r'"\x4a\x4A\x6b\x6B"', '"JJkk"'),
    lit(r'"\xc3\xa9t\xc3\xA9"', '"été"'),
    lit('"héllo wörld ✓"', '"héllo wörld ✓"'),
    lit('"line one\nline two"', r'"line one\nline two"'),
    lit('"(not [a {list ; nor a comment"', '"(not [a {list ; nor a comment"'),
    C("; -- whitespace (space, tab, CR, LF) and comments"),
    E("1 ; two\n3", R("3")),
    E("1 ; 3", R("1")),
    E("'(a;comment\nb)", R("(a b)")),
    E("'(a\tb\rc\nd   e)", R("(a b c d e)")),
    E("'(a\"b\"c)", R('(a "b" c)')),
    E("'(a(b)c[d]e{f}g)", R("(a (b) c [d] e {f} g)")),
    E("   \t\r\n  ", R("nil")),
    E("; only a comment", R("nil")),
    E("7 ; a trailing comment with no newline", R("7")),
    C("; -- quote and error literals wrap the next object, after whitespace and comments"),
    E("' x", R("x")),
    E("'\n\t(a b)", R("(a b)")),
    E("' ; comment\n x", R("x")),
    E('@ "after a space"', R('@"after a space"')),
    E('@ ; comment\n "after a comment"', R('@"after a comment"')),
    E("'(1 '2 @3 ' 4 @ ; c\n5)", R("(1 '2 @3 '4 @5)")),
    E("''x", R("'x")),
    T("'   ; the quote reaches past this comment\n  past-comment", R("past-comment"), literal=True),
    T("'(a ; a comment inside a list\n  b)", R("(a b)"), literal=True),
    T('@\n  "error after a newline"', R('@"error after a newline"')),
]

# ---------------------------------------------------------------------------
deep65 = "[" * 65 + "]" * 65
deep64 = "[" * 64 + "]" * 64
FILES["syntax-errors"] = [
    C("; Parse errors (SPEC.md section 1), each through eval so that the file itself parses."),
    C("; Offsets are byte offsets into the text that eval parses (the string's contents)."),
    C("; -- unclosed lists and strings are met at the end of the text, reported at the opener"),
    E("(", PE("unclosed (", 0)),
    E("  (a (b) c", PE("unclosed (", 2)),
    E("{", PE("unclosed {", 0)),
    E("x [1 2", PE("unclosed [", 2)),
    E('"abc', PE("unclosed string", 0)),
    E('1 "two', PE("unclosed string", 2)),
    C("; an escaped quote does not close the string; text ending inside an escape"),
    E('ab "cd\\"', PE("unclosed string", 3)),
    E('"abc\\', PE("unclosed string", 0)),
    E('"ab\\x4', PE("unclosed string", 0)),
    C("; -- stray or mismatched closers, at the closer"),
    E(")", PE("unexpected )", 0)),
    E("1 2 ]", PE("unexpected ]", 4)),
    E("}", PE("unexpected }", 0)),
    E("(a]", PE("unexpected ]", 2)),
    E("[a)", PE("unexpected )", 2)),
    E("{a]", PE("unexpected ]", 2)),
    E("(a}", PE("unexpected }", 2)),
    E("(a) )", PE("unexpected )", 4)),
    C("; -- invalid escapes, at the backslash"),
    E('"\\q"', PE("invalid escape", 1)),
    E('"\\a"', PE("invalid escape", 1)),
    E('"\\X41"', PE("invalid escape", 1)),
    E('"\\xg0"', PE("invalid escape", 1)),
    E('"ok" "a\\x4g"', PE("invalid escape", 7)),
    C("; offsets count bytes: the e-acute before the backslash is two bytes"),
    E('"é\\q"', PE("invalid escape", 3)),
    C("; -- numbers out of range, at the start of the token"),
    E("9223372036854775808", PE("integer out of range", 0)),
    E("-9223372036854775809", PE("integer out of range", 0)),
    E("(1 +9223372036854775808)", PE("integer out of range", 3)),
    E("[x 18446744073709551616]", PE("integer out of range", 3)),
    E("9223372036854775807", R("9223372036854775807")),
    E("-9223372036854775808", R("-9223372036854775808")),
    E("1e309", PE("real out of range", 0)),
    E("[0 -1.8e308]", PE("real out of range", 3)),
    E("1e308", R("1e+308")),
    E("1.7976931348623157e308", R("1.7976931348623157e+308")),
    C("; -- nothing to quote: the text or the enclosing list ends first"),
    E("'", PE("nothing to quote", 0)),
    E("x @", PE("nothing to quote", 2)),
    E("' ; comment", PE("nothing to quote", 0)),
    E("(a ')", PE("nothing to quote", 3)),
    E("[@]", PE("nothing to quote", 1)),
    E("{'  }", PE("nothing to quote", 1)),
    E("'(b @ ; comment\n)", PE("nothing to quote", 4)),
    C("; -- nesting: 64 levels parse, a list at level 65 fails at its opening character;"),
    C(";    all three kinds count, quotes do not"),
    E(deep64, R(deep64)),
    E(deep65, PE("nesting too deep", 64)),
    E("  " + "{" * 65, PE("nesting too deep", 66)),
    E("'" + "(" * 65 + ")" * 65, PE("nesting too deep", 65)),
    E("(" * 32 + "[" * 32 + "{" + "}" + "]" * 32 + ")" * 32, PE("nesting too deep", 64)),
    E("'" + "(" * 32 + "{" * 32 + "}" * 32 + ")" * 32, R("(" * 32 + "{" * 32 + "}" * 32 + ")" * 32)),
    C("; -- reading left to right, the first error met is reported"),
    E('("x\\q', PE("invalid escape", 3)),
    E(") (", PE("unexpected )", 0)),
    E("(99999999999999999999", PE("integer out of range", 1)),
    E('(a "\\q" 1e999)', PE("invalid escape", 4)),
    E('(1e999 "\\q")', PE("real out of range", 1)),
    E('(a ] "\\q', PE("unexpected ]", 3)),
    E("(" * 65 + '"\\q"', PE("nesting too deep", 64)),
    C("; -- the whole text is parsed before any of it runs"),
    E('(core/util/log "never") )', PE("unexpected )", 24)),
    E('(core/util/log "never") (', PE("unclosed (", 24)),
    C("; -- a parse error is an ordinary error value"),
    T('(core/kv/set x (core/expr/eval "("))', PE("unclosed (", 0)),
    T("(core/kv/exists x)", R("false")),
]

# ---------------------------------------------------------------------------
unparsable_head = (
    "; This file deliberately does not parse (SPEC.md section 8): the third form has a stray\n"
    "; closer, so the run prints one line with the byte offset of that ')' and runs nothing.\n"
)
unparsable_body = (
    '(core/util/log "this must not be printed")\n'
    "(core/kv/set a 1)\n"
    "(core/kv/get a))\n"
    '(core/util/log "nor this")\n'
)

# ---------------------------------------------------------------------------
FILES["print"] = [
    C("; The canonical print (SPEC.md section 3): reals as ECMAScript prints them plus '.0',"),
    C("; string escapes, lists of each kind, quote and error objects."),
    C("; -- reals"),
    lit("3.0", "3.0"),
    lit("3.", "3.0"),
    lit("0.5", "0.5"),
    lit("-0.5", "-0.5"),
    lit("100.0", "100.0"),
    lit("0.1", "0.1"),
    lit("1e0", "1.0"),
    lit("12345.6789e-3", "12.3456789"),
    lit("1e16", "10000000000000000.0"),
    lit("1e20", "100000000000000000000.0"),
    lit("1234567890123456789.0", "1234567890123456800.0"),
    lit("9007199254740993.0", "9007199254740992.0"),
    lit("123456789.987654321", "123456789.98765433"),
    lit("0.3000000000000000444", "0.30000000000000004"),
    lit("1.0000000000000002", "1.0000000000000002"),
    lit("4.35", "4.35"),
    C("; exponent notation from 1e21 up"),
    lit("999999999999999999999.0", "1e+21"),
    lit("1e21", "1e+21"),
    lit("-1e21", "-1e+21"),
    lit("12e20", "1.2e+21"),
    lit("123456789012345678901234567890.0", "1.2345678901234568e+29"),
    lit("1.5e300", "1.5e+300"),
    lit("1e308", "1e+308"),
    lit("1.7976931348623157e308", "1.7976931348623157e+308"),
    C("; small magnitudes: plain down to 1e-6, 1e-7 in exponent notation"),
    lit("1e-5", "0.00001"),
    lit("2.5e-5", "0.000025"),
    lit("1e-6", "0.000001"),
    lit("0.000001234", "0.000001234"),
    lit("1e-7", "1e-7"),
    lit("123e-20", "1.23e-18"),
    lit("-2.5e-8", "-2.5e-8"),
    lit("2.2250738585072014e-308", "2.2250738585072014e-308"),
    lit("5e-324", "5e-324"),
    C("; zeros"),
    lit("0.0", "0.0"),
    lit("+0.0", "0.0"),
    lit("-0.0", "-0.0"),
    lit("-0e5", "-0.0"),
    lit("[1.0 -0.0 1e21 2.50]", "[1.0 -0.0 1e+21 2.5]"),
    C("; -- strings"),
    lit(r'"\x01"', r'"\x01"'),
    lit(r'"\x1F"', r'"\x1f"'),
    lit(r'"\x7f"', r'"\x7f"'),
    lit(r'"\x7F"', r'"\x7f"'),
    lit(r'"\0"', r'"\x00"'),
    lit(r'"\x0b\x0c\x1b[0m"', r'"\x0b\x0c\x1b[0m"'),
    lit(r'"\x00\x0a\x09\x0d"', r'"\x00\n\t\r"'),
    lit('"tab\traw"', r'"tab\traw"'),
    lit(r'"\x22\x5c"', r'"\"\\"'),
    lit(r'"\x20~"', '" ~"'),
    lit(r'"\xc3\xa9t\xc3\xa9"', '"été"'),
    lit('"✓ ok"', '"✓ ok"'),
    C("; -- lists: single spaces, empty ones of each kind"),
    lit("'()", "()"),
    lit("[]", "[]"),
    lit("{}", "{}"),
    lit("'[[] {} ()]", "[[] {} ()]"),
    lit("[  a\n\t  b  ]", "[a b]"),
    lit("'(a (b [c {d}]) \"e\")", "(a (b [c {d}]) \"e\")"),
    lit("{(core/util/log \"x\") [y]}", "{(core/util/log \"x\") [y]}"),
    C("; -- quote and error objects"),
    lit("''x", "'x"),
    lit("'''x", "''x"),
    lit("''(a b)", "'(a b)"),
    lit("'('a '(b) '[] @x @\"m\" @(1))", "('a '(b) '[] @x @\"m\" @(1))"),
    T("@x", R("@x")),
    T("@42", R("@42")),
    T("@(1 2)", R("@(1 2)")),
    T("@[a]", R("@[a]")),
    T('@""', R('@""')),
    T(r'@"line\nbreak \"q\""', R(r'@"line\nbreak \"q\""')),
    T("'@x", R("@x")),
    lit("[@\"kept\" '@\"too\"]", "[@\"kept\" '@\"too\"]"),
]

# ---------------------------------------------------------------------------
FILES["eval"] = [
    C("; Evaluation (SPEC.md section 4): literals, quote, errors, $result across forms, context"),
    C("; variables, unknown commands, argument counts of all twelve commands, left-to-right"),
    C("; argument errors, and core/expr/eval on strings, bodies, call lists and other values."),
    C("; -- $result: each form of a transcript is a request on processor 0, whose context persists"),
    T("$result", R("nil")),
    T("42", R("42")),
    T("$result", R("42")),
    T('"text"', R('"text"')),
    T("$result", R('"text"')),
    T("(core/kv/set a 1)", R("true")),
    T("$result", R("true")),
    T("'(x y)", R("(x y)")),
    C("; the value is handed over as it is, not evaluated again"),
    T("$result", R("(x y)")),
    T("(core/kv/get a)", R("1")),
    T('(core/kv/set sr (core/expr/eval "$result"))', R("true")),
    T("(core/kv/get sr)", R("1")),
    C("; -- literals"),
    lit("-7", "-7"),
    lit("2.50", "2.5"),
    lit('"s"', '"s"'),
    lit("sym", "sym"),
    lit("core/kv/set", "core/kv/set"),
    lit("true", "true"),
    lit("[a (b) $c (core/util/log \"not run\")]", "[a (b) $c (core/util/log \"not run\")]"),
    lit("{(core/util/log \"not run\") $c}", "{(core/util/log \"not run\") $c}"),
    lit("[]", "[]"),
    lit("{}", "{}"),
    lit("'x", "x"),
    lit("''x", "'x"),
    lit("'$nope", "$nope"),
    lit("'(core/util/log \"quoted, not run\")", "(core/util/log \"quoted, not run\")"),
    C("; -- errors: a quoted one too; an error object is kept only inside a list"),
    T('@"err"', R('@"err"')),
    T("@sym", R("@sym")),
    T("'@\"quoted err\"", R('@"quoted err"')),
    lit('[@"kept"]', '[@"kept"]'),
    lit("'(@\"kept\" 1)", '(@"kept" 1)'),
    T('(core/util/log "a" @"stop" (core/util/log "never"))', R('@"stop"')),
    T('(core/util/log (core/util/log "first") $nope (core/util/log "never"))', L("first"), R('@"unbound variable: $nope"')),
    C("; -- context variables"),
    T("$nope", R('@"unbound variable: $nope"')),
    T("$key", R('@"unbound variable: $key"')),
    T("$data", R('@"unbound variable: $data"')),
    T("$channel", R('@"unbound variable: $channel"')),
    T("$CHANNEL_A", R("A")),
    T("$CHANNEL_B", R("B")),
    T("$CHANNEL_C", R("C")),
    T("$CHANNEL_D", R("D")),
    T("$CHANNEL_E", R("E")),
    T("$CHANNEL_F", R("F")),
    T("$CHANNEL_EXEC", R("EXEC")),
    T("$CHANNEL_G", R('@"unbound variable: $CHANNEL_G"')),
    C("; -- unknown commands; HEAD in canonical form, arguments never evaluated"),
    T("(nope)", R('@"unknown command: nope"')),
    T('(nope (core/util/log "never"))', R('@"unknown command: nope"')),
    T("(core/kv 1)", R('@"unknown command: core/kv"')),
    T("(core/kv/SET a 1)", R('@"unknown command: core/kv/SET"')),
    T("(core/kv/get/ a)", R('@"unknown command: core/kv/get/"')),
    T("(42 1)", R('@"unknown command: 42"')),
    T("(1.50)", R('@"unknown command: 1.5"')),
    T('("str" 1)', R(r'@"unknown command: \"str\""')),
    T("((core/kv/get a))", R('@"unknown command: (core/kv/get a)"')),
    T("([x] 1)", R('@"unknown command: [x]"')),
    T("({x})", R('@"unknown command: {x}"')),
    T("('x)", R("@\"unknown command: 'x\"")),
    C("; -- argument counts"),
    T("(core/kv/set a)", R('@"core/kv/set: expected 2 arguments"')),
    T("(core/kv/set a 1 2)", R('@"core/kv/set: expected 2 arguments"')),
    T("(core/kv/get)", R('@"core/kv/get: expected 1 argument"')),
    T("(core/kv/get a b)", R('@"core/kv/get: expected 1 argument"')),
    T("(core/kv/del)", R('@"core/kv/del: expected 1 argument"')),
    T("(core/kv/del a b)", R('@"core/kv/del: expected 1 argument"')),
    T("(core/kv/exists)", R('@"core/kv/exists: expected 1 argument"')),
    T("(core/kv/exists a b)", R('@"core/kv/exists: expected 1 argument"')),
    T("(core/kv/snx a)", R('@"core/kv/snx: expected 2 arguments"')),
    T("(core/kv/snx a 1 2)", R('@"core/kv/snx: expected 2 arguments"')),
    T("(core/kv/cas a 1)", R('@"core/kv/cas: expected 3 arguments"')),
    T("(core/kv/cas a 1 2 3)", R('@"core/kv/cas: expected 3 arguments"')),
    T('(core/kv/iterate "" 0 10)', R('@"core/kv/iterate: expected 4 arguments"')),
    T('(core/kv/iterate "" 0 10 {} {})', R('@"core/kv/iterate: expected 4 arguments"')),
    T("(core/event/pub A 1)", R('@"core/event/pub: expected 3 arguments"')),
    T("(core/event/pub A 1 2 3)", R('@"core/event/pub: expected 3 arguments"')),
    T("(core/event/sub A 1)", R('@"core/event/sub: expected 3 arguments"')),
    T("(core/event/sub A 1 {} {})", R('@"core/event/sub: expected 3 arguments"')),
    T("(core/expr/eval)", R('@"core/expr/eval: expected 1 argument"')),
    T("(core/expr/eval 1 2)", R('@"core/expr/eval: expected 1 argument"')),
    T("(core/expr/await)", R('@"core/expr/await: expected 3 or 4 arguments"')),
    T("(core/expr/await 1 A)", R('@"core/expr/await: expected 3 or 4 arguments"')),
    T("(core/expr/await 1 A 1 0 0)", R('@"core/expr/await: expected 3 or 4 arguments"')),
    T("(core/util/log)", R('@"core/util/log: expected at least 1 argument"')),
    C("; -- arguments are taken left to right, each evaluated and checked before the next"),
    T("(core/kv/set $nope $nope2)", R('@"unbound variable: $nope"')),
    T('(core/kv/set "" $nope)', R('@"core/kv/set: invalid key length"')),
    T("(core/kv/set 1 $nope)", R('@"core/kv/set: key must be a symbol or string"')),
    T("(core/kv/set k $nope)", R('@"unbound variable: $nope"')),
    T("(core/kv/cas k @\"first\" @\"second\")", R('@"first"')),
    T("(core/event/pub $nope 99999 $nope2)", R('@"unbound variable: $nope"')),
    T("(core/event/pub Z 99999 $nope)", R('@"core/event/pub: invalid channel"')),
    T("(core/event/pub A 99999 $nope)", R('@"core/event/pub: topic must be an integer 0..65535"')),
    T("(core/event/pub A 1 $nope)", R('@"unbound variable: $nope"')),
    T("(core/kv/iterate 5 -1 -1 5)", R('@"core/kv/iterate: key must be a symbol or string"')),
    T('(core/kv/iterate "" -1 -1 5)', R('@"core/kv/iterate: offset must be a non-negative integer"')),
    T('(core/kv/iterate "" 0 -1 5)', R('@"core/kv/iterate: limit must be a non-negative integer"')),
    T('(core/kv/iterate "" 0 0 5)', R('@"core/kv/iterate: expected a body"')),
    C("; -- core/expr/eval: a string runs as a request, a body or call list runs, others come back"),
    E("1 2 3", R("3")),
    E("", R("nil")),
    T("(core/expr/eval {1 2})", R("2")),
    T("(core/expr/eval {})", R("nil")),
    T("(core/expr/eval '(core/kv/get a))", R("1")),
    T("(core/expr/eval '(nope 1))", R('@"unknown command: nope"')),
    T('(core/expr/eval [1 (core/util/log "not run")])', R('[1 (core/util/log "not run")]')),
    T("(core/expr/eval 'sym)", R("sym")),
    T("(core/expr/eval 2.5)", R("2.5")),
    T("(core/expr/eval ''(a))", R("'(a)")),
    T('(core/expr/eval "\\"a string\\"")', R('"a string"')),
    T("(core/expr/eval $nope)", R('@"unbound variable: $nope"')),
    T("(core/expr/eval (core/kv/get nothing))", R('@"core/kv/get: key not found"')),
    E('(core/util/log "one") @"stop" (core/util/log "two")', L("one"), R('@"stop"')),
    E('(core/kv/get a) (nope) (core/util/log "never")', R('@"unknown command: nope"')),
    C("; a request stops at its first error; the text is parsed whole first"),
    E('(core/util/log "never") (', PE("unclosed (", 24)),
    C("; eval runs in its caller's context: the text's forms see and set $result"),
    T("8", R("8")),
    E("$result", R("8")),
    E("9 $result", R("9")),
    E('"nested" (core/expr/eval "$result")', R('"nested"')),
    T('(core/kv/set prog "(core/util/log \\"stored text ran\\") (core/kv/get a)")', R("true")),
    T("(core/expr/eval (core/kv/get prog))", L("stored text ran"), R("1")),
    T('(core/kv/set job {(core/util/log "stored body ran") 99})', R("true")),
    T("(core/expr/eval (core/kv/get job))", L("stored body ran"), R("99")),
    T("(core/kv/set call '(core/kv/get a))", R("true")),
    T("(core/kv/get call)", R("(core/kv/get a)")),
    T("(core/expr/eval (core/kv/get call))", R("1")),
    T("(core/expr/eval (core/expr/eval '(core/kv/get call)))", R("1")),
]

# ---------------------------------------------------------------------------
K255 = "x" * 255
K256 = "x" * 256
FILES["kv-keys"] = [
    C("; Key arguments (SPEC.md section 5): a symbol is the key as written, a string is its"),
    C("; bytes, anything else is evaluated and must give a symbol or string; 1..255 bytes."),
    T("(core/kv/set plain 1)", R("true")),
    T('(core/kv/get "plain")', R("1")),
    T("(core/kv/get plain)", R("1")),
    T('(core/kv/set "with space" 2)', R("true")),
    T('(core/kv/get "with space")', R("2")),
    T("(core/kv/exists with)", R("false")),
    T("(core/kv/set Plain 3)", R("true")),
    T("(core/kv/get Plain)", R("3")),
    T("(core/kv/get plain)", R("1")),
    C("; -- evaluated keys"),
    T("(core/kv/set 'quoted 4)", R("true")),
    T("(core/kv/get quoted)", R("4")),
    T("(core/kv/set $CHANNEL_B 5)", R("true")),
    T("(core/kv/get B)", R("5")),
    T(r'(core/kv/get "\x42")', R("5")),
    T("(core/kv/set (core/kv/exists nothing) 6)", R("true")),
    T("(core/kv/get false)", R("6")),
    T('(core/kv/set kname "target")', R("true")),
    T("(core/kv/set (core/kv/get kname) 7)", R("true")),
    T("(core/kv/get target)", R("7")),
    T("(core/kv/set ksym 'target)", R("true")),
    T("(core/kv/get (core/kv/get ksym))", R("7")),
    T("(core/kv/set $nope 1)", R('@"unbound variable: $nope"')),
    T('(core/kv/get @"bad key")', R('@"bad key"')),
    T("(core/kv/snx (a b) 1)", R('@"unknown command: a"')),
    C("; -- results that are not a symbol or string"),
    T("(core/kv/set ''q 1)", R('@"core/kv/set: key must be a symbol or string"')),
    T("(core/kv/set 42 1)", R('@"core/kv/set: key must be a symbol or string"')),
    T("(core/kv/get 1.5)", R('@"core/kv/get: key must be a symbol or string"')),
    T("(core/kv/del [a])", R('@"core/kv/del: key must be a symbol or string"')),
    T("(core/kv/exists {a})", R('@"core/kv/exists: key must be a symbol or string"')),
    T("(core/kv/snx 1.0 1)", R('@"core/kv/snx: key must be a symbol or string"')),
    T("(core/kv/cas '(a b) 1 2)", R('@"core/kv/cas: key must be a symbol or string"')),
    T("(core/kv/iterate 42 0 1 {})", R('@"core/kv/iterate: key must be a symbol or string"')),
    C("; -- keys are byte strings"),
    T('(core/kv/set "$dollar" 8)', R("true")),
    T('(core/kv/get "$dollar")', R("8")),
    T("(core/kv/exists $dollar)", R('@"unbound variable: $dollar"')),
    T(r'(core/kv/set "a\0b" 9)', R("true")),
    T(r'(core/kv/get "a\x00b")', R("9")),
    T('(core/kv/exists "a")', R("false")),
    T(r'(core/kv/set "\xc3\xa9" 10)', R("true")),
    T("(core/kv/get é)", R("10")),
    T(r'(core/kv/set "\xff" 11)', R("true")),
    T(r'(core/kv/get "\xFF")', R("11")),
    C("; -- key length: empty and 256 bytes fail in every command, 255 bytes are fine"),
    T('(core/kv/set "" 1)', R('@"core/kv/set: invalid key length"')),
    T('(core/kv/get "")', R('@"core/kv/get: invalid key length"')),
    T('(core/kv/del "")', R('@"core/kv/del: invalid key length"')),
    T('(core/kv/exists "")', R('@"core/kv/exists: invalid key length"')),
    T('(core/kv/snx "" 1)', R('@"core/kv/snx: invalid key length"')),
    T('(core/kv/cas "" 1 2)', R('@"core/kv/cas: invalid key length"')),
    T('(core/kv/set "" (core/util/log "never"))', R('@"core/kv/set: invalid key length"')),
    T('(core/kv/set empty-name "")', R("true")),
    T("(core/kv/set (core/kv/get empty-name) 1)", R('@"core/kv/set: invalid key length"')),
    T("(core/kv/set %s 255)" % K255, R("true")),
    T('(core/kv/get "%s")' % K255, R("255")),
    T("(core/kv/set %s 256)" % K256, R('@"core/kv/set: invalid key length"')),
    T('(core/kv/set "%s" 256)' % K256, R('@"core/kv/set: invalid key length"')),
    T("(core/kv/get %s)" % K256, R('@"core/kv/get: invalid key length"')),
    T("(core/kv/del %s)" % K256, R('@"core/kv/del: invalid key length"')),
    T("(core/kv/exists %s)" % K256, R('@"core/kv/exists: invalid key length"')),
    T("(core/kv/snx %s 1)" % K256, R('@"core/kv/snx: invalid key length"')),
    T("(core/kv/cas %s 1 2)" % K256, R('@"core/kv/cas: invalid key length"')),
    C("; lengths are in bytes: 127 two-byte characters and one more byte make 255"),
    T('(core/kv/set "%s" 1)' % ("é" * 127 + "a"), R("true")),
    T('(core/kv/set "%s" 1)' % ("é" * 128), R('@"core/kv/set: invalid key length"')),
    C("; an iterate prefix is a key too (\"\" allowed)"),
    T('(core/kv/iterate "%s" 0 1 {})' % K256, R('@"core/kv/iterate: invalid key length"')),
    T("(core/kv/iterate %s 0 10 {(core/util/log \"found\" $key)})" % K255, L("found " + K255), R("true")),
]

# ---------------------------------------------------------------------------
FILES["kv-ops"] = [
    C("; The K/V commands (SPEC.md section 5): set/get keep the type, del, exists, snx, cas"),
    C("; and structural equality (same type and contents; reals by their bits)."),
    C("; -- values keep their type"),
    T("(core/kv/set int 42)", R("true")),
    T("(core/kv/get int)", R("42")),
    T("(core/kv/set neg -9223372036854775808)", R("true")),
    T("(core/kv/get neg)", R("-9223372036854775808")),
    T("(core/kv/set real 2.50)", R("true")),
    T("(core/kv/get real)", R("2.5")),
    T("(core/kv/set negzero -0.0)", R("true")),
    T("(core/kv/get negzero)", R("-0.0")),
    T(r'(core/kv/set str "a \"quoted\" \\ value\n")', R("true")),
    T("(core/kv/get str)", R(r'"a \"quoted\" \\ value\n"')),
    T("(core/kv/set sym abc)", R("true")),
    T("(core/kv/get sym)", R("abc")),
    T('(core/kv/set sstr "abc")', R("true")),
    T("(core/kv/get sstr)", R('"abc"')),
    T('(core/kv/set data [1 [2 "x"] {y}])', R("true")),
    T("(core/kv/get data)", R('[1 [2 "x"] {y}]')),
    T("(core/kv/set call '(core/util/log \"stored, not run\"))", R("true")),
    T("(core/kv/get call)", R('(core/util/log "stored, not run")')),
    T('(core/kv/set body {(core/util/log "not run") $nope})', R("true")),
    T("(core/kv/get body)", R('{(core/util/log "not run") $nope}')),
    T("(core/kv/set quoted ''x)", R("true")),
    T("(core/kv/get quoted)", R("'x")),
    T('(core/kv/set errlist [@"kept"])', R("true")),
    T("(core/kv/get errlist)", R('[@"kept"]')),
    T("(core/kv/set empty [])", R("true")),
    T("(core/kv/get empty)", R("[]")),
    T("(core/kv/set emptyb {})", R("true")),
    T("(core/kv/get emptyb)", R("{}")),
    T("(core/kv/set emptyc '())", R("true")),
    T("(core/kv/get emptyc)", R("()")),
    T("(core/kv/set nilv nil)", R("true")),
    T("(core/kv/get nilv)", R("nil")),
    T("(core/kv/set copy (core/kv/get data))", R("true")),
    T("(core/kv/get copy)", R('[1 [2 "x"] {y}]')),
    T('(core/kv/set int "now a string")', R("true")),
    T("(core/kv/get int)", R('"now a string"')),
    C("; -- a value that evaluates to an error is not stored"),
    T('(core/kv/set bad @"not stored")', R('@"not stored"')),
    T("(core/kv/exists bad)", R("false")),
    T("(core/kv/set bad '@\"quoted error\")", R('@"quoted error"')),
    T("(core/kv/exists bad)", R("false")),
    T("(core/kv/set bad $nope)", R('@"unbound variable: $nope"')),
    T("(core/kv/exists bad)", R("false")),
    T('(core/kv/set logged (core/util/log "value evaluated"))', L("value evaluated"), R("true")),
    T("(core/kv/get logged)", R("true")),
    C("; -- del and exists"),
    T("(core/kv/exists sym)", R("true")),
    T("(core/kv/del sym)", R("true")),
    T("(core/kv/del sym)", R("true")),
    T("(core/kv/exists sym)", R("false")),
    T("(core/kv/get sym)", R('@"core/kv/get: key not found"')),
    T("(core/kv/del never-existed)", R("true")),
    T("(core/kv/exists never-existed)", R("false")),
    C("; -- snx: evaluates V, stores it only if K is missing"),
    T('(core/kv/snx lock "holder-1")', R("true")),
    T('(core/kv/snx lock "holder-2")', R("false")),
    T("(core/kv/get lock)", R('"holder-1"')),
    T('(core/kv/snx lock (core/util/log "V is evaluated anyway"))', L("V is evaluated anyway"), R("false")),
    T("(core/kv/get lock)", R('"holder-1"')),
    T("(core/kv/del lock)", R("true")),
    T("(core/kv/snx lock [new])", R("true")),
    T("(core/kv/get lock)", R("[new]")),
    T('(core/kv/snx lock2 @"err")', R('@"err"')),
    T("(core/kv/exists lock2)", R("false")),
    C("; -- cas: evaluates both, swaps only when K exists and equals EXPECTED"),
    T('(core/kv/set temp "waiting")', R("true")),
    T('(core/kv/cas temp "waiting" "running")', R("true")),
    T("(core/kv/get temp)", R('"running"')),
    T('(core/kv/cas temp "waiting" "done")', R("false")),
    T("(core/kv/get temp)", R('"running"')),
    T('(core/kv/cas nokey 1 (core/util/log "NEW is evaluated anyway"))', L("NEW is evaluated anyway"), R("false")),
    T("(core/kv/exists nokey)", R("false")),
    T("(core/kv/cas nokey nil 1)", R("false")),
    T("(core/kv/exists nokey)", R("false")),
    T("(core/kv/set casv 1)", R("true")),
    T('(core/kv/cas casv @"e" 2)', R('@"e"')),
    T('(core/kv/cas casv 1 @"e2")', R('@"e2"')),
    T("(core/kv/get casv)", R("1")),
    C("; -- equality: integer vs string vs real"),
    T("(core/kv/set n 10)", R("true")),
    T('(core/kv/cas n "10" 11)', R("false")),
    T("(core/kv/cas n 10.0 11)", R("false")),
    T("(core/kv/cas n 10 11)", R("true")),
    T("(core/kv/get n)", R("11")),
    T("(core/kv/set r 1.0)", R("true")),
    T("(core/kv/cas r 1 2.0)", R("false")),
    T("(core/kv/cas r 1. 2.0)", R("true")),
    T("(core/kv/get r)", R("2.0")),
    T("(core/kv/set z 0.0)", R("true")),
    T("(core/kv/cas z -0.0 1)", R("false")),
    T("(core/kv/cas z 0.0 1)", R("true")),
    T("(core/kv/set big 9223372036854775807)", R("true")),
    T("(core/kv/cas big 9223372036854775807 0)", R("true")),
    C("; symbols vs strings, bytes vs escapes, case"),
    T("(core/kv/set s abc)", R("true")),
    T('(core/kv/cas s "abc" x)', R("false")),
    T("(core/kv/cas s abc x)", R("true")),
    T("(core/kv/get s)", R("x")),
    T('(core/kv/set ss "s")', R("true")),
    T("(core/kv/cas ss 's 1)", R("false")),
    T('(core/kv/set sA "A")', R("true")),
    T('(core/kv/cas sA "a" 1)', R("false")),
    T(r'(core/kv/set u "\xc3\xa9")', R("true")),
    T('(core/kv/cas u "é" 1)', R("true")),
    T("(core/kv/set nn nil)", R("true")),
    T("(core/kv/cas nn nil 1)", R("true")),
    C("; lists: kind, length, order and element types all count"),
    T("(core/kv/set l2 [1 2])", R("true")),
    T("(core/kv/cas l2 '(1 2) x)", R("false")),
    T("(core/kv/cas l2 {1 2} x)", R("false")),
    T("(core/kv/cas l2 [1 2.0] x)", R("false")),
    T("(core/kv/cas l2 [1 2 3] x)", R("false")),
    T("(core/kv/cas l2 [2 1] x)", R("false")),
    T('(core/kv/cas l2 ["1" 2] x)', R("false")),
    T("(core/kv/cas l2 [1 2] y)", R("true")),
    T("(core/kv/get l2)", R("y")),
    T('(core/kv/set ls [1 "a" [b {c}]])', R("true")),
    T('(core/kv/cas ls [1 "a" [b {c}]] ok)', R("true")),
    T("(core/kv/set e1 [])", R("true")),
    T("(core/kv/cas e1 {} 1)", R("false")),
    T("(core/kv/cas e1 [] 1)", R("true")),
    T("(core/kv/set bd {(x) y})", R("true")),
    T("(core/kv/cas bd {(x) y} z)", R("true")),
    T("(core/kv/set cl '(x y))", R("true")),
    T("(core/kv/cas cl '(x y) z)", R("true")),
    T("(core/kv/set q ''x)", R("true")),
    T("(core/kv/cas q 'x 1)", R("false")),
    T("(core/kv/cas q ''x 1)", R("true")),
    T('(core/kv/set el [@"x"])', R("true")),
    T('(core/kv/cas el [@"y"] 1)', R("false")),
    T('(core/kv/cas el [@"x"] 1)', R("true")),
    T("(core/kv/get el)", R("1")),
]

# ---------------------------------------------------------------------------
A1022 = "a" * 1022
FILES["kv-size"] = [
    C("; MAX_VALUE (SPEC.md sections 5 and 9): a value's canonical form may be 1024 bytes, not"),
    C("; 1025. The canonical form counts, not the source text: quotes and escapes as printed."),
    C("; -- a string of 1022 bytes prints as 1024 bytes"),
    T('(core/kv/set v1024 "%s")' % A1022, R("true")),
    T("(core/kv/get v1024)", R('"%s"' % A1022)),
    T('(core/kv/set v1025 "%s")' % ("a" * 1023), R('@"core/kv/set: value too large"')),
    T("(core/kv/exists v1025)", R("false")),
    T("(core/kv/set v1024 (core/kv/get v1024))", R("true")),
    C("; -- a newline prints as two bytes"),
    T('(core/kv/set vesc "%s\\n")' % ("a" * 1020), R("true")),
    T('(core/kv/set vesc2 "%s\\n")' % ("a" * 1021), R('@"core/kv/set: value too large"')),
    T("(core/kv/exists vesc2)", R("false")),
    C("; -- 4-byte escapes in the source print as one byte each"),
    T('(core/kv/set vhex "%s")' % ("\\x61" * 1022), R("true")),
    T("(core/kv/cas vhex v1024 1)", R("false")),
    T("(core/kv/cas vhex (core/kv/get v1024) hex-was-equal)", R("true")),
    T("(core/kv/get vhex)", R("hex-was-equal")),
    C("; -- lists: brackets and separators count"),
    T('(core/kv/set vlist ["%s"])' % ("b" * 1020), R("true")),
    T('(core/kv/set vlist2 ["%s"])' % ("b" * 1021), R('@"core/kv/set: value too large"')),
    C("; 341 reals written .5 (1024 bytes of source) print as 0.5 (1365 bytes)"),
    T("(core/kv/set vhalf [%s])" % " ".join([".5"] * 341), R('@"core/kv/set: value too large"')),
    T("(core/kv/exists vhalf)", R("false")),
    C("; -- symbols"),
    T("(core/kv/set vsym %s)" % ("s" * 1024), R("true")),
    T("(core/kv/set vsym2 %s)" % ("s" * 1025), R('@"core/kv/set: value too large"')),
    C("; -- snx checks the size too"),
    T('(core/kv/snx vsnx "%s")' % ("c" * 1023), R('@"core/kv/snx: value too large"')),
    T("(core/kv/exists vsnx)", R("false")),
]

# ---------------------------------------------------------------------------
ALLKEYS = ["K", "j", "k1", "k10", "k2", "k9", "k:a", "kZ", "ka", "l"]
FILES["iterate"] = [
    C("; core/kv/iterate (SPEC.md sections 4 and 5): bytewise order, the window cut at the start,"),
    C("; keys deleted or inserted during the walk, $key as a string, $result in steps, nested"),
    C("; iterates shadowing $key, errors stopping the walk, and argument checks."),
    T("(core/kv/set k1 1)", R("true")),
    T("(core/kv/set k10 10)", R("true")),
    T("(core/kv/set k2 2)", R("true")),
    T("(core/kv/set k9 9)", R("true")),
    T('(core/kv/set k:a "a")', R("true")),
    T("(core/kv/set kZ Z)", R("true")),
    T("(core/kv/set ka a)", R("true")),
    T("(core/kv/set j 0)", R("true")),
    T("(core/kv/set l 0)", R("true")),
    T("(core/kv/set K 0)", R("true")),
    C("; -- bytewise order; \"\" is every key"),
    T('(core/kv/iterate "" 0 100 {(core/util/log $key)})', *[L(k) for k in ALLKEYS], R("true")),
    T("(core/kv/iterate k 0 100 {(core/util/log $key (core/kv/get $key))})",
      L("k1 1"), L("k10 10"), L("k2 2"), L("k9 9"), L("k:a a"), L("kZ Z"), L("ka a"), R("true")),
    C("; -- OFFSET and LIMIT cut a window"),
    T('(core/kv/iterate "k" 2 3 {(core/util/log $key)})', L("k2"), L("k9"), L("k:a"), R("true")),
    T('(core/kv/iterate "k" 6 5 {(core/util/log $key)})', L("ka"), R("true")),
    T('(core/kv/iterate "k" 7 5 {(core/util/log $key)})', R("true")),
    T('(core/kv/iterate "k" 0 0 {(core/util/log $key)})', R("true")),
    T('(core/kv/iterate "k" 9223372036854775807 9223372036854775807 {(core/util/log $key)})', R("true")),
    T('(core/kv/iterate "k" 5 9223372036854775807 {(core/util/log $key)})', L("kZ"), L("ka"), R("true")),
    T('(core/kv/iterate "" 0 2 {(core/util/log $key)})', L("K"), L("j"), R("true")),
    T('(core/kv/iterate "" 8 100 {(core/util/log $key)})', L("ka"), L("l"), R("true")),
    C("; -- the prefix is a key argument"),
    T("(core/kv/iterate k1 0 10 {(core/util/log $key)})", L("k1"), L("k10"), R("true")),
    T('(core/kv/iterate "k10" 0 10 {(core/util/log $key)})', L("k10"), R("true")),
    T('(core/kv/iterate "k100" 0 10 {(core/util/log $key)})', R("true")),
    T('(core/kv/iterate "K" 0 10 {(core/util/log $key)})', L("K"), R("true")),
    C("; -- $key is a string; the body's value is dropped"),
    T('(core/kv/iterate "k" 6 1 {(core/kv/set last $key) 42})', R("true")),
    T("(core/kv/get last)", R('"ka"')),
    C("; -- $result: a step sees the caller's until its own first form completes"),
    T('"before"', R('"before"')),
    T('(core/kv/iterate "k1" 0 10 {(core/util/log "sees" $result) 9})', L("sees before"), L("sees before"), R("true")),
    T("$result", R("true")),
    T('(core/kv/iterate "k1" 0 10 {9 (core/util/log "sees" $result)})', L("sees 9"), L("sees 9"), R("true")),
    C("; a step's own $result does not carry over to the next step"),
    T('(core/kv/iterate "k1" 0 10 {(core/util/log $key $result) (core/kv/get $key)})', L("k1 true"), L("k10 true"), R("true")),
    C("; -- keys deleted before their turn are skipped; the window does not move"),
    T('(core/kv/iterate "k" 0 3 {(core/util/log "visit" $key) (core/kv/del k10)})', L("visit k1"), L("visit k2"), R("true")),
    T("(core/kv/exists k10)", R("false")),
    C("; -- keys inserted during the walk are not visited"),
    T('(core/kv/iterate "k" 0 100 {(core/util/log "visit" $key) (core/kv/set k15 15) (core/kv/set kz 0)})',
      L("visit k1"), L("visit k2"), L("visit k9"), L("visit k:a"), L("visit kZ"), L("visit ka"), R("true")),
    T('(core/kv/iterate "k1" 0 10 {(core/util/log $key)})', L("k1"), L("k15"), R("true")),
    T('(core/kv/iterate "k" 0 100 {(core/kv/del $key)})', R("true")),
    T('(core/kv/iterate "" 0 100 {(core/util/log $key)})', L("K"), L("j"), L("l"), L("last"), R("true")),
    C("; -- nested iterates: the inner one shadows $key, the outer one's comes back"),
    T("(core/kv/set n1 1)", R("true")),
    T("(core/kv/set n2 2)", R("true")),
    T("(core/kv/set m1 1)", R("true")),
    T("(core/kv/set m2 2)", R("true")),
    T('(core/kv/iterate "n" 0 10 {(core/kv/iterate "m" 0 10 {(core/util/log "inner" $key)}) (core/util/log "outer" $key)})',
      L("inner m1"), L("inner m2"), L("outer n1"), L("inner m1"), L("inner m2"), L("outer n2"), R("true")),
    T('(core/kv/iterate "n" 0 1 {"outer step value" (core/kv/iterate "m" 0 1 {(core/util/log $key "sees" $result)})})',
      L("m1 sees outer step value"), R("true")),
    T("(core/kv/set p:a 1)", R("true")),
    T("(core/kv/set p:a:1 2)", R("true")),
    T("(core/kv/set p:b 3)", R("true")),
    T('(core/kv/iterate "p:" 0 10 {(core/kv/iterate $key 0 10 {(core/util/log $key)})})',
      L("p:a"), L("p:a:1"), L("p:a:1"), L("p:b"), R("true")),
    C("; -- an error in the body stops the walk and is returned"),
    T('(core/kv/iterate "n" 0 10 {(core/util/log "step" $key) (core/kv/get missing)})', L("step n1"), R('@"core/kv/get: key not found"')),
    T('(core/kv/iterate "n" 0 10 {(core/util/log "step" $key) @"stop here" (core/util/log "never")})', L("step n1"), R('@"stop here"')),
    T('(core/kv/iterate "n" 0 10 {(core/kv/iterate "m" 0 10 {@"inner error"}) (core/util/log "never")})', R('@"inner error"')),
    C("; -- eval inside a step runs in the step's context"),
    T('(core/kv/iterate "n" 0 1 {(core/expr/eval "(core/util/log \\"eval sees\\" $key)")})', L("eval sees n1"), R("true")),
    T("$key", R('@"unbound variable: $key"')),
    C("; -- OFFSET and LIMIT are evaluated"),
    T("(core/kv/set off 1)", R("true")),
    T('(core/kv/iterate "n" (core/kv/get off) (core/kv/get off) {(core/util/log $key)})', L("n2"), R("true")),
    C("; -- argument checks, left to right"),
    T('(core/kv/iterate "n" -1 10 {})', R('@"core/kv/iterate: offset must be a non-negative integer"')),
    T('(core/kv/iterate "n" 1.0 10 {})', R('@"core/kv/iterate: offset must be a non-negative integer"')),
    T('(core/kv/iterate "n" "0" 10 {})', R('@"core/kv/iterate: offset must be a non-negative integer"')),
    T('(core/kv/iterate "n" 0 -1 {})', R('@"core/kv/iterate: limit must be a non-negative integer"')),
    T('(core/kv/iterate "n" 0 "10" {})', R('@"core/kv/iterate: limit must be a non-negative integer"')),
    T('(core/kv/iterate "n" 0 10 (core/util/log "not a body"))', R('@"core/kv/iterate: expected a body"')),
    T('(core/kv/iterate "n" 0 10 [x])', R('@"core/kv/iterate: expected a body"')),
    T('(core/kv/iterate "n" $nope -1 {})', R('@"unbound variable: $nope"')),
    T("(core/kv/iterate $nope 0 10 {})", R('@"unbound variable: $nope"')),
    T('(core/kv/iterate "" 0 10 {})', R("true")),
]

# ---------------------------------------------------------------------------
FILES["events"] = [
    C("; Pub/sub (SPEC.md sections 5 and 6): consumers in subscription order, delivery after the"),
    C("; form that published, in publish order, handlers that publish or subscribe, $channel,"),
    C("; $topic, $data and fresh handler contexts, handler errors, argument checks."),
    T('(core/event/sub $CHANNEL_A 1 {(core/util/log "first:" $data)})', R("true")),
    T('(core/event/sub A 1 {(core/util/log "second:" $data)})', R("true")),
    T('(core/event/pub $CHANNEL_A 1 "hello")', R("true"), L("first: hello"), L("second: hello")),
    T('(core/event/pub A 2 "nobody listens")', R("true")),
    T('(core/event/pub B 1 "other channel")', R("true")),
    T("(core/event/pub A 1 [1 \"two\" 3.50 {x} 'q])", R("true"), L("first: [1 \"two\" 3.5 {x} 'q]"), L("second: [1 \"two\" 3.5 {x} 'q]")),
    C("; -- $channel is the channel symbol, $topic an integer"),
    T("(core/event/sub $CHANNEL_B 7 {(core/util/log $channel $topic $data)})", R("true")),
    T("(core/event/pub B 7 'sym)", R("true"), L("B 7 sym")),
    T('(core/event/pub $CHANNEL_B 7 "str")', R("true"), L("B 7 str")),
    T('(core/event/sub C 0 {(core/util/log "C/0 got topic" $topic)})', R("true")),
    T('(core/event/sub C 65535 {(core/util/log "C/65535 got topic" $topic)})', R("true")),
    T("(core/event/pub C 0 nil)", R("true"), L("C/0 got topic 0")),
    T("(core/event/pub C 65535 nil)", R("true"), L("C/65535 got topic 65535")),
    C("; -- events published by one form are delivered after it, in publish order"),
    T('(core/event/sub D 3 {(core/util/log "D" $data)})', R("true")),
    T('(core/event/sub E 3 {(core/util/log "E" $data)})', R("true")),
    T('(core/event/sub F 3 {(core/util/log "F" $data)})', R("true")),
    T("(core/expr/eval {(core/event/pub F 3 1) (core/event/pub D 3 2) (core/event/pub E 3 3) (core/event/pub F 3 4)})",
      R("true"), L("F 1"), L("D 2"), L("E 3"), L("F 4")),
    T('(core/expr/eval {(core/event/pub $CHANNEL_D 3 "bound") (core/event/pub $CHANNEL_E 3 "names")})',
      R("true"), L("D bound"), L("E names")),
    E('(core/event/pub D 3 "x") (core/util/log "second form of the text")', L("second form of the text"), R("true"), L("D x")),
    C("; the payload is evaluated when published"),
    T('(core/kv/set v "old")', R("true")),
    T('(core/event/sub D 4 {(core/util/log "payload:" $data "store now:" (core/kv/get v))})', R("true")),
    T('(core/util/log "form:" (core/event/pub D 4 (core/kv/get v)) (core/kv/set v "new"))',
      L("form: true true"), R("true"), L("payload: old store now: new")),
    C("; -- a handler's events are delivered after the handlers already given an event"),
    T('(core/event/sub A 10 {(core/util/log "h1" $data) (core/event/pub B 10 "from h1")})', R("true")),
    T('(core/event/sub A 10 {(core/util/log "h2" $data)})', R("true")),
    T('(core/event/sub B 10 {(core/util/log "h3" $data)})', R("true")),
    T('(core/event/pub A 10 "x")', R("true"), L("h1 x"), L("h2 x"), L("h3 from h1")),
    C("; -- a handler that subscribes: the new consumer gets only later events"),
    T('(core/event/sub A 20 {(core/util/log "A20 original" $data) (core/event/sub A 20 {(core/util/log "A20 added" $data)})})', R("true")),
    T("(core/event/pub A 20 1)", R("true"), L("A20 original 1")),
    T("(core/event/pub A 20 2)", R("true"), L("A20 original 2"), L("A20 added 2")),
    T("(core/event/pub A 20 3)", R("true"), L("A20 original 3"), L("A20 added 3"), L("A20 added 3")),
    C("; -- a handler that re-publishes to itself, stopped by an error"),
    T("(core/kv/set gate open)", R("true")),
    T('(core/event/sub A 30 {(core/util/log "tick" $data) (core/kv/get gate) (core/kv/del gate) (core/event/pub A 30 "again")})', R("true")),
    T('(core/event/pub A 30 "first")', R("true"), L("tick first"), L("tick again"), L("error: A/30: core/kv/get: key not found")),
    C("; -- handler errors are logged; the subscription stays; other handlers still run"),
    T('(core/event/sub A 7 {(core/util/log "A7 before") @"boom" (core/util/log "A7 never")})', R("true")),
    T('(core/event/sub A 7 {(core/util/log "A7 second handler")})', R("true")),
    T("(core/event/pub A 7 0)", R("true"), L("A7 before"), L("error: A/7: boom"), L("A7 second handler")),
    T("(core/event/pub A 7 0)", R("true"), L("A7 before"), L("error: A/7: boom"), L("A7 second handler")),
    T('(core/event/sub C 8 {@"say \\"quoted\\""})', R("true")),
    T("(core/event/pub C 8 0)", R("true"), L('error: C/8: say "quoted"')),
    T("(core/event/sub C 9 {(core/kv/get nothing-here)})", R("true")),
    T("(core/event/pub C 9 0)", R("true"), L("error: C/9: core/kv/get: key not found")),
    C("; -- a handler starts in a fresh context"),
    T("(core/event/sub B 8 {(core/util/log $key)})", R("true")),
    T("(core/event/pub B 8 0)", R("true"), L("error: B/8: unbound variable: $key")),
    T('(core/event/sub B 9 {(core/util/log "at start:" $result) 5 (core/util/log "after a form:" $result)})', R("true")),
    T('"not seen by the handler"', R('"not seen by the handler"')),
    T("(core/event/pub B 9 0)", R("true"), L("at start: nil"), L("after a form: 5")),
    T("(core/kv/set it:a 1)", R("true")),
    T("(core/kv/set it:b 2)", R("true")),
    T('(core/event/sub D 9 {(core/kv/set last-data $data) (core/util/log "D9 got" $data)})', R("true")),
    T('(core/kv/iterate "it:" 0 10 {(core/event/pub D 9 $key)})', R("true"), L("D9 got it:a"), L("D9 got it:b")),
    T("(core/kv/get last-data)", R('"it:b"')),
    C("; -- argument checks"),
    T("(core/event/pub C 65536 nil)", R('@"core/event/pub: topic must be an integer 0..65535"')),
    T("(core/event/pub C -1 nil)", R('@"core/event/pub: topic must be an integer 0..65535"')),
    T("(core/event/pub C 1.0 nil)", R('@"core/event/pub: topic must be an integer 0..65535"')),
    T('(core/event/pub C "1" nil)', R('@"core/event/pub: topic must be an integer 0..65535"')),
    T("(core/event/pub c 1 nil)", R('@"core/event/pub: invalid channel"')),
    T('(core/event/pub "A" 1 nil)', R('@"core/event/pub: invalid channel"')),
    T("(core/event/pub G 1 nil)", R('@"core/event/pub: invalid channel"')),
    T("(core/event/pub 1 1 nil)", R('@"core/event/pub: invalid channel"')),
    T("(core/event/pub $CHANNEL_G 1 nil)", R('@"unbound variable: $CHANNEL_G"')),
    T("(core/event/sub G 1 {})", R('@"core/event/sub: invalid channel"')),
    T("(core/event/sub EXEC 0 {})", R('@"core/event/sub: invalid channel"')),
    T("(core/event/sub $CHANNEL_EXEC 0 {})", R('@"core/event/sub: invalid channel"')),
    T("(core/event/sub A 65536 {})", R('@"core/event/sub: topic must be an integer 0..65535"')),
    T("(core/event/sub A -1 {})", R('@"core/event/sub: topic must be an integer 0..65535"')),
    T('(core/event/sub A 1 (core/util/log "not a body"))', R('@"core/event/sub: expected a body"')),
    T("(core/event/sub A 1 [x])", R('@"core/event/sub: expected a body"')),
    T("(core/event/sub Z 99999 (x))", R('@"core/event/sub: invalid channel"')),
    T("(core/event/sub A 99999 (x))", R('@"core/event/sub: topic must be an integer 0..65535"')),
    T('(core/event/pub A 1 @"payload error")', R('@"payload error"')),
    T("(core/event/pub A 1 $nope)", R('@"unbound variable: $nope"')),
    C("; none of the failed forms published or subscribed anything"),
    T('(core/event/pub A 1 "still two handlers")', R("true"), L("first: still two handlers"), L("second: still two handlers")),
]

# ---------------------------------------------------------------------------
FILES["exec"] = [
    C("; The EXEC channel (SPEC.md section 5): a string, body or call list published on"),
    C("; $CHANNEL_EXEC topic N becomes a request for processor N (only processor 0 exists);"),
    C("; its result is dropped and an error in it is logged as error: EXEC/N: MESSAGE."),
    T('(core/event/pub $CHANNEL_EXEC 0 "(core/util/log \\"exec string\\")")', R("true"), L("exec string")),
    T('(core/event/pub EXEC 0 {(core/util/log "exec body") (core/util/log "second form")})', R("true"), L("exec body"), L("second form")),
    T("(core/event/pub EXEC 0 '(core/util/log \"exec call list\"))", R("true"), L("exec call list")),
    T('(core/event/pub EXEC 0 "(core/kv/set from-exec 1) 42")', R("true")),
    T("(core/kv/get from-exec)", R("1")),
    T('(core/event/pub EXEC 0 "")', R("true")),
    T("(core/event/pub EXEC 0 {})", R("true")),
    C("; -- processor 0 runs its requests one at a time: this form first"),
    T('(core/expr/eval {(core/event/pub EXEC 0 "(core/util/log \\"the request runs after the form\\")") (core/util/log "the form runs first")})',
      L("the form runs first"), R("true"), L("the request runs after the form")),
    T('(core/expr/eval {(core/event/pub EXEC 0 "(core/util/log \\"one\\")") (core/event/pub EXEC 0 "(core/util/log \\"two\\")")})',
      R("true"), L("one"), L("two")),
    T('(core/event/pub EXEC 0 {(core/event/pub EXEC 0 {(core/util/log "nested request")}) (core/util/log "outer request")})',
      R("true"), L("outer request"), L("nested request")),
    C("; -- errors in the request are logged"),
    T('(core/event/pub EXEC 0 "(core/kv/get nothing-here)")', R("true"), L("error: EXEC/0: core/kv/get: key not found")),
    T('(core/event/pub EXEC 0 "(oops")', R("true"), L("error: EXEC/0: parse: unclosed ( at 0")),
    T('(core/event/pub EXEC 0 {(core/util/log "a") @"exec failed" (core/util/log "b")})', R("true"), L("a"), L("error: EXEC/0: exec failed")),
    T('(core/event/pub EXEC 0 "$key")', R("true"), L("error: EXEC/0: unbound variable: $key")),
    T("(core/event/pub EXEC 0 '(nope 1))", R("true"), L("error: EXEC/0: unknown command: nope")),
    C("; -- the payload must be code"),
    T("(core/event/pub EXEC 0 42)", R('@"core/event/pub: EXEC payload must be code"')),
    T("(core/event/pub EXEC 0 4.5)", R('@"core/event/pub: EXEC payload must be code"')),
    T('(core/event/pub EXEC 0 [core/util/log "a data list"])', R('@"core/event/pub: EXEC payload must be code"')),
    T("(core/event/pub EXEC 0 'sym)", R('@"core/event/pub: EXEC payload must be code"')),
    T('(core/event/pub EXEC 0 (core/util/log "the payload is evaluated first"))', L("the payload is evaluated first"),
      R('@"core/event/pub: EXEC payload must be code"')),
    C("; -- the topic must name an existing processor"),
    T('(core/event/pub EXEC 1 "(core/util/log \\"not run\\")")', R('@"core/event/pub: no processor 1"')),
    T('(core/event/pub $CHANNEL_EXEC 7 "1")', R('@"core/event/pub: no processor 7"')),
    T('(core/event/pub EXEC 8 "1")', R('@"core/event/pub: no processor 8"')),
    T('(core/event/pub EXEC 65535 "1")', R('@"core/event/pub: no processor 65535"')),
    T('(core/event/pub EXEC 65536 "1")', R('@"core/event/pub: topic must be an integer 0..65535"')),
    T('(core/event/pub EXEC -1 "1")', R('@"core/event/pub: topic must be an integer 0..65535"')),
    C("; -- requests and handlers publishing to each other"),
    T('(core/event/sub A 5 {(core/util/log "A5 handler" $data)})', R("true")),
    T('(core/event/pub EXEC 0 "(core/event/pub A 5 \\"from a request\\")")', R("true"), L("A5 handler from a request")),
    T("(core/event/sub B 5 {(core/event/pub EXEC 0 $data)})", R("true")),
    T('(core/event/pub B 5 "(core/util/log \\"request from a handler\\")")', R("true"), L("request from a handler")),
    T("(core/event/pub B 5 42)", R("true"), L("error: B/5: core/event/pub: EXEC payload must be code")),
    T('(core/expr/eval {(core/event/pub A 5 "first") (core/event/pub EXEC 0 "(core/util/log \\"request second\\")")})',
      R("true"), L("A5 handler first"), L("request second")),
]

# ---------------------------------------------------------------------------
FILES["await"] = [
    C("; core/expr/await (SPEC.md section 5) on a virtual clock: timeouts (default 5000 ms),"),
    C("; EXPR's own event, answers from handlers, errors in EXPR, argument checks (CH, TOPIC"),
    C("; and TIMEOUT_MS are taken before EXPR runs), awaits inside handlers."),
    T("(core/expr/await 1 A 1 0)", R('@"core/expr/await: timeout"')),
    T('(core/expr/await (core/util/log "expr runs") C 9)', L("expr runs"), R('@"core/expr/await: timeout"')),
    C("; -- EXPR's own event counts: the first one on (CH, TOPIC) wins"),
    T('(core/expr/await (core/event/pub D 5 "own") D 5)', R('"own"')),
    T('(core/expr/await (core/event/pub D 5 "own") D 5 100)', R('"own"')),
    T('(core/expr/await {(core/event/pub D 6 "first") (core/event/pub D 6 "second")} D 6 100)', R('"first"')),
    T('(core/expr/await {(core/event/pub D 7 "other topic") (core/event/pub D 8 "right")} D 8 100)', R('"right"')),
    T('(core/expr/await (core/event/pub E 8 "other channel") D 8 100)', R('@"core/expr/await: timeout"')),
    T('(core/expr/await (core/event/pub D 9 [1 2.50 "x" {y}]) D 9 10)', R('[1 2.5 "x" {y}]')),
    C("; -- an answer from a handler"),
    T('(core/event/sub A 40 {(core/util/log "serving" $data) (core/event/pub B 40 "answer")})', R("true")),
    T('(core/expr/await (core/event/pub A 40 "q1") B 40 1000)', L("serving q1"), R('"answer"')),
    T('(core/expr/await (core/event/pub $CHANNEL_A 40 "q2") $CHANNEL_B 40)', L("serving q2"), R('"answer"')),
    T('(core/kv/set got (core/expr/await (core/event/pub A 40 "q3") B 40 10))', L("serving q3"), R("true")),
    T("(core/kv/get got)", R('"answer"')),
    C("; -- only events published after listening started count"),
    T('(core/event/pub C 3 "before listening")', R("true")),
    T("(core/expr/await 1 C 3 100)", R('@"core/expr/await: timeout"')),
    C("; -- await runs in its caller's context"),
    T("5", R("5")),
    T("(core/expr/await (core/event/pub A 21 $result) A 21 10)", R("5")),
    T('(core/expr/await {"inner" (core/event/pub A 22 $result)} A 22 10)', R('"inner"')),
    C("; -- other subscribers of the topic get the event as well"),
    T("(core/event/sub B 41 {(core/kv/set also $data)})", R("true")),
    T('(core/expr/await (core/event/pub B 41 "both") B 41 100)', R('"both"')),
    T("(core/kv/get also)", R('"both"')),
    C("; -- an error in EXPR is returned at once"),
    T('(core/expr/await {(core/util/log "a") (core/kv/get nope) (core/util/log "b")} A 1)', L("a"), R('@"core/kv/get: key not found"')),
    T('(core/expr/await @"bad" A 1)', R('@"bad"')),
    T("(core/expr/await $nope A 1)", R('@"unbound variable: $nope"')),
    C("; -- CH, TOPIC and TIMEOUT_MS are checked before EXPR runs"),
    T('(core/expr/await (core/util/log "x") G 1)', R('@"core/expr/await: invalid channel"')),
    T('(core/expr/await (core/util/log "x") EXEC 0)', R('@"core/expr/await: invalid channel"')),
    T('(core/expr/await (core/util/log "x") $CHANNEL_EXEC 0)', R('@"core/expr/await: invalid channel"')),
    T('(core/expr/await (core/util/log "x") A 65536)', R('@"core/expr/await: topic must be an integer 0..65535"')),
    T('(core/expr/await (core/util/log "x") A -1)', R('@"core/expr/await: topic must be an integer 0..65535"')),
    T('(core/expr/await (core/util/log "x") A 1 -1)', R('@"core/expr/await: timeout must be a non-negative integer"')),
    T('(core/expr/await (core/util/log "x") A 1 2.5)', R('@"core/expr/await: timeout must be a non-negative integer"')),
    T('(core/expr/await (core/util/log "x") A 1 "10")', R('@"core/expr/await: timeout must be a non-negative integer"')),
    T('(core/expr/await (core/util/log "x") Z 70000 -1)', R('@"core/expr/await: invalid channel"')),
    T('(core/expr/await (core/util/log "x") A 70000 -1)', R('@"core/expr/await: topic must be an integer 0..65535"')),
    T('(core/expr/await (core/util/log "x") $nope 1)', R('@"unbound variable: $nope"')),
    C("; -- awaits inside handlers: other tasks run while one waits"),
    T('(core/event/sub A 60 {(core/util/log "w1 waiting") (core/util/log "w1 got" (core/expr/await 1 B 60 1000))})', R("true")),
    T('(core/event/sub A 60 {(core/util/log "h2 answers") (core/event/pub B 60 "ping")})', R("true")),
    T("(core/event/pub A 60 0)", R("true"), L("w1 waiting"), L("h2 answers"), L("w1 got ping")),
    T('(core/event/sub A 61 {(core/util/log "waiting") (core/expr/await 1 F 61 10)})', R("true")),
    T("(core/event/pub A 61 0)", R("true"), L("waiting"), L("error: A/61: core/expr/await: timeout")),
    C("; timeouts fall due in virtual-time order: 4999, then the default 5000, then 5001"),
    T("(core/event/sub A 72 {(core/expr/await 1 F 72)})", R("true")),
    T("(core/event/sub A 73 {(core/expr/await 1 F 73 5001)})", R("true")),
    T("(core/event/sub A 74 {(core/expr/await 1 F 74 4999)})", R("true")),
    T("(core/expr/eval {(core/event/pub A 73 0) (core/event/pub A 72 0) (core/event/pub A 74 0)})", R("true"),
      L("error: A/74: core/expr/await: timeout"), L("error: A/72: core/expr/await: timeout"), L("error: A/73: core/expr/await: timeout")),
]

# ---------------------------------------------------------------------------
FILES["log"] = [
    C("; core/util/log (SPEC.md sections 5 and 8): strings raw, other values canonical, joined by"),
    C("; single spaces; a LF in the text continues on the next transcript line without a prefix."),
    T('(core/util/log "plain text")', L("plain text"), R("true")),
    T('(core/util/log "a" "b" "c")', L("a b c"), R("true")),
    T("(core/util/log 1 -2 3.50 -0.0 1e21 1.0)", L("1 -2 3.5 -0.0 1e+21 1.0"), R("true")),
    T("(core/util/log 9223372036854775807 -9223372036854775808)", L("9223372036854775807 -9223372036854775808"), R("true")),
    T('(core/util/log \'sym "str" true nil)', L("sym str true nil"), R("true")),
    T('(core/util/log "1.0" \'1.0 "x y")', L("1.0 1.0 x y"), R("true")),
    T(r'(core/util/log "say \"hi\" \\ back")', L(r'say "hi" \ back'), R("true")),
    T(r'(core/util/log ["say \"hi\"" ' + "'q {b} (c)])", L(r'["say \"hi\"" ' + "'q {b} (c)]"), R("true")),
    T("(core/util/log '(core/kv/get a))", L("(core/kv/get a)"), R("true")),
    T('(core/util/log {x "y"})', L('{x "y"}'), R("true")),
    T("(core/util/log ''x)", L("'x"), R("true")),
    T('(core/util/log [@"kept in a list"])', L('[@"kept in a list"]'), R("true")),
    T("(core/util/log $CHANNEL_A $CHANNEL_EXEC)", L("A EXEC"), R("true")),
    T('(core/util/log "  leading spaces")', L("  leading spaces"), R("true")),
    C("; -- bytes pass through"),
    T('(core/util/log "héllo wörld ✓")', L("héllo wörld ✓"), R("true")),
    T(r'(core/util/log "\xc3\xa9")', L("é"), R("true")),
    T(r'(core/util/log "a\tb")', L("a\tb"), R("true")),
    C("; -- newlines"),
    T(r'(core/util/log "line1\nline2")', L("line1\nline2"), R("true")),
    T('(core/util/log "raw\nnewline" "joined")', L("raw\nnewline joined"), R("true")),
    T(r'(core/util/log "x\n\ny")', L("x\n\ny"), R("true")),
    T(r'(core/util/log ["a\nb"])', L(r'["a\nb"]'), R("true")),
    C("; -- errors and argument count"),
    T('(core/util/log "x" $nope)', R('@"unbound variable: $nope"')),
    T('(core/util/log "x" @"stop")', R('@"stop"')),
    T("(core/util/log)", R('@"core/util/log: expected at least 1 argument"')),
    C("; -- order and return value"),
    T('(core/util/log (core/util/log "inner"))', L("inner"), L("true"), R("true")),
    T('(core/kv/set logged (core/util/log "returns true"))', L("returns true"), R("true")),
    T("(core/kv/get logged)", R("true")),
    T('(core/expr/eval {(core/util/log "one") (core/util/log "two")})', L("one"), L("two"), R("true")),
    T('(core/kv/set k1 "v1")', R("true")),
    T("(core/kv/set k2 [v2])", R("true")),
    T('(core/kv/iterate "k" 0 10 {(core/util/log $key "=" (core/kv/get $key))})', L("k1 = v1"), L("k2 = [v2]"), R("true")),
    C("; -- handler error lines are log lines too"),
    T(r'(core/event/sub A 1 {@"multi\nline"})', R("true")),
    T("(core/event/pub A 1 0)", R("true"), L("error: A/1: multi\nline")),
]

# ---------------------------------------------------------------------------
S_KEYS = [T("(core/kv/set s:%d %d)" % (i, i), R("true")) for i in range(10)]
RUNAWAY = iterate_nested(7, '"s:"', "{1}")  # 10^7 innermost steps: MAX_STEPS comes first
RUNAWAY_BODY = "{" + RUNAWAY + "}"
LONG4 = iterate_nested(4, '"s:"', "{1}")  # 10^4 innermost steps: > STEP_SLICE, < MAX_STEPS
FILES["limits"] = [
    C("; Limits (SPEC.md sections 4, 6 and 9): MAX_DEPTH in evaluation (64 nested calls run, a"),
    C("; call at level 65 fails), MAX_STEPS per task (request, handler or EXEC request),"),
    C("; STEP_SLICE yields that let handlers run inside a long form, QUEUE backpressure."),
    C("; -- depth: a top-level call is level 1; arguments and text an eval runs are one deeper"),
    T(nest_eval(64), R("1")),
    E(nest_eval(63), R("1")),
    E(nest_eval(64), R('@"nesting too deep"')),
    C("; a stored body or text that evals itself hits MAX_DEPTH long before MAX_STEPS"),
    T("(core/kv/set rec {(core/expr/eval (core/kv/get rec))})", R("true")),
    T("(core/expr/eval (core/kv/get rec))", R('@"nesting too deep"')),
    T('(core/kv/set recs "(core/expr/eval (core/kv/get recs))")', R("true")),
    T("(core/expr/eval (core/kv/get recs))", R('@"nesting too deep"')),
    C("; logs at levels 2..64 (63 lines), the log call at level 65 fails"),
    T('(core/kv/set logrec {(core/util/log "level") (core/expr/eval (core/kv/get logrec))})', R("true")),
    T("(core/expr/eval (core/kv/get logrec))", *([L("level")] * 63), R('@"nesting too deep"')),
    C("; -- steps: nested iterates over 10 keys; 7 levels would be 10^7 body runs"),
] + S_KEYS + [
    T(iterate_nested(3, '"s:"', "{1}"), R("true")),
    T(RUNAWAY, R('@"step limit exceeded"')),
    T("(core/kv/get s:9)", R("9")),
    T("(core/event/sub A 1 %s)" % RUNAWAY_BODY, R("true")),
    T("(core/event/pub A 1 0)", R("true"), L("error: A/1: step limit exceeded")),
    T("(core/event/pub EXEC 0 %s)" % RUNAWAY_BODY, R("true"), L("error: EXEC/0: step limit exceeded")),
    C("; -- STEP_SLICE: a form of over 1000 steps yields, and queued events are handed over"),
    T('(core/event/sub B 1 {(core/util/log "handler ran")})', R("true")),
    T('(core/expr/eval {(core/event/pub B 1 0) (core/util/log "short form done")})', L("short form done"), R("true"), L("handler ran")),
    T('(core/expr/eval {(core/event/pub B 1 0) %s (core/util/log "long form done")})' % LONG4,
      L("handler ran"), L("long form done"), R("true")),
    C("; -- 10000 events from one form (with STEP_SLICE yields in between): none is lost and"),
    C(";    handlers run in publish order, so the last payload seen is the last one published"),
    T("(core/event/sub F 9 {(core/kv/set lastseen $data)})", R("true")),
    T(iterate_nested(4, '"s:"', "{(core/event/pub F 9 $key)}"), R("true")),
    T("(core/kv/get lastseen)", R('"s:9"')),
]

# ---------------------------------------------------------------------------
FILES["limits-subs"] = [
    C("; MAX_SUBS (SPEC.md section 9): the board holds 64 subscriptions; the 65th is refused."),
    C("; Nothing else in this file subscribes."),
] + [T("(core/kv/set a%d %d)" % (i, i), R("true")) for i in range(8)] + [
    T('(core/kv/iterate "a" 0 8 {(core/kv/iterate "a" 0 8 {(core/event/sub C 3 {})})})', R("true")),
    T('(core/event/sub C 4 {(core/util/log "never")})', R('@"core/event/sub: too many subscriptions"')),
    T('(core/kv/iterate "a" 0 8 {(core/util/log "try" $key) (core/event/sub C 5 {})})', L("try a0"), R('@"core/event/sub: too many subscriptions"')),
    T("(core/event/pub C 3 0)", R("true")),
    T("(core/event/pub C 4 0)", R("true")),
    T("(core/event/sub C 4 {})", R('@"core/event/sub: too many subscriptions"')),
]

# ---------------------------------------------------------------------------
FILES["ambiguous-parse"] = [
    C("; AMBIGUOUS (SPEC.md section 1). Reading: when the text ends with several things open,"),
    C("; the innermost one (what the parser is inside when the text ends) is reported, at its"),
    C("; opening character; a \\x escape whose second digit is not hex is an invalid escape even"),
    C("; if that character is the closing quote; negative underflow keeps its sign (-0.0)."),
    E("((a", PE("unclosed (", 1)),
    E('(a "b', PE("unclosed string", 3)),
    E("[{", PE("unclosed {", 1)),
    E("('", PE("nothing to quote", 1)),
    E("[" * 64, PE("unclosed [", 63)),
    E('"\\x4"', PE("invalid escape", 1)),
    lit("-1e-400", "-0.0"),
]

FILES["ambiguous-print"] = [
    C("; AMBIGUOUS (SPEC.md section 3). Its parenthesis says plain notation for 1e-7 <= |x|, but"),
    C("; ECMAScript (which it names) and its own example 1e-7 use exponent notation below 1e-6."),
    C("; Reading: ECMAScript, so everything in [1e-7, 1e-6) prints with an exponent."),
    lit("1.5e-7", "1.5e-7"),
    lit("5e-7", "5e-7"),
    lit("9.99e-7", "9.99e-7"),
    lit("-2.5e-7", "-2.5e-7"),
    lit("1.23456789e-7", "1.23456789e-7"),
]

FILES["ambiguous-result"] = [
    C("; AMBIGUOUS (SPEC.md section 4, $result). Readings: a form that ends in an error does not"),
    C("; complete, so $result keeps the value before it; the forms of a text run by eval complete"),
    C("; in the caller's context, so they set its $result even in the middle of a call; an EXEC"),
    C("; request runs in processor 0's persistent context and sets its $result too."),
    T('"kept"', R('"kept"')),
    T('@"failed"', R('@"failed"')),
    T("$result", R('"kept"')),
    T("(core/kv/get missing)", R('@"core/kv/get: key not found"')),
    T("$result", R('"kept"')),
    T("1", R("1")),
    T('(core/util/log $result (core/expr/eval "5") $result)', L("1 5 5"), R("true")),
    T('(core/event/pub EXEC 0 "77")', R("true")),
    T("$result", R("77")),
]

FILES["ambiguous-eval"] = [
    C("; AMBIGUOUS (SPEC.md section 4). Readings: the head of a call is never evaluated, so a"),
    C("; $symbol head is an unknown command as written; the argument count is checked before"),
    C("; any argument is evaluated; a handler error that is not a string is logged in canonical"),
    C("; form (as core/util/log would print it)."),
    T("($CHANNEL_A 1)", R('@"unknown command: $CHANNEL_A"')),
    T('(core/kv/get (core/util/log "not evaluated") b)', R('@"core/kv/get: expected 1 argument"')),
    T("(core/event/sub A 1 {@(1 \"two\")})", R("true")),
    T("(core/event/pub A 1 0)", R("true"), L('error: A/1: (1 "two")')),
]

FILES["ambiguous-scheduling"] = [
    C("; AMBIGUOUS (SPEC.md sections 5 and 6). Readings: at a yield, queued events are handed"),
    C("; over before any timer is considered, so an await with timeout 0 still gets its EXPR's"),
    C("; own event; tasks created at that hand-off run before the yielding task resumes, so a"),
    C("; handler on the awaited topic logs before the await's form returns; an EXEC request"),
    C("; becomes a task when its event is handed over, like a handler, in publish order; an"),
    C("; event published before an await starts listening is not its answer even if it is"),
    C("; still queued when the await starts (the await row's \"published since listening"),
    C("; started\" is read as winning over \"consumers subscribed when it is taken\")."),
    T('(core/expr/await (core/event/pub D 5 "own") D 5 0)', R('"own"')),
    T('(core/event/sub D 6 {(core/util/log "handler saw" $data)})', R("true")),
    T('(core/expr/await (core/event/pub D 6 "x") D 6 100)', L("handler saw x"), R('"x"')),
    T('(core/event/sub A 5 {(core/util/log "A5 handler")})', R("true")),
    T('(core/expr/eval {(core/event/pub EXEC 0 "(core/util/log \\"request first\\")") (core/event/pub A 5 0)})',
      R("true"), L("request first"), L("A5 handler")),
    T('(core/util/log (core/event/pub C 4 "early") (core/expr/await 1 C 4 100))', R('@"core/expr/await: timeout"')),
]

FILES["ambiguous-log"] = [
    C("; AMBIGUOUS (SPEC.md section 8). Reading: the transcript prints \"log: \" + TEXT + LF, so a"),
    C("; text ending in LF leaves an empty line, and empty texts leave trailing spaces."),
    T(r'(core/util/log "ends with a newline\n")', L("ends with a newline\n"), R("true")),
    T('(core/util/log "")', L(""), R("true")),
    T('(core/util/log "" "")', L(" "), R("true")),
    T('(core/util/log "x" "")', L("x "), R("true")),
]


# ---------------------------------------------------------------------------
INPUT_HEAD = (
    "; MAX_INPUT (SPEC.md sections 1 and 9): a request text of 16385 bytes is refused with\n"
    "; parse: input too large at 16384. This file is itself over 16 KiB and holds one form, so\n"
    "; the one result line is the same whether the runner refuses the whole file, the form's\n"
    "; text, or (if neither is limited) the text that eval is given.\n"
)
INPUT_TEXT = '(core/util/log "must not run")'
INPUT_TEXT += " " * (16385 - len(INPUT_TEXT))


def check_entry(name, t):
    forms = slpcheck.parse(t.form)
    assert len(forms) == 1, (name, t.form, len(forms))
    result = [l for l in t.lines if l.startswith("=> ")][0][3:]
    if t.literal:
        v = slpcheck.eval_literal(forms[0])
        assert v is not None, (name, t.form)
        got = slpcheck.fmt(v).decode()
        assert got == result, (name, t.form, got, result)
    if t.inner is not None:
        try:
            slpcheck.parse(t.inner)
            perr = None
        except slpcheck.ParseError as e:
            perr = '@"%s"' % e
        if result.startswith('@"parse: '):
            assert perr == result, (name, t.inner, perr, result)
        else:
            assert perr is None, (name, t.inner, perr)


def write(name, text, out):
    b = text.encode()
    assert len(b) < MAX_FILE, (name, len(b))
    with open(os.path.join(OUT_DIR, name + ".slp"), "wb") as f:
        f.write(b)
    with open(os.path.join(OUT_DIR, name + ".out"), "wb") as f:
        f.write(out.encode())
    return len(b)


def main():
    total = 0
    for name, entries in FILES.items():
        src, out, n = "", "", 0
        for e in entries:
            if isinstance(e, C):
                src += e.text + "\n"
                continue
            check_entry(name, e)
            src += e.form + "\n"
            out += "".join(l + "\n" for l in e.lines)
            n += 1
        assert len(slpcheck.parse(src)) == n, name
        size = write(name, src, out)
        total += n
        print("%-22s %4d forms %6d bytes" % (name, n, size))
    src = unparsable_head + unparsable_body
    try:
        slpcheck.parse(src)
        raise AssertionError("syntax-unparsable parses")
    except slpcheck.ParseError as e:
        got = '=> @"%s"\n' % e
    off = len((unparsable_head + unparsable_body[: unparsable_body.index("))") + 1]).encode())
    want = '=> @"parse: unexpected ) at %d"\n' % off
    assert got == want, (got, want)
    write("syntax-unparsable", src, want)
    assert len(INPUT_TEXT.encode()) == 16385
    src = INPUT_HEAD + ev(INPUT_TEXT) + "\n"
    assert len(slpcheck.parse(src)) == 1
    path = os.path.join(OUT_DIR, "limits-input")
    with open(path + ".slp", "wb") as f:
        f.write(src.encode())
    with open(path + ".out", "wb") as f:
        f.write(b'=> @"parse: input too large at 16384"\n')
    print("%-22s    1 forms %6d bytes (over MAX_INPUT on purpose)" % ("limits-input", len(src.encode())))
    print("%-22s  (no forms run)  %s" % ("syntax-unparsable", want.strip()))
    print("total forms:", total)


if __name__ == "__main__":
    main()
