// index.ts — every command, imported only when it runs (start-up stays fast).
import type { CommandDef } from "citty";

type Lazy = () => Promise<CommandDef>;
const lazy = (load: () => Promise<{ default: CommandDef }>): Lazy => () => load().then((m) => m.default);

export const commands: Record<string, Lazy> = {
  lab: lazy(() => import("./lab/index.ts")),
  load: lazy(() => import("./load.ts")),
  unload: lazy(() => import("./unload.ts")),
  status: lazy(() => import("./status.ts")),
  stats: lazy(() => import("./stats.ts")),
  map: lazy(() => import("./map/index.ts")),
  blacklist: lazy(() => import("./blacklist/index.ts")),
  responder: lazy(() => import("./responder/index.ts")),
  sample: lazy(() => import("./sample.ts")),
  run: lazy(() => import("./run.ts")),
  save: lazy(() => import("./save.ts")),
  apply: lazy(() => import("./apply.ts")),
  service: lazy(() => import("./service/index.ts")),
  bench: lazy(() => import("./bench.ts")),
  completion: lazy(() => import("./completion.ts")),
};

/** The root command (main.ts), for what walks the whole tree (completion). */
export const root = async (): Promise<CommandDef> => (await import("../root.ts")).main as CommandDef;
