// sample -s 0: jumbo frames arrive on veth as multi-buffer XDP frames (MTU 9000 is more than a
// page); the sampler programs are xdp.frags and copy across the fragments, so tshark sees every
// byte: the full length, and ICMP checksums over all 8 KB that verify.
import { beforeAll, describe, expect, test } from "bun:test";
import { DUT, GEN, inNs, sh, xt, xtOk } from "./helpers.ts";
import { sampleLab, f, startSample, stop } from "./sampler-helpers.ts";

sampleLab();

const setMtu = (mtu: number) => {
  for (const side of [GEN, DUT]) expect(inNs(side, ["ip", "link", "set", side, "mtu", String(mtu)]).code).toBe(0);
};
beforeAll(() => {
  // The generator's `pass` program is not xdp.frags, and veth will not raise the pair's MTU past
  // a page while it is attached; these frames come from the generator's stack, which needs none.
  xtOk("unload", `${GEN}/${GEN}`);
  setMtu(9000); // sampleLab() takes the lab down (and the MTU with it) at the end
});

/** Three 8042-byte frames (an 8000-byte ICMP echo payload) from the generator's stack. */
function ping(): void {
  inNs(GEN, ["ping", "-c", "3", "-i", "0.2", "-W", "1", "-s", "8000", "198.18.0.2"]);
}

/** frame.len, frame.cap_len, ICMP checksum status (1 = good) and verdict of each ICMP frame. */
function frames(path: string): string[][] {
  const r = sh(["tshark", "-r", path, "-T", "fields", "-e", "frame.len", "-e", "frame.cap_len", "-e", "icmp.checksum.status", "-e", "frame.verdict.ebpf_xdp", "icmp"]);
  expect(r.code).toBe(0);
  return r.stdout.trim().split("\n").map((l) => l.split("\t"));
}

describe("sample: jumbo, multi-buffer frames", () => {
  for (const transport of ["ringbuf", "perf"]) {
    test(`-s 0 (${transport}) captures 8042-byte frames whole`, async () => {
      const s = await startSample("-w", f(`j-${transport}.pcapng`), "--pcapng", "-s", "0", "--transport", transport, "icmp");
      expect(s.stderr()).toContain(`snaplen ${transport === "perf" ? 65000 : 262144}`);
      ping();
      await stop(s);
      const got = frames(f(`j-${transport}.pcapng`)).filter(([len]) => len === "8042");
      // Echo requests (and the stack's replies are not seen: XDP is receive only).
      expect(got).toEqual(Array(3).fill(["8042", "8042", "1", "2"]));
    });
  }

  test("-s 100 cuts them at 100 bytes and keeps the original length", async () => {
    const s = await startSample("-w", f("j-cut.pcap"), "-s", "100", "icmp");
    ping();
    await stop(s);
    const r = sh(["tshark", "-r", f("j-cut.pcap"), "-T", "fields", "-e", "frame.len", "-e", "frame.cap_len"]);
    expect(r.stdout.trim().split("\n")).toEqual(Array(3).fill("8042\t100"));
  });

  test("the combined program is xdp.frags too: attached at MTU 9000, it samples a dropped jumbo whole", async () => {
    // What xdp.frags changes for attach: veth refuses (ERANGE) a program without it at this MTU.
    const hello = xt("load", DUT, "hello", "--mode", "native");
    expect(hello.code).not.toBe(0);
    expect(hello.stderr).toContain("ERANGE");
    xtOk("blacklist", "attach", DUT, "--max-rules", "100", "--mode", "native");
    try {
      xtOk("blacklist", "add", "198.18.0.1", "-i", DUT);
      const s = await startSample("-w", f("j-drop.pcapng"), "--pcapng", "-s", "65535", "icmp");
      ping();
      await stop(s);
      expect(frames(f("j-drop.pcapng"))).toEqual(Array(3).fill(["8042", "8042", "1", "1"]));
    } finally {
      xt("unload", DUT);
    }
  });
});
