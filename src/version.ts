// version.ts — `xdptool --version`: ours, libbpf's and libpcap's (the embedded copies) and the kernel's.
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;

export async function versionLines(): Promise<string[]> {
  const { bpf } = await import("./ffi/native.ts");
  const { default: full } = await import("../libbpf/out/libbpf.version", { with: { type: "text" } });
  const api = String(bpf().libbpf_version_string()).replace(/^v/, "");
  const { pcapVersion } = await import("./ffi/pcap.ts");
  const pcap = pcapVersion().replace(/^libpcap version /, "");
  const { release } = await import("node:os"); // not at start-up: VERSION is read by every --help
  return [`xdptool ${VERSION}`, `libbpf ${full.trim() || api} (embedded; API ${api})`, `libpcap ${pcap} (embedded)`, `kernel ${release()}`];
}
