// traffic.ts — the lab's traffic generator: BPF_PROG_TEST_RUN with LIVE_FRAMES.
//
// The kernel turns our one test frame into `count` real frames and runs tx.bpf.c on each, whose
// XDP_TX sends it out of the generator's veth end. No pktgen, no external tool. Batches of at most
// 64 frames hold the sender back to the receiver's pace, so veth's 256-frame receive ring rarely
// overflows; when a busy CPU delays the receiver it does, and deliverFrames sends the refused
// frames again (veth counts them), so `lab traffic --count N` puts exactly N frames on the wire.
import { ethtoolStats, ethtoolSum } from "../ffi/netdev.ts";
import { BpfObject } from "../ffi/object.ts";
import { BPF_F_TEST_XDP_LIVE_FRAMES, testRun } from "../ffi/prog.ts";
import { embeddedObject } from "../program/embedded.ts";
import { BpfMap } from "../ffi/map.ts";
import { UsageError } from "../errors.ts";
import type { SourceList } from "../net/sources.ts";

/** struct tx_template and struct tx_src_cfg (bpf/include/tx.h; test/traffic.test.ts checks them). */
export const TEMPLATE_LAYOUT = { data: 16, len: 0, ipOff: 4, l4CsumOff: 6, ipCsumBase: 8, l4CsumBase: 12 } as const;
export const SRC_CFG_LAYOUT = { size: 16, mode: 0, addr: 4, hostmask: 8, count: 12 } as const;
const TX_SRC_PREFIX = 1, TX_SRC_LIST = 2, TX_SRC_CYCLE = 3;

interface Generator {
  obj: BpfObject;
  fd: number;
  template: BpfMap;
  sources?: SourceList;
}
let generator: Generator | undefined;

/** tx, or tx_src with the sources in its .rodata and (for a list) its tx_sources map. */
function loadGenerator(sources?: SourceList): Generator {
  const obj = BpfObject.open(embeddedObject("tx")!, "tx");
  try {
    const prog = obj.programs().find((p) => p.name === (sources ? "tx_src" : "tx"))!;
    obj.selectProgram(prog);
    const maps = obj.maps();
    const list = maps.find((m) => m.name === "tx_sources")!;
    if (sources) {
      // One prefix needs no map: its address and mask live in .rodata, one random draw per frame.
      const cfg = Buffer.alloc(SRC_CFG_LAYOUT.size);
      cfg.writeUInt32LE(sources.n === 1 ? TX_SRC_PREFIX : sources.inOrder ? TX_SRC_CYCLE : TX_SRC_LIST, SRC_CFG_LAYOUT.mode);
      cfg.writeUInt32LE(sources.addr[0], SRC_CFG_LAYOUT.addr);
      cfg.writeUInt32LE(sources.hostmask[0], SRC_CFG_LAYOUT.hostmask);
      cfg.writeUInt32LE(sources.n, SRC_CFG_LAYOUT.count);
      obj.setInitialValue(maps.find((m) => m.name.endsWith(".rodata"))!, cfg);
      if (sources.n > 1) obj.setMaxEntries(list, sources.n);
    }
    obj.load();
    if (sources && sources.n > 1) {
      const keys = new Uint32Array(sources.n), values = new Uint32Array(2 * sources.n);
      for (let i = 0; i < sources.n; i++) {
        keys[i] = i;
        values[2 * i] = sources.addr[i];
        values[2 * i + 1] = sources.hostmask[i];
      }
      const m = new BpfMap(obj.mapFd(list));
      m.updateBatch(new Uint8Array(keys.buffer), new Uint8Array(values.buffer), sources.n);
    }
    const template = new BpfMap(obj.mapFd(maps.find((m) => m.name === "tx_template")!));
    return { obj, fd: obj.progFd(prog), template, sources };
  } catch (e) {
    obj.close();
    throw e;
  }
}

/**
 * Where a new source goes in `frame`: the IPv4 header and UDP/TCP checksum offsets, and each
 * checksum's base ~checksum + ~old source (RFC 1624 eqn. 3), to which tx_src adds the new source.
 */
