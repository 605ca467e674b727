// Foundation: the binary, load/status/unload, persistence, ownership, errors, the lab.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { DUT, GEN, LAB, ROOT, XDPTOOL, ethtoolStats, freshLab, inNs, json, sh, xt, xtOk } from "./helpers.ts";

const PIN = `/sys/fs/bpf/xdptool/${DUT}`;

beforeAll(() => freshLab());
afterAll(() => xt("lab", "down"));

function ipLink(): any {
  return JSON.parse(inNs(DUT, ["ip", "-j", "-d", "link", "show", DUT]).stdout)[0];
}

describe("binary", () => {
  test("--version names xdptool, libbpf, libpcap and the kernel", () => {
    const out = xtOk("--version");
    expect(out).toMatch(/^xdptool \d+\.\d+\.\d+$/m);
    expect(out).toMatch(/^libbpf 1\.\d+/m);
    expect(out).toMatch(/^libpcap 1\.\d+\.\d+ \(embedded\)$/m);
    expect(out).toContain(`kernel ${sh(["uname", "-r"]).stdout.trim()}`);
  });

  test("unknown command, unknown option and a word too many are usage errors (exit 2, one line)", () => {
    for (const args of [["frobnicate"], ["load", DUT, "hello", "--frobnicate"], ["load", DUT, "hello", "extra"], ["unload", DUT, "--force", "now"]]) {
      const r = xt(...args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    expect(xt("load", DUT, "hello", "extra").stderr).toContain('unexpected argument "extra"');
    expect(xt("status", "--json").code).toBe(0); // options with values and booleans are not words
  });

  test("no command, or a group with none: usage on stderr, exit 2; unknown options exit 2 wherever they are; --help is exit 0", () => {
    for (const args of [[], ["blacklist"], ["map"], ["lab"]]) {
      const r = xt(...args);
      expect([args, r.code, r.stdout]).toEqual([args, 2, ""]);
      expect(r.stderr).toContain("USAGE");
    }
    for (const args of [["--bogus"], ["-v"], ["blacklist", "--bogus"], ["map", "--bogus"]]) {
      const r = xt(...args);
      expect([args, r.code, r.stderr.trim().split("\n").length]).toEqual([args, 2, 1]);
      expect(r.stderr).toContain(`unknown option ${args[args.length - 1]}`);
    }
    for (const args of [["--help"], ["blacklist", "--help"], ["map", "dump", "-h"]]) expect([args, xt(...args).code]).toEqual([args, 0]);
  });

  test("options before the command are the command's: xdptool --json status = xdptool status --json", () => {
    const before = xt("--json", "status", DUT), after = xt("status", DUT, "--json");
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout)).toEqual(JSON.parse(after.stdout));
  });

  test("runs with the system libbpf, libelf and zlib hidden", () => {
    const hide = ["/usr/lib/x86_64-linux-gnu/libbpf.so.1", "/usr/lib/x86_64-linux-gnu/libelf.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1"].filter(existsSync);
    expect(hide.length).toBeGreaterThan(0);
    const empty = join(mkdtempSync(join(tmpdir(), "xt-")), "empty");
    writeFileSync(empty, "");
    const script = [...hide.map((f) => `mount --bind ${empty} ${f}`), `${XDPTOOL} load ${DUT} drop`, `${XDPTOOL} unload ${DUT}`].join(" && ");
    const r = sh(["unshare", "-m", "--propagation", "private", "sh", "-c", script]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("attached drop");
  });
});

describe("load / status / unload", () => {
  test("load hello (native): ip, bpftool and status agree; it stays after exit", () => {
    const r = json("load", DUT, "hello");
    expect(r.mode).toBe("native");
    const link = ipLink();
    expect(link.xdp.mode).toBe(1); // XDP_ATTACHED_DRV
    expect(link.xdp.prog.id).toBe(r.progId);
    const st = json<any[]>("status").find((s) => s.interface === DUT);
    expect(st).toMatchObject({ program: "hello", id: r.progId, mode: "native", owner: "xdptool" });
    const prog = JSON.parse(sh(["bpftool", "-j", "prog", "show", "id", String(r.progId)]).stdout);
    expect(prog.name).toBe("hello");
    expect(prog.tag).toBe(st.tag);
    expect(inNs(DUT, ["bpftool", "net", "show", "dev", DUT]).stdout).toContain(`${DUT}(${link.ifindex}) driver id ${r.progId}`);
    expect(existsSync(`${PIN}/link`)).toBe(true);
    expect(existsSync(`${PIN}/xdptool_stats`)).toBe(true);
  });

  test("unload detaches and removes exactly our pins", () => {
    xtOk("load", DUT, "hello");
    xtOk("unload", DUT);
    expect(ipLink().xdp).toBeUndefined();
    expect(existsSync(PIN)).toBe(false);
    expect(existsSync(`/sys/fs/bpf/xdptool/${GEN}/link`)).toBe(true); // the other end is untouched
    const again = xt("unload", DUT);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("has no XDP program");
  });

  test("skb mode is generic XDP to ip and bpftool", () => {
    const r = json("load", DUT, "drop", "--mode", "skb");
    expect(r.mode).toBe("skb");
    expect(ipLink().xdp.mode).toBe(2); // XDP_ATTACHED_SKB
    expect(json<any[]>("status").find((s) => s.interface === DUT).mode).toBe("skb");
    xtOk("unload", DUT);
  });

  test("a user-supplied object by section, like ip link set dev X xdp obj", () => {
    const r = json("load", DUT, join(ROOT, "dist/bpf/drop.bpf.o"), "--section", "xdp");
    expect(r.progName).toBe("drop");
    xtOk("unload", DUT);
  });

  test("a foreign program is refused without --force, replaced with it", () => {
    const ip = inNs(DUT, ["ip", "link", "set", "dev", DUT, "xdp", "obj", join(ROOT, "dist/bpf/pass.bpf.o"), "sec", "xdp"]);
    expect(ip.code).toBe(0);
    const foreign = ipLink().xdp.prog.id;
    expect(json<any[]>("status").find((s) => s.interface === DUT).owner).toBe("foreign");
    const refused = xt("load", DUT, "hello");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`already runs XDP program "pass" (id ${foreign}`);
    expect(ipLink().xdp.prog.id).toBe(foreign);
    const notOurs = xt("unload", DUT);
    expect(notOurs.code).toBe(1);
    expect(notOurs.stderr).toContain("xdptool did not load");
    const r = json("load", DUT, "hello", "--force");
    expect(r.replaced).toBe("foreign");
    expect(ipLink().xdp.prog.id).toBe(r.progId);
    xtOk("unload", DUT);
  });

  test("unload --force removes a foreign program", () => {
    inNs(DUT, ["ip", "link", "set", "dev", DUT, "xdpgeneric", "obj", join(ROOT, "dist/bpf/pass.bpf.o"), "sec", "xdp"]);
    expect(xtOk("unload", DUT, "--force")).toContain("not loaded by xdptool");
    expect(ipLink().xdp).toBeUndefined();
  });

  test("replacing keeps the program attached at every instant (LIVE_FRAMES stream)", async () => {
    xtOk("load", DUT, "hello");
    const before = ethtoolStats(DUT, DUT), genBefore = ethtoolStats(GEN, GEN);
    const count = 3_000_000;
    const stream = Bun.spawn([XDPTOOL, "lab", "traffic", "--count", String(count), "--json"], { stdout: "pipe", stderr: "pipe" });
    let swaps = 0;
    while (stream.exitCode === null && swaps < 40) {
      xtOk("load", DUT, swaps % 2 ? "hello" : "drop");
      swaps++;
    }
    expect(await stream.exited).toBe(0);
    expect(swaps).toBeGreaterThan(1);
    const after = ethtoolStats(DUT, DUT), genAfter = ethtoolStats(GEN, GEN);
    // Every frame sent went through some XDP program on the DUT: none was refused for lack of one.
    expect(genAfter.tx_xdp_xmit_errors ?? 0).toBe(genBefore.tx_xdp_xmit_errors ?? 0);
    expect(after.rx_queue_0_xdp_packets - before.rx_queue_0_xdp_packets).toBeGreaterThanOrEqual(count);
    xtOk("unload", DUT);
  });
});

