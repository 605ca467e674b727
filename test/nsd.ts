// nsd.ts — a real DNS server behind the DUT for the responder tests: NSD in the lab's DUT namespace,
// authoritative for example.test (www → 198.18.0.80, 2001:db8::80) and other.test (…81), on
// 198.18.0.2 and 2001:db8::2 port 53, UDP and TCP.
import { spawn, type Subprocess } from "bun";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "bun:test";
import { DUT, GEN, freshLab, inNs, xt } from "./helpers.ts";

function zone(name: string, a: string, aaaa: string): string {
  return `$ORIGIN ${name}.\n$TTL 300\n@ IN SOA ns.${name}. admin.${name}. 1 3600 600 86400 300\n@ IN NS ns\nns IN A 198.18.0.2\nwww IN A ${a}\nwww IN AAAA ${aaaa}\n`;
}

/** dig from the generator namespace at the DUT (IPv4 unless the server is given). */
export function dig(args: string[], server = "198.18.0.2") {
  return inNs(GEN, ["dig", `@${server}`, "+tries=1", "+time=2", ...args]);
}

/** The header flags of dig's answer ("qr", "aa", "tc"…). */
export const flags = (out: string) => out.match(/;; flags: ([a-z ]+);/)?.[1].split(" ") ?? [];

/** Start NSD in the DUT namespace; resolves once it answers over TCP. Returns its stop function. */
export async function startNsd(): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), "xdptool-nsd-"));
  writeFileSync(join(dir, "example.test.zone"), zone("example.test", "198.18.0.80", "2001:db8::80"));
  writeFileSync(join(dir, "other.test.zone"), zone("other.test", "198.18.0.81", "2001:db8::81"));
  writeFileSync(join(dir, "nsd.conf"), [
    "server:", "  ip-address: 198.18.0.2", "  ip-address: 2001:db8::2", "  port: 53", '  username: ""', '  chroot: ""',
    `  zonesdir: "${dir}"`, '  database: ""', `  pidfile: "${dir}/nsd.pid"`, `  xfrdfile: "${dir}/xfrd.state"`,
    `  zonelistfile: "${dir}/zone.list"`, "remote-control:", "  control-enable: no",
    "zone:", "  name: example.test", "  zonefile: example.test.zone", "zone:", "  name: other.test", "  zonefile: other.test.zone", "",
  ].join("\n"));
  const nsd: Subprocess = spawn(["ip", "netns", "exec", DUT, "nsd", "-c", join(dir, "nsd.conf"), "-d"], { stdout: "ignore", stderr: "ignore" });
  const stop = async () => {
    nsd.kill();
    await nsd.exited; // nsd takes its xfrd and server children down with it
  };
  for (let i = 0; i < 50; i++) {
    if (dig(["+tcp", "+short", "www.other.test"]).stdout.includes("198.18.0.81")) return stop;
    await Bun.sleep(100);
  }
  await stop();
  throw new Error("nsd did not start in the lab");
}

/** A test file's lab with NSD behind the DUT: up before its tests, down after them. */
export function labWithNsd(): void {
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    freshLab();
    stop = await startNsd();
  });
  afterAll(async () => {
    await stop?.();
    xt("lab", "down");
  });
}
