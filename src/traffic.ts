// traffic.ts — the lab's traffic generator: BPF_PROG_TEST_RUN with LIVE_FRAMES.
//
// The kernel turns our one test frame into `count` real frames and runs tx.bpf.c on each, whose
// XDP_TX sends it out of the generator's veth end. No pktgen, no external tool. Batches of at most
// 64 frames never overflow veth's 256-frame receive ring, so nothing is lost on the way: the
// sender is held back to the receiver's pace.
import { BpfObject } from "./ffi/object.ts";
import { BPF_F_TEST_XDP_LIVE_FRAMES, testRun } from "./ffi/prog.ts";
import { embeddedObject } from "./embedded.ts";
import { BpfMap } from "./ffi/map.ts";

let generator: { obj: BpfObject; fd: number; template: BpfMap } | undefined;

/** The loaded generator, its template map holding `frame` (tx.bpf.c explains why). */
function generatorFd(frame: Uint8Array): number {
  if (!generator) {
    const obj = BpfObject.open(embeddedObject("tx")!, "tx");
    obj.load();
    const map = obj.maps().find((m) => m.name === "tx_template")!;
    generator = { obj, fd: obj.progFd(obj.programs()[0]), template: new BpfMap(obj.mapFd(map)) };
  }
  const t = generator.template;
  const value = new Uint8Array(t.info.valueSize);
  if (frame.length < value.length - 4) { // len is masked to 4095 in tx.bpf.c
    new DataView(value.buffer).setUint32(0, frame.length, true);
    value.set(frame, 4);
  } // else len 0: too big for the template, sent as the kernel has it
  t.update(new Uint8Array(4), value);
  return generator.fd;
}

export interface SendResult {
  frames: number;
  bytes: number;
  seconds: number;
  pps: number;
}

/** Send `count` copies of `frame` out of `ifindex` (in the current namespace). */
export function sendFrames(ifindex: number, frame: Uint8Array, count: number, batchSize = 64): SendResult {
  const fd = generatorFd(frame);
  const t0 = performance.now();
  // repeat is a u32 in the kernel; split very large counts.
  for (let left = count; left > 0; ) {
    const n = Math.min(left, 1_000_000_000);
    testRun(fd, { data: frame, repeat: n, flags: BPF_F_TEST_XDP_LIVE_FRAMES, batchSize, ingressIfindex: ifindex });
    left -= n;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { frames: count, bytes: count * frame.length, seconds, pps: count / seconds };
}
