// SendWindow / ReceiveWindow on a fake clock: credit, acks, retransmission timers,
// NAK go-back, probes, RTT estimate, sequence wrap-around.
import { describe, expect, it } from "vitest";
import { ReceiveWindow, SendWindow, seqAdd, seqDiff } from "../../host/link/window.js";
import { FLAG_POLL, frameCost, MAX_BODY } from "../../host/link/frame.js";
import type { Fragment } from "../../host/link/fragment.js";

const frag = (n: number, req = 1): Fragment => ({ type: 0x20, flags: 0, req, payload: new Uint8Array(n) });
const seqs = (r: { frames: { seq: number }[] }) => r.frames.map((f) => f.seq);

describe("sequence arithmetic", () => {
  it("wraps modulo 2^16", () => {
    expect(seqAdd(0xffff, 1)).toBe(0);
    expect(seqDiff(2, 0xfffe)).toBe(4);
    expect(seqDiff(0xfffe, 2)).toBe(0xfffc);
  });
});

describe("SendWindow", () => {
  it("sends only what the credit allows, counted in frame cost", () => {
    const w = new SendWindow({ initialCredit: 3 * frameCost(100) });
    for (let i = 0; i < 5; i++) w.enqueue(frag(100));
    expect(seqs(w.poll(0))).toEqual([0, 1, 2]);
    expect(w.inFlightBytes).toBe(3 * 118);
    expect(seqs(w.poll(1))).toEqual([]);
    // ack 2 frames, credit for 3 more from ack=2
    expect(w.onHeader(2, 3 * 118, 2)).toBe(2);
    expect(seqs(w.poll(2))).toEqual([3, 4]);
  });

  it("respects its own txBuffer", () => {
    const w = new SendWindow({ initialCredit: 60000, txBuffer: 2 * frameCost(10) });
    for (let i = 0; i < 4; i++) w.enqueue(frag(10));
    expect(seqs(w.poll(0))).toEqual([0, 1]);
  });

  it("ignores acks outside the window", () => {
    const w = new SendWindow({ initialCredit: 60000 });
    w.enqueue(frag(1));
    w.enqueue(frag(1));
    w.poll(0);
    expect(w.onHeader(5, 60000, 1)).toBe(0); // beyond what was sent
    expect(w.onHeader(0xffff, 60000, 1)).toBe(0); // behind
    expect(w.onHeader(2, 60000, 1)).toBe(2);
    expect(w.pending).toBe(0);
  });

  it("retransmits everything unacknowledged on timeout, with POLL on the last, and backs off", () => {
    const w = new SendWindow({ initialCredit: 60000, rtoInitial: 300 });
    for (let i = 0; i < 3; i++) w.enqueue(frag(10));
    expect(seqs(w.poll(0))).toEqual([0, 1, 2]);
    expect(w.nextDeadline()).toBe(300);
    expect(seqs(w.poll(299))).toEqual([]);
    const r = w.poll(300);
    expect(seqs(r)).toEqual([0, 1, 2]);
    expect(r.frames.map((f) => f.retransmission)).toEqual([true, true, true]);
    expect(r.frames.map((f) => f.flags & FLAG_POLL)).toEqual([0, 0, FLAG_POLL]);
    expect(w.rto).toBe(600);
    expect(w.nextDeadline()).toBe(900);
    // progress resets the retry count; Karn: no RTT sample from retransmitted frames
    w.onHeader(1, 60000, 350);
    expect(w.smoothedRtt).toBeUndefined();
    expect(w.nextDeadline()).toBe(950);
  });

  it("declares the link down after maxRetries timeouts without progress", () => {
    const w = new SendWindow({ initialCredit: 60000, rtoInitial: 100, rtoMax: 100, maxRetries: 3 });
    w.enqueue(frag(1));
    let t = 0;
    w.poll(t);
    for (let i = 0; i < 10 && !w.down; i++) {
      t = w.nextDeadline()!;
      w.poll(t);
    }
    expect(w.down).toBe(true);
    expect(w.stats.timeouts).toBe(4);
    expect(w.stats.retransmitted).toBe(3);
    expect(w.nextDeadline()).toBeUndefined();
  });

  it("goes back on a NAK, and ignores a NAK from an older round", () => {
    const w = new SendWindow({ initialCredit: 60000, rtoInitial: 300 });
    for (let i = 0; i < 6; i++) w.enqueue(frag(10));
    w.poll(0);
    w.onHeader(1, 60000, 30); // RTT sample 30
    expect(w.smoothedRtt).toBe(30);
    w.onNak(2, 60000, 3, 31); // frame 2 lost (frame 3 showed it): 1 acked, resend 2..5
    expect(seqs(w.poll(31))).toEqual([2, 3, 4, 5]);
    w.enqueue(frag(10));
    w.onNak(2, 60000, 3, 32); // the same, delayed: 3 was not sent after 2's retransmission... it was: fresh
    expect(w.stats.naks).toBe(2);
    expect(seqs(w.poll(32))).toEqual([2, 3, 4, 5, 6]);
    // now 2 is sent again but frame 6 only once, before that: a NAK triggered by 6 is stale
    w.onNak(2, 60000, 6, 33);
    expect(w.stats.naksIgnored).toBe(0);
  });

  it("ignores a NAK triggered by a frame sent before the go-back", () => {
    const w = new SendWindow({ initialCredit: 60000, bytesPerMs: 1, maxAheadBytes: 1e9 });
    for (let i = 0; i < 4; i++) w.enqueue(frag(10));
    w.poll(0);
    w.onNak(0, 60000, 1, 5); // go back to 0
    const r = w.poll(5);
    expect(seqs(r)).toEqual([0, 1, 2, 3]);
    // a NAK(0) triggered by frame 3 of the first round: 3's latest copy is newer than 0's
    // latest, so it cannot be told apart and is acted upon
    w.onNak(0, 60000, 3, 6);
    expect(w.stats.naks).toBe(2);
    // after the second go-back, frames 1..3 are pending again but 0 was sent last: a NAK
    // triggered by 3 (whose latest copy precedes 0's latest) is stale
    w.poll(6);
    w.enqueue(frag(10));
    w.onNak(0, 60000, 3, 7);
    expect(w.stats.naks + w.stats.naksIgnored).toBe(3);
  });

  it("probes a zero window", () => {
    const w = new SendWindow({ initialCredit: 0, rtoInitial: 200 });
    w.enqueue(frag(10));
    let r = w.poll(0);
    expect(r.frames.length).toBe(0);
    expect(r.probe).toBe(false);
    expect(w.nextDeadline()).toBe(200);
    r = w.poll(200);
    expect(r.probe).toBe(true);
    expect(w.nextDeadline()).toBe(600); // backed off
    w.onHeader(0, 1000, 250); // the window opens
    r = w.poll(250);
    expect(seqs(r)).toEqual([0]);
    expect(r.probe).toBe(false);
  });

  it("estimates RTT and sets RTO from it (RFC 6298), bounded below", () => {
    const w = new SendWindow({ initialCredit: 60000, rtoInitial: 300, rtoMin: 100 });
    w.enqueue(frag(1));
    w.poll(0);
    w.onHeader(1, 60000, 40);
    expect(w.smoothedRtt).toBe(40);
    expect(w.rto).toBe(120); // 40 + 4 * 20
    for (let i = 0; i < 20; i++) {
      w.enqueue(frag(1));
      w.poll(1000 * (i + 1));
      w.onHeader(seqAdd(w.oldest, 1), 60000, 1000 * (i + 1) + 40);
    }
    expect(w.rto).toBe(100); // variance shrank: the floor holds
  });

  it("paces writes to the line rate so control frames never wait long", () => {
    const bytesPerMs = 92.16;
    const w = new SendWindow({ initialCredit: 60000, bytesPerMs, maxAheadBytes: 2000 });
    for (let i = 0; i < 10; i++) w.enqueue(frag(1000));
    const first = seqs(w.poll(0));
    expect(first.length).toBe(2); // ~1024 wire bytes each: the third would exceed 2000 bytes ahead
    const at = w.nextDeadline()!;
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(25);
    expect(seqs(w.poll(at)).length).toBeGreaterThanOrEqual(1);
  });

  it("works across the sequence wrap", () => {
    const w = new SendWindow({ initialCredit: 60000 });
    const r = new ReceiveWindow({ capacity: 60000 });
    // walk both to just below the wrap
    for (let i = 0; i < 0xfffe; i++) {
      w.enqueue(frag(0));
      const f = w.poll(i).frames[0]!;
      expect(r.onFrame(f.seq, 18, false, i)).toBe("accept");
      r.consume(18);
      w.onHeader(r.expected, r.credit(), i);
    }
    for (let i = 0; i < 5; i++) w.enqueue(frag(0));
    const fs = w.poll(0x10000).frames;
    expect(fs.map((f) => f.seq)).toEqual([0xfffe, 0xffff, 0, 1, 2]);
    for (const f of fs) expect(r.onFrame(f.seq, 18, false, 0x10000)).toBe("accept");
    expect(w.onHeader(r.expected, r.credit(), 0x10001)).toBe(5);
    expect(r.expected).toBe(3);
  });
});

