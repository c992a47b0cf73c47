// Number conversions for the SLP parser and printer (SPEC.md sections 1 and 3).
//
// No managed allocation: everything works on raw bytes, and the scratch space
// (five bignum registers, a digit buffer) is static memory. No recursion.
//
// parseReal:  fast path (Clinger) when the significand fits in 53 bits and the
//             power of ten is exact; otherwise exact big-integer arithmetic:
//             value = D * 5^E * 2^E, computed as a 56-bit quotient of two
//             bignums plus a sticky bit, then rounded half-even once.
//             Only the first 768 significant digits are kept exactly; any
//             further (necessarily non-zero) tail becomes one sticky digit,
//             which cannot change the rounding of a double.
// formatReal: shortest round-trip digits with the Steele-White/Burger-Dybvig
//             free-format algorithm on bignums (the same rules as V8's
//             bignum-dtoa: closest of the shortest, ties to an even digit),
//             laid out as ECMAScript's Number::toString does.

export const NUM_OK: i32 = 0;
export const NUM_RANGE: i32 = 1;
/** set by parseInteger/parseReal: NUM_OK or NUM_RANGE */
export let numStatus: i32 = 0; // NUM_OK (a literal keeps the initialiser out of the start function)

// ---------------------------------------------------------------------------
// Bignums: [len: i32][limb 0: u32][limb 1]... little-endian, no leading zero
// limbs (zero has len 0). 100 limbs = 3200 bits; parseReal needs < 2600 bits,
// formatReal < 1200 bits.

// @ts-ignore: decorator
@inline const BN_SIZE: usize = 4 + 100 * 4;
const BN_AREA: usize = memory.data(<i32>BN_SIZE * 5, 8);
// @ts-ignore: decorator
@inline const RR: usize = BN_AREA;
// @ts-ignore: decorator
@inline const SS: usize = BN_AREA + BN_SIZE;
// @ts-ignore: decorator
@inline const MM: usize = BN_AREA + BN_SIZE * 2;
// @ts-ignore: decorator
@inline const MP: usize = BN_AREA + BN_SIZE * 3;
// @ts-ignore: decorator
@inline const TT: usize = BN_AREA + BN_SIZE * 4;

const DIGITS: usize = memory.data(24);

const POW10: usize = memory.data<f64>([
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]);

// @ts-ignore: decorator
@inline function limb(a: usize, i: i32): usize {
  return a + 4 + (<usize>i << 2);
}

/** a = v (v < 2^64) */
function bnSet(a: usize, v: u64): void {
  store<u32>(a, <u32>v, 4);
  store<u32>(a, <u32>(v >> 32), 8);
  store<i32>(a, v > 0xFFFFFFFF ? 2 : v != 0 ? 1 : 0);
}

function bnBits(a: usize): i32 {
  let n = load<i32>(a);
  if (n == 0) return 0;
  return (n << 5) - <i32>clz<u32>(load<u32>(limb(a, n - 1)));
}

/** a = a * m + c  (m >= 1) */
function bnMulAdd(a: usize, m: u32, c: u32): void {
  let n = load<i32>(a);
  let carry = <u64>c;
  for (let i = 0; i < n; i++) {
    let p = limb(a, i);
    let t = <u64>load<u32>(p) * m + carry;
    store<u32>(p, <u32>t);
    carry = t >> 32;
  }
  if (carry != 0) {
    store<u32>(limb(a, n), <u32>carry);
    store<i32>(a, n + 1);
  }
}

/** a = a * 5^n */
function bnMulPow5(a: usize, n: i32): void {
  for (; n >= 13; n -= 13) bnMulAdd(a, 1220703125, 0);
  let m: u32 = 1;
  for (; n > 0; n--) m *= 5;
  bnMulAdd(a, m, 0);
}

/** a = a << s  (s >= 0) */
function bnShl(a: usize, s: i32): void {
  let n = load<i32>(a);
  if (n == 0) return;
  let w = s >> 5;
  let b = <u64>(s & 31);
  for (let i = n; i >= 0; i--) {
    let hi: u64 = i < n ? <u64>load<u32>(limb(a, i)) : 0;
    let lo: u64 = i > 0 ? <u64>load<u32>(limb(a, i - 1)) : 0;
    store<u32>(limb(a, i + w), <u32>((((hi << 32) | lo) << b) >> 32));
  }
  memory.fill(limb(a, 0), 0, <usize>w << 2);
  n += w;
  if (load<u32>(limb(a, n)) != 0) n++;
  store<i32>(a, n);
}

