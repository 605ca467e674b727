// sample --pcapng: every enhanced packet block carries the packet's XDP verdict (epb_verdict, type
// eBPF XDP), its receive queue and direction, as xdpdump writes them; tshark is the reader.
import { describe, expect, test } from "bun:test";
import { DUT, sh, xtOk } from "./helpers.ts";
import { sampleLab, f, startSample, stop, traffic, warnings } from "./sampler-helpers.ts";

sampleLab();

/** tshark's fields of every packet we sent (frames from the generator carry 198.18.x sources). */
function fields(path: string, ...names: string[]): string[][] {
  const r = sh(["tshark", "-r", path, "-T", "fields", "-E", "separator=,", ...names.flatMap((n) => ["-e", n]), "ip"]);
  expect(r.code).toBe(0);
  expect(warnings(r.stderr)).toBe("");
  return r.stdout.trim().split("\n").filter(Boolean).map((l) => l.split(","));
}

const XDP_DROP = "1", XDP_PASS = "2";

describe("sample --pcapng: per-packet verdicts", () => {
  test("the standalone sampler: every packet passed (or dropped with --drop-after-sample), queue 0, inbound", async () => {
    let s = await startSample("-w", f("pass.pcapng"), "--pcapng");
    traffic("--count", "20");
    await stop(s);
    const pass = fields(f("pass.pcapng"), "frame.verdict.ebpf_xdp", "frame.interface_queue", "frame.packet_flags_direction", "frame.interface_description");
    expect(pass.length).toBe(20);
    for (const p of pass) expect(p).toEqual([XDP_PASS, "0", "0x00000001", expect.stringMatching(/^ifindex \d+$/)]);

    s = await startSample("-w", f("drop.pcapng"), "--pcapng", "--drop-after-sample");
    traffic("--count", "20");
    await stop(s);
    expect(fields(f("drop.pcapng"), "frame.verdict.ebpf_xdp")).toEqual(Array(20).fill([XDP_DROP]));
  });

  test("behind the blacklist: what it dropped says drop, the rest pass; --action drop keeps only the drops", async () => {
    xtOk("blacklist", "attach", DUT, "--max-rules", "100");
    xtOk("blacklist", "add", "198.18.7.0/24", "-i", DUT);
    try {
      const send = () => {
        traffic("--count", "30", "--src", "198.18.7.7");
        traffic("--count", "20", "--src", "198.18.9.9");
      };
      let s = await startSample("-w", f("mixed.pcapng"), "--pcapng");
      send();
      await stop(s);
      const rows = fields(f("mixed.pcapng"), "ip.src", "frame.verdict.ebpf_xdp");
      expect(rows.filter(([src]) => src === "198.18.7.7").map(([, v]) => v)).toEqual(Array(30).fill(XDP_DROP));
      expect(rows.filter(([src]) => src === "198.18.9.9").map(([, v]) => v)).toEqual(Array(20).fill(XDP_PASS));
      // Wireshark's display filter on the field works too.
      const dropped = sh(["tshark", "-r", f("mixed.pcapng"), "-Y", "frame.verdict.ebpf_xdp == 1", "-T", "fields", "-e", "ip.src"]);
      expect(dropped.stdout.trim().split("\n")).toEqual(Array(30).fill("198.18.7.7"));

      s = await startSample("-w", f("dropped.pcapng"), "--pcapng", "--action", "drop");
      send();
      await stop(s);
      expect(fields(f("dropped.pcapng"), "ip.src", "frame.verdict.ebpf_xdp")).toEqual(Array(30).fill(["198.18.7.7", XDP_DROP]));
    } finally {
      xtOk("blacklist", "flush", "-i", DUT);
      xtOk("blacklist", "detach", DUT);
    }
  });

  test("the filter expression and the ifindex are in the interface description block", async () => {
    const s = await startSample("-w", f("flt.pcapng"), "--pcapng", "udp", "port", "1024");
    traffic("--count", "3");
    await stop(s);
    const info = sh(["capinfos", f("flt.pcapng")]);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/Filter string = udp port 1024\n/);
    expect(info.stdout).toMatch(/Description = ifindex \d+\n/);
  });
});
