// One binary: what dist/xdptool embeds (libbpf, libelf, zlib and libpcap in one shared object)
// needs nothing from the host but a glibc as old as the one the Bun runtime itself starts on,
// and a filtered capture works with the host's libpcap (and libbpf, libelf, zlib) hidden.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { tmpdir } from "node:os";
import { DUT, LAB, ROOT, XDPTOOL, compileAndRun, freshLab, sh, xt, xtOk } from "./helpers.ts";
import { LIBC_FUNCTIONS } from "../src/ffi/native.ts";

const dir = mkdtempSync(join(tmpdir(), "xt-onebinary-"));

/** The x86-64 shared objects stored inside an ELF file after its own image (Bun keeps embedded
 *  files as they are): each one's bytes, up to the end of its section header table. */
function embeddedSharedObjects(path: string): Buffer[] {
  const b = readFileSync(path), out: Buffer[] = [];
  for (let at = b.indexOf("\x7fELF", 1); at > 0; at = b.indexOf("\x7fELF", at + 4)) {
    if (at + 64 > b.length || b[at + 4] !== 2 /* 64-bit */ || b.readUInt16LE(at + 16) !== 3 /* ET_DYN */ || b.readUInt16LE(at + 18) !== 62 /* x86-64 */) continue;
    const end = at + Number(b.readBigUInt64LE(at + 0x28)) + b.readUInt16LE(at + 0x3a) * b.readUInt16LE(at + 0x3c);
    if (end <= b.length) out.push(b.subarray(at, end));
  }
  return out;
}

/** The highest GLIBC_x.y symbol version a file asks the dynamic loader for. */
function glibcMax(path: string): string {
  const r = sh(["objdump", "-T", path]);
  expect(r.code).toBe(0);
  const versions = [...new Set(r.stdout.match(/GLIBC_[0-9.]+/g) ?? [])].map((v) => v.slice(6));
  expect(versions.length).toBeGreaterThan(0);
  return versions.reduce((a, v) => (newer(v, a) ? v : a));
}
function newer(a: string, b: string): boolean {
  const x = a.split(".").map(Number), y = b.split(".").map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  return false;
}

describe("the embedded shared object", () => {
  let shim = "";
  beforeAll(() => {
    const ours = embeddedSharedObjects(XDPTOOL).filter((so) => so.includes("libxdptool-bpf.so"));
    expect(ours).toHaveLength(1);
    shim = join(dir, "libxdptool-bpf.so");
    writeFileSync(shim, ours[0]);
  });

  test("is libbpf and libpcap, and needs only libc", () => {
    const d = sh(["readelf", "-d", shim]).stdout;
    expect(d).toContain("Library soname: [libxdptool-bpf.so]");
    const needed = [...d.matchAll(/\(NEEDED\).*\[(.*)\]/g)].map((m) => m[1]);
    expect(needed.filter((n) => n !== "ld-linux-x86-64.so.2")).toEqual(["libc.so.6"]); // the loader is glibc too
    const defined = new Set(sh(["objdump", "-T", shim]).stdout.split("\n").filter((l) => l.includes(".text")).map((l) => l.split(/\s+/).pop()));
    expect(["bpf_object__open_mem", "pcap_open_dead", "pcap_compile", "bpf_filter"].filter((s) => !defined.has(s))).toEqual([]);
  });

  test("needs no glibc symbol newer than the Bun runtime does (starts where Bun starts: Ubuntu 20.04, Debian 11, RHEL 8)", () => {
    const runtime = glibcMax(XDPTOOL);
    expect(newer(runtime, "2.17")).toBe(false); // Bun's own floor: if it rises, this test's premise changed
    const need = glibcMax(shim);
    expect({ need, runtime, newer: newer(need, runtime) }).toEqual({ need, runtime, newer: false });
  });

  test("every libc function bound by name exists in glibc as old as the runtime's floor", () => {
    const runtime = glibcMax(XDPTOOL);
    const libc = sh(["objdump", "-T", realpathSync("/lib/x86_64-linux-gnu/libc.so.6")]).stdout.split("\n");
    const oldest = (fn: string) => libc.filter((l) => l.split(/\s+/).pop() === fn).map((l) => l.match(/GLIBC_([0-9.]+)/)?.[1] ?? "?")
      .reduce((a: string | null, v) => (a === null || newer(a, v) ? v : a), null);
    const tooNew = LIBC_FUNCTIONS.map((fn) => [fn, oldest(fn)]).filter(([, v]) => v === null || newer(v!, runtime));
    expect(tooNew).toEqual([]);
  });

  test("its fstat, bound to glibc's old __fxstat, reports the real size (libelf maps a file by descriptor)", () => {
    const obj = join(ROOT, "dist/bpf/drop.bpf.o");
    const out = compileAndRun(`
      #include <dlfcn.h>
      #include <fcntl.h>
      #include <stdio.h>
      #include <string.h>
      int main(void) {
        void *so = dlopen("${shim}", RTLD_NOW);
        if (!so) { printf("dlopen: %s\\n", dlerror()); return 1; }
        unsigned (*version)(unsigned) = dlsym(so, "elf_version");
        void *(*begin)(int, int, void *) = dlsym(so, "elf_begin");
        if (!version || !begin) { printf("libelf symbols missing\\n"); return 1; }
        version(1 /* EV_CURRENT */);
        // ELF_C_READ_MMAP maps as many bytes as fstat says the file holds.
        void *elf = begin(open("${obj}", O_RDONLY), 8 /* ELF_C_READ_MMAP */, 0);
        if (!elf) { printf("elf_begin failed\\n"); return 1; }
        FILE *maps = fopen("/proc/self/maps", "r");
        char line[512];
        unsigned long from, to;
        while (fgets(line, sizeof line, maps))
          if (strstr(line, "${obj}") && sscanf(line, "%lx-%lx", &from, &to) == 2) printf("%lu\\n", to - from);
        return 0;
      }`);
    expect(out.trim()).toBe(String(Math.ceil(statSync(obj).size / 4096) * 4096));
  });
});