/** sign of a - b */
function bnCmp(a: usize, b: usize): i32 {
  let n = load<i32>(a);
  let m = load<i32>(b);
  if (n != m) return n > m ? 1 : -1;
  while (--n >= 0) {
    let x = load<u32>(limb(a, n));
    let y = load<u32>(limb(b, n));
    if (x != y) return x > y ? 1 : -1;
  }
  return 0;
}

/** a = a - b  (a >= b) */
function bnSub(a: usize, b: usize): void {
  let n = load<i32>(a);
  let m = load<i32>(b);
  let borrow: i64 = 0;
  for (let i = 0; i < n; i++) {
    let t = <i64>load<u32>(limb(a, i)) - borrow - (i < m ? <i64>load<u32>(limb(b, i)) : 0);
    store<u32>(limb(a, i), <u32>t);
    borrow = (t >> 63) & 1;
  }
  while (n > 0 && load<u32>(limb(a, n - 1)) == 0) n--;
  store<i32>(a, n);
}

/** sign of (a + b) - c, using TT as scratch (a may equal b) */
function bnPlusCmp(a: usize, b: usize, c: usize): i32 {
  let n = load<i32>(a);
  let m = load<i32>(b);
  if (m > n) n = m;
  let carry: u64 = 0;
  for (let i = 0; i < n; i++) {
    carry += (i < load<i32>(a) ? <u64>load<u32>(limb(a, i)) : 0) +
             (i < m ? <u64>load<u32>(limb(b, i)) : 0);
    store<u32>(limb(TT, i), <u32>carry);
    carry >>= 32;
  }
  store<u32>(limb(TT, n), <u32>carry);
  store<i32>(TT, n + <i32>carry);
  return bnCmp(TT, c);
}

// ---------------------------------------------------------------------------
// Integers

/** p..p+len is a token already known to match [+-]?[0-9]+ . Returns the value;
 * on overflow of signed 64-bit sets numStatus = NUM_RANGE (return value then
 * unspecified). -9223372036854775808 is in range. */
export function parseInteger(p: usize, len: i32): i64 {
  let c = load<u8>(p);
  let neg = c == 45;
  let i = <i32>(neg || c == 43);
  let v: u64 = 0;
  let bad = false;
  for (; i < len; i++) {
    bad |= v > 922337203685477580;
    v = v * 10 + <u64>(load<u8>(p + <usize>i) - 48);
  }
  // v <= 922337203685477580 before the last step keeps v < 2^64
  numStatus = <i32>(bad || v > 0x7FFFFFFFFFFFFFFF + <u64>neg);
  return <i64>(neg ? -v : v);
}

// ---------------------------------------------------------------------------
// Reals

/** (q + frac) * 2^e2 rounded half-even to a double; q in [2^54, 2^57),
 * sticky = frac != 0. Sets NUM_RANGE on overflow. */
function makeDouble(q: u64, sticky: bool, e2: i32, neg: bool): f64 {
  let b = 64 - <i32>clz(q);
  let ex = e2 + b - 1; // exponent of the leading bit
  let sh = b - 53;
  let be: u64 = <u64>(ex + 1022);
  if (ex < -1022) {
    sh = -1074 - e2;
    be = 0;
  }
  let m: u64 = 0;
  if (sh <= 60) {
    m = q >> sh;
    let rem = q & ((<u64>1 << sh) - 1);
    let half = <u64>1 << (sh - 1);
    if (rem > half || (rem == half && (sticky || (m & 1) != 0))) m++;
  }
  let bits = (be << 52) + m;
  if (bits >= 0x7FF0000000000000) {
    numStatus = NUM_RANGE;
    bits = 0x7FF0000000000000;
  }
  return reinterpret<f64>(bits | (<u64>neg << 63));
}

/** p..p+len is a token already known to match [+-]?(D+.D*|.D+|D+)([eE][+-]?D+)? .
 * Returns the correctly rounded (round-half-even) IEEE double, exactly like
 * JavaScript's Number(text). Overflow to infinity sets numStatus = NUM_RANGE.
 * Underflow rounds (to 0 or -0 if need be; sign kept). */
