// show.ts — `xdptool stats` output: a table (or JSON) per interval.
import { existsSync } from "node:fs";
import { OpError } from "../errors.ts";
import { resolveIface } from "../ffi/netns.ts";
import { statsMapPath } from "./counters.ts";
import { table } from "../table.ts";
import { GROUPS, rates, snapshot, statsInterfaces, type Rates } from "./rates.ts";

export function pickInterfaces(name?: string): string[] {
  if (!name) {
    const all = statsInterfaces();
    if (!all.length) throw new OpError("no interface runs an xdptool program (xdptool load IFACE hello)");
    return all;
  }
  if (!existsSync(statsMapPath(name))) {
    resolveIface(name); // throws a usage error for an interface that does not exist
    throw new OpError(`${name} runs no xdptool program with statistics (xdptool load ${name} hello)`);
  }
  return [name];
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

function jsonDoc(r: Record<string, Rates>, seconds: number): unknown {
  const ifs: Record<string, unknown> = {};
  for (const [i, rs] of Object.entries(r)) {
    ifs[i] = Object.fromEntries(Object.entries(rs).map(([k, v]) => [k, { packets: v.packets, bytes: v.bytes, pps: round(v.pps, 1), mbps: round(v.mbps, 3) }]));
  }
  return { time: new Date().toISOString(), intervalSeconds: round(seconds, 3), interfaces: ifs };
}

function text(r: Record<string, Rates>): string {
  const rows: (string | number)[][] = [];
  for (const [ifname, rs] of Object.entries(r)) {
    for (const [group, names] of Object.entries(GROUPS)) {
      for (const s of names) {
        const v = rs[s];
        if (group !== "action" && v.packets === 0) continue; // protocols never seen
        rows.push([ifname, group, s, v.packets, v.bytes, Math.round(v.pps), v.mbps.toFixed(2)]);
      }
    }
  }
  return table(["INTERFACE", "GROUP", "COUNTER", "PACKETS", "BYTES", "PPS", "MBIT/S"], rows);
}

const sleep = (s: number) => new Promise((res) => setTimeout(res, s * 1000));

/**
 * Watch named interfaces for deletion (or a move to another namespace, or a new interface under
 * the old name): their pinned counters outlive them, so without this a watch would go on printing
 * the last figures forever. Returns a check that throws once one is gone.
 */
export function goneCheck(names: string[]): () => void {
  const index = (n: string) => {
    try {
      return resolveIface(n).ifindex;
    } catch {
      return 0;
    }
  };
  const was = new Map(names.map((n) => [n, index(n)]));
  return () => {
    for (const [n, i] of was) if (index(n) !== i) throw new OpError(`${n} went away (deleted, or moved to another namespace): no more counters to show`);
  };
}

/** `ifs` null: every interface running an xdptool program, listed again at each interval. */
export async function runStats(ifs: string[] | null, o: { interval: number; watch: boolean; json: boolean }): Promise<void> {
  let prev = snapshot(ifs);
  const gone = goneCheck(ifs ?? []);
  process.on("SIGINT", () => process.exit(0));
  for (;;) {
    await sleep(o.interval);
    gone();
    const now = snapshot(ifs);
    const r = rates(prev, now);
    const secs = (now.at - prev.at) / 1000;
    if (o.json) console.log(o.watch ? JSON.stringify(jsonDoc(r, secs)) : JSON.stringify(jsonDoc(r, secs), null, 2));
    else {
      if (o.watch && process.stdout.isTTY) process.stdout.write("\x1b[H\x1b[2J");
      console.log(text(r) + (o.watch ? `\n(every ${o.interval} s; Ctrl-C stops)` : ""));
    }
    if (!o.watch) return;
    prev = now;
  }
}
