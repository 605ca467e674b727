// The frames of exercise 4: three IPv4 sources, one of them sending frames of two sizes.
import { buildFrame, type Exercise } from "../lib.ts";

const from = (src: string, frameSize?: number) => buildFrame({ src, dst: "198.18.0.2", frameSize });

export default {
  source: "per_source.bpf.c",
  read: "docs/03-maps.md (reading a map with xdptool map dump), docs/05-advanced-maps.md (hash maps)",
  hint: "every frame passes; by_source must then hold, per IPv4 source, its packets and the bytes of its whole frames: 198.18.0.1 3 packets 144 bytes, 198.18.0.7 2 and 84, 198.18.5.5 1 and 100.",
  frames: [
    { what: "IPv4 from 198.18.0.1, 42 bytes", frame: from("198.18.0.1"), verdict: "PASS" },
    { what: "IPv4 from 198.18.0.7, 42 bytes", frame: from("198.18.0.7"), verdict: "PASS" },
    { what: "IPv4 from 198.18.0.1, 60 bytes", frame: from("198.18.0.1", 60), verdict: "PASS" },
    { what: "IPv6 from 2001:db8::1 (not counted)", frame: buildFrame({ src: "2001:db8::1", dst: "2001:db8::2" }), verdict: "PASS" },
    { what: "IPv4 from 198.18.5.5, 100 bytes", frame: from("198.18.5.5", 100), verdict: "PASS" },
    { what: "IPv4 from 198.18.0.7, 42 bytes", frame: from("198.18.0.7"), verdict: "PASS" },
    { what: "IPv4 from 198.18.0.1, 42 bytes", frame: from("198.18.0.1"), verdict: "PASS" },
  ],
  maps: [{
    name: "by_source",
    want: [
      { key: { saddr: "198.18.0.1" }, value: { packets: 3, bytes: 144 } },
      { key: { saddr: "198.18.0.7" }, value: { packets: 2, bytes: 84 } },
      { key: { saddr: "198.18.5.5" }, value: { packets: 1, bytes: 100 } },
    ],
  }],
  live: {
    says: "1000 frames from 16 random sources in 198.18.0.0/28, counted per source in by_source",
    judge(lab) {
      lab.xdptool("lab", "traffic", "--src-random", "198.18.0.0/28", "--count", "1000");
      const entries = JSON.parse(lab.xdptool("map", "dump", `${lab.dut}/by_source`, "--json")) as { key: { saddr: string }; value: { packets: number; bytes: number } }[];
      const packets = entries.reduce((n, e) => n + e.value.packets, 0);
      const outside = entries.find((e) => !/^198\.18\.0\.(\d|1[0-5])$/.test(e.key.saddr));
      if (outside) return `a source outside 198.18.0.0/28: ${outside.key.saddr}`;
      return packets === 1000 && entries.every((e) => e.value.bytes === 60 * e.value.packets) ? null : `${entries.length} sources counting ${packets} packets; want 1000 packets of 60 bytes in all`;
    },
  },
} satisfies Exercise;
