// target.ts — where a capture's packets come from. Two cases, one interface:
//   standalone: the interface runs nothing; load sampler.bpf.c with the settings in .rodata and
//               attach it through an unpinned bpf_link for the life of the capture (kill -9 of
//               the process closes the link: nothing is left behind);
//   combined:   xdptool's combined program runs there (blacklist, responder…); write the settings
//               into its pinned samp_conf and switch the sampler bit on for the capture —
//               the other stages never stop, and the sampler sees the verdict they reached.
import { BpfObject } from "../ffi/object.ts";
import { BpfMap } from "../ffi/map.ts";
import { mapPin } from "../maps/renamed.ts";
import { closeFd } from "../ffi/fd.ts";
import { xdpQuery } from "../ffi/xdp.ts";
import { progInfoById, testRun } from "../ffi/prog.ts";
import { encodeCfg } from "./layout.ts";
import { createLink } from "../program/attach.ts";
import { embeddedObject } from "../program/embedded.ts";
import { COMBINED, setFeature } from "../combined/bits.ts";
import { ownProgram } from "../combined/program.ts";
import { captureLockPath } from "./stage.ts";
import { tryLock } from "../ffi/lock.ts";
import { OpError } from "../errors.ts";
import type { Iface } from "../ffi/netns.ts";

export interface SampleTarget {
  kind: "standalone" | "combined";
  /** An fd of one of the sampler's maps (samp_perf, samp_ring, samp_filter, samp_stats). */
  mapFd(name: string): number;
  /** Size of the ring buffer actually used (the combined program's is fixed when first loaded). */
  ringBytes: number;
  /** Start sampling; returns the XDP mode. */
  start(): string;
  /** Stop sampling (detach, or switch the bit off). Idempotent. */
  stop(): void;
  close(): void;
}

/** One capture per interface at a time on the combined program: its buffers have one reader. */
function lockCapture(ifname: string): number {
  const fd = tryLock(captureLockPath(ifname));
  if (fd === null) throw new OpError(`another xdptool sample is capturing on ${ifname}`);
  return fd;
}

/** Whether a capture may start here, and how; refuses foreign programs and xdptool's single-purpose ones. */
export function targetKind(iface: Iface): "standalone" | "combined" {
  const state = xdpQuery(iface.ifindex);
  if (!state.progId) return "standalone";
  const own = ownProgram(iface);
  if (own === COMBINED) return "combined";
  const name = own ?? progInfoById(state.progId).name;
  throw new OpError(
    own
      ? `${iface.name} runs xdptool's "${name}" program, which has no sampling stage: unload it, or load the combined program (xdptool load ${iface.name} xdptool)`
      : `${iface.name} runs XDP program "${name}" (id ${state.progId}) that xdptool did not load; sampling would replace it — unload it first`,
  );
}

/**
 * A new ring buffer is slow to fill the first time through: the kernel writes it through a fresh
 * virtual mapping of its pages, and the first write to each page is dear on a VM (docs/A-measurements.md has the
 * figures: the producer well under half speed until the ring has been through once). A sampler
 * program run over a dummy frame (TEST_RUN) until
 * the ring is full moves that cost before the capture; the caller then skips those records.
 * It runs as a separate standalone sampler sharing the ring, with settings that record every
 * frame whatever the capture's own (rate, filter, verdicts), and its own counters.
 */
export function warmRing(ringFd: number, ringBytes: number, ring: { produced(): number }): void {
  if (ring.produced() >= ringBytes) return; // written through already (the combined program's outlives captures)
  const obj = BpfObject.open(embeddedObject("sampler")!, "sampler");
  try {
    const maps = obj.maps();
    const cfg = { watermark: 2 ** 52, rate: 1, snaplen: 64, mode: "ringbuf", drop: false, kfilter: false, actions: 0 } as const;
    obj.setInitialValue(maps.find((m) => m.name.endsWith(".rodata"))!, encodeCfg(cfg));
    obj.reuseMap(maps.find((m) => m.name === "samp_ring")!, ringFd);
    obj.load();
    // Records of 64-byte frames take ≥ 104 bytes: this many runs overfill the ring (failures are cheap).
    testRun(obj.progFd(obj.programs()[0]), { data: new Uint8Array(64), repeat: Math.ceil(ringBytes / 64) });
  } finally {
    obj.close();
  }
}

/** The settings for a ring of the given size (the watermark depends on it). */
export type CfgFor = (ringBytes: number) => Buffer;

export function standaloneTarget(iface: Iface, cfgFor: CfgFor, ringBytes: number): SampleTarget {
  const obj = BpfObject.open(embeddedObject("sampler")!, "sampler");
  let link = -1;
  try {
    const maps = obj.maps();
    obj.setInitialValue(maps.find((m) => m.name.endsWith(".rodata"))!, cfgFor(ringBytes));
    obj.setMaxEntries(maps.find((m) => m.name === "samp_ring")!, ringBytes);
    obj.load();
  } catch (e) {
    obj.close();
    throw e;
  }
  const progFd = obj.progFd(obj.programs()[0]);
  return {
    kind: "standalone",
    ringBytes,
    mapFd: (name) => obj.mapFd(obj.maps().find((m) => m.name === name)!),
    start() {
      const a = createLink(progFd, iface, "auto");
      link = a.fd;
      return a.mode;
    },
    stop() {
      closeFd(link);
      link = -1;
    },
    close() {
      this.stop();
      obj.close();
    },
  };
}

export function combinedTarget(iface: Iface, cfgFor: CfgFor): SampleTarget {
  const lock = lockCapture(iface.name);
  const maps = new Map<string, BpfMap>();
  const open = (name: string) => {
    if (!maps.has(name)) maps.set(name, BpfMap.pinned(mapPin(iface.name, name)));
    return maps.get(name)!;
  };
  let on = false;
  let ringBytes: number;
  try {
    ringBytes = open("samp_ring").info.maxEntries;
    open("samp_conf").update(Buffer.alloc(4), cfgFor(ringBytes));
  } catch (e) {
    for (const m of maps.values()) m.close();
    closeFd(lock);
    throw e;
  }
  return {
    kind: "combined",
    ringBytes,
    mapFd: (name) => open(name).fd,
    start() {
      setFeature(iface.name, "sampler", true);
      on = true;
      return xdpQuery(iface.ifindex).mode ?? "?";
    },
    stop() {
      if (on) setFeature(iface.name, "sampler", false);
      on = false;
    },
    close() {
      this.stop();
      for (const m of maps.values()) m.close();
      closeFd(lock);
    },
  };
}