function sourceSlots(frame: Uint8Array): { ipOff: number; l4CsumOff: number; ipBase: number; l4Base: number } {
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  let off = 12;
  while (off + 2 <= frame.length && [0x8100, 0x88a8].includes(v.getUint16(off))) off += 4;
  const ip = off + 2;
  if (off + 2 > frame.length || v.getUint16(off) !== 0x0800 || ip + 20 > frame.length || ip > 0xff) {
    throw new UsageError("random sources need an IPv4 frame");
  }
  const base = (csum: number) => (~csum & 0xffff) + (~v.getUint16(ip + 12) & 0xffff) + (~v.getUint16(ip + 14) & 0xffff);
  const l4 = ip + (frame[ip] & 15) * 4, proto = frame[ip + 9];
  // UDP checksum 0 = none sent: keep it so. A fragment past the first has no L4 header.
  let l4CsumOff = proto === 17 ? l4 + 6 : proto === 6 ? l4 + 16 : 0;
  if ((v.getUint16(ip + 6) & 0x1fff) !== 0 || l4CsumOff + 2 > frame.length || (proto === 17 && v.getUint16(l4CsumOff) === 0)) l4CsumOff = 0;
  return { ipOff: ip, l4CsumOff, ipBase: base(v.getUint16(ip + 10)), l4Base: l4CsumOff ? base(v.getUint16(l4CsumOff)) : 0 };
}

/** The loaded generator, its template map holding `frame` (tx.bpf.c explains why). */
function generatorFd(frame: Uint8Array, sources?: SourceList): number {
  const slots = sources && sourceSlots(frame);
  if (!generator || generator.sources !== sources) {
    generator?.obj.close();
    generator = undefined; // a failed load must not leave the old one behind as if it were current
    generator = loadGenerator(sources);
  }
  const t = generator.template;
  const value = new Uint8Array(t.info.valueSize);
  const dv = new DataView(value.buffer);
  if (frame.length < value.length - TEMPLATE_LAYOUT.data) { // len is masked to 4095 in tx.bpf.c
    dv.setUint32(TEMPLATE_LAYOUT.len, frame.length, true);
    value.set(frame, TEMPLATE_LAYOUT.data);
  } // else len 0: too big for the template, sent as the kernel has it
  if (slots) {
    dv.setUint16(TEMPLATE_LAYOUT.ipOff, slots.ipOff, true);
    dv.setUint16(TEMPLATE_LAYOUT.l4CsumOff, slots.l4CsumOff, true);
    dv.setUint32(TEMPLATE_LAYOUT.ipCsumBase, slots.ipBase, true);
    dv.setUint32(TEMPLATE_LAYOUT.l4CsumBase, slots.l4Base, true);
  }
  t.update(new Uint8Array(4), value);
  return generator.fd;
}

export interface SendResult {
  frames: number;
  bytes: number;
  seconds: number;
  pps: number;
}

/**
 * Send `count` copies of `frame` out of `ifindex` (in the current namespace). With `sources`, each
 * frame (IPv4) gets a source drawn at random from them; keep passing the same list object to reuse
 * the loaded generator (loading a million-entry list takes a while).
 */
export function sendFrames(ifindex: number, frame: Uint8Array, count: number, batchSize = 64, sources?: SourceList): SendResult {
  const fd = generatorFd(frame, sources);
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

/** What deliverFrames did beyond sendFrames: frames sent again, and frames never accepted. */
export interface Delivery extends SendResult {
  resent: number;
  refused: number;
}

const XMIT_ERRORS = /^tx_queue_\d+_xdp_xmit_errors$/;

/**
 * sendFrames, made exact: a veth whose receiver falls behind (a busy CPU delays its NAPI poll)
 * refuses frames once its 256-slot ring is full, and counts them in the sender's
 * tx_queue_N_xdp_xmit_errors. Send that many again until all `count` are in, or a round gets
 * nothing in (frames over the receiver's MTU, a receiver going down): those are `refused`.
 */
export function deliverFrames(ifname: string, ifindex: number, frame: Uint8Array, count: number, batchSize = 64, sources?: SourceList): Delivery {
  const errors = () => ethtoolSum(ethtoolStats(ifname), XMIT_ERRORS);
  const t0 = performance.now();
  let left = count, resent = 0, before = errors();
  for (let round = 0; left > 0 && round < 50; round++) {
    sendFrames(ifindex, frame, left, batchSize, sources);
    const after = errors(), lost = Number(after - before);
    before = after;
    if (round > 0) resent += left;
    if (lost >= left) break;
    left = lost;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { frames: count, bytes: count * frame.length, seconds, pps: count / seconds, resent, refused: left };
}

