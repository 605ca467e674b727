// rates.ts — counters of every interface running an xdptool program, and rates from two reads.
import { existsSync } from "node:fs";
import { pinnedInterfaces } from "../ffi/bpffs.ts";
import { readCounters, statsMapPath, STAT_NAMES, type Counters, type StatName } from "./counters.ts";
import { OpError } from "../errors.ts";

/** Interfaces whose pin directory holds an xdptool_stats map (any xdptool program has one). */
export function statsInterfaces(): string[] {
  return pinnedInterfaces().filter((i) => existsSync(statsMapPath(i)));
}

export interface Snapshot {
  /** Monotonic ms. */
  at: number;
  counters: Record<string, Counters>;
}

/** Counters of these interfaces now; null: every interface running an xdptool program at this
 *  moment (one whose program went away since the listing is left out, not an error). */
export function snapshot(ifnames: string[] | null): Snapshot {
  const counters: Record<string, Counters> = {};
  for (const i of ifnames ?? statsInterfaces()) {
    try {
      counters[i] = readCounters(i);
    } catch (e) {
      if (ifnames || !(e instanceof OpError)) throw e;
    }
  }
  return { at: performance.now(), counters };
}

export interface Rate {
  packets: number;
  bytes: number;
  pps: number;
  mbps: number;
}
export type Rates = Record<StatName, Rate>;

/** Totals at `b`, rates over the time between `a` and `b` (a counter that went back — the map was reset — counts from 0). */
export function rates(a: Snapshot, b: Snapshot): Record<string, Rates> {
  const dt = (b.at - a.at) / 1000;
  const out: Record<string, Rates> = {};
  for (const [ifname, now] of Object.entries(b.counters)) {
    const before = a.counters[ifname];
    const r = {} as Rates;
    for (const s of STAT_NAMES) {
      const n = now[s], p = before?.[s] ?? n; // new since the last read: no rate yet
      const dp = n.packets >= p.packets ? n.packets - p.packets : n.packets;
      const db = n.bytes >= p.bytes ? n.bytes - p.bytes : n.bytes;
      r[s] = { packets: n.packets, bytes: n.bytes, pps: dt > 0 ? dp / dt : 0, mbps: dt > 0 ? (db * 8) / dt / 1e6 : 0 };
    }
    out[ifname] = r;
  }
  return out;
}

export const GROUPS: Record<string, readonly StatName[]> = {
  action: STAT_NAMES.slice(0, 5),
  l3: STAT_NAMES.slice(5, 9),
  l4: STAT_NAMES.slice(9, 14),
  undecidable: STAT_NAMES.slice(14),
};
