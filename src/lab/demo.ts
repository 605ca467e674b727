// demo.ts — `xdptool lab demo`: the product on the lab in one minute — block, respond, sample,
// count — printing what happened. Every step runs this very binary as an operator would, so the
// demo exercises the real command paths (and doubles as a smoke test).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn, spawnSync } from "bun";
import { OpError } from "../errors.ts";
import { selfArgv } from "../self.ts";
import { haveTool } from "../tools.ts";


function xdptool(env: Record<string, string>, ...args: string[]): string {
  const p = spawnSync([...selfArgv(), ...args], { env: { ...process.env, ...env }, stdin: "ignore" });
  if (p.exitCode !== 0) throw new OpError(`demo step \`xdptool ${args.join(" ")}\` failed: ${p.stderr.toString().trim()}`);
  return p.stdout.toString();
}

const say = (s: string) => console.log(`\n» ${s}`);
const show = (text: string, keep = (_: string) => true) =>
  text.trim().split("\n").filter(keep).forEach((l) => console.log(`  ${l}`));

export async function runDemo(name = process.env.XDPTOOL_LAB || "xl", keep = false): Promise<void> {
  const env = { XDPTOOL_LAB: name };
  const x = (...a: string[]) => xdptool(env, ...a);
  const dut = `${name}-dut`;
  const pcap = join(mkdtempSync(join(tmpdir(), "xdptool-demo-")), "demo.pcap");
  say(`the lab: namespaces ${name}-gen and ${dut}, one veth pair`);
  show(x("lab", "up"));
  try {
    say(`blacklist on ${dut}: drop 198.18.7.0/24, but always let 198.18.7.10 through`);
    show(x("blacklist", "attach", dut, "--max-rules", "10000"));
    x("blacklist", "add", "198.18.7.0/24", "-i", dut);
    x("blacklist", "allow", "198.18.7.10", "-i", dut);
    say(`DNS responder on ${dut}: TC=1 replies over XDP_TX to queries for names under example.test`);
    show(x("responder", "enable", dut, "--qname", "example.test"));

    say(`sampling what the blacklist drops and what the responder sends, to ${pcap}`);
    const sampler = spawn([...selfArgv(), "sample", dut, "--action", "drop,tx", "--rate", "20", "-w", pcap, "--json"], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
    for (let i = 0; i < 100 && !x("status", dut, "--json").includes('"sampler"'); i++) await Bun.sleep(50);

    say("traffic from the generator (BPF_PROG_TEST_RUN LIVE_FRAMES, XDP_TX out of the veth):");
    show(x("lab", "traffic", "--dns", "www.example.test", "--count", "1000"));
    show(x("lab", "traffic", "--src", "198.18.7.7", "--count", "1000"));
    show(x("lab", "traffic", "--src", "198.18.7.10", "--count", "100"));
    await Bun.sleep(200);
    sampler.kill("SIGINT"); // like Ctrl-C: flush, close the file, print the counts
    const [code, out] = await Promise.all([sampler.exited, new Response(sampler.stdout).text()]);
    if (code === 0) {
      const r = JSON.parse(out);
      say(`the sample (1 in 20 of what was dropped or answered): ${r.captured} packets in ${pcap}, ${r.sampledOut} sampled out, ${r.lost} lost, ${r.filtered} passed (not selected)`);
      if (haveTool("tshark")) {
        const n = (filter: string) => spawnSync(["tshark", "-r", pcap, "-Y", filter]).stdout.toString().trim().split("\n").filter(Boolean).length;
        show(`tshark reads it: ${n("ip.src == 198.18.7.7")} dropped from 198.18.7.7, ${n("dns.flags.truncated == 1")} TC=1 DNS replies`);
      } else show("(tshark, package tshark, is not installed: not read back)");
    }

    say("what the blacklist matched (packets, bytes, last hit):");
    show(x("blacklist", "list", "-i", dut));
    say("what the responder did:");
    show(x("responder", "status", dut));
    say(`a real client: dig from ${name}-gen gets a truncated reply (flags: qr tc) from XDP, not from a server`);
    if (haveTool("dig")) {
      const dig = spawnSync(["ip", "netns", "exec", `${name}-gen`, "dig", "@198.18.0.2", "www.example.test", "+ignore", "+tries=1", "+time=1"]);
      show(dig.stdout.toString(), (l) => l.includes("flags:") || l.includes("status:"));
    } else show("(dig, package bind9-dnsutils, is not installed: step skipped)");
    say(`everything on ${dut}, counted by the program's own per-CPU counters:`);
    show(x("status", dut));
  } finally {
    if (!keep) {
      x("lab", "down");
      say(`lab ${name} removed (xdptool lab demo --keep leaves it up)`);
    }
  }
}
