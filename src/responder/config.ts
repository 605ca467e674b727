// config.ts — `responder enable` options → a validated configuration (or a UsageError, before
// anything is touched), and the qname suffix encoding the BPF side hashes (responder_name.h).
import { randomBytes } from "node:crypto";
import { endianness } from "node:os";
import { UsageError } from "../errors.ts";
import { durationArg, intArg } from "../cli/define.ts";
import { formatPrefix, parsePrefix, type Prefix } from "../net/addr.ts";

export const MAX_PORTS = 8; // XT_RESP_MAX_PORTS
export const MAX_ADDRESSES = 256; // max_entries of resp_addrs
export const F_QNAME = 1, F_FROM = 2, F_OVER = 4, F_ADDRESS = 8, F_UNVERIFIED = 16; // XT_RESP_F_*
/** --unverified-only verifies sources by their TCP connections to the DNS server on this port. */
export const DNS_PORT = 53;
/** The longest --verified-ttl, in seconds: a year. The program adds it, in ns, to the monotonic
 *  clock in a u64 (responder_verify.h); far longer ones overflow that, or the config's u64 itself. */
export const MAX_VERIFIED_TTL = 365 * 86400;

export interface ResponderConfig {
  ports: number[];
  /** Lowercased names without the trailing dot; empty = every name. */
  qnames: string[];
  /** Empty = every source. */
  from: Prefix[];
  /** Destinations answered (the DNS service's own addresses, each also local); empty = every local address. */
  addresses: Prefix[];
  /** Queries/s per aggregated source above which it is answered; 0 = no rate selection. */
  over: number;
  slip: number;
  v4Prefix: number;
  v6Prefix: number;
  /** --unverified-only: answer only sources without a TCP connection to us (within the TTL). */
  unverifiedOnly: boolean;
  /** Seconds a verified source stays verified. */
  verifiedTtl: number;
  verifiedV4Prefix: number;
  verifiedV6Prefix: number;
}

export interface EnableArgs {
  ports?: string;
  qname?: string;
  from?: string;
  address?: string;
  over?: string;
  slip?: string;
  "v4-prefix"?: string;
  "v6-prefix"?: string;
  "unverified-only"?: boolean;
  "verified-ttl"?: string;
  "verified-v4-prefix"?: string;
  "verified-v6-prefix"?: string;
}

const list = (s: string | undefined) => (s ?? "").split(",").map((x) => x.trim()).filter(Boolean);

/** How many --qname names one responder holds (resp_qnames' size; resp_name_table fills a
 *  quarter of a half with them: bpf/include/responder_data.h). */
export const MAX_QNAMES = 4096;

/** A DNS name as lowercased wire-format labels without the root byte: "\x07example\x04test". */
export function wireName(name: string): Uint8Array {
  const n = name.replace(/\.$/, "");
  if (n === "") throw new UsageError(`--qname: empty name (to answer every name, leave out --qname)`);
  const labels = n.toLowerCase().split(".");
  const out: number[] = [];
  for (const l of labels) {
    if (l.length === 0) throw new UsageError(`--qname: "${name}" has an empty label`);
    if (l.length > 63) throw new UsageError(`--qname: label "${l}" of "${name}" is longer than 63 bytes`);
    if (!/^[\x21-\x7e]+$/.test(l)) throw new UsageError(`--qname: "${name}" has characters DNS names on the wire cannot carry here (use printable ASCII)`);
    out.push(l.length, ...Buffer.from(l, "latin1"));
  }
  if (out.length + 1 > 255) throw new UsageError(`--qname: "${name}" is longer than 255 bytes on the wire`);
  return Uint8Array.from(out);
}

/** What responder_name.h computes over a suffix: its (lowercased) bytes as 64-bit words in the
 *  machine's byte order, as the program loads them, the last zero-padded; h = (h ^ word) · mul
 *  mod 2^64 for each, from h = 0. */
export function suffixHash(wire: Uint8Array, mul: bigint): bigint {
  const words = Buffer.alloc(Math.ceil(wire.length / 8) * 8);
  words.set(wire);
  let h = 0n;
  for (let at = 0; at < words.length; at += 8) h = ((h ^ (LITTLE ? words.readBigUInt64LE(at) : words.readBigUInt64BE(at))) * mul) & 0xffffffffffffffffn;
  return h;
}
const LITTLE = endianness() === "LE";

/** A fresh odd 64-bit multiplier, so hash collisions cannot be precomputed offline. */
export function randomMultiplier(): bigint {
  return randomBytes(8).readBigUInt64LE(0) | 1n;
}