describe("errors", () => {
  test("unknown interface → exit 2 naming it", () => {
    const r = xt("load", "nosuchif0", "hello");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no interface "nosuchif0"');
    // NETNS/IFNAME/more is no interface name: refused, not taken for NETNS/IFNAME.
    for (const spec of [`${DUT}/${DUT}/x`, `${DUT}/${DUT}/`]) {
      const bad = xt("load", spec, "hello");
      expect([bad.code, bad.stderr.trim()]).toEqual([2, `xdptool: invalid interface name "${spec}" (see --help)`]);
    }
    expect(existsSync(PIN)).toBe(false);
  });

  test("a file in /run/netns that is no namespace (ip netns add half-way) is passed over, not an error", () => {
    const bogus = `/run/netns/${LAB}-notns`;
    writeFileSync(bogus, "");
    try {
      expect(json("status", DUT).interface).toBe(DUT); // found in its own namespace, past the bogus one
      expect(xt("status").code).toBe(0);
      expect(xt("status", "nosuch0").code).toBe(2);
    } finally {
      unlinkSync(bogus);
    }
  });

  test("a missing interface is exit 2 and said so by every command, not 'runs no …'", () => {
    for (const args of [["responder", "status", "nosuchif0"], ["blacklist", "add", "198.18.0.1", "-i", "nosuchif0"], ["blacklist", "list", "-i", "nosuchif0"], ["stats", "nosuchif0"]]) {
      const r = xt(...args);
      expect([args, r.code, r.stderr.trim()]).toEqual([args, 2, expect.stringContaining('no interface "nosuchif0"')]);
    }
  });

  test("help: `xdptool help CMD...` is `CMD --help`; the usage line names the whole command and its words; lines fit 80 columns", () => {
    const viaHelp = xt("help", "blacklist", "add"), viaFlag = xt("blacklist", "add", "--help");
    expect([viaHelp.code, viaFlag.code]).toEqual([0, 0]);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
    expect(viaFlag.stdout).toContain("USAGE  xdptool blacklist add [OPTIONS] RULE...");
    expect(xt("lab", "up", "--help").stdout).toContain("USAGE  xdptool lab up [OPTIONS]");
    for (const args of [[], ["sample"], ["blacklist"], ["blacklist", "import"], ["responder", "enable"], ["map", "dump"], ["lab", "traffic"]]) {
      const out = xt("help", ...args).stdout;
      const long = out.split("\n").filter((l) => l.length > 80 && !/^\s*\S+$/.test(l.trim())); // one unbreakable word may overflow
      expect([args.join(" "), long]).toEqual([args.join(" "), []]);
      expect(out).not.toMatch(/\(xdptool[^)]* v\d/); // no version tag glued to the text
    }
    expect(xt("help", "nosuch").code).toBe(2);
  });

  test("root help lists each command by its description's first line, kept in the command index so root help loads no command", async () => {
    const { commands } = await import("../src/commands/index.ts");
    const out = xt("--help").stdout;
    for (const [name, lazy] of Object.entries(commands)) {
      const own = ((await lazy()).meta as { description: string }).description.split("\n")[0];
      expect([name, (lazy as unknown as { summary: string }).summary]).toEqual([name, own]);
      expect(out).toContain(`  ${name.padEnd(10)}  ${own.split(" ").slice(0, 4).join(" ")}`);
    }
  });

  test("every command's summary (its description's first line, what group help and man NAME show) is a whole sentence", async () => {
    const { commands } = await import("../src/commands/index.ts");
    const value = async (x: unknown): Promise<any> => (typeof x === "function" ? await x() : await x);
    const cut: string[] = [];
    const walk = async (path: string, def: any): Promise<void> => {
      const first = ((await value(def.meta))?.description ?? "").split("\n")[0];
      if (!/[.)]$/.test(first)) cut.push(`${path}: ${first}`);
      for (const [name, sub] of Object.entries((await value(def.subCommands)) ?? {})) await walk(`${path} ${name}`, await value(sub));
    };
    for (const [name, lazy] of Object.entries(commands)) await walk(name, await value(lazy));
    expect(cut).toEqual([]);
  });

  test("one meaning per flag: --lab names a lab, --transport a capture's transport, --sender the lab's sending end; the old spellings still work, unlisted", () => {
    expect(xt("help", "lab", "up").stdout).toContain("--lab LAB");
    expect(xt("help", "lab", "up").stdout).not.toContain("--name");
    expect(xt("help", "sample").stdout).toContain("--transport TRANSPORT");
    expect(xt("help", "sample").stdout).not.toMatch(/--mode\b/);
    expect(xt("help", "lab", "traffic").stdout).toContain("--sender SENDER");
    expect(xt("help", "lab", "traffic").stdout).not.toContain("--from");
    for (const flag of ["--lab", "--name"]) expect(JSON.parse(xtOk("lab", "status", flag, "xnosuchlab", "--json")).name).toBe("xnosuchlab");
    for (const flag of ["--transport", "--mode"]) expect(xt("sample", DUT, flag, "pcap").stderr.trim()).toBe('xdptool: --transport must be ringbuf or perf, not "pcap" (see --help)');
    for (const flag of ["--sender", "--from"]) expect(xt("lab", "traffic", flag, "nowhere").stderr.trim()).toBe('xdptool: --sender must be gen or dut, not "nowhere" (see --help)');
  });

  test("completion bash: generated from the commands themselves — commands, subcommands, options, lab sides, interfaces", () => {
    const script = xtOk("completion", "bash");
    const complete = (...words: string[]) => sh(["bash", "-c", `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _xdptool; echo "\${COMPREPLY[*]}"`]).stdout.trim();
    expect(complete("xdptool", "bl")).toBe("blacklist");
    expect(complete("xdptool", "blacklist", "a")).toBe("attach add allow");
    expect(complete("xdptool", "blacklist", "add", "198.18.0.1", "--tt")).toBe("--ttl");
    expect(complete("xdptool", "sample", "lo", "--tr")).toBe("--transport");
    expect(complete("xdptool", "sample", "lo", "--mo")).toBe(""); // an old spelling is not offered
    expect(complete("xdptool", "lab", "exec", "d")).toBe("dut");
    expect(complete("xdptool", "unload", "l").split(" ")).toContain("lo");
    expect(complete("xdptool", "")).toContain("completion");
    for (const shell of ["zsh", "fish"]) expect(xtOk("completion", shell)).toContain("xdptool");
    expect(xt("completion", "tcsh").code).toBe(2);
  });

  test("man pages: generated for every command, rendered by man(1) without a warning, with the sections an operator looks for", () => {
    for (const args of [[], ["blacklist"], ["blacklist", "add"], ["sample"], ["responder", "enable"], ["map", "dump"], ["lab", "traffic"]]) {
      const page = xtOk("man", ...args);
      const shown = sh(["sh", "-c", "MANWIDTH=80 man --warnings -l -"], { input: page });
      expect([args.join(" "), shown.code, shown.stderr.trim()]).toEqual([args.join(" "), 0, ""]);
      for (const section of ["NAME", "SYNOPSIS", "DESCRIPTION", "EXIT STATUS", "FILES", "SEE ALSO"]) expect(shown.stdout).toContain(`\n${section}\n`);
      expect(shown.stdout).toContain(`xdptool ${args.join(" ")}`.trim());
    }
    expect(sh(["sh", "-c", `${XDPTOOL} man blacklist add | MANWIDTH=80 man -l -`]).stdout).toMatch(/EXAMPLES\n\s+xdptool blacklist add 198\.18\.7\.0\/24/);
  });

  test("an option missing its value says so; bounds read as numbers; a message with its own hint gets no (see --help)", () => {
    expect(xt("blacklist", "add", "198.18.0.1", "--ttl", "-i", DUT).stderr.trim()).toBe("xdptool: --ttl needs a value (see --help)");
    expect(xt("sample", DUT, "-c", "0").stderr.trim()).toBe('xdptool: --count must be a whole number of at least 1, not "0" (see --help)');
    const own = xt("map", "dump", "id", "999999999");
    expect([own.code, own.stderr.trim()]).toEqual([2, "xdptool: no map with id 999999999 (xdptool map list)"]);
  });

  test("bad object file → exit 2", () => {
    const f = join(mkdtempSync(join(tmpdir(), "xt-")), "bad.o");
    writeFileSync(f, "this is not ELF");
    const r = xt("load", DUT, f);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is not a BPF object file");
    const truncated = join(mkdtempSync(join(tmpdir(), "xt-")), "trunc.o");
    writeFileSync(truncated, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]));
    const t = xt("load", DUT, truncated);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/open BPF object .*trunc\.o: /);
    const d = xt("load", DUT, tmpdir());
    expect([d.code, d.stderr.trim()]).toEqual([2, `xdptool: ${tmpdir()} is a directory; name a BPF object file (.o) in it (see --help)`]);
    expect(existsSync(PIN)).toBe(false);
  });

  test("missing section → exit 2 listing what the object has", () => {
    const r = xt("load", DUT, join(ROOT, "dist/bpf/drop.bpf.o"), "--section", "xdp/nope");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no section "xdp/nope"');
    expect(r.stderr).toContain("drop (section xdp)");
    expect(existsSync(PIN)).toBe(false);
  });

  test("without capabilities → a message naming what is missing", () => {
    const r = sh(["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--", XDPTOOL, "load", DUT, "hello"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("missing CAP_BPF, CAP_NET_ADMIN");
  });

  test("lab traffic toward an end without XDP is refused with the reason", () => {
    const r = xt("lab", "traffic", "--count", "10");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("runs no XDP program");
  });
});