export function parseReal(p: usize, len: i32): f64 {
  numStatus = NUM_OK;
  let c = <u32>load<u8>(p);
  let neg = c == 45;
  let i = <i32>(neg || c == 43);
  let start = i;
  let w: u64 = 0; // the first 19 significant digits
  let nd = 0; // significant digits, trailing zeros excluded
  let z = 0; // zeros seen after the last non-zero digit
  let frac = 0; // digits after the point
  let dot = false;
  for (; i < len; i++) {
    c = <u32>load<u8>(p + <usize>i) - 48;
    if (c > 9) {
      if (c != <u32>-2) break; // not '.': the exponent marker
      dot = true;
      continue;
    }
    frac += <i32>dot;
    if (c == 0) {
      z += <i32>(nd != 0);
      continue;
    }
    nd += z + 1;
    if (nd <= 19) {
      for (; z > 0; z--) w *= 10;
      w = w * 10 + c;
    }
    z = 0;
  }
  let x: i64 = 0;
  if (i < len) {
    c = load<u8>(p + <usize>++i);
    let eneg = c == 45;
    i += <i32>(eneg || c == 43);
    for (; i < len; i++) {
      if (x < 100000000000) x = x * 10 + <i64>(load<u8>(p + <usize>i) - 48);
    }
    if (eneg) x = -x;
  }
  if (nd == 0) return neg ? -0.0 : 0.0;
  let e = x - frac + z; // value = digits * 10^e

  // Fast path: exact significand and exact power of ten, one rounding.
  if (nd <= 19 && w <= 9007199254740992) {
    let f = <f64>w;
    if (<u64>(e + 22) <= 44) {
      f = e < 0 ? f / load<f64>(POW10 + (<usize>-e << 3)) : f * load<f64>(POW10 + (<usize>e << 3));
      return neg ? -f : f;
    }
    if (e > 22 && e <= 37) {
      f *= load<f64>(POW10 + (<usize>(e - 22) << 3));
      if (f < 9007199254740992.0) {
        f *= 1e22;
        return neg ? -f : f;
      }
    }
  }

  // Slow path. value in [10^el, 10^(el+1))
  let el = e + nd - 1;
  if (el > 308) {
    numStatus = NUM_RANGE;
    return neg ? -Infinity : Infinity;
  }
  if (el < -325) return neg ? -0.0 : 0.0;
  let n = nd;
  let ee = <i32>e;
  if (n > 768) {
    ee += n - 769;
    n = 768;
  }
  bnSet(RR, 0);
  let chunk: u32 = 0;
  let mul: u32 = 1;
  for (let j = start, taken = 0; taken < n; j++) {
    let d = <u32>load<u8>(p + <usize>j) - 48;
    if (d > 9 || (d == 0 && taken == 0)) continue;
    chunk = chunk * 10 + d;
    mul *= 10;
    taken++;
    if (mul == 1000000000) {
      bnMulAdd(RR, mul, chunk);
      chunk = 0;
      mul = 1;
    }
  }
  bnMulAdd(RR, mul, chunk);
  if (nd > 768) bnMulAdd(RR, 10, 1); // the non-zero tail as a sticky digit
  // value = RR / SS * 2^ee
  bnSet(SS, 1);
  if (ee >= 0) bnMulPow5(RR, ee);
  else bnMulPow5(SS, -ee);
  let d = bnBits(RR) - bnBits(SS);
  if (d > 0) bnShl(SS, d);
  else bnShl(RR, -d);
  // now RR / SS in (1/2, 2); value = RR / SS * 2^(ee + d)
  let q: u64 = 0;
  for (let k = 0; k < 56; k++) {
    q <<= 1;
    if (bnCmp(RR, SS) >= 0) {
      bnSub(RR, SS);
      q |= 1;
    }
    bnShl(RR, 1);
  }
  // q = floor(RR * 2^55 / SS) in [2^54, 2^56)
  return makeDouble(q, load<i32>(RR) != 0, ee + d - 55, neg);
}

// ---------------------------------------------------------------------------
// Printing

function putDigits(o: usize, from: i32, to: i32): usize {
  for (; from < to; from++) store<u8>(o++, load<u8>(DIGITS + <usize>from));
  return o;
}

function putZeros(o: usize, n: i32): usize {
  for (; n > 0; n--) store<u8>(o++, 48);
  return o;
}