export function parseEnableArgs(a: EnableArgs): ResponderConfig {
  const ports = list(a.ports ?? "53").map((p) => intArg("ports", p, 1, 65535));
  if (ports.length === 0) throw new UsageError(`--ports: give at least one port, e.g. --ports 53`);
  if (ports.length > MAX_PORTS) throw new UsageError(`--ports: at most ${MAX_PORTS} ports, not ${ports.length}`);
  const qnames = [...new Set(list(a.qname).map((n) => {
    wireName(n); // validates
    return n.replace(/\.$/, "").toLowerCase();
  }))];
  if (a.qname !== undefined && qnames.length === 0) throw new UsageError(`--qname: give at least one name, e.g. --qname example.test`);
  if (qnames.length > MAX_QNAMES) throw new UsageError(`--qname: at most ${MAX_QNAMES} names, not ${qnames.length}`);
  const from = list(a.from).map((p) => {
    try {
      return parsePrefix(p);
    } catch (e) {
      throw new UsageError(`--from: ${(e as Error).message}`);
    }
  });
  if (a.from !== undefined && from.length === 0) throw new UsageError(`--from: give at least one prefix, e.g. --from 198.18.0.0/15`);
  const addresses = list(a.address).map((x) => {
    let p: Prefix;
    try {
      p = parsePrefix(x);
    } catch (e) {
      throw new UsageError(`--address: ${(e as Error).message}`);
    }
    if (p.len !== (p.family === 4 ? 32 : 128)) throw new UsageError(`--address: "${x}" is a prefix; give the service's addresses one by one`);
    return p;
  });
  if (a.address !== undefined && addresses.length === 0) throw new UsageError(`--address: give at least one address, e.g. --address 198.18.0.2`);
  if (addresses.length > MAX_ADDRESSES) throw new UsageError(`--address: at most ${MAX_ADDRESSES} addresses, not ${addresses.length}`);
  const unverifiedOnly = a["unverified-only"] === true;
  // Sources are verified by TCP connections to the ports the program watches (--ports); a DNS
  // server takes TCP on 53, and without it there nothing would verify anyone: every query would
  // get TC forever.
  if (unverifiedOnly && !ports.includes(DNS_PORT)) throw new UsageError(`--unverified-only verifies sources by their TCP connections to port ${DNS_PORT}, which --ports ${ports.join(",")} leaves out`);
  const verifiedTtl = durationArg("verified-ttl", a["verified-ttl"] ?? "1h");
  if (verifiedTtl > MAX_VERIFIED_TTL) throw new UsageError(`--verified-ttl "${a["verified-ttl"]}" is longer than the most it takes, 365d`);
  return {
    ports: [...new Set(ports)],
    qnames,
    from,
    addresses,
    over: a.over === undefined ? 0 : intArg("over", a.over, 1, 10_000_000),
    slip: intArg("slip", a.slip ?? "2", 1, 1000),
    v4Prefix: intArg("v4-prefix", a["v4-prefix"] ?? "24", 1, 32),
    v6Prefix: intArg("v6-prefix", a["v6-prefix"] ?? "56", 1, 128),
    unverifiedOnly,
    verifiedTtl,
    verifiedV4Prefix: intArg("verified-v4-prefix", a["verified-v4-prefix"] ?? "32", 1, 32),
    verifiedV6Prefix: intArg("verified-v6-prefix", a["verified-v6-prefix"] ?? "64", 1, 128),
  };
}

export function flagsOf(c: ResponderConfig): number {
  return (c.qnames.length ? F_QNAME : 0) | (c.from.length ? F_FROM : 0) | (c.over ? F_OVER : 0) | (c.addresses.length ? F_ADDRESS : 0) | (c.unverifiedOnly ? F_UNVERIFIED : 0);
}

export function describeConfig(c: ResponderConfig): string {
  const parts = [`ports ${c.ports.join(",")}`];
  parts.push(c.addresses.length ? `to ${c.addresses.map((a) => formatPrefix(a).replace(/\/(32|128)$/, "")).join(",")}` : "to every local address");
  parts.push(c.qnames.length ? `names under ${c.qnames.join(",")}` : "every name");
  if (c.from.length) parts.push(`sources in ${c.from.map(formatPrefix).join(",")}`);
  if (c.unverifiedOnly) parts.push(`only sources not verified by TCP (verified for ${c.verifiedTtl}s per /${c.verifiedV4Prefix} IPv4, /${c.verifiedV6Prefix} IPv6)`);
  if (c.over) parts.push(`sources over ${c.over} q/s per /${c.v4Prefix} (IPv4) or /${c.v6Prefix} (IPv6), slip ${c.slip}`);
  return parts.join("; ");
}
