// prog.ts — loaded programs: what the kernel says about them, and BPF_PROG_TEST_RUN.
import { bpf } from "./native.ts";
import { check, clearLog } from "./error.ts";
import { addr, alloc, Struct } from "./layout.ts";
import { fdById, objInfo, withFd } from "./fd.ts";

export interface ProgInfo {
  id: number;
  name: string;
  type: number;
  tag: string;
  btfId: number;
  mapIds: number[];
  loadTime: bigint;
  runCnt: number;
  runTimeNs: number;
}

export function progInfo(fd: number): ProgInfo {
  const first = objInfo(fd, "bpf_prog_info");
  const nMaps = first.get("nr_map_ids");
  const ids = alloc(4 * Math.max(nMaps, 1));
  // Second call: now with room for the map ids.
  const info = objInfo(fd, "bpf_prog_info", { nr_map_ids: nMaps, map_ids: addr(ids) });
  return {
    id: info.get("id"),
    name: info.str("name", 16),
    type: info.get("type"),
    tag: hex(info.bytes("tag", 8)),
    btfId: info.get("btf_id"),
    mapIds: Array.from({ length: Math.min(nMaps, info.get("nr_map_ids")) }, (_, i) => ids.readUInt32LE(i * 4)),
    loadTime: info.buf.readBigUInt64LE(40),
    runCnt: info.get("run_cnt"),
    runTimeNs: info.get("run_time_ns"),
  };
}

export function progInfoById(id: number): ProgInfo {
  return withFd(fdById("prog", id), progInfo);
}

/** What a listing shows of a program (status): one BPF_OBJ_GET_INFO_BY_FD, without progInfo's
 *  second call for the map ids. */
export function progSummaryById(id: number): Pick<ProgInfo, "id" | "name" | "tag"> {
  return withFd(fdById("prog", id), (fd) => {
    const info = objInfo(fd, "bpf_prog_info");
    return { id: info.get("id"), name: info.str("name", 16), tag: hex(info.bytes("tag", 8)) };
  });
}

/** Bytes as lowercase hex (Buffer's toString("hex") is JavaScript compiled at its first call). */
function hex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** BPF_F_TEST_XDP_LIVE_FRAMES: act on the verdict (XDP_TX really transmits). Kernel ≥ 5.18. */
export const BPF_F_TEST_XDP_LIVE_FRAMES = 2;

export interface TestRunInput {
  data: Uint8Array;
  repeat?: number;
  flags?: number;
  batchSize?: number;
  /** xdp_md: the interface the frame "arrived" on (required for LIVE_FRAMES). */
  ingressIfindex?: number;
  /** Room for the output frame (the program may rewrite or grow it). */
  dataOut?: number;
}
export interface TestRunResult {
  retval: number;
  /** Average ns per run as the kernel measured it. */
  durationNs: number;
  dataOut?: Buffer;
}

export function testRun(progFd: number, input: TestRunInput): TestRunResult {
  const data = alloc(input.data.length);
  data.set(input.data);
  const out = input.dataOut ? alloc(input.dataOut) : null;
  const ctx = input.ingressIfindex !== undefined ? new Struct("xdp_md", { data_end: input.data.length, ingress_ifindex: input.ingressIfindex }) : null;
  const opts = new Struct("bpf_test_run_opts", {
    data_size_in: input.data.length,
    repeat: input.repeat ?? 1,
    flags: input.flags ?? 0,
    batch_size: input.batchSize ?? 0,
  });
  opts.set("data_in", addr(data));
  if (out) opts.set("data_out", addr(out)).set("data_size_out", out.length);
  if (ctx) opts.set("ctx_in", addr(ctx.buf)).set("ctx_size_in", ctx.buf.length);
  clearLog();
  check("BPF_PROG_TEST_RUN", bpf().bpf_prog_test_run_opts(progFd, opts.buf));
  return {
    retval: opts.get("retval"),
    durationNs: opts.get("duration"),
    dataOut: out ? Buffer.from(out.subarray(0, opts.get("data_size_out"))) : undefined,
  };
}
