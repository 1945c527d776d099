/**
 * `shipbatch watch ID` and `start --wait`: follow a batch until it closes. On a TTY a live progress line
 * (shipped / failed / pending, rows/s, cost so far, ETA) redrawn in place; otherwise plain lines, one
 * per change (at most every 2 s) and one per phase. While the batch waits for UPS, the reason and the
 * next probe instead of a bar that does not move.
 */
import { FINAL_PHASES, type BatchStatus } from '../../domain/batch';
import type { ShipbatchClient } from '../batches';
import { BatchNotFoundError, ConnectionError } from '../errors';
import { rowsSettled } from '../../domain/row-counts';
import { clean, outageNext, progressLine, RateMeter } from './output';

export interface WatchOptions {
  /** Print progress (false with --json: only the final status is printed, by the caller). */
  show: boolean;
  /** Redraw one line in place (stdout is a TTY). */
  tty: boolean;
  /** Stop early when this holds (e.g. the demo stops at awaiting_approval). */
  until?: (s: BatchStatus) => boolean;
  intervalMs?: number;
  write?: (text: string) => void;
}

const HINTS: Partial<Record<BatchStatus['phase'], (s: BatchStatus) => string>> = {
  awaiting_approval: ({ batchId: id }) =>
    `waiting for approval: shipbatch preview ${id}, then shipbatch approve ${id} (or reject)`,
  waiting_for_ups: (s) =>
    s.upsOutage
      ? `waiting for UPS: ${clean(s.upsOutage.reason)}; ${outageNext(s.upsOutage, s.batchId)}`
      : `waiting for UPS: shipbatch status ${s.batchId} says why`,
  awaiting_action: ({ batchId: id }) =>
    `rows need action: shipbatch rows ${id} --status failed; then restart ${id}, resolve ${id} --row N, or finish ${id}`,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Follow the batch until it closes (or `until` holds); returns the last status. */
export async function watchBatch(
  client: ShipbatchClient,
  batchId: string,
  opts: WatchOptions,
): Promise<BatchStatus> {
  const write = opts.write ?? ((t: string) => void process.stdout.write(t));
  const interval = opts.intervalMs ?? (opts.tty ? 500 : 1000);
  let meter = new RateMeter();
  let lastPhase: string | undefined;
  let lastHeading: string | undefined;
  let lastLine = '';
  let lastPrinted = 0;
  let waitingShown = false;
  let drawn = false;
  for (;;) {
    let s: BatchStatus;
    try {
      s = await client.getBatch(batchId);
      waitingShown = false;
    } catch (err) {
      if (err instanceof BatchNotFoundError || !(err instanceof ConnectionError)) throw err;
      // No worker answered: keep waiting (a worker may be restarting), say so once.
      if (opts.show && !waitingShown) {
        write(`${drawn ? '\n' : ''}${err.message}${err.fix ? ` (${err.fix})` : ''}; still waiting…\n`);
        drawn = false;
        waitingShown = true;
      }
      await sleep(interval);
      continue;
    }
    const now = Date.now();
    // The rate counts from the latest (re)start of shipping: not across a wait for UPS or for action.
    if (s.phase !== 'executing') meter = new RateMeter();
    const rate = s.phase === 'executing' ? meter.rate(now, rowsSettled(s.counts)) : 0;
    const done = FINAL_PHASES.has(s.phase) || (opts.until?.(s) ?? false);
    if (opts.show) {
      const line = progressLine(s, rate);
      // A phase is announced with what to do; a wait for UPS again when who acts changes (credentials
      // refused now, or no longer).
      const heading =
        s.phase === 'waiting_for_ups' ? `${s.phase}/${String(s.upsOutage?.needsOperator)}` : s.phase;
      if (heading !== lastHeading) {
        if (drawn) write('\n');
        drawn = false;
        const hint = HINTS[s.phase]?.(s);
        write(`${s.batchId}: ${s.phase}${hint ? ` — ${hint}` : ''}\n`);
        lastHeading = heading;
      }
      if (FINAL_PHASES.has(s.phase)) {
        // The closing summary is printed by the caller.
      } else if (opts.tty) {
        write(`\r\x1b[2K${line}`);
        drawn = true;
      } else if (line !== lastLine && (now - lastPrinted >= 2000 || s.phase !== lastPhase || done)) {
        write(`${line}\n`);
        lastPrinted = now;
        lastLine = line;
      }
      lastPhase = s.phase;
    }
    if (done) {
      if (drawn) write('\n');
      return s;
    }
    await sleep(interval);
  }
}
