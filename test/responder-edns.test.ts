// The responder's replies to EDNS queries, held against dnsdist's TCAction on the same queries:
// both run in the lab's DUT namespace (the responder on port 53, dnsdist on 5300), dig asks both
// from the generator, and every header bit and OPT field we claim to share is compared. Where we
// differ on purpose (BADVERS, the Z bit: docs/07-xdp-tx.md) only our side is asserted.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, type Subprocess } from "bun";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DUT, GEN, freshLab, inNs, json, xt, xtOk } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "xdptool-dnsdist-"));
const DNSDIST_PORT = "5300";
let dnsdist: Subprocess | undefined;

interface Reply {
  status: string;
  flags: string[];
  /** QUERY/ANSWER/AUTHORITY/ADDITIONAL counts as dig prints them. */
  counts: string;
  /** "MBZ: 0x…" when the header's Z bit is set. */
  mbz: string;
  /** The OPT record: null without one. */
  opt: { version: number; flags: string[]; udp: number; options: string[] } | null;
  /** Sizes of the query dig sent and of the reply (dig +qr). */
  querySize: number;
  replySize: number;
}

/** dig +qr +ignore from the generator; the part after the last ";; QUERY SIZE" is the reply (dig
 *  prints each query it sends: +edns=1 sends a second one after BADVERS). */
function ask(server: string, port: string, args: string[]): Reply {
  const r = inNs(GEN, ["dig", `@${server}`, "-p", port, "+tries=1", "+time=2", "+ignore", "+qr", ...args, "www.example.test"]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const last = r.stdout.lastIndexOf(";; QUERY SIZE:");
  const [, querySize, out] = r.stdout.slice(last).match(/;; QUERY SIZE: (\d+)\n([\s\S]*)$/) ?? [];
  if (!out) throw new Error(`no reply from ${server}:${port}:\n${r.stdout}`);
  const head = out.match(/status: (\w+),[\s\S]*?;; flags: ([a-z ]*);( MBZ: \w+;)? (QUERY: .*)/);
  if (!head) throw new Error(`no header in:\n${out}`);
  const pseudo = out.match(/;; OPT PSEUDOSECTION:\n([\s\S]*?)\n\n/)?.[1];
  const edns = pseudo?.match(/; EDNS: version: (\d+), flags:([a-z ]*); udp: (\d+)/);
  return {
    status: head[1],
    flags: head[2].split(" ").filter(Boolean).sort(),
    mbz: head[3]?.trim() ?? "",
    counts: head[4],
    opt: edns ? { version: Number(edns[1]), flags: edns[2].split(" ").filter(Boolean), udp: Number(edns[3]),
      options: pseudo!.split("\n").filter((l) => l.startsWith("; ") && !l.startsWith("; EDNS:")) } : null,
    querySize: Number(querySize),
    replySize: Number(out.match(/MSG SIZE {2}rcvd: (\d+)/)?.[1]),
  };
}

beforeAll(async () => {
  freshLab();
  writeFileSync(join(dir, "dnsdist.conf"), [
    `setLocal("198.18.0.2:${DNSDIST_PORT}")`, `addLocal("[2001:db8::2]:${DNSDIST_PORT}")`,
    `setACL({"198.18.0.0/15", "2001:db8::/32"})`, "addAction(AllRule(), TCAction())", "",
  ].join("\n"));
  dnsdist = spawn(["ip", "netns", "exec", DUT, "dnsdist", "--supervised", "--disable-syslog", "-C", join(dir, "dnsdist.conf")], { stdout: "ignore", stderr: "ignore" });
  xtOk("responder", "enable", DUT); // port 53: dnsdist's 5300 is not ours
  for (let i = 0; i < 50; i++) {
    if (inNs(GEN, ["dig", "@198.18.0.2", "-p", DNSDIST_PORT, "+tries=1", "+time=1", "+ignore", "x.test"]).stdout.includes("flags: qr tc")) return;
    await Bun.sleep(100);
  }
  throw new Error("dnsdist did not start in the lab");
});

afterAll(async () => {
  dnsdist?.kill();
  await dnsdist?.exited;
  xt("lab", "down");
});

describe("the same queries to the responder and to dnsdist's TCAction", () => {
  // dig's EDNS knobs, one case each, and a few together. +edns=1 is here too: our BADVERS makes
  // dig retry with version 0, and that reply matches dnsdist's.
  const cases = ["", "+dnssec", "+noedns", "+cookie", "+bufsize=4096", "+bufsize=512", "+norec", "+adflag +cdflag",
    "+aaflag", "+nsid +subnet=198.18.0.0/24 +padding=64", "+dnssec +cookie +norec", "+noedns +norec +cdflag", "+edns=1"];
  for (const server of ["198.18.0.2", "2001:db8::2"]) {
    test.each(cases)(`${server} dig %p: flags, RCODE, counts and OPT (presence, version, DO, UDP size, no options) match`, (c) => {
      const args = c.split(" ").filter(Boolean);
      const ours = ask(server, "53", args), theirs = ask(server, DNSDIST_PORT, args);
      const shared = (r: Reply) => ({ status: r.status, flags: r.flags, counts: r.counts, opt: r.opt });
      expect(shared(ours)).toEqual(shared(theirs));
      // What both must be, spelled out, so the comparison cannot pass on two equal wrongs.
      expect(ours.flags).toContain("tc");
      expect(ours.flags.includes("ra")).toBe(ours.flags.includes("rd"));
      expect(ours.flags).not.toContain("aa");
      expect(ours.flags).not.toContain("ad");
      expect(ours.opt === null).toBe(args.includes("+noedns"));
      if (ours.opt) {
        expect(ours.opt).toEqual({ version: 0, flags: args.includes("+dnssec") ? ["do"] : [], udp: 1232, options: [] });
      }
      expect(ours.replySize).toBeLessThanOrEqual(ours.querySize); // never an amplifier
    });
  }
});

describe("where we differ from dnsdist, on purpose", () => {
  test("EDNS version 1 (dig +edns=1 +noednsnegotiation): BADVERS (RFC 6891 §6.1.3), no TC, our OPT at version 0", () => {
    const answered = () => json<any[]>("responder", "status").find((r) => r.interface === DUT).counters.answered;
    const before = answered();
    for (const server of ["198.18.0.2", "2001:db8::2"]) {
      const r = ask(server, "53", ["+edns=1", "+noednsnegotiation", "+dnssec"]);
      expect(r.status).toBe("BADVERS");
      expect(r.flags).toEqual(["qr", "ra", "rd"]); // a complete answer: no tc
      expect(r.opt).toEqual({ version: 0, flags: ["do"], udp: 1232, options: [] });
      expect(r.replySize).toBeLessThanOrEqual(r.querySize);
    }
    // Answered by the responder, not passed: a flood cannot slip through by asking for version 1.
    expect(answered() - before).toBe(2);
  });

  test("the header's Z bit (dig +zflag) is cleared (RFC 1035 §4.1.1: zero in all responses)", () => {
    const r = ask("198.18.0.2", "53", ["+zflag"]);
    expect(r.mbz).toBe("");
    expect(r.flags).toContain("tc");
  });
});