describe("lab", () => {
  test("up is idempotent; status reports both ends", () => {
    expect(xtOk("lab", "up")).toContain("already up");
    const s = json("lab", "status");
    expect(s.up).toBe(true);
    expect(s.ends.map((e: any) => e.xdp.program)).toEqual(["pass", null]);
  });

  test("up again repairs what was taken from a lab that is up: its addresses", () => {
    // (Not a link bounce: the generator's IPv6 router solicitations and MLD reports after it
    // would reach the DUT while a later test counts its frames.)
    expect(inNs(DUT, ["ip", "addr", "flush", "dev", DUT]).code).toBe(0);
    for (const dst of ["198.18.0.2", "2001:db8::2"]) expect(inNs(GEN, ["ping", "-c", "1", "-W", "1", dst]).code).not.toBe(0);
    expect(xtOk("lab", "up")).toContain("already up");
    for (const dst of ["198.18.0.2", "2001:db8::2"]) expect(inNs(GEN, ["ping", "-c", "1", "-W", "2", dst]).code).toBe(0);
  });

  test("lab exec: words after -- are the command's, -h and --help included", () => {
    const r = xt("lab", "exec", "gen", "--", "ls", "-h", "-d", "/etc");
    expect([r.code, r.stdout.trim()]).toEqual([0, "/etc"]);
    const w = xt("lab", "exec", "dut", "--", "sh", "-c", "ip -o link show | grep -c xdp; echo --help");
    expect(w.code).toBe(0);
    expect(w.stdout).toContain("--help");
    expect(w.stdout).not.toContain("USAGE");
  });

  test("ping crosses the lab (IPv4 and IPv6)", () => {
    expect(inNs(GEN, ["ping", "-c1", "-W2", "198.18.0.2"]).code).toBe(0);
    expect(inNs(GEN, ["ping", "-6", "-c1", "-W2", "2001:db8::2"]).code).toBe(0);
  });

  test("traffic delivers exactly N frames (counted by the kernel)", () => {
    xtOk("load", DUT, "drop");
    const before = ethtoolStats(DUT, DUT);
    const r = json("lab", "traffic", "--count", "100000");
    expect(r.frames).toBe(100000);
    const after = ethtoolStats(DUT, DUT);
    expect(after.rx_queue_0_xdp_drops - before.rx_queue_0_xdp_drops).toBe(100000);
    xtOk("unload", DUT);
  });
});

