// pcap.ts — libpcap through bun:ffi, only to compile tcpdump filter expressions to classic BPF.
// libpcap is built into the embedded shared object (libbpf/build.sh), never the host's: its
// symbols are bound on first use (commands that take no filter never look them up).
import { dlopen, FFIType as T, ptr, read, toArrayBuffer, type Pointer } from "bun:ffi";
import { cstr, nativeLibPath } from "./native.ts";
import { alloc } from "./layout.ts";
import { OpError, UsageError } from "../errors.ts";

const DLT_EN10MB = 1;
const PCAP_NETMASK_UNKNOWN = 0xffffffff;

const symbols = {
  pcap_open_dead: { args: [T.i32, T.i32], returns: T.ptr },
  pcap_compile: { args: [T.ptr, T.ptr, T.cstring, T.i32, T.u32], returns: T.i32 },
  pcap_geterr: { args: [T.ptr], returns: T.cstring },
  pcap_freecode: { args: [T.ptr], returns: T.void },
  pcap_close: { args: [T.ptr], returns: T.void },
  pcap_lib_version: { args: [], returns: T.cstring },
  bpf_filter: { args: [T.ptr, T.ptr, T.u32, T.u32], returns: T.u32 },
} as const;

let lib: ReturnType<typeof dlopen<typeof symbols>> | undefined;
function pcap() {
  lib ??= dlopen(nativeLibPath(), symbols);
  return lib.symbols;
}

/** Compile `expr` for Ethernet frames captured with `snaplen`; returns the cBPF instructions
 * (8 bytes each: u16 code, u8 jt, u8 jf, u32 k). A bad expression is a UsageError with libpcap's words. */
export function compileFilter(expr: string, snaplen: number): Buffer {
  const p = pcap();
  const h = p.pcap_open_dead(DLT_EN10MB, snaplen);
  if (!h) throw new OpError("pcap_open_dead failed");
  try {
    const prog = alloc(16); // struct bpf_program { u_int bf_len; struct bpf_insn *bf_insns; }
    if (p.pcap_compile(h, prog, cstr(expr), 1, PCAP_NETMASK_UNKNOWN) !== 0) {
      throw new UsageError(`bad filter "${expr}": ${p.pcap_geterr(h)}`);
    }
    const n = prog.readUInt32LE(0);
    const insns = Buffer.from(toArrayBuffer(read.ptr(ptr(prog), 8) as Pointer, 0, n * 8)); // libpcap's memory
    const copy = Buffer.alloc(n * 8);
    insns.copy(copy); // ours, before pcap_freecode releases theirs
    p.pcap_freecode(prog);
    return copy;
  } finally {
    p.pcap_close(h);
  }
}

/** "libpcap version 1.10.3": the embedded libpcap's own words. */
export function pcapVersion(): string {
  return String(pcap().pcap_lib_version());
}

/** libpcap's own classic BPF interpreter over one packet (the reference for the in-kernel one):
 * the filter's return value, 0 = no match. */
export function pcapFilter(insns: Uint8Array, packet: Uint8Array, wirelen: number, caplen: number): number {
  const code = alloc(Math.max(8, insns.length));
  code.set(insns);
  const pkt = alloc(Math.max(1, packet.length));
  pkt.set(packet);
  return pcap().bpf_filter(code, pkt, wirelen, caplen);
}
