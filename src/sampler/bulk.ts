// bulk.ts — the capture's fast path: the ring buffer's records go straight into the output as
// pcap records or pcapng blocks, written by libbpf/sampdrain.c, with no JavaScript per record.
// What is not per packet stays here: the output's room, -c, and rotation — the C loop stops
// before the record where a rotation may begin, and that one record takes the per-record way
// (Destination.packet, which decides and moves on). Used when every record is written as it
// comes: not with a filter in user space, printed lines or the perf transport (session.ts).
import type { RawSink } from "../ffi/perf.ts";
import type { RingBuffer } from "../ffi/ringbuf.ts";
import type { BulkOut } from "./destination.ts";
import type { Stamp } from "./output.ts";

/** struct xt_drain (libbpf/sampdrain.c): its u64 fields, in order. */
const F = { mask: 0, wallSec: 1, wallNsec: 2, room: 3, maxRecords: 4, size: 5, sizeLimit: 6, secLimit: 7, pcapng: 8, records: 9, bytes: 10, why: 11, need: 12 } as const;
/** XT_DRAIN_*: why a call stopped. */
const EMPTY = 0, ROOM = 1, ROTATE = 3;
const NONE = 2n ** 64n - 1n;
const u64 = (n: number) => (Number.isFinite(n) ? BigInt(Math.max(0, Math.floor(n))) : NONE);

export class BulkReader {
  private readonly d = new BigUint64Array(13);

  /** `perRecord` is the capture's per-record sink (it counts what it takes itself). */
  constructor(private readonly ring: RingBuffer, ringBytes: number, wall: Stamp, private readonly out: BulkOut, private readonly perRecord: RawSink) {
    this.d[F.mask] = BigInt(ringBytes - 1);
    this.d[F.wallSec] = BigInt(wall.sec);
    this.d[F.wallNsec] = BigInt(wall.nsec);
    this.d[F.pcapng] = out.pcapng ? 1n : 0n;
  }

  /** Everything committed so far; `left()` is how many more may be written (-c), `wrote(n)` counts
   *  records written here. Returns the records read (written either way, or past -c). */
  drain(left: () => number, wrote: (n: number) => void): number {
    const d = this.d;
    let n = 0, need = 0;
    for (;;) {
      const want = left();
      const w = want > 0 ? this.out.window(need) : null;
      if (!w) return n + this.ring.drain(this.perRecord); // past -c, or the output failed or is done
      d[F.room] = BigInt(w.room);
      d[F.maxRecords] = u64(want);
      d[F.size] = BigInt(w.size);
      d[F.sizeLimit] = u64(w.sizeLimit);
      d[F.secLimit] = u64(w.secLimit);
      this.ring.drainInto(w.address, d);
      const records = Number(d[F.records]);
      this.out.wrote(Number(d[F.bytes]));
      wrote(records);
      n += records;
      const why = Number(d[F.why]);
      if (why === EMPTY) return n;
      need = why === ROOM ? Number(d[F.need]) : 0;
      if (why === ROTATE) n += this.ring.drain(this.perRecord, 1);
    }
  }
}
