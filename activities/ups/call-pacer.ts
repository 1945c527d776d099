import { setTimeout as sleep } from 'node:timers/promises';

/** Spaces call starts evenly so one worker never exceeds its UPS call rate. */
export class CallPacer {
  private next = 0;
  constructor(private readonly perSecond: number) {}
  /** Resolves when the next call may start; rejects when `signal` aborts first. */
  async wait(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (!(this.perSecond > 0)) return;
    const now = Date.now();
    const at = Math.max(now, this.next);
    this.next = at + 1000 / this.perSecond;
    if (at > now) await sleep(at - now, undefined, { signal });
  }
}
