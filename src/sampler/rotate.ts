// rotate.ts — tcpdump's -C, -G and -W: when a capture moves on to its next file, and that file's
// name, exactly as tcpdump names them (tcpdump(8)):
//   -C N        a new file once the current one is larger than N million bytes (checked before each
//               packet): out.pcap, out.pcap1, out.pcap2, …
//   -C N -W K   a ring of K files, numbered with enough leading zeros for K: out.pcap0 … out.pcap{K-1},
//               then out.pcap0 again
//   -G S        a new file every S seconds (checked at each packet), its name -w run through
//               strftime(3) at the file's start (without a conversion, each file replaces the last)
//   -G S -W K   stop after K files
//   -G with -C  the strftime name, then the -C count within the period
import { UsageError } from "../errors.ts";

export interface RotateOptions {
  /** -C: bytes a file may exceed before the next one starts. */
  fileBytes?: number;
  /** -G: seconds a file covers. */
  seconds?: number;
  /** -W: files in the ring (with -C), or files before the capture stops (-G alone). */
  files?: number;
}

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const p2 = (n: number) => String(n).padStart(2, "0");

/** The strftime(3) conversions a file name may use (local time, as tcpdump). */
const CONVERSIONS: Record<string, (d: Date) => string> = {
  Y: (d) => String(d.getFullYear()), y: (d) => p2(d.getFullYear() % 100), m: (d) => p2(d.getMonth() + 1),
  d: (d) => p2(d.getDate()), e: (d) => String(d.getDate()).padStart(2, " "), H: (d) => p2(d.getHours()),
  I: (d) => p2(d.getHours() % 12 || 12), M: (d) => p2(d.getMinutes()), S: (d) => p2(d.getSeconds()),
  p: (d) => (d.getHours() < 12 ? "AM" : "PM"), a: (d) => DAYS[d.getDay()].slice(0, 3), A: (d) => DAYS[d.getDay()],
  b: (d) => MONTHS[d.getMonth()].slice(0, 3), h: (d) => MONTHS[d.getMonth()].slice(0, 3), B: (d) => MONTHS[d.getMonth()],
  j: (d) => String(Math.floor((Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) - Date.UTC(d.getFullYear(), 0, 1)) / 864e5) + 1).padStart(3, "0"),
  s: (d) => String(Math.floor(d.getTime() / 1000)), u: (d) => String(d.getDay() || 7), w: (d) => String(d.getDay()),
  F: (d) => `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`, T: (d) => `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`,
  R: (d) => `${p2(d.getHours())}:${p2(d.getMinutes())}`, D: (d) => `${p2(d.getMonth() + 1)}/${p2(d.getDate())}/${p2(d.getFullYear() % 100)}`,
  z: (d) => { const m = -d.getTimezoneOffset(); return `${m < 0 ? "-" : "+"}${p2(Math.floor(Math.abs(m) / 60))}${p2(Math.abs(m) % 60)}`; },
  "%": () => "%",
};

/** `fmt` through strftime(3) at `d`; an unknown conversion is a UsageError (check names before the capture). */
export function strftime(fmt: string, d: Date): string {
  return fmt.replace(/%(.?)/g, (_, c: string) => {
    const f = CONVERSIONS[c];
    if (!f) throw new UsageError(`-w ${fmt}: "%${c}" is not a strftime conversion xdptool knows (${Object.keys(CONVERSIONS).map((k) => `%${k}`).join(" ")})`);
    return f(d);
  });
}

/** Digits of the -C count with -W: enough for K-1, as tcpdump (K = 1: none). */
function ringWidth(files: number): number {
  return files > 1 ? String(files - 1).length : 0;
}

export class Rotation {
  /** -C files of the current period so far (the number in the name). */
  private count = 0;
  /** -G periods begun. */
  private periods = 1;
  private periodStart: number;
  private readonly width: number;

  constructor(private readonly path: string, private readonly o: RotateOptions, startSec: number) {
    this.periodStart = startSec;
    this.width = o.fileBytes && o.files ? ringWidth(o.files) : 0;
    this.name(); // unknown strftime conversions fail here, before any file exists
  }

  /** The name of the file being written now. */
  name(): string {
    const base = this.o.seconds ? strftime(this.path, new Date(this.periodStart * 1000)) : this.path;
    return this.count === 0 && this.width === 0 ? base : `${base}${String(this.count).padStart(this.width, "0")}`;
  }

  /** What advance() checks, as limits: a file larger than `size` bytes, or a packet at or after
   *  second `sec`, is where a move may come (the native reader stops there and leaves it to advance). */
  limits(): { size: number; sec: number } {
    return { size: this.o.fileBytes ?? Infinity, sec: this.o.seconds ? this.periodStart + this.o.seconds : Infinity };
  }

  /** Before a packet at second `sec`, the current file holding `size` bytes: go on ("same"),
   *  switch to name() ("next"), or stop the capture ("stop": -G's -W files are done). */
  advance(sec: number, size: number): "same" | "next" | "stop" {
    const { seconds, fileBytes, files } = this.o;
    if (seconds && sec - this.periodStart >= seconds) {
      if (files && !fileBytes && this.periods >= files) return "stop";
      this.periods++;
      this.periodStart = sec;
      this.count = 0;
      return "next";
    }
    if (fileBytes && size > fileBytes) {
      this.count++;
      if (files && this.count >= files) this.count = 0;
      return "next";
    }
    return "same";
  }
}
