// candidates.ts — the programs the flood bench compares, one table entry each. To try a new data
// structure: write bench/progs/<name>.bpf.c (include flood.h, drop through flood_verdict), and add
// bpfCandidate("what it is", "<name>", { size, fill }) to `candidates` below. Every candidate is
// measured on the same frames in every round, and reported against bare XDP_DROP, the plain hash
// and nftables.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "bun";
import { BpfObject } from "../../src/ffi/object.ts";
import { BpfMap } from "../../src/ffi/map.ts";
import { fdById } from "../../src/ffi/fd.ts";
import { xdpQuery } from "../../src/ffi/xdp.ts";
import { embeddedObject } from "../../src/program/embedded.ts";
import { enterNetns, resolveIface } from "../../src/ffi/netns.ts";
import { pinDir, unpin } from "../../src/ffi/bpffs.ts";
import { attach } from "../../src/program/attach.ts";
import { readCounters } from "../../src/stats/counters.ts";
import { vethStats } from "../../src/bench/measure.ts";
import type { Lab } from "../../src/lab/setup.ts";
import type { RuleSet } from "./rules.ts";

export interface FloodEnv {
  lab: Lab;
  set: RuleSet;
  /** The set as a rule file. */
  ruleFile: string;
  /** Scratch directory for the run. */
  dir: string;
  /** The xdptool binary the CLI candidates run. */
  xdptool: string;
}

export interface Candidate {
  /** Row name in the report. */
  name: string;
  /** A yardstick the report gives ratios to. */
  ref?: "bare" | "hash" | "nftables";
  /** Load and fill, once before the rounds (not timed). Returns the XDP program's fd: the bench
   *  swaps it into the DUT's link for the candidate's turn (maps and pins stay as they are). */
  setup(env: FloodEnv): number | Promise<number>;
  /** Cumulative counts, by the candidate's own counters: frames dropped, frames that matched a
   *  rule. The bench takes differences around each run and checks dropped = frames sent. */
  counts(env: FloodEnv): { dropped: number; matched: number };
}

const dutDrops = (lab: Lab) => vethStats(lab.dut.ns, lab.dut.ifname).rx_queue_0_xdp_drops ?? 0;

function loadEmbedded(name: string): number {
  const obj = BpfObject.open(embeddedObject(name)!, name);
  obj.load();
  return obj.progFd(obj.programs()[0]); // the object stays open: the program lives as long as the bench
}

/** Hash keys as the programs read them from the packet: IPv4 addresses in network byte order. */
export function ipv4Keys(addrs: Uint32Array): Uint8Array {
  const out = new Uint8Array(addrs.length * 4), v = new DataView(out.buffer);
  for (let i = 0; i < addrs.length; i++) v.setUint32(i * 4, addrs[i]);
  return out;
}

/** LPM trie keys: { __u32 prefixlen (host order); __u32 addr (network order) }. */
export function lpmKeys(addrs: Uint32Array, len: (i: number) => number): Uint8Array {
  const out = new Uint8Array(addrs.length * 8), v = new DataView(out.buffer);
  for (let i = 0; i < addrs.length; i++) {
    v.setUint32(i * 8, len(i), true);
    v.setUint32(i * 8 + 4, addrs[i]);
  }
  return out;
}

/**
 * A program from bench/progs (built by `make -C bpf bench`). Counts: the kernel's veth drops, and
 * flood.h's flood_hits.
 */
export function bpfCandidate(name: string, object: string, how: {
  ref?: Candidate["ref"];
  /** max_entries of each map named, set before load. */
  size?: (set: RuleSet) => Record<string, number>;
  /** Anything else before load (.rodata settings…). */
  configure?: (obj: BpfObject, set: RuleSet) => void;
  /** Write the rule set, after load. */
  fill: (map: (name: string) => BpfMap, set: RuleSet) => void;
}): Candidate {
  let hits: BpfMap;
  return {
    name,
    ref: how.ref,
    setup({ set }) {
      const obj = BpfObject.open(new Uint8Array(readFileSync(join(import.meta.dir, "../../dist/bench", `${object}.bpf.o`))), object);
      for (const [map, n] of Object.entries(how.size?.(set) ?? {})) obj.setMaxEntries(obj.maps().find((m) => m.name === map)!, n);
      how.configure?.(obj, set);
      obj.load();
      const fds = new Map(obj.maps().map((m) => [m.name, obj.mapFd(m)]));
      how.fill((n) => new BpfMap(fds.get(n)!), set);
      hits = new BpfMap(fds.get("flood_hits")!);
      return obj.progFd(obj.programs()[0]); // the object stays open: the program lives as long as the bench
    },
    counts({ lab }) {
      const v = hits.lookup(new Uint8Array(4))!;
      let matched = 0;
      for (let o = 0; o < v.length; o += 8) matched += Number(v.readBigUInt64LE(o));
      return { dropped: dutDrops(lab), matched };
    },
  };
}