describe("namespaces", () => {
  test("load from inside `ip netns exec` (no bpffs there) persists in the host's bpffs", () => {
    const r = inNs(DUT, [XDPTOOL, "load", DUT, "hello", "--json"]);
    expect(r.code).toBe(0);
    expect(existsSync(`${PIN}/link`)).toBe(true); // seen from the host: the pin outlived the command
    expect(ipLink().xdp.prog.name).toBe("hello");
    const inside = JSON.parse(inNs(DUT, [XDPTOOL, "status", "--json"]).stdout).filter((s: any) => s.interface === DUT);
    expect(inside).toHaveLength(1); // not listed twice (current namespace = named namespace)
    expect(inside[0].owner).toBe("xdptool");
    expect(inNs(DUT, [XDPTOOL, "unload", DUT]).code).toBe(0);
    expect(existsSync(PIN)).toBe(false);
  });
});

describe("libbpf's own explanations", () => {
  test("a program the verifier refuses: errno name plus the verifier's reason, full log with --verbose", () => {
    const dir = mkdtempSync(join(tmpdir(), "xt-"));
    writeFileSync(join(dir, "bad.bpf.c"), `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int unchecked(struct xdp_md *ctx) {
  unsigned char *data = (void *)(long)ctx->data;
  return data[20] ? XDP_PASS : XDP_DROP; /* no data_end check */
}
char LICENSE[] SEC("license") = "GPL";`);
    const cc = sh(["clang", "-g", "-O2", "-target", "bpf", "-I", join(ROOT, "libbpf/out/include"), "-I", "/usr/include/x86_64-linux-gnu", "-c", join(dir, "bad.bpf.c"), "-o", join(dir, "bad.o")]);
    expect(cc.code).toBe(0);
    const r = xt("load", DUT, join(dir, "bad.o"));
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("EACCES (Permission denied) — verifier: R1 offset is outside of the packet");
    const v = xt("load", DUT, join(dir, "bad.o"), "--verbose");
    expect(v.stderr).toContain("-- END PROG LOAD LOG --");
    expect(existsSync(PIN)).toBe(false);
  });
});
