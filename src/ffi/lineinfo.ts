// lineinfo.ts — a loaded program's source lines and where each begins in its JIT image: what a
// profile's sampled addresses map back to (bench/profile.ts). Kept out of prog.ts, which commands
// load at start-up, for the BTF parser it needs.
import { addr, alloc } from "./layout.ts";
import { fdById, objInfo, withFd } from "./fd.ts";
import { btfBlob } from "./btf.ts";
import { Btf } from "../btf/parse.ts";

/** A source line of a loaded program and where its code begins in the JIT image. */
export interface JitedLine {
  addr: bigint;
  file: string;
  line: number;
  text: string;
}

/** Every source line of program `id` with its address in the JIT image (bpf_prog_info's line_info
 *  and jited_line_info, the text from the program's BTF), in address order: what a profile's
 *  sampled addresses map to. */
export function jitedLines(id: number): JitedLine[] {
  return withFd(fdById("prog", id), (fd) => {
    const first = objInfo(fd, "bpf_prog_info");
    const n = first.get("nr_line_info"), nj = first.get("nr_jited_line_info");
    if (n === 0 || nj !== n) return []; // no BTF line info, or not JITed
    const li = alloc(16 * n), jl = alloc(8 * n);
    objInfo(fd, "bpf_prog_info", { nr_line_info: n, line_info: addr(li), line_info_rec_size: 16, nr_jited_line_info: n, jited_line_info: addr(jl), jited_line_info_rec_size: 8 });
    const btf = new Btf(btfBlob(first.get("btf_id")));
    // struct bpf_line_info: insn_off, file_name_off, line_off, line_col (line << 10 | column).
    const lines = Array.from({ length: n }, (_, i) => ({
      addr: jl.readBigUInt64LE(8 * i),
      file: btf.string(li.readUInt32LE(16 * i + 4)),
      text: btf.string(li.readUInt32LE(16 * i + 8)).trim(),
      line: li.readUInt32LE(16 * i + 12) >>> 10,
    }));
    return lines.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  });
}
