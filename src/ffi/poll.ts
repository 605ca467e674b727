// poll.ts — waiting for several file descriptors to become readable (poll(2)).
import { alloc } from "./layout.ts";
import { libc } from "./native.ts";

const POLLIN = 1;
const POLLFD_SIZE = 8; // struct pollfd { int fd; short events, revents; }

/** A fixed set of descriptors to wait on for input. */
export class PollSet {
  private readonly pfd: Buffer;

  constructor(private readonly fds: number[]) {
    this.pfd = alloc(POLLFD_SIZE * fds.length);
    fds.forEach((fd, i) => {
      this.pfd.writeInt32LE(fd, i * POLLFD_SIZE);
      this.pfd.writeInt16LE(POLLIN, i * POLLFD_SIZE + 4);
    });
  }

  /** Wait up to `timeoutMs` for input on any of them: how many have some (0 on timeout or EINTR). */
  wait(timeoutMs: number): number {
    return Math.max(0, libc.symbols.poll(this.pfd, this.fds.length, timeoutMs));
  }
}
