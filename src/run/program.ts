// program.ts — an XDP program loaded from an object for testing, not attached anywhere: frames go
// through it with BPF_PROG_TEST_RUN, and its maps can be filled before and read after.
import { release } from "node:os";
import { OpError, UsageError } from "../errors.ts";
import { pickProgram } from "../program/attach.ts";
import { BpfObject } from "../ffi/object.ts";
import { BpfMap } from "../ffi/map.ts";
import { kernelNeeded, missingHelpers } from "../ffi/probe.ts";
import { testRun } from "../ffi/prog.ts";

/** Room for the program to grow a frame (bpf_xdp_adjust_head/tail) beyond its input. */
const GROWTH = 4096;

export interface LoadRequest {
  image: Uint8Array;
  /** How messages call the object: "drop", "./my.o". */
  objectName: string;
  /** The program's function name, or its ELF section; default: the object's only XDP program. */
  program?: string;
  section?: string;
}

export class ProgramUnderTest {
  private constructor(
    private readonly obj: BpfObject,
    readonly name: string,
    private readonly fd: number,
  ) {}

  static load(req: LoadRequest): ProgramUnderTest {
    const missing = missingHelpers(req.objectName);
    if (missing.length) throw new OpError(`${req.objectName} needs Linux ${kernelNeeded(req.objectName)} or newer (this kernel lacks ${missing.join(", ")}); it runs ${release()}`);
    // libbpf names the object after the name up to its first dot ("./x/.build/a.o" would be "").
    const obj = BpfObject.open(req.image, req.objectName);
    try {
      const prog = pickProgram(obj, req);
      obj.selectProgram(prog);
      obj.load();
      return new ProgramUnderTest(obj, prog.name, obj.progFd(prog));
    } catch (e) {
      obj.close();
      throw e;
    }
  }

  /** One frame through the program: its XDP action and the frame as the program left it. */
  run(frame: Uint8Array): { action: number; out: Buffer } {
    const r = testRun(this.fd, { data: frame, dataOut: frame.length + GROWTH });
    return { action: r.retval, out: r.dataOut! };
  }

  /** One of the object's maps by name (owned by the object: do not close it). Global variables
   *  are in ".bss", ".data", ".rodata" (libbpf prefixes the object's name: "prog.bss"). */
  map(name: string): BpfMap {
    const all = this.obj.maps();
    const m = all.find((x) => x.name === name) ?? (name.startsWith(".") ? all.find((x) => x.internal && x.name.endsWith(name)) : undefined);
    if (!m) {
      const names = this.obj.maps().filter((x) => !x.internal).map((x) => x.name);
      throw new UsageError(`no map "${name}" in ${this.obj.name} (it has: ${names.join(", ") || "none"})`);
    }
    return new BpfMap(this.obj.mapFd(m));
  }

  close(): void {
    this.obj.close();
  }
}