describe("ReceiveWindow", () => {
  it("accepts in order, drops duplicates and gaps", () => {
    const r = new ReceiveWindow({ capacity: 8192 });
    expect(r.onFrame(0, 100, false, 0)).toBe("accept");
    expect(r.onFrame(0, 100, false, 0)).toBe("duplicate");
    expect(r.onFrame(2, 100, false, 0)).toBe("gap");
    expect(r.onFrame(1, 100, false, 0)).toBe("accept");
    expect(r.expected).toBe(2);
    expect(r.stats).toMatchObject({ accepted: 2, duplicates: 1, gaps: 1 });
  });

  it("NAKs a gap once per round: again only when the sender went back, or after nakRepeat", () => {
    const r = new ReceiveWindow({ capacity: 8192, nakRepeat: 500 });
    r.onFrame(0, 18, false, 0);
    r.noteSent();
    r.onFrame(2, 18, false, 10);
    expect(r.takeControl(10)).toBe("NAK");
    expect(r.nakTrigger).toBe(2);
    r.noteSent();
    r.onFrame(3, 18, false, 11); // the old round goes on: no new NAK
    expect(r.takeControl(11)).toBe(null);
    r.onFrame(2, 18, false, 40); // the sender went back and lost 1 again
    expect(r.takeControl(40)).toBe("NAK");
    r.noteSent();
    r.onFrame(3, 18, false, 41);
    expect(r.takeControl(41)).toBe(null);
    r.onFrame(9, 18, false, 600); // long after
    expect(r.takeControl(600)).toBe("NAK");
  });

  it("counts credit in frame cost, refuses an overrun, reopens on consume", () => {
    const r = new ReceiveWindow({ capacity: MAX_BODY * 2 });
    expect(r.credit()).toBe(2084);
    expect(r.onFrame(0, MAX_BODY, false, 0)).toBe("accept");
    expect(r.onFrame(1, MAX_BODY, false, 0)).toBe("accept");
    expect(r.credit()).toBe(0);
    expect(r.onFrame(2, 18, false, 0)).toBe("full");
    expect(r.takeControl(0)).toBe("ACK");
    r.noteSent();
    r.consume(MAX_BODY);
    expect(r.credit()).toBe(MAX_BODY);
    expect(r.takeControl(0)).toBe("ACK"); // the window update
  });

  it("delays a standalone ACK unless a quarter of the buffer is unacknowledged or POLL is set", () => {
    const r = new ReceiveWindow({ capacity: 8192, ackDelay: 5 });
    r.onFrame(0, 100, false, 0);
    expect(r.takeControl(0)).toBe(null);
    expect(r.nextDeadline()).toBe(5);
    expect(r.takeControl(5)).toBe("ACK");
    r.noteSent();
    expect(r.nextDeadline()).toBeUndefined();
    r.onFrame(1, 1042, false, 6);
    r.onFrame(2, 1042, false, 6);
    expect(r.takeControl(6)).toBe("ACK"); // 2084 >= 8192 / 4
    r.noteSent();
    r.onFrame(3, 18, true, 7);
    expect(r.takeControl(7)).toBe("ACK");
    r.noteSent();
    // a frame of ours carries the ack: nothing standalone
    r.onFrame(4, 18, false, 8);
    r.noteSent();
    expect(r.takeControl(100)).toBe(null);
  });
});
