// session.ts — one capture: start the sampler (standalone for the life of the capture, or as a
// stage of the combined program — see target.ts), read the buffers until a stop condition, stop,
// drain what is left, and account for every packet.
import { BpfMap, possibleCpus } from "../ffi/map.ts";
import { closeFd } from "../ffi/fd.ts";
import { PerfBuffer, type RawSink } from "../ffi/perf.ts";
import { RingBuffer } from "../ffi/ringbuf.ts";
import { CLOCK_BOOTTIME, CLOCK_REALTIME, clockNs } from "../ffi/clock.ts";
import { ENODEV } from "../ffi/errno.ts";
import { PollSet } from "../ffi/poll.ts";
import { UsageError } from "../errors.ts";
import { combinedTarget, standaloneTarget, targetKind, warmRing } from "./target.ts";
import { ifIndex, type Iface } from "../ffi/netns.ts";
import type { Filter } from "./filter.ts";
import type { Stamp } from "./output.ts";
import { CBPF_MAX, HDR_LAYOUT, encodeCfg } from "./layout.ts";
import { readSampleStats } from "./stats.ts";
import { BulkReader } from "./bulk.ts";
import type { BulkOut } from "./destination.ts";

export type Transport = "perf" | "ringbuf";
export interface SampleOptions {
  iface: Iface;
  transport: Transport;
  rate: number;
  snaplen: number;
  /** Bytes of buffer: per CPU for perf, in total for the ring buffer (power of two, ≥ 4 KiB). */
  bufferBytes: number;
  filter?: Filter;
  /** Run the filter in the XDP program (non-matching packets are never copied). */
  kernelFilter?: boolean;
  /** Stop after this many packets were written. */
  count?: number;
  /** Stop after this many milliseconds. */
  durationMs?: number;
  /** Bench only: capture, then XDP_DROP. */
  dropAfterSample?: boolean;
  /** Bit (1 << XDP verdict) per verdict to keep; 0/undefined = every packet (combined program only). */
  actions?: number;
  onPacket(t: Stamp, buf: Buffer, off: number, caplen: number, origlen: number, action: number, queue: number): void;
  /** Where records may be written in bulk, without onPacket (ring buffer, no filter in user space). */
  bulk?: BulkOut | null;
  /** Polled between batches: true ends the capture (e.g. the pipe we write to was closed). */
  shouldStop?(): boolean;
  /** Awaited just before attaching: what must be ready by the first packet (the writer thread). */
  beforeAttach?(): Promise<void>;
  /** Called once the program is attached (tests and benches start traffic then). */
  onAttached?(xdpMode: string): void;
}

export interface SampleResult {
  /** Packets the program saw (its per-CPU counter). */
  seen: number;
  sampledOut: number;
  /** Lost in kernel buffers (submit failed: buffer full). */
  lost: number;
  /** Not matched by the filter (in the kernel or in user space). */
  filtered: number;
  /** Of those, rejected in the kernel (never copied). */
  kernelFiltered: number;
  filterAt: "kernel" | "user" | null;
  captured: number;
  /** Submitted after -c was reached: read and dropped. */
  overLimit: number;
  submitted: number;
  transport: Transport;
  xdpMode: string;
  /** Reader CPU time (user + system µs) and wall time, for benches. */
  cpuMicros: number;
  seconds: number;
  /** The interface was deleted (or moved to another namespace) during the capture, which ended there. */
  interfaceGone: boolean;
}

/** Wall clock minus boot clock, to turn bpf_ktime_get_boot_ns() into a real time of day. */
function bootToWall(): { sec: number; nsec: number } {
  const b0 = clockNs(CLOCK_BOOTTIME), real = clockNs(CLOCK_REALTIME), b1 = clockNs(CLOCK_BOOTTIME);
  const off = real - (b0 + b1) / 2n;
  return { sec: Number(off / 1_000_000_000n), nsec: Number(off % 1_000_000_000n) };
}

