// live.ts — `check.sh NAME --live`: after the frames, the program on the lab's DUT end with real
// traffic from the generator end, judged by what the kernel counted (ethtool -S) and the maps.
import { spawnSync } from "bun";

export interface LiveLab {
  /** The DUT interface, e.g. "xl-dut". */
  dut: string;
  /** Run xdptool (the lab name comes from XDPTOOL_LAB); stdout, or throws with its stderr. */
  xdptool(...args: string[]): string;
  /** A command in one of the lab's namespaces: its exit status and output. */
  exec(side: "gen" | "dut", cmd: string[]): { code: number; out: string };
  /** The DUT end's counters as the kernel keeps them (ethtool -S). */
  counters(): Record<string, number>;
}

/** What an exercise does live: a sentence, and a judge returning what is wrong (null: right). */
export interface LiveCheck {
  says: string;
  judge: (lab: LiveLab) => string | null;
}

export function liveLab(xdptool: string, lab: string): LiveLab {
  const env = { ...process.env, XDPTOOL_LAB: lab };
  const run = (cmd: string[]) => {
    const p = spawnSync(cmd, { env });
    return { code: p.exitCode ?? -1, out: p.stdout.toString() + p.stderr.toString() };
  };
  const dut = `${lab}-dut`;
  return {
    dut,
    xdptool(...args) {
      const r = run([xdptool, ...args]);
      if (r.code !== 0) throw new Error(`xdptool ${args.join(" ")}: ${r.out.trim()}`);
      return r.out;
    },
    exec: (side, cmd) => run([xdptool, "lab", "exec", side, "--", ...cmd]),
    counters() {
      const out: Record<string, number> = {};
      for (const m of run(["ip", "netns", "exec", dut, "ethtool", "-S", dut]).out.matchAll(/^\s*(\w+):\s*(\d+)$/gm)) out[m[1]] = Number(m[2]);
      return out;
    },
  };
}

/** What is wrong live (null: nothing): the judge's answer, or the command that failed under it. */
export function judgeLive(check: LiveCheck, lab: LiveLab): string | null {
  try {
    return check.judge(lab);
  } catch (e) {
    return (e as Error).message;
  }
}