function putStr(o: usize, s: u64, n: i32): usize {
  // s holds up to 8 ASCII bytes, little-endian
  for (let i = 0; i < n; i++) {
    store<u8>(o++, <u8>s);
    s >>= 8;
  }
  return o;
}

/** Writes exactly what ECMAScript's Number.prototype.toString(x) gives, as ASCII
 * bytes at out; returns the byte count (at most 32). -0 prints "0". */
export function formatReal(x: f64, out: usize): i32 {
  let o = out;
  if (x != x) return <i32>(putStr(o, 0x4E614E, 3) - out); // "NaN"
  let bits = reinterpret<u64>(x);
  if (bits << 1 == 0) {
    store<u8>(out, 48); // "0", also for -0
    return 1;
  }
  if (bits >> 63) {
    store<u8>(o++, 45);
    bits &= 0x7FFFFFFFFFFFFFFF;
  }
  if (bits == 0x7FF0000000000000) return <i32>(putStr(o, 0x7974696E69666E49, 8) - out); // "Infinity" 
  let be = <i32>(bits >> 52);
  let f = bits & 0xFFFFFFFFFFFFF;
  let closer = f == 0 && be > 1; // the lower neighbour is nearer
  let e = -1074;
  if (be != 0) {
    f |= <u64>1 << 52;
    e = be - 1075;
  }
  let even = <i32>((f & 1) == 0);
  // v = RR/SS, half-gaps MM/SS (lower) and mp/SS (upper)
  let sh = 1 + <i32>closer;
  let ep = e > 0 ? e : 0;
  bnSet(RR, f);
  bnShl(RR, ep + sh);
  bnSet(SS, 1);
  bnShl(SS, sh + ep - e);
  bnSet(MM, 1);
  bnShl(MM, ep);
  // k: 10^(k-1) < v and v + upper gap < 10^(k+1)
  let k = <i32>Math.ceil(<f64>(e + 63 - <i32>clz(f)) * 0.30102999566398114 - 1e-10);
  if (k >= 0) {
    bnMulPow5(SS, k);
    bnShl(SS, k);
  } else {
    bnMulPow5(RR, -k);
    bnShl(RR, -k);
    bnMulPow5(MM, -k);
    bnShl(MM, -k);
  }
  let mp = MM;
  if (closer) {
    mp = MP;
    memory.copy(MP, MM, BN_SIZE);
    bnShl(MP, 1);
  }
  let n = 0;
  let scale = bnPlusCmp(RR, mp, SS) + even <= 0;
  if (!scale) k++;
  while (true) {
    if (scale) {
      bnMulAdd(RR, 10, 0);
      bnMulAdd(MM, 10, 0);
      if (closer) bnMulAdd(MP, 10, 0);
    }
    scale = true;
    let d = 48;
    while (bnCmp(RR, SS) >= 0) {
      bnSub(RR, SS);
      d++;
    }
    let lo = bnCmp(RR, MM) < even;
    let hi = bnPlusCmp(RR, mp, SS) + even > 0;
    if (lo || hi) {
      if (lo && hi) {
        let t = bnPlusCmp(RR, RR, SS);
        hi = t > 0 || (t == 0 && (d & 1) != 0);
      }
      store<u8>(DIGITS + <usize>(n++), d + <i32>hi);
      break;
    }
    store<u8>(DIGITS + <usize>(n++), d);
  }
  // layout: digits DIGITS[0..n), value = 0.DIGITS * 10^k
  if (n <= k && k <= 21) {
    o = putZeros(putDigits(o, 0, n), k - n);
  } else if (0 < k && k <= 21) {
    o = putDigits(o, 0, k);
    store<u8>(o++, 46);
    o = putDigits(o, k, n);
  } else if (-6 < k && k <= 0) {
    o = putStr(o, 0x2E30, 2); // "0."
    o = putDigits(putZeros(o, -k), 0, n);
  } else {
    o = putDigits(o, 0, 1);
    if (n > 1) {
      store<u8>(o++, 46);
      o = putDigits(o, 1, n);
    }
    k--;
    let s: u64 = 0x2B65; // "e+"
    if (k < 0) {
      s = 0x2D65; // "e-"
      k = -k;
    }
    o = putStr(o, s, 2);
    if (k >= 100) store<u8>(o++, 48 + k / 100);
    if (k >= 10) store<u8>(o++, 48 + k / 10 % 10);
    store<u8>(o++, 48 + k % 10);
  }
  return <i32>(o - out);
}
