"""A small checker for the transcript corpus (not an implementation of sxs).

It knows only SLP *text* (SPEC.md section 1) and the canonical print (section 3),
enough to catch mistakes in hand-written transcripts: a form that does not parse,
a wrong number of top-level forms, a parse-error offset miscounted by hand, or a
literal whose printed form was written down wrong. Evaluation is not modelled.
"""
import math
import re

MAX_DEPTH = 64
WS = b" \t\r\n"
DELIM = WS + b'()[]{}";'
OPEN = {ord("("): ord(")"), ord("["): ord("]"), ord("{"): ord("}")}
CLOSE = {ord(")"), ord("]"), ord("}")}
INT_RE = re.compile(rb"^[+-]?[0-9]+$")
REAL_RE = re.compile(rb"^[+-]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][+-]?[0-9]+)?$")
HEX = b"0123456789abcdefABCDEF"


class ParseError(Exception):
    def __init__(self, reason, offset):
        super().__init__(f"parse: {reason} at {offset}")
        self.reason = reason
        self.offset = offset


def _skip(b, i):
    n = len(b)
    while i < n:
        c = b[i]
        if c in WS:
            i += 1
        elif c == ord(";"):
            while i < n and b[i] != ord("\n"):
                i += 1
        else:
            break
    return i


def _obj(b, i, depth):
    """Parse one object starting exactly at b[i] (not whitespace)."""
    n = len(b)
    c = b[i]
    if c in OPEN:
        if depth + 1 > MAX_DEPTH:
            raise ParseError("nesting too deep", i)
        closer = OPEN[c]
        kind = chr(c)
        items = []
        j = i + 1
        while True:
            j = _skip(b, j)
            if j >= n:
                raise ParseError("unclosed " + kind, i)
            if b[j] in CLOSE:
                if b[j] != closer:
                    raise ParseError("unexpected " + chr(b[j]), j)
                return ("list", kind, items), j + 1
            o, j = _obj(b, j, depth + 1)
            items.append(o)
    if c in CLOSE:
        raise ParseError("unexpected " + chr(c), i)
    if c == ord('"'):
        out = bytearray()
        j = i + 1
        while True:
            if j >= n:
                raise ParseError("unclosed string", i)
            d = b[j]
            if d == ord('"'):
                return ("str", bytes(out)), j + 1
            if d == ord("\\"):
                if j + 1 >= n:
                    raise ParseError("unclosed string", i)
                e = b[j + 1]
                simple = {ord('"'): 34, ord("\\"): 92, ord("n"): 10, ord("t"): 9, ord("r"): 13, ord("0"): 0}
                if e in simple:
                    out.append(simple[e])
                    j += 2
                    continue
                if e == ord("x"):
                    h = b[j + 2:j + 4]
                    if len(h) < 2 and all(x in HEX for x in h):
                        raise ParseError("unclosed string", i)
                    if len(h) == 2 and all(x in HEX for x in h):
                        out.append(int(h, 16))
                        j += 4
                        continue
                raise ParseError("invalid escape", j)
            out.append(d)
            j += 1
    if c in (ord("'"), ord("@")):
        j = _skip(b, i + 1)
        if j >= n or b[j] in CLOSE:
            raise ParseError("nothing to quote", i)
        o, j = _obj(b, j, depth)
        return ("quote" if c == ord("'") else "err", o), j
    j = i
    while j < n and b[j] not in DELIM:
        j += 1
    tok = b[i:j]
    if INT_RE.match(tok):
        v = int(tok)
        if not (-(2 ** 63) <= v < 2 ** 63):
            raise ParseError("integer out of range", i)
        return ("int", v), j
    if REAL_RE.match(tok) and (b"." in tok or b"e" in tok or b"E" in tok):
        v = float(tok)
        if math.isinf(v):
            raise ParseError("real out of range", i)
        return ("real", v), j
    return ("sym", tok), j


def parse(text):
    b = text if isinstance(text, bytes) else text.encode()
    forms = []
    i = _skip(b, 0)
    while i < len(b):
        o, i = _obj(b, i, 0)
        forms.append(o)
        i = _skip(b, i)
    return forms


def fmt_real(x):
    if x == 0:
        return "-0.0" if math.copysign(1, x) < 0 else "0.0"
    sign = "-" if x < 0 else ""
    r = repr(abs(x))  # shortest round-trip digits
    m = re.match(r"^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$", r)
    ip, fp, ex = m.group(1), m.group(2) or "", int(m.group(3) or 0)
    digits = (ip + fp).lstrip("0")
    lead_zeros = len(ip + fp) - len((ip + fp).lstrip("0"))
    # value = 0.digits * 10^n  (ECMAScript's n)
    n = len(ip) + ex - lead_zeros
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        s = digits + "0" * (n - k)
    elif 0 < n <= 21:
        s = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        s = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        es = ("+" if e >= 0 else "-") + str(abs(e))
        s = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + es
    if "." not in s and "e" not in s:
        s += ".0"
    return sign + s


def fmt_str(bs):
    out = bytearray(b'"')
    for c in bs:
        if c == 34:
            out += b'\\"'
        elif c == 92:
            out += b"\\\\"
        elif c == 10:
            out += b"\\n"
        elif c == 9:
            out += b"\\t"
        elif c == 13:
            out += b"\\r"
        elif c < 0x20 or c == 0x7F:
            out += b"\\x%02x" % c
        else:
            out.append(c)
    out += b'"'
    return bytes(out)


def fmt(o):
    t = o[0]
    if t == "int":
        return str(o[1]).encode()
    if t == "real":
        return fmt_real(o[1]).encode()
    if t == "str":
        return fmt_str(o[1])
    if t == "sym":
        return o[1]
    if t == "quote":
        return b"'" + fmt(o[1])
    if t == "err":
        return b"@" + fmt(o[1])
    kind = o[1]
    close = {"(": ")", "[": "]", "{": "}"}[kind]
    return kind.encode() + b" ".join(fmt(x) for x in o[2]) + close.encode()


def eval_literal(o):
    """Value of a form that involves no command and no context variable, or None."""
    t = o[0]
    if t == "quote":
        return o[1]
    if t == "sym" and o[1].startswith(b"$"):
        return None
    if t == "list" and o[1] == "(":
        return None
    return o
