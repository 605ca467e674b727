// probe.ts — `blacklist test`: what the attached blacklist decides for one packet, asked of the
// program itself. bpf/blacklist_test.bpf.c runs bl_decide() (the decision xt_blacklist_stage() makes on
// live traffic, without the counting) over the interface's pinned maps, once, through
// BPF_PROG_TEST_RUN on a frame built here; the answer comes back in the frame's first bytes.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { OpError, UsageError } from "../errors.ts";
import { BpfObject } from "../ffi/object.ts";
import { BpfMap } from "../ffi/map.ts";
import { pinDir } from "../ffi/bpffs.ts";
import { testRun } from "../ffi/prog.ts";
import { embeddedObject } from "../program/embedded.ts";
import { buildFrame } from "../net/packet.ts";
import { formatIPv4, formatIPv6, formatMac, parseMac, parsePrefix } from "../net/addr.ts";
import { protoName, type L4, type Match, type Rule } from "./rules.ts";
import type { BlacklistMaps } from "./maps.ts";
import { enterNetns, type Iface } from "../ffi/netns.ts";
import { Netlink } from "../ffi/netlink.ts";

const XDP_DROP = 1, XDP_PASS = 2;
/** The "other" addresses when the interface has none of the family, and the other MAC. */
export const DOC_IPV4 = "192.0.2.1", DOC_IPV6 = "2001:db8:ffff::1", DOC_MAC = "00:00:5e:00:53:01";
/** EtherType of the frame for `test mac M` alone: IEEE local experimental, no IP in it. */
const ETH_P_LOCAL = 0x88b5;
/** Where the port nobody asked about is taken from (the first one no rule names). */
const EPHEMERAL = 49152;

/** The packet a test asks about, in words and as a frame. */
export interface TestPacket {
  srcMac: string;
  dstMac: string;
  /** null: a non-IP frame (a MAC alone). */
  src: string | null;
  dst: string | null;
  proto: string | null;
  sport: number | null;
  dport: number | null;
}

/** The question a command line asks: the words parsed as a rule (one address, at most one port
 *  or protocol), checked for what a single packet can carry. */
export function testQuestion(rules: Rule[]): Rule {
  const r = rules[0];
  if (rules.some((x) => x.l4.kind === "port" && r.l4.kind === "port" && x.l4.port !== r.l4.port)) throw new UsageError("test takes one port: a packet has one");
  if (rules.some((x) => x.match.kind === "prefix" && r.match.kind === "prefix" && x.match.prefix !== r.match.prefix)) throw new UsageError("test takes one address, not a range");
  if (rules.length > 1 && r.l4.kind === "port") throw new UsageError(`port ${r.l4.port} names no protocol; a packet has one: port ${r.l4.port}/tcp or port ${r.l4.port}/udp`);
  if (rules.length > 1) throw new UsageError("test one direction: --src (the default) or --dst, not --any");
  if (r.allow) throw new UsageError("`allow` names a rule; test takes a packet: ADDR [port N/PROTO]");
  if (r.ttl !== undefined) throw new UsageError("--ttl names a rule; test takes a packet: ADDR [port N/PROTO]");
  if (r.match.kind === "none") throw new UsageError("name the packet's address: test ADDR, or test mac MAC");
  if (r.match.kind === "prefix" && r.match.prefix.len !== (r.match.prefix.family === 4 ? 32 : 128)) {
    throw new UsageError(`test takes one address, not the prefix /${r.match.prefix.len}`);
  }
  return r;
}

/** The interface's own MAC and first global address of each family (rtnetlink, in its namespace). */
function ownAddresses(iface: Iface): { mac?: string; ipv4?: string; ipv6?: string } {
  enterNetns(iface.netns);
  let nl: Netlink | undefined;
  try {
    nl = Netlink.open();
    const { ipv4, ipv6 } = nl.globalAddresses(iface.ifindex);
    let mac: string | undefined;
    try { mac = formatMac(nl.mac(iface.ifindex)); } catch { /* no Ethernet address: the documentation MAC stands in */ }
    return { mac, ipv4: ipv4 && formatIPv4(ipv4), ipv6: ipv6 && formatIPv6(ipv6) };
  } catch {
    return {};
  } finally {
    nl?.close();
  }
}

/** The first port from EPHEMERAL up that no rule names for this protocol and direction. */
function unnamedPort(bl: BlacklistMaps, proto: 6 | 17, dir: "src" | "dst"): number {
  const named = bl.portsNamed(proto, dir);
  for (let p = EPHEMERAL; p <= 65535; p++) if (!named.has(p)) return p;
  for (let p = 1; p < EPHEMERAL; p++) if (!named.has(p)) return p;
  return 0;
}

/**
 * The packet for a question: from ADDR (to ADDR with --dst); the other address is the interface's
 * own (to it) or a documentation address (from it); the destination MAC is the interface's.
 * Without port or protocol: IP protocol 253 (IPv4) / 59 (IPv6), no ports — only rules on the
 * address alone can decide. A port or protocol not given is one that no rule names.
 */
