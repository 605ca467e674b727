// version.ts — `xdptool --version`: ours, libbpf's (the embedded copy) and the kernel's.
import { release } from "node:os";
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;

export async function versionLines(): Promise<string[]> {
  const { bpf } = await import("./ffi/native.ts");
  const { default: full } = await import("../libbpf/out/libbpf.version", { with: { type: "text" } });
  const api = String(bpf().libbpf_version_string()).replace(/^v/, "");
  return [`xdptool ${VERSION}`, `libbpf ${full.trim() || api} (embedded; API ${api})`, `kernel ${release()}`];
}
