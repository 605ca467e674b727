// ffi.bench.ts — user-space hot paths through the FFI layer, with tinybench.
//   bun bench/ffi.bench.ts            (as root; creates and removes its own maps)
// Reported as ratios within the run: batched vs one-by-one map writes, and the cost of building
// a test frame (src/net/packet.ts) vs copying one.
import { Bench } from "tinybench";
import { bpf } from "../src/ffi/native.ts";
import { check } from "../src/ffi/error.ts";
import { BpfMap } from "../src/ffi/map.ts";
import { Struct } from "../src/ffi/layout.ts";
import { cstr } from "../src/ffi/native.ts";
import { buildFrame } from "../src/net/packet.ts";

const BPF_MAP_TYPE_HASH = 1;
const N = 10_000;

function hashMap(): BpfMap {
  const opts = new Struct("bpf_map_create_opts");
  return new BpfMap(check("create map", bpf().bpf_map_create(BPF_MAP_TYPE_HASH, cstr("bench"), 4, 8, N, opts.buf)));
}

const keys = Buffer.alloc(4 * N), values = Buffer.alloc(8 * N);
for (let i = 0; i < N; i++) {
  keys.writeUInt32LE(i, i * 4);
  values.writeBigUInt64LE(BigInt(i), i * 8);
}
const one = hashMap(), batch = hashMap();
const frame = buildFrame({ src: "198.18.0.1", dst: "198.18.0.2", l4: "udp", dport: 53, frameSize: 64 });

const bench = new Bench({ time: 500 });
bench
  .add(`map update one by one (${N} keys)`, () => {
    for (let i = 0; i < N; i++) one.update(keys.subarray(i * 4, i * 4 + 4), values.subarray(i * 8, i * 8 + 8));
  })
  .add(`map update batched (${N} keys)`, () => {
    batch.updateBatch(keys, values, N);
  })
  .add("build a UDP frame with checksums", () => {
    buildFrame({ src: "198.18.0.1", dst: "198.18.0.2", l4: "udp", dport: 53, frameSize: 64 });
  })
  .add("copy a 64-byte frame (baseline)", () => {
    frame.slice();
  });
await bench.run();
const rows = bench.tasks.map((t) => ({ task: t.name, "mean µs": (t.result!.latency.mean * 1000).toFixed(2) }));
console.table(rows);
const mean = (i: number) => bench.tasks[i].result!.latency.mean;
console.log(`batched / one-by-one: ${(mean(1) / mean(0)).toFixed(3)}× the time (${(mean(0) / mean(1)).toFixed(1)}× faster)`);
console.log(`frame build / frame copy: ${(mean(2) / mean(3)).toFixed(1)}×`);
one.close();
batch.close();