/** Refuse what cannot be sampled (see target.ts) and options that do not fit it, before anything is created. */
export function refuseBusy(iface: Iface, o: { actions?: number; dropAfterSample?: boolean } = {}): "standalone" | "combined" {
  const kind = targetKind(iface);
  if (o.actions && kind !== "combined") throw new UsageError(`--action selects by the verdict of other stages: ${iface.name} runs none (enable the blacklist or the responder there first)`);
  if (kind === "combined" && o.dropAfterSample) throw new UsageError("--drop-after-sample is for the standalone sampler only");
  return kind;
}


export async function sample(o: SampleOptions): Promise<SampleResult> {
  const kind = refuseBusy(o.iface, o);
  const readers: (PerfBuffer | RingBuffer)[] = [];
  const stopSignals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  let stopped = false;
  const onSignal = () => { stopped = true; };
  const inKernel = !!(o.filter && o.kernelFilter && o.filter.insns.length / 8 <= CBPF_MAX);
  // The wake-up watermark follows the ring actually used (the combined program's is sized once,
  // when it is loaded), so the target completes the settings once it knows the size.
  const cfgFor = (ringBytes: number) => encodeCfg({
    watermark: Math.floor((o.transport === "ringbuf" ? ringBytes : 4096) / 4), rate: o.rate, snaplen: o.snaplen,
    mode: o.transport, drop: !!o.dropAfterSample, kfilter: inKernel, actions: o.actions ?? 0,
  });
  const wantRing = o.transport === "ringbuf" ? o.bufferBytes : 4096;
  const target = kind === "combined" ? combinedTarget(o.iface, cfgFor) : standaloneTarget(o.iface, cfgFor, wantRing);
  try {
    const ringBytes = target.ringBytes;
    const mapFd = (name: string) => target.mapFd(name);
    const stats = new BpfMap(mapFd("samp_stats"));
    const baseline = readSampleStats(stats); // the combined program's counters outlive captures
    if (inKernel) {
      // struct xt_cbpf_prog { u32 len; u32 pad; struct xt_cbpf_insn insns[XT_CBPF_MAX]; }
      const prog = Buffer.alloc(8 + CBPF_MAX * 8);
      prog.writeUInt32LE(o.filter!.insns.length / 8, 0);
      o.filter!.insns.copy(prog, 8);
      new BpfMap(mapFd("samp_filter")).update(Buffer.alloc(4), prog);
    }
    const userFilter = inKernel ? undefined : o.filter;

    if (o.transport === "perf") {
      const perfMap = new BpfMap(mapFd("samp_perf"));
      const pages = Math.max(1, o.bufferBytes / 4096);
      for (let cpu = 0; cpu < possibleCpus(); cpu++) {
        let pb: PerfBuffer;
        try {
          pb = new PerfBuffer(cpu, pages, o.bufferBytes / 4);
        } catch (e) {
          if ((e as { errno?: number }).errno === ENODEV) continue; // a CPU that is offline
          throw e;
        }
        readers.push(pb);
        const k = Buffer.alloc(4), v = Buffer.alloc(4);
        k.writeUInt32LE(cpu);
        v.writeInt32LE(pb.fd);
        perfMap.update(k, v);
      }
    } else {
      const ring = new RingBuffer(mapFd("samp_ring"), ringBytes);
      readers.push(ring);
      warmRing(mapFd("samp_ring"), ringBytes, ring); // its own counters: the baseline stands
      ring.skipAll(); // the warm-up's records, and any a stopped capture left unread
    }

    // Account for every record; the stage writes struct xt_samp_hdr then cap_len bytes.
    const wall = bootToWall();
    const t: Stamp = { sec: 0, nsec: 0 };
    let captured = 0, filtered = 0, overLimit = 0;
    const limit = o.count ?? Infinity;
    const sink: RawSink = (b, off) => {
      if (captured >= limit) { overLimit++; return; }
      const caplen = b.readUInt32LE(off + HDR_LAYOUT.capLen), origlen = b.readUInt32LE(off + HDR_LAYOUT.origLen);
      if (userFilter && !userFilter.match(b, off + HDR_LAYOUT.size, caplen, origlen)) { filtered++; return; }
      const ts = b.readUInt32LE(off + HDR_LAYOUT.tstamp) + b.readUInt32LE(off + HDR_LAYOUT.tstamp + 4) * 4294967296; // < 2^53 for 104 days of uptime
      const s = Math.floor(ts / 1e9);
      t.nsec = ts - s * 1e9 + wall.nsec;
      t.sec = s + wall.sec;
      if (t.nsec >= 1e9) { t.nsec -= 1e9; t.sec++; }
      captured++;
      o.onPacket(t, b, off + HDR_LAYOUT.size, caplen, origlen, b.readUInt32LE(off + HDR_LAYOUT.action), b.readUInt32LE(off + HDR_LAYOUT.rxQueue));
    };
    // The ring buffer's records straight into the file where each is written as it comes (bulk.ts).
    const bulk = o.transport === "ringbuf" && o.bulk && !userFilter ? new BulkReader(readers[0] as RingBuffer, ringBytes, wall, o.bulk, sink) : null;
    const left = () => limit - captured, wrote = (n: number) => { captured += n; };
    const drainAll = bulk ? () => bulk.drain(left, wrote) : () => { let n = 0; for (const r of readers) n += r.drain(sink); return n; };

    await o.beforeAttach?.();
    for (const s of stopSignals) process.on(s, onSignal);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const xdpMode = target.start();
    o.onAttached?.(xdpMode);

    // pollfd array: the kernel wakes us past the watermark; the timeout bounds a quiet tail.
    const poll = new PollSet(readers.map((r) => r.fd));
    const deadline = o.durationMs ? t0 + o.durationMs : Infinity;
    const ring = o.transport === "ringbuf";
    let loops = 0, interfaceGone = false, nextLook = t0 + 250;
    while (!stopped && captured < limit && performance.now() < deadline && !o.shouldStop?.()) {
      // An interface deleted or moved away takes the program with it: nothing more will come.
      if (performance.now() >= nextLook) {
        nextLook += 250;
        if (ifIndex(o.iface.name) !== o.iface.ifindex) {
          interfaceGone = true;
          break;
        }
      }
      const n = drainAll();
      if (n < 64) {
        // Little came in: sleep until the kernel's batched wake-up (or 20 ms). A ring buffer's
        // poll returns at once while anything is unread, so let a trickle accumulate instead.
        if (ring && readers[0].pending() > 0) await Bun.sleep(2);
        else poll.wait(20);
      }
      // Let signal handlers and timers run between batches (also when every record is filtered out).
      if (n < 64 || (++loops & 15) === 0) await new Promise((r) => setImmediate(r));
    }
    // Stop first, then read what the program submitted up to that moment.
    target.stop();
    await Bun.sleep(10); // an RCU grace period for a packet in flight on another CPU
    drainAll();
    const cpu = process.cpuUsage(cpu0);
    const seconds = (performance.now() - t0) / 1000;

    const now = readSampleStats(stats);
    const sums = now.map((v, i) => v - baseline[i]);
    const [seen, sampledOut, submitted, lost, kernelFiltered] = sums;
    return {
      seen, sampledOut, submitted, lost, filtered: filtered + kernelFiltered, kernelFiltered, filterAt: o.filter ? (inKernel ? "kernel" : "user") : null, captured, overLimit, transport: o.transport,
      xdpMode, cpuMicros: cpu.user + cpu.system, seconds, interfaceGone,
    };
  } finally {
    for (const s of stopSignals) process.off(s, onSignal);
    target.stop();
    for (const r of readers) r.close();
    target.close();
  }
}
