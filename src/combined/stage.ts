// stage.ts — what the combined program asks of each feature's stage when it is loaded: the
// interface between src/combined/program.ts and src/<feature>/stage.ts.
import type { BpfObject } from "../ffi/object.ts";
import type { Feature } from "./bits.ts";

export interface EnsureOptions {
  mode?: import("../ffi/xdp.ts").XdpMode | "auto";
  force?: boolean;
  /** Load the program again even when it runs (`xdptool load IFACE xdptool`: an upgrade). */
  reload?: boolean;
  /** Size the blacklist maps for this many rules (`blacklist attach --max-rules`). */
  blacklistRules?: number;
  /** The caller writes the responder's whole configuration next (`responder enable`): the names
   *  an older program matched need not be carried into an upgraded one. */
  responderFollows?: boolean;
}

/** What one stage needs from a load of the combined program. */
export interface StagePlan {
  /** The program must be loaded again even though it runs (e.g. this stage's maps at another size). */
  reload: boolean;
  /** Maps of this stage to create anew instead of taking over the pinned ones. */
  fresh?: (mapName: string) => boolean;
  /** Size the stage's maps in the opened object, before it is loaded. */
  configure(obj: BpfObject): void;
}

export interface Stage {
  feature: Feature;
  /** The plan for a load on this interface; throws (UsageError) rather than lose what it holds. */
  plan(ifname: string, running: boolean, opts: EnsureOptions): StagePlan;
  /** The combined program is already running: tidy what a killed process left switched on. */
  tidy?(ifname: string): void;
}