export function testPacket(q: Rule, iface: Iface, bl: BlacklistMaps): { packet: TestPacket; frame: Uint8Array; candidates: Iterable<Rule> } {
  const own = ownAddresses(iface);
  const m = q.match;
  const dst = m.kind !== "none" && m.dir === "dst";
  const ownMac = own.mac ?? DOC_MAC;
  const pkt: TestPacket = { srcMac: DOC_MAC, dstMac: ownMac, src: null, dst: null, proto: null, sport: null, dport: null };
  if (m.kind === "mac") {
    if (dst) pkt.dstMac = formatMac(m.mac);
    else pkt.srcMac = formatMac(m.mac);
    if (q.l4.kind === "none") {
      // No IP: a frame only MAC rules can be about.
      const f = new Uint8Array(60);
      f.set(parseMac(pkt.dstMac)!, 0);
      f.set(parseMac(pkt.srcMac)!, 6);
      f.set([ETH_P_LOCAL >> 8, ETH_P_LOCAL & 255], 12);
      return { packet: pkt, frame: f, candidates: candidates(pkt, null) };
    }
    pkt.src = DOC_IPV4;
    pkt.dst = own.ipv4 ?? DOC_IPV4;
  } else if (m.kind === "prefix") {
    const v6 = m.prefix.family === 6;
    const addr = v6 ? formatIPv6(m.prefix.addr) : formatIPv4(m.prefix.addr);
    const here = (v6 ? own.ipv6 : own.ipv4) ?? (v6 ? DOC_IPV6 : DOC_IPV4);
    pkt.src = dst ? (v6 ? DOC_IPV6 : DOC_IPV4) : addr;
    pkt.dst = dst ? addr : here;
  }
  const l4 = q.l4;
  const proto = l4.kind === "port" ? l4.proto : l4.kind === "proto" ? l4.proto : null;
  if (proto === 6 || proto === 17) {
    const port = l4.kind === "port" ? l4 : null;
    pkt.sport = port?.dir === "src" ? port.port : unnamedPort(bl, proto, "src");
    pkt.dport = port && port.dir === "dst" ? port.port : unnamedPort(bl, proto, "dst");
  }
  pkt.proto = proto === null ? null : protoName(proto);
  const frame = buildFrame({
    src: pkt.src!, dst: pkt.dst!, srcMac: pkt.srcMac, dstMac: pkt.dstMac,
    l4: proto === 6 ? "tcp" : proto === 17 ? "udp" : "none", proto: proto ?? undefined,
    sport: pkt.sport ?? undefined, dport: pkt.dport ?? undefined, frameSize: 60,
  });
  return { packet: pkt, frame, candidates: candidates(pkt, proto) };
}

/** Every rule that could match the packet (either kind): on its MACs, on each prefix of its
 *  addresses, or on no address; with no L4 part, its protocol, or one of its ports. */
function* candidates(p: TestPacket, proto: number | null): Generator<Rule> {
  const l4s: L4[] = [{ kind: "none" }];
  if (proto !== null) l4s.push({ kind: "proto", proto });
  if ((proto === 6 || proto === 17) && p.sport !== null && p.dport !== null) {
    l4s.push({ kind: "port", proto, dir: "dst", port: p.dport }, { kind: "port", proto, dir: "src", port: p.sport });
  }
  const matches: Match[] = [{ kind: "mac", dir: "src", mac: parseMac(p.srcMac)! }, { kind: "mac", dir: "dst", mac: parseMac(p.dstMac)! }];
  for (const [dir, a] of [["src", p.src], ["dst", p.dst]] as const) {
    if (a === null) continue;
    const full = parsePrefix(a);
    for (let len = full.len; len >= 0; len--) matches.push({ kind: "prefix", dir, prefix: parsePrefix(`${a}/${len}`) });
  }
  for (const allow of [false, true]) {
    for (const match of matches) for (const l4 of l4s) yield { allow, match, l4 };
    for (const l4 of l4s.slice(1)) yield { allow, match: { kind: "none" }, l4 };
  }
}

/** Run the blacklist's decision on `frame` over the interface's pinned maps. Changes nothing:
 *  the probe counts nothing, and its own statistics map is a fresh one, dropped on return. */
export function probe(ifname: string, frame: Uint8Array): { verdict: "drop" | "pass"; rule: number } {
  const obj = BpfObject.open(embeddedObject("blacklist_test")!, "blacklist_test");
  try {
    const dir = pinDir(ifname);
    for (const m of obj.maps()) {
      if (!m.name.startsWith("bl_")) continue;
      const path = join(dir, m.name);
      if (!existsSync(path)) throw new OpError(`no blacklist map ${m.name} pinned for ${ifname}; re-attach: xdptool blacklist attach ${ifname}`);
      const pinned = BpfMap.pinned(path);
      try {
        const i = pinned.info;
        if (i.type !== m.type || i.keySize !== m.keySize || i.valueSize !== m.valueSize) {
          throw new OpError(`the blacklist on ${ifname} has another layout than this xdptool's (map ${m.name}); re-attach: xdptool blacklist attach ${ifname}`);
        }
        obj.reuseMap(m, pinned.fd);
      } finally {
        pinned.close();
      }
    }
    obj.load();
    const r = testRun(obj.progFd(obj.programs()[0]), { data: frame, dataOut: frame.length });
    const out = r.dataOut!;
    const verdict = out.readUInt32LE(0), rule = out.readUInt32LE(4);
    if (verdict !== r.retval || (verdict !== XDP_DROP && verdict !== XDP_PASS)) throw new OpError(`blacklist test: the probe answered ${r.retval} (verdict ${verdict})`);
    return { verdict: verdict === XDP_DROP ? "drop" : "pass", rule };
  } finally {
    obj.close();
  }
}
