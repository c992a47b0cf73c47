// The image's own allocator: segregated free lists with boundary tags, over linear
// memory that grows on demand up to a page ceiling. Unlike the AssemblyScript runtimes,
// a refused memory.grow returns 0 instead of trapping, so every caller can turn memory
// exhaustion into an error value (SPEC.md: "store full").
//
// Block layout (addresses are 4 mod 8 so that payloads are 8-aligned):
//   used: [u32 size|USED|PREV_USED] payload...
//   free: [u32 size|PREV_USED] [u32 next] [u32 prev] ... [u32 size]   (footer)
// `size` counts the header; it is a multiple of 8 and at least MIN_BLOCK.

const USED: u32 = 1;
const PREV_USED: u32 = 2;
const FLAGS: u32 = 7;
const MIN_BLOCK: u32 = 16;
const BINS: i32 = 32;
const PAGE: u32 = 65536;

// BINS u32 list heads, static: loads use the address as their constant offset
const binHeads = memory.data(BINS * 4);
let binMap: u32 = 0; // bit i set when bin i is non-empty
let heapStart: usize = 0;
let heapEnd: usize = 0; // address of the end marker (a header with USED set)
let maxPages: i32 = 256;
let usedBytes: usize = 0;

// Gives back idle caches (parse scratch, print buffers, empty queue rings...) when an
// allocation finds no block; true when it freed something. Set once by the image's entry
// module, which knows the caches; the heap only calls it.
function reclaimNothing(): bool { return false; }
let reclaimer: () => bool = reclaimNothing;
let reclaiming = false;

export function heapSetReclaimer(f: () => bool): void {
  reclaimer = f;
}

/** Gives back idle caches now; true when something was freed. */
export function heapReclaim(): bool {
  if (reclaiming) return false;
  reclaiming = true;
  let freed = reclaimer();
  reclaiming = false;
  return freed;
}

export function heapInit(pages: i32): void {
  maxPages = pages;
  memory.fill(binHeads, 0, BINS * 4);
  // first block header at 4 mod 8
  heapStart = ((__heap_base + 7) & ~7) + 4;
  heapEnd = heapStart;
  ensureMemory(heapEnd + 4);
  store<u32>(heapEnd, USED | PREV_USED);
}

export function heapLimitPages(pages: i32): void {
  maxPages = pages;
}

/** True for addresses the heap never frees (static data and immortal objects). */
export function heapOwns(p: usize): bool {
  return p >= heapStart;
}

export function heapUsed(): usize {
  return usedBytes;
}

/** Bytes the heap could still hand out: free blocks plus memory it may still grow into. */
export function heapAvailable(): usize {
  return (heapEnd - heapStart) - usedBytes + growRoom();
}

/** Bytes linear memory may still grow by past the end marker (up to maxPages). */
@inline function growRoom(): usize {
  let ceiling = <usize>maxPages * PAGE;
  let end = heapEnd + 4;
  return ceiling > end ? ceiling - end : 0;
}

/**
 * The largest block alloc could return, counting the memory it may still grow into
 * (which joins the free block at the end of the heap, if there is one).
 */
export function heapLargestAvailable(): usize {
  let grow = growRoom();
  let tail: usize = 0;
  if (!(load<u32>(heapEnd) & PREV_USED)) tail = load<u32>(heapEnd - 4); // the free block before the end marker
  let largest = heapLargestFree();
  let atEnd = tail + grow;
  return atEnd > largest ? atEnd : largest;
}

/** Whether alloc could return a block of n bytes (growing memory if need be); cheap while memory can grow. */
@inline export function heapHasRoom(n: usize): bool {
  return growRoom() >= n || heapLargestAvailable() >= n;
}

/** The largest block alloc could return without growing memory (fragmentation check). */
export function heapLargestFree(): usize {
  if (!binMap) return 0;
  let bin = 31 - clz<u32>(binMap);
  let best: u32 = 0;
  let b = <usize>load<u32>(<usize>bin << 2, binHeads);
  while (b) {
    let size = load<u32>(b) & ~FLAGS;
    if (size > best) best = size;
    b = load<u32>(b, 4);
  }
  return best > 4 ? <usize>(best - 4) : 0;
}

export function heapReserved(): usize {
  return heapEnd + 4 - heapStart;
}

function ensureMemory(end: usize): bool {
  let have = <usize>memory.size() * PAGE;
  if (end <= have) return true;
  let need = <i32>((end - have + PAGE - 1) / PAGE);
  if (memory.size() + need > maxPages) return false;
  return memory.grow(need) >= 0;
}

@inline function binOf(size: u32): i32 {
  return 31 - clz<u32>(size);
}

@inline function unlink(b: usize, size: u32): void {
  let next = load<u32>(b, 4);
  let prev = load<u32>(b, 8);
  if (prev) store<u32>(prev, next, 4);
  else {
    let bin = binOf(size);
    store<u32>(<usize>bin << 2, next, binHeads);
    if (!next) binMap &= ~(<u32>1 << bin);
  }
  if (next) store<u32>(next, prev, 8);
}

