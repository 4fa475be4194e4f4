/**
 * Request deadlines without a timer and a racing promise per request. Every request gets the same
 * timeout, so deadlines expire in the order requests start: they wait in a linked list (add and
 * remove in O(1)) and one timer is armed, for the oldest. A request past its deadline is withdrawn
 * from its batcher, which rejects its promise with the 504 (batcher.ts `cancel`).
 */
import { BatchTicket, type DynamicBatcher } from '../batcher.js';
import { HttpError } from './errors.js';

export class Deadline {
  readonly ticket = new BatchTicket();
  prev: Deadline | null = null;
  next: Deadline | null = null;
  constructor(
    readonly at: number,
    readonly batcher: DynamicBatcher,
  ) {}
}

export class Deadlines {
  private head: Deadline | null = null;
  private tail: Deadline | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  /** Starts the clock of a request about to be submitted to `batcher` with the returned ticket. */
  start(batcher: DynamicBatcher): Deadline {
    const d = new Deadline(performance.now() + this.timeoutMs, batcher);
    if (this.tail) {
      this.tail.next = d;
      d.prev = this.tail;
    } else {
      this.head = d;
    }
    this.tail = d;
    if (!this.timer) this.arm(this.timeoutMs);
    return d;
  }

  /** The request finished (or failed) before its deadline. Idempotent. */
  stop(d: Deadline): void {
    if (d.prev) d.prev.next = d.next;
    else if (this.head === d) this.head = d.next;
    else return;
    if (d.next) d.next.prev = d.prev;
    else this.tail = d.prev;
    d.prev = d.next = null;
  }

  /** Clears the timer (server shutdown; the requests left have been drained or abandoned). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    // The server's socket keeps the process alive, not a deadline.
    this.timer = setTimeout(() => this.expire(), Math.max(0, ms));
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    for (let d = this.head; d && d.at <= now; d = this.head) {
      this.stop(d);
      d.batcher.cancel(
        d.ticket,
        new HttpError(
          504,
          'UNAVAILABLE',
          `the request did not finish within ${this.timeoutMs} ms (--request-timeout-ms); the server is overloaded or the batch too large`,
        ),
      );
    }
    if (this.head) this.arm(this.head.at - now);
  }
}
