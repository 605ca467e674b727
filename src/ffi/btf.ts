// btf.ts — the raw BTF blob of a loaded BTF object (BPF_OBJ_GET_INFO_BY_FD on a BTF fd).
import { addr, alloc } from "./layout.ts";
import { fdById, objInfo, withFd } from "./fd.ts";

/** The BTF object `id` as the kernel holds it (header, types, strings); parse with src/btf/parse.ts. */
export function btfBlob(id: number): Buffer {
  return withFd(fdById("btf", id), (fd) => {
    // First call learns the size, second fills a buffer of that size.
    const size = objInfo(fd, "bpf_btf_info").get("btf_size");
    const blob = alloc(size);
    objInfo(fd, "bpf_btf_info", { btf: addr(blob), btf_size: size });
    return Buffer.from(blob.subarray(0, size));
  });
}
