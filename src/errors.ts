// errors.ts — the error types every command throws; main.ts maps them to exit codes.
//   UsageError  → exit 2: the operator's input is wrong (flag, address, file, interface name).
//   OpError     → exit 1: the input was fine but the operation failed (kernel said no, busy, …).
// Messages are one line, lowercase "verb noun: cause", optionally ending with a hint.

export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export class OpError extends Error {
  readonly exitCode: number = 1;
  /** Extra lines shown only with --verbose (e.g. the verifier log). */
  detail?: string;
  constructor(message: string, detail?: string) {
    super(message);
    this.name = "OpError";
    this.detail = detail;
  }
}