/** nftables on the DUT's netdev ingress hook: the /32s in a hash set. An XDP_PASS program hands
 *  it the frames (veth delivers XDP_TX'd frames only to an end with XDP). */
const nftables: Candidate = {
  name: "nftables: netdev ingress, hash set of the /32s",
  ref: "nftables",
  setup({ lab, set, dir }) {
    const file = join(dir, "flood.nft"), el: string[] = [];
    for (const a of set.hosts) el.push(`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`);
    const hook = (prio: number) => `type filter hook ingress device "${lab.dut.ifname}" priority ${prio}; policy accept;`;
    // What the set misses is dropped by a later chain, so the stack never sets the pace (the XDP
    // baselines drop misses too). Its counter lives in a table of its own: nft reads every
    // element of a table's sets to list anything in it (~25 s for this one).
    writeFileSync(file, `table netdev xflood {
  set bl { type ipv4_addr; elements = { ${el.join(", ")} } }
  chain in { ${hook(-500)} ip saddr @bl drop; }
}
table netdev xmiss {
  chain in { ${hook(-400)} meta protocol ip counter drop; }
}\n`);
    const r = spawnSync(["ip", "netns", "exec", lab.dut.ns, "nft", "-f", file]);
    if (r.exitCode !== 0) throw new Error(`nft -f: ${r.stderr.toString().trim()}`);
    return loadEmbedded("pass");
  },
  counts({ lab }) {
    const inNs = (...cmd: string[]) => spawnSync(["ip", "netns", "exec", lab.dut.ns, ...cmd]).stdout.toString();
    const rules = (JSON.parse(inNs("nft", "-j", "list", "table", "netdev", "xmiss")).nftables as any[]).filter((x) => x.rule);
    const misses: number = rules[0].rule.expr.find((e: any) => e.counter).counter.packets;
    // Dropped: what XDP passed up minus what reached IP (Ip InReceives counts after the ingress hook).
    const passed = vethStats(lab.dut.ns, lab.dut.ifname).rx_queue_0_xdp_packets ?? 0;
    const [names, values] = inNs("cat", "/proc/net/snmp").split("\n").filter((l) => l.startsWith("Ip:")).map((l) => l.split(/\s+/));
    const reachedIp = Number(values[names.indexOf("InReceives")]);
    return { dropped: passed - reachedIp, matched: passed - reachedIp - misses };
  },
};

