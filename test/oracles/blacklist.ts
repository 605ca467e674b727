// oracles/blacklist.ts — what the blacklist should decide for a frame, computed in plain TypeScript from
// the rule list (no maps, no BPF). The differential test runs it beside the BPF program on the
// same frames; it is written from the spec in bpf/include/blacklist.h's header comment and
// bpf/include/parsing.h's rules, not from the BPF code.
import type { Dir, Rule } from "../../src/blacklist/rules.ts";
import { walkFrame } from "../../src/net/frame.ts";

export interface RefRule extends Rule {
  id: number;
  expires: bigint;
}

interface Parsed {
  src: Uint8Array;
  dst: Uint8Array;
  /** Addresses judged per direction: [family, bytes][] */
  addrs: Record<Dir, Uint8Array[]>;
  family: 4 | 6 | 0;
  proto: number | null;
  sport: number | null;
  dport: number | null;
  /** The ports (or, when !protoKnown, the protocol) must exist but could not be read. */
  l4Unknown: boolean;
  protoKnown: boolean;
}

/** The frame as the spec reads it (bpf/include/parsing.h, walked by src/net/frame.ts): its
 *  addresses to judge per direction, protocol and ports, and whether L4 is undecidable. */
export function parseFrame(f: Uint8Array): Parsed | null {
  if (f.length < 14) return null;
  const w = walkFrame(f);
  const out: Parsed = { dst: f.subarray(0, 6), src: f.subarray(6, 12), addrs: { src: [], dst: [] }, family: 0, proto: null, sport: null, dport: null, l4Unknown: w.l4Unknown, protoKnown: w.protoKnown };
  if (w.ip) {
    out.family = w.ip.family;
    out.addrs.src.push(w.ip.src);
    out.addrs.dst.push(w.ip.dst);
    out.proto = w.proto;
    out.sport = w.sport;
    out.dport = w.dport;
    // Neighbour discovery: the target of a solicitation is judged as a destination, of an
    // advertisement as a source.
    const l4 = w.l4;
    if (w.ip.family === 6 && w.proto === 58 && l4 !== null && l4 + 24 <= f.length && (f[l4] === 135 || f[l4] === 136)) {
      out.addrs[f[l4] === 135 ? "dst" : "src"].push(f.subarray(l4 + 8, l4 + 24));
    }
  } else if (w.arp) {
    out.family = 4;
    out.addrs.src.push(w.arp.sender);
    out.addrs.dst.push(w.arp.target);
  }
  return out;
}

function inPrefix(a: Uint8Array, p: Uint8Array, len: number): boolean {
  const whole = len >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== p[i]) return false;
  const rest = len & 7;
  if (!rest) return true;
  const m = (0xff00 >> rest) & 0xff;
  return (a[whole] & m) === (p[whole] & m);
}

