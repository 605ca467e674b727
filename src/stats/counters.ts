// stats.ts — the counters every xdptool program keeps (bpf/include/stats.h), summed over CPUs.
import { join } from "node:path";
import { BpfMap } from "../ffi/map.ts";
import { pinDir } from "../ffi/bpffs.ts";
import { OpError } from "../errors.ts";
import { XDP_ACTIONS } from "../ffi/xdp.ts";
import { existsSync } from "node:fs";

/** enum xt_stat in bpf/include/xdptool.h, in order (checked by test/layout.test.ts). */
export const STAT_NAMES = [
  ...XDP_ACTIONS,
  "ipv4", "ipv6", "arp", "l3_other",
  "tcp", "udp", "icmp", "icmpv6", "l4_other",
  // Undecidable: IP packets whose protocol or ports could not be read (enum xt_l4_unknown).
  "l4u_ip_cut", "l4u_ext_cut", "l4u_ports_cut", "l4u_frag_cut", "l4u_chain_long",
] as const;
export type StatName = (typeof STAT_NAMES)[number];
export const STATS_MAP = "xdptool_stats";
/** sizeof(struct xt_counter) */
export const COUNTER_SIZE = 16;

export interface Counter {
  packets: number;
  bytes: number;
}
export type Counters = Record<StatName, Counter>;

export function statsMapPath(ifname: string): string {
  return join(pinDir(ifname), STATS_MAP);
}

/** Sum one per-CPU value buffer of struct xt_counter. */
function sumCpus(v: Buffer, cpus: number): Counter {
  let packets = 0n, bytes = 0n;
  for (let c = 0; c < cpus; c++) {
    packets += v.readBigUInt64LE(c * COUNTER_SIZE);
    bytes += v.readBigUInt64LE(c * COUNTER_SIZE + 8);
  }
  return { packets: Number(packets), bytes: Number(bytes) };
}

export function readCountersFrom(map: BpfMap): Counters {
  const cpus = map.valueBytes / COUNTER_SIZE;
  const out = {} as Counters;
  const key = Buffer.alloc(4);
  STAT_NAMES.forEach((name, i) => {
    key.writeUInt32LE(i);
    const v = map.lookup(key);
    out[name] = v ? sumCpus(v, cpus) : { packets: 0, bytes: 0 };
  });
  return out;
}

/** Counters of the xdptool program on an interface. */
export function readCounters(ifname: string): Counters {
  const path = statsMapPath(ifname);
  if (!existsSync(path)) throw new OpError(`${ifname} runs no xdptool program with statistics (xdptool load ${ifname} hello)`);
  return BpfMap.withPinned(path, readCountersFrom);
}