/** xdptool's blacklist, set up through its command line like an operator would. */
const blacklist: Candidate = {
  name: "xdptool blacklist (every rule, IPv4 + IPv6)",
  setup({ lab, ruleFile, xdptool, set }) {
    const dut = `${lab.dut.ns}/${lab.dut.ifname}`;
    const rules = set.hosts.length + set.prefixes.length + set.v6.length;
    const cli = (...args: string[]) => {
      enterNetns(null); // a child starts in our thread's namespace; from there the lab's would not be found
      const r = spawnSync([xdptool, ...args], { env: { ...process.env, XDPTOOL_LAB: lab.name } });
      if (r.exitCode !== 0) throw new Error(`xdptool ${args.join(" ")}: ${r.stderr.toString().trim()}`);
    };
    cli("blacklist", "attach", dut, "--max-rules", String(Math.ceil(rules * 1.05)));
    const t0 = performance.now();
    cli("blacklist", "import", ruleFile, "--replace", "-i", dut);
    console.error(`flood: blacklist import of ${rules} rules through the CLI: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // A replace may start a background `blacklist gc`; it must not share the CPUs with the rounds.
    while (spawnSync(["pgrep", "-f", `blacklist gc -i ${lab.dut.ifname}`]).exitCode === 0) Bun.sleepSync(100);
    return fdById("prog", xdpQuery(resolveIface(dut).ifindex).progId);
  },
  counts({ lab }) {
    const drop = readCounters(lab.dut.ifname).drop.packets; // the combined program's own verdict counters
    return { dropped: drop, matched: drop };
  },
};

/**
 * The blacklist of another xdptool build (XDPTOOL_BASE=path to its binary, e.g. made by
 * bench/build-base.sh from an earlier commit): a same-run A/B of a data-path change. Set up before
 * ours through its own CLI; then its pins are removed but the link's (the program, held by our fd,
 * keeps its maps) and the DUT goes back to `pass`, so ours is attached as on a clean interface. Counted by the
 * kernel's veth drop counter: its own counters are no longer pinned.
 */
function baseBlacklist(bin: string, name: string | undefined): Candidate {
  return {
    name: `xdptool blacklist, base build (${name ?? bin})`,
    async setup(env) {
      const fd = await blacklist.setup({ ...env, xdptool: bin });
      enterNetns(null);
      const dir = pinDir(env.lab.dut.ifname); // the link's pin stays: `attach` swaps pass into it
      for (const f of readdirSync(dir)) if (f !== "link") unpin(join(dir, f));
      attach({ iface: resolveIface(`${env.lab.dut.ns}/${env.lab.dut.ifname}`), image: embeddedObject("pass")!, objectName: "pass", mode: "native" });
      return fd;
    },
    counts: ({ lab }) => ({ dropped: dutDrops(lab), matched: dutDrops(lab) }),
  };
}

const u8 = (n: number) => new Uint8Array(n);

/** bench/progs/flood_oa.h: 2^21 slots in pieces of 4096, linear probing inside the home's piece. */
const OA_BITS = 21, OA_SLOTS = 1 << OA_BITS, OA_PIECE = 4096, OA_PROBES = 64;

/** flood_oa.h's table of the /32s, each as the program loads it (network order read as a u32). */
function oaTable(hosts: Uint32Array): Uint32Array {
  const t = new Uint32Array(OA_SLOTS);
  for (const a of hosts) {
    const k = (((a & 0xff) << 24) | ((a >>> 8) & 0xff) << 16 | ((a >>> 16) & 0xff) << 8 | (a >>> 24)) >>> 0;
    const h = Math.imul(k, 0x9e3779b1) >>> (32 - OA_BITS);
    let j = 0;
    for (; j < OA_PROBES; j++) {
      const i = (h & ~(OA_PIECE - 1)) | ((h + j) & (OA_PIECE - 1));
      if (t[i] === 0) {
        t[i] = k;
        break;
      }
    }
    if (j === OA_PROBES) throw new Error("flood_oa: a piece of the table is too full");
  }
  return t;
}

/** Slot numbers first .. first + n - 1 as u32 keys. */
function indexKeys(first: number, n: number): Uint8Array {
  const k = new Uint32Array(n);
  for (let i = 0; i < n; i++) k[i] = first + i;
  return new Uint8Array(k.buffer);
}

const all: Candidate[] = [
  {
    name: "bare XDP_DROP",
    ref: "bare",
    setup: () => loadEmbedded("bare_drop"),
    counts: ({ lab }) => ({ dropped: dutDrops(lab), matched: 0 }),
  },
  bpfCandidate("plain BPF hash of the /32s (one lookup)", "flood_hash", {
    ref: "hash",
    size: (set) => ({ flood_set: set.hosts.length }),
    fill: (map, set) => map("flood_set").updateBatch(ipv4Keys(set.hosts), u8(set.hosts.length), set.hosts.length),
  }),
  bpfCandidate("LPM trie alone (every IPv4 entry)", "flood_lpm", {
    size: (set) => ({ flood_trie: set.hosts.length + set.prefixes.length }),
    fill: (map, set) => {
      const trie = map("flood_trie");
      trie.updateBatch(lpmKeys(set.hosts, () => 32), u8(set.hosts.length), set.hosts.length);
      trie.updateBatch(lpmKeys(set.prefixes, (i) => set.prefixLens[i]), u8(set.prefixes.length), set.prefixes.length);
    },
  }),
  bpfCandidate("open addressing, one 8 MiB array of the /32s (vmalloc: 4 KiB pages)", "flood_oa", {
    fill: (map, set) => {
      const t = oaTable(set.hosts);
      map("flood_oa").updateBatch(indexKeys(0, OA_SLOTS), new Uint8Array(t.buffer), OA_SLOTS);
    },
  }),
  bpfCandidate("open addressing, the same table in 512 arrays of 16 KiB (kmalloc: direct map)", "flood_oa_split", {
    fill: (map, set) => {
      const t = oaTable(set.hosts), outer = map("flood_oa_split");
      for (let p = 0; p < OA_SLOTS / OA_PIECE; p++) {
        const piece = BpfMap.create("array", "flood_oa_piece", 4, 4, OA_PIECE);
        piece.updateBatch(indexKeys(0, OA_PIECE), new Uint8Array(t.buffer, p * OA_PIECE * 4, OA_PIECE * 4), OA_PIECE);
        const k = Buffer.alloc(4), v = Buffer.alloc(4);
        k.writeUInt32LE(p);
        v.writeUInt32LE(piece.fd);
        outer.update(k, v);
        piece.close(); // the outer map holds it
      }
    },
  }),
  nftables,
  // XDPTOOL_BASE=A,B,…: several builds in the same rounds (XDPTOOL_BASE_NAME=a,b,… names them).
  ...(process.env.XDPTOOL_BASE ?? "").split(",").filter(Boolean).map((bin, i) => baseBlacklist(bin, process.env.XDPTOOL_BASE_NAME?.split(",")[i])),
  blacklist,
];

/** CANDIDATES=regex keeps the matching ones (bare XDP_DROP always: every ratio needs it). */
const keep = process.env.CANDIDATES ? new RegExp(process.env.CANDIDATES) : null;
export const candidates = all.filter((c) => !keep || c.ref === "bare" || keep.test(c.name));