function eq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class Reference {
  private readonly hasMac: boolean;
  private readonly hasAllow: boolean;
  private readonly hasGlobalDeny: boolean;
  readonly hits = new Map<number, { packets: number; bytes: number }>();
  /** Id of the rule that decided the last judged frame (0: none). */
  lastRule = 0;
  /** Frames dropped because their ports or protocol could not be read (a rule that could apply). */
  undecided = 0;
  private undecidedNow = false;
  /** Rules split by allow/deny and kind, so each frame scans only what can match it. */
  private readonly split: Record<"deny" | "allow", { mac: RefRule[]; prefix: RefRule[]; none: RefRule[] }>;

  constructor(private readonly rules: RefRule[], private readonly now: bigint) {
    this.hasMac = rules.some((r) => r.match.kind === "mac");
    this.hasAllow = rules.some((r) => r.allow);
    this.hasGlobalDeny = rules.some((r) => !r.allow && r.match.kind === "none");
    const part = (allow: boolean) => {
      const mine = rules.filter((r) => r.allow === allow);
      return { mac: mine.filter((r) => r.match.kind === "mac"), prefix: mine.filter((r) => r.match.kind === "prefix"), none: mine.filter((r) => r.match.kind === "none") };
    };
    this.split = { deny: part(false), allow: part(true) };
  }

  private live(r: RefRule): boolean {
    return r.expires === 0n || this.now < r.expires;
  }

  /** On one address entry (or the global set): plain rule, proto-only, dst port, src port; for a
   *  deny entry and a packet whose ports (or protocol) cannot be read, the lowest-id rule stored
   *  there (expired or not) that names a port of its protocol (or, protocol unknown, any port or
   *  protocol): undecidable means drop. */
  private onEntry(rs: RefRule[], p: Parsed, plainAllowed: boolean, allow: boolean): RefRule | undefined {
    const live = rs.filter((r) => this.live(r));
    if (plainAllowed) {
      const plain = live.find((r) => r.l4.kind === "none");
      if (plain) return plain;
    }
    if (p.proto === null) return undefined;
    const byProto = p.protoKnown ? live.find((r) => r.l4.kind === "proto" && r.l4.proto === p.proto) : undefined;
    if (byProto) return byProto;
    if (p.sport !== null) {
      return live.find((r) => r.l4.kind === "port" && r.l4.proto === p.proto && r.l4.dir === "dst" && r.l4.port === p.dport)
        ?? live.find((r) => r.l4.kind === "port" && r.l4.proto === p.proto && r.l4.dir === "src" && r.l4.port === p.sport);
    }
    if (allow || !p.l4Unknown) return undefined;
    const could = rs.filter((r) => (p.protoKnown ? r.l4.kind === "port" && r.l4.proto === p.proto : r.l4.kind !== "none"));
    const r = could.reduce<RefRule | undefined>((a, r) => (!a || r.id < a.id ? r : a), undefined);
    if (r) this.undecidedNow = true;
    return r;
  }

  private find(p: Parsed, allow: boolean): RefRule | undefined {
    const mine = this.split[allow ? "allow" : "deny"];
    if (this.hasMac) {
      for (const [dir, mac] of [["src", p.src], ["dst", p.dst]] as const) {
        const rs = mine.mac.filter((r) => r.match.kind === "mac" && r.match.dir === dir && eq(r.match.mac, mac));
        const hit = this.onEntry(rs, p, true, allow);
        if (hit) return hit;
      }
    }
    for (const dir of ["src", "dst"] as const) {
      for (const a of p.addrs[dir]) {
        // Entries = distinct prefixes that hold any stored rule (live or not), longest first;
        // the first that has a rule for this packet decides.
        const cover = mine.prefix.filter((r) => r.match.kind === "prefix" && r.match.dir === dir && r.match.prefix.family === p.family && inPrefix(a, r.match.prefix.addr, r.match.prefix.len));
        const lens = [...new Set(cover.map((r) => (r.match as { prefix: { len: number } }).prefix.len))].sort((x, y) => y - x);
        for (const len of lens) {
          const hit = this.onEntry(cover.filter((r) => (r.match as { prefix: { len: number } }).prefix.len === len), p, true, allow);
          if (hit) return hit;
        }
      }
    }
    if (allow ? this.hasAllow : this.hasGlobalDeny) return this.onEntry(mine.none, p, false, allow);
    return undefined;
  }

  /** XDP_DROP (1) or XDP_PASS (2), and the counters of the rule that decided. */
  judge(frame: Uint8Array): number {
    this.lastRule = 0;
    this.undecidedNow = false;
    const p = parseFrame(frame);
    if (!p) return 2;
    const deny = this.find(p, false);
    if (!deny) return 2;
    const allow = this.hasAllow ? this.find(p, true) : undefined;
    const r = allow ?? deny;
    this.lastRule = r.id;
    const h = this.hits.get(r.id) ?? { packets: 0, bytes: 0 };
    h.packets++;
    h.bytes += frame.length;
    this.hits.set(r.id, h);
    if (!allow && this.undecidedNow) this.undecided++;
    return allow ? 2 : 1;
  }
}
