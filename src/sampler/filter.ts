// filter.ts — run a compiled tcpdump filter (classic BPF, as libpcap emits it) on a packet.
//
// A small interpreter instead of a call into libpcap per packet: it reads the frame where it lies
// (the mmapped ring), and classic BPF is tiny — loads, ALU, jumps, returns, a 16-word scratch.
// `wirelen` is the frame's original length (BPF_LEN), `caplen` the bytes actually present: a load
// past caplen rejects the packet, as the kernel and libpcap do.
const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
const W = 0x00, H = 0x08, B = 0x10;
const IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, LEN = 0x80, MSH = 0xa0;
const X = 0x08, A = 0x10;

export class Filter {
  private readonly code: Uint16Array;
  private readonly jt: Uint8Array;
  private readonly jf: Uint8Array;
  private readonly k: Uint32Array;
  private readonly mem = new Uint32Array(16);

  constructor(readonly insns: Buffer, readonly expr: string) {
    const n = insns.length / 8;
    this.code = new Uint16Array(n);
    this.jt = new Uint8Array(n);
    this.jf = new Uint8Array(n);
    this.k = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      this.code[i] = insns.readUInt16LE(i * 8);
      this.jt[i] = insns[i * 8 + 2];
      this.jf[i] = insns[i * 8 + 3];
      this.k[i] = insns.readUInt32LE(i * 8 + 4);
    }
  }

  /** True when the frame at buf[off, off+caplen) matches. */
  match(buf: Buffer, off: number, caplen: number, wirelen: number): boolean {
    const { code, jt, jf, k, mem } = this;
    let a = 0, x = 0, pc = 0;
    for (;;) {
      const c = code[pc], kk = k[pc];
      pc++;
      switch (c & 7) {
        case LD: case LDX: {
          const mode = c & 0xe0;
          let v: number;
          if (mode === IMM) v = kk;
          else if (mode === LEN) v = wirelen;
          else if (mode === MEM) v = mem[kk & 15];
          else if (mode === MSH) {
            if (kk >= caplen) return false;
            v = (buf[off + kk] & 0xf) << 2;
          } else {
            const at = mode === IND ? (x + kk) >>> 0 : kk;
            const size = c & 0x18;
            const n = size === W ? 4 : size === H ? 2 : 1;
            if (at + n > caplen) return false;
            v = n === 4 ? buf.readUInt32BE(off + at) : n === 2 ? buf.readUInt16BE(off + at) : buf[off + at];
          }
          if ((c & 7) === LD) a = v >>> 0;
          else x = v >>> 0;
          break;
        }
        case ST: mem[kk & 15] = a; break;
        case STX: mem[kk & 15] = x; break;
        case ALU: {
          const v = c & X ? x : kk;
          switch (c & 0xf0) {
            case 0x00: a = (a + v) >>> 0; break;
            case 0x10: a = (a - v) >>> 0; break;
            case 0x20: a = Math.imul(a, v) >>> 0; break;
            case 0x30: if (v === 0) return false; a = Math.floor(a / v) >>> 0; break;
            case 0x40: a = (a | v) >>> 0; break;
            case 0x50: a = (a & v) >>> 0; break;
            case 0x60: a = v >= 32 ? 0 : (a << v) >>> 0; break;
            case 0x70: a = v >= 32 ? 0 : a >>> v; break;
            case 0x80: a = -a >>> 0; break;
            case 0x90: if (v === 0) return false; a = a % v; break;
            case 0xa0: a = (a ^ v) >>> 0; break;
            default: return false;
          }
          break;
        }
        case JMP: {
          const op = c & 0xf0;
          if (op === 0x00) { pc += kk; break; } // JA
          const v = c & X ? x : kk;
          const t = op === 0x10 ? a === v : op === 0x20 ? a > v : op === 0x30 ? a >= v : op === 0x40 ? (a & v) !== 0 : false;
          pc += t ? jt[pc - 1] : jf[pc - 1];
          break;
        }
        case RET: return ((c & 0x18) === A ? a : kk) !== 0;
        case MISC: if (c & 0x80) a = x; else x = a; break; // TXA : TAX
      }
      if (pc >= code.length) return false;
    }
  }
}