@inline function link(b: usize, size: u32): void {
  let bin = binOf(size);
  let head = load<u32>(<usize>bin << 2, binHeads);
  store<u32>(b, head, 4);
  store<u32>(b, 0, 8);
  if (head) store<u32>(head, <u32>b, 8);
  store<u32>(<usize>bin << 2, <u32>b, binHeads);
  binMap |= <u32>1 << bin;
  store<u32>(b + size - 4, size); // footer
}

/** Turns [b, b+size) into a free block, merging with free neighbours (inlined in free, its one caller). */
@inline function release(b: usize, size: u32, prevUsed: u32): void {
  if (!prevUsed) {
    let psize = load<u32>(b - 4);
    b -= psize;
    unlink(b, psize);
    size += psize;
    prevUsed = load<u32>(b) & PREV_USED;
  }
  let n = b + size;
  let nh = load<u32>(n);
  if (!(nh & USED)) {
    let nsize = nh & ~FLAGS;
    unlink(n, nsize);
    size += nsize;
    n = b + size;
    nh = load<u32>(n);
  }
  store<u32>(n, nh & ~PREV_USED);
  store<u32>(b, size | prevUsed);
  link(b, size);
}

/** How many blocks of the exact bin are tried before a larger bin is split. */
const EXACT_TRIES = 8;

@inline function findFree(need: u32): usize {
  let bin = binOf(need);
  // Reuse a hole of the right size first (a bounded first fit in the exact bin): taking
  // from larger bins while same-size holes wait is what fragments a long-lived heap.
  let b = <usize>load<u32>(<usize>bin << 2, binHeads);
  for (let k = 0; b && k < EXACT_TRIES; k++) {
    if ((load<u32>(b) & ~FLAGS) >= need) return b;
    b = load<u32>(b, 4);
  }
  // any block of a larger bin fits: O(1) through the bitmap
  let higher = bin < 31 ? binMap & ~((<u32>2 << bin) - 1) : 0;
  if (higher) return load<u32>(<usize>ctz<u32>(higher) << 2, binHeads);
  // last resort: the rest of the exact bin
  while (b) {
    if ((load<u32>(b) & ~FLAGS) >= need) return b;
    b = load<u32>(b, 4);
  }
  return 0;
}

function grow(need: u32): bool {
  // The end marker becomes the header of the new free space, which runs to the
  // end of linear memory (a multiple of 8, so the new marker sits at 4 mod 8).
  if (!ensureMemory(heapEnd + need + 4)) return false;
  let endHeader = load<u32>(heapEnd);
  let b = heapEnd;
  heapEnd = <usize>memory.size() * PAGE - 4;
  store<u32>(heapEnd, USED);
  // hand the new space to free as if it were a used block: it merges and links it
  let size = <u32>(heapEnd - b);
  store<u32>(b, size | USED | (endHeader & PREV_USED));
  usedBytes += size;
  free(b + 4);
  return true;
}

/** Allocates `n` bytes (8-aligned); returns 0 when memory runs out. */
export function alloc(n: usize): usize {
  if (n > 0x7ff00000) return 0;
  let need = <u32>((n + 4 + 7) & ~7);
  if (need < MIN_BLOCK) need = MIN_BLOCK;
  // one inlined search, tried again after growing, or else after idle caches are given
  // back (growth is bounded by maxPages alone, so it never helps after that)
  let b: usize = 0;
  let step = 0;
  while (true) {
    b = findFree(need);
    if (b) break;
    if (step == 0 && grow(need)) step = 1;
    else if (step < 2 && heapReclaim()) step = 2;
    else return 0;
  }
  let h = load<u32>(b);
  let size = h & ~FLAGS;
  unlink(b, size);
  let rest = size - need;
  if (rest >= MIN_BLOCK) {
    store<u32>(b, need | USED | (h & PREV_USED));
    let r = b + need;
    store<u32>(r, rest | PREV_USED);
    link(r, rest);
    size = need;
  } else {
    store<u32>(b, size | USED | (h & PREV_USED));
    let n2 = b + size;
    store<u32>(n2, load<u32>(n2) | PREV_USED);
  }
  usedBytes += size;
  return b + 4;
}

/** Frees a block from alloc; 0 is ignored. */
export function free(p: usize): void {
  if (!p) return;
  let b = p - 4;
  let h = load<u32>(b);
  let size = h & ~FLAGS;
  usedBytes -= size;
  release(b, size, h & PREV_USED);
}

/** Usable bytes of an allocated block. */
export function blockSize(p: usize): usize {
  return (load<u32>(p - 4) & ~FLAGS) - 4;
}

/** Grows or shrinks a block, keeping its first `keep` bytes; 0 (and `p` untouched) on failure. */
export function realloc(p: usize, n: usize, keep: usize): usize {
  if (p && blockSize(p) >= n) return p;
  let q = alloc(n);
  if (!q) return 0;
  if (p) {
    memory.copy(q, p, keep);
    free(p);
  }
  return q;
}