describe("the extracted copy (root's runs dlopen it instead of copying 0.7 MB at every start)", () => {
  const run = join(dir, "run"), ours = () => readdirSync(run).filter((f) => /^libxdptool-bpf-\w+\.so$/.test(f));
  /** `xdptool --version` (it loads libbpf) under strace: the files the shared object came from. */
  function opened(as: string[] = []): { code: number; from: string[] } {
    const r = sh(["strace", "-f", "-qq", "-e", "trace=openat,memfd_create", ...as, XDPTOOL, "--version"], { env: { XDPTOOL_RUN_DIR: run } });
    const from = [...r.stderr.matchAll(/(?:openat\(AT_FDCWD, "([^"]*libxdptool-bpf[^"]*)", O_RDONLY|memfd_create\("(libxdptool-bpf)")/g)].map((m) => m[1] ?? `memfd ${m[2]}`);
    return { code: r.code, from };
  }
  const expected = () => embeddedSharedObjects(XDPTOOL).filter((so) => so.includes("libxdptool-bpf.so"))[0];

  test("is written once, root's and read-only, holding exactly the embedded bytes, and opened from then on", () => {
    rmSync(run, { recursive: true, force: true });
    const first = opened();
    expect(first.code).toBe(0);
    const [name] = ours();
    expect(first.from).toEqual([join(run, name)]);
    const st = statSync(join(run, name)), d = statSync(run);
    expect([st.uid, st.mode & 0o777, d.uid, d.mode & 0o777]).toEqual([0, 0o444, 0, 0o700]);
    expect(readFileSync(join(run, name)).equals(expected())).toBe(true);
    const ino = st.ino;
    expect(opened()).toEqual({ code: 0, from: [join(run, name)] });
    expect(statSync(join(run, name)).ino).toBe(ino); // not written again
  });

  test("one that others could have written is never opened: replaced whole, or (a directory others can write) left for a memfd", () => {
    expect(opened().code).toBe(0);
    const [name] = ours(), path = join(run, name);
    for (const bad of ["writable", "link"]) {
      rmSync(path, { force: true });
      if (bad === "link") symlinkSync("/nonexistent", path);
      else writeFileSync(path, Buffer.alloc(expected().length, 0x41)), chmodSync(path, 0o666); // right size, others may write
      expect(opened()).toEqual({ code: 0, from: [path] }); // the path again, after the rename put our bytes there
      expect([bad, lstatSync(path).isFile(), statSync(path).mode & 0o777, readFileSync(path).equals(expected())]).toEqual([bad, true, 0o444, true]);
    }
    chmodSync(run, 0o777);
    try {
      expect(opened()).toEqual({ code: 0, from: ["memfd libxdptool-bpf"] });
    } finally {
      chmodSync(run, 0o700);
    }
  });

  test("on a noexec mount it cannot be loaded: the memfd, and the command works", () => {
    const noexec = join(dir, "noexec");
    mkdirSync(noexec, { recursive: true });
    const r = sh(["unshare", "-m", "sh", "-c", `mount -t tmpfs -o noexec,mode=0700 none ${noexec} && exec strace -f -qq -e trace=memfd_create ${XDPTOOL} --version`], { env: { XDPTOOL_RUN_DIR: noexec } });
    expect([r.code, r.stdout.split("\n")[1], r.stderr.includes('memfd_create("libxdptool-bpf"')]).toEqual([0, expect.stringContaining("libbpf 1."), true]);
  });

  test("a user who cannot write it (not root) gets the memfd", () => {
    expect(opened(["-u", "nobody"])).toEqual({ code: 0, from: ["memfd libxdptool-bpf"] });
  });
});

describe("at run time", () => {
  beforeAll(() => freshLab());
  afterAll(() => xt("lab", "down"));

  test("with the host's libpcap, libbpf, libelf and zlib hidden, a filtered capture works: tcpdump reads back only what the filter chose", async () => {
    const libdir = "/usr/lib/x86_64-linux-gnu";
    const hide = [...new Set(["libpcap.so.0.8", "libpcap.so", "libbpf.so.1", "libelf.so.1", "libz.so.1"]
      .map((f) => join(libdir, f)).filter(existsSync).map((f) => realpathSync(f)))];
    expect(hide.some((f) => f.includes("libpcap"))).toBe(true);
    const empty = join(dir, "empty"), pcap = join(dir, "dns.pcap"), err = join(dir, "sample.err");
    writeFileSync(empty, "");
    writeFileSync(err, "");
    // Only the sampler runs in the namespace with the libraries hidden: the traffic comes from
    // outside (the lab's commands use `ip`, which itself links libelf and libbpf).
    const script = [
      "set -e",
      ...hide.map((f) => `mount --bind ${empty} ${f}`),
      // The hiding works: tcpdump itself, linked against libpcap, can no longer start.
      "if tcpdump --version >/dev/null 2>&1; then echo 'libpcap still visible'; exit 1; fi",
      `exec ${XDPTOOL} sample ${DUT} -c 50 -w ${pcap} udp port 53 2>${err}`,
    ].join("\n");
    const sampler = Bun.spawn(["unshare", "-m", "--propagation", "private", "sh", "-c", script], { stdout: "pipe", stderr: "pipe" });
    for (let i = 0; i < 200 && sampler.exitCode === null && !readFileSync(err, "utf8").includes("xdptool: sampling"); i++) await Bun.sleep(25);
    if (sampler.exitCode === null) {
      xtOk("lab", "traffic", "--count", "200");
      xtOk("lab", "traffic", "--dns", "www.example.test", "--count", "50");
    }
    const timer = setTimeout(() => sampler.kill(), 10_000);
    const code = await sampler.exited;
    clearTimeout(timer);
    const out = await new Response(sampler.stdout).text(), stderr = await new Response(sampler.stderr).text();
    expect({ code, out, err: stderr + readFileSync(err, "utf8") }).toMatchObject({ code: 0 });
    const all = sh(["tcpdump", "-nn", "-r", pcap]);
    expect(all.stdout.trim().split("\n")).toHaveLength(50);
    expect(sh(["tcpdump", "-nn", "-r", pcap, "not udp port 53"]).stdout).toBe("");
    expect(all.stdout).toContain("198.18.0.2.53:");
  });

  test("feature commands run no program at all: with an empty PATH, load, status, blacklist and its test work", () => {
    const bare = (...args: string[]) => sh([XDPTOOL, ...args], { env: { PATH: "/nonexistent" } });
    for (const args of [["load", DUT, "drop"], ["status", DUT, "--json"], ["unload", DUT], ["blacklist", "attach", DUT, "--max-rules", "1000"], ["blacklist", "add", "198.18.7.0/24", "-i", DUT]]) {
      const r = bare(...args);
      expect({ args, code: r.code, err: r.stderr }).toEqual({ args, code: 0, err: "" });
    }
    // blacklist test builds its packet to the interface's own MAC and address (rtnetlink, not `ip addr`).
    const t = bare("blacklist", "test", "2001:db8::7", "-i", DUT, "--json");
    expect(t.code).toBe(0);
    expect(JSON.parse(t.stdout).packet).toMatchObject({ dstMac: "02:78:74:00:00:02", dst: "2001:db8::2" });
    expect(bare("blacklist", "detach", DUT).code).toBe(0);
  });

  test("starts and captures with a filter on Debian 11's glibc 2.31 (Ubuntu 20.04's too)", async () => {
    const lib = join(ROOT, "test/.glibc-2.31/lib/x86_64-linux-gnu");
    if (!existsSync(join(lib, "libc.so.6"))) throw new Error("no old glibc: run test/old-glibc.sh (test/setup.sh does)");
    // A copy of the binary whose program interpreter is that glibc's loader. The new path has the
    // old one's length, so the file's layout (and Bun's embedded files) stay where they were.
    const bin = readFileSync(XDPTOOL), interp = Buffer.from("/lib64/ld-linux-x86-64.so.2");
    const at = bin.indexOf(interp);
    expect(at).toBeGreaterThan(0);
    const ld = join(mkdtempSync("/tmp/xtg-"), "ld-linux.so");
    expect(ld.length).toBe(interp.length);
    symlinkSync(join(lib, "ld-linux-x86-64.so.2"), ld);
    const old = join(dir, "xdptool-old-glibc"), pcap = join(dir, "old-glibc.pcap");
    Buffer.from(ld).copy(bin, at);
    writeFileSync(old, bin, { mode: 0o755 });
    const env = { LD_LIBRARY_PATH: lib };
    try {
      const v = sh([old, "--version"], { env });
      expect({ code: v.code, err: v.stderr }).toEqual({ code: 0, err: "" });
      expect(v.stdout).toContain("libpcap 1.10");
      const sampler = Bun.spawn([old, "sample", DUT, "-c", "20", "-w", pcap, "udp", "port", "53"], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
      let err = "";
      (async () => { for await (const c of sampler.stderr as ReadableStream<Uint8Array>) err += Buffer.from(c).toString(); })();
      for (let i = 0; i < 200 && sampler.exitCode === null && !err.includes("xdptool: sampling"); i++) await Bun.sleep(25);
      // It really runs on the old library: the loader mapped glibc 2.31's libc.
      if (sampler.exitCode === null) expect(readFileSync(`/proc/${sampler.pid}/maps`, "utf8")).toContain(join(lib, "libc-2.31.so"));
      xtOk("lab", "traffic", "--count", "100");
      xtOk("lab", "traffic", "--dns", "www.example.test", "--count", "20");
      const timer = setTimeout(() => sampler.kill(), 10_000);
      expect({ code: await sampler.exited, err }).toMatchObject({ code: 0 });
      clearTimeout(timer);
      expect(sh(["tcpdump", "-nn", "-r", pcap]).stdout.trim().split("\n")).toHaveLength(20);
      expect(sh(["tcpdump", "-nn", "-r", pcap, "not udp port 53"]).stdout).toBe("");
    } finally {
      rmSync(old, { force: true });
      rmSync(dirname(ld), { recursive: true, force: true });
    }
  });

  test("the lab, which runs iproute2's ip, names it when it is missing (one line, nothing created)", () => {
    const other = `${LAB}0`; // a lab nobody has: were anything made, it would show
    const r = sh([XDPTOOL, "lab", "up", "--lab", other], { env: { PATH: "/nonexistent" } });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual(["xdptool: the lab needs `ip` (Debian/Ubuntu package iproute2), which is not installed (not found in PATH)"]);
    expect(existsSync(`/run/netns/${other}-gen`)).toBe(false);
  });
});
