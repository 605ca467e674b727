// probe.ts — does this kernel offer the BPF helpers a program calls? Asked before loading, so an
// old kernel gets one line naming the version it needs instead of a verifier dump.
import { bpf } from "./native.ts";
import { BPF_PROG_TYPE_XDP } from "./object.ts";

/** Helpers our programs call: id (enum bpf_func_id), name, the Linux release that added it. */
export const HELPERS = {
  1: ["map_lookup_elem", "4.8"], // XDP itself came with 4.8
  2: ["map_update_elem", "4.8"],
  5: ["ktime_get_ns", "4.8"],
  7: ["get_prandom_u32", "4.8"],
  8: ["get_smp_processor_id", "4.8"],
  25: ["perf_event_output", "4.9"],
  28: ["csum_diff", "4.8"],
  65: ["xdp_adjust_tail", "4.18"],
  86: ["sk_release", "4.20"],
  99: ["skc_lookup_tcp", "5.2"],
  125: ["ktime_get_boot_ns", "5.8"],
  131: ["ringbuf_reserve", "5.8"],
  132: ["ringbuf_submit", "5.8"],
  133: ["ringbuf_discard", "5.8"],
  134: ["ringbuf_query", "5.8"],
  160: ["ktime_get_coarse_ns", "5.11"],
  181: ["loop", "5.17"],
  188: ["xdp_get_buff_len", "5.18"],
  189: ["xdp_load_bytes", "5.18"],
  190: ["xdp_store_bytes", "5.18"],
} as const satisfies Record<number, readonly [string, string]>;

/** Helper ids each embedded object calls (test/kernel.test.ts checks them against llvm-objdump). */
export const OBJECT_HELPERS: Record<string, readonly (keyof typeof HELPERS)[]> = {
  bare_drop: [], pass: [],
  hello: [1, 181, 189], drop: [1, 181, 189],
  blacklist: [1, 160, 181, 189], blacklist_test: [1, 160, 181, 189],
  responder: [1, 2, 5, 65, 86, 99, 181, 189, 190],
  sampler: [1, 7, 8, 25, 125, 131, 132, 133, 134, 181, 188, 189],
  tx: [1, 7, 190],
  xdptool: [1, 2, 5, 7, 8, 25, 65, 86, 99, 125, 131, 132, 133, 134, 160, 181, 188, 189, 190],
};

const newer = (a: string, b: string) => {
  const [x, y] = [a, b].map((v) => v.split(".").map(Number));
  return x[0] !== y[0] ? x[0] > y[0] : x[1] > y[1];
};

/** The Linux release an object needs (the newest of its helpers); XDP links need 5.9 anyway. */
export function kernelNeeded(object: string): string {
  return (OBJECT_HELPERS[object] ?? []).map((id) => HELPERS[id][1] as string).reduce((a, b) => (newer(b, a) ? b : a), "5.9");
}

/** The helpers of `object` this kernel lacks (libbpf_probe_bpf_helper: 1 yes, 0 no, < 0 cannot tell). */
export function missingHelpers(object: string): string[] {
  return (OBJECT_HELPERS[object] ?? []).filter((id) => bpf().libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, id, null) === 0).map((id) => `bpf_${HELPERS[id][0]}`);
}
