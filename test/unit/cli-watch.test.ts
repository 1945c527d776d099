/* eslint-disable no-control-regex -- the test matches the terminal escape sequences themselves */
/**
 * watchBatch alone, fed a scripted sequence of statuses: a TTY gets one line redrawn in place, a pipe
 * gets plain lines; phases are announced with what to do next; a worker outage is said once and waited
 * out; an unknown batch ends the watch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyCounts, type BatchStatus } from '../../domain/batch';
import type { BatchPhase } from '../../domain/row-status';
import type { ShipbatchClient } from '../../client/batches';
import { BatchNotFoundError, ConnectionError } from '../../client/errors';
import { watchBatch } from '../../client/cli/watch';

function status(phase: BatchPhase, shipped: number, extra: Partial<BatchStatus> = {}): BatchStatus {
  return {
    batchId: 'batch-w',
    name: 'w',
    phase,
    mode: 'confirm',
    modeLocked: phase !== 'awaiting_approval',
    counts: { ...emptyCounts(), total: 10, invalid: 0, shipped, pending: 10 - shipped },
    estimatedCostCents: 10_000,
    actualCostCents: shipped * 1000,
    currency: 'USD',
    rejectedMessages: [],
    updatedAt: new Date().toISOString(),
    ...extra,
  };
}

/** A client whose getBatch answers (or throws) the scripted items in turn, the last one forever. */
function scripted(items: (BatchStatus | Error)[]): ShipbatchClient {
  let i = 0;
  return {
    getBatch: () => {
      const item = items[Math.min(i++, items.length - 1)]!;
      return item instanceof Error ? Promise.reject(item) : Promise.resolve(item);
    },
  } as unknown as ShipbatchClient;
}

const script = () => [
  status('awaiting_approval', 0),
  status('executing', 0),
  status('executing', 4),
  status('executing', 10),
  status('completed', 10),
];

test('a TTY gets the progress line redrawn in place, and the phases with what to do', async () => {
  let out = '';
  const final = await watchBatch(scripted(script()), 'batch-w', {
    show: true,
    tty: true,
    intervalMs: 1,
    write: (t) => (out += t),
  });
  assert.equal(final.phase, 'completed');
  assert.match(
    out,
    /^batch-w: awaiting_approval — waiting for approval: shipbatch preview batch-w, then shipbatch approve batch-w/,
  );
  assert.equal(out.match(/\r\u001b\[2K\[/g)?.length, 3, 'three redraws of the executing bar');
  assert.match(
    out,
    /\r\u001b\[2K\[#{24}\] 100% shipped 10 failed 0 pending 0 \| [\d.]+ rows\/s \| \$100\.00 \| ETA/,
  );
  assert.match(out, /\nbatch-w: completed\n$/);
});

test('a pipe gets plain lines (no escapes), one per change', async () => {
  let out = '';
  await watchBatch(scripted(script()), 'batch-w', {
    show: true,
    tty: false,
    intervalMs: 1,
    write: (t) => (out += t),
  });
  assert.ok(!out.includes('\u001b'));
  const lines = out.trim().split('\n');
  assert.equal(
    lines[0],
    'batch-w: awaiting_approval — waiting for approval: shipbatch preview batch-w, then shipbatch approve batch-w (or reject)',
  );
  assert.match(lines[1]!, /^awaiting_approval: 10 rows read, 0 invalid, 10 to ship$/);
  assert.equal(lines[2], 'batch-w: executing');
  assert.match(lines[3]!, /^\[\.{24}\] {3}0% shipped 0 failed 0 pending 10/);
  assert.equal(lines.at(-1), 'batch-w: completed');
});

test('no answer from a worker is said once and waited out; `until` stops early; an unknown batch throws', async () => {
  let out = '';
  const down = new ConnectionError('no answer to status on batch-w within 20s', {
    fix: 'start one with `shipbatch worker`',
  });
  const s = await watchBatch(
    scripted([down, down, down, status('executing', 2), status('awaiting_action', 8)]),
    'batch-w',
    {
      show: true,
      tty: false,
      intervalMs: 1,
      write: (t) => (out += t),
      until: (x) => x.phase === 'awaiting_action',
    },
  );
  assert.equal(s.phase, 'awaiting_action');
  assert.equal(out.match(/no answer to status/g)?.length, 1);
  assert.match(out, /within 20s \(start one with `shipbatch worker`\); still waiting…/);
  assert.match(out, /batch-w: awaiting_action — rows need action: shipbatch rows batch-w --status failed/);

  await assert.rejects(
    watchBatch(scripted([new BatchNotFoundError('batch-w')]), 'batch-w', {
      show: false,
      tty: false,
      intervalMs: 1,
    }),
    BatchNotFoundError,
  );
});

test('waiting for UPS: the phase with the reason and who acts, no frozen bar; announced again when the operator must act', async () => {
  const outage = (needsOperator: boolean, probes: number) => ({
    kind: needsOperator ? ('auth' as const) : ('unreachable' as const),
    reason: needsOperator ? 'UPS refused the credentials' : 'UPS unreachable: connection refused',
    since: '2025-06-01T10:00:00.000Z',
    nextProbeAt: `2025-06-01T10:0${probes}:00.000Z`,
    probes,
    needsOperator,
  });
  const items = [
    status('executing', 4),
    status('waiting_for_ups', 4, { upsOutage: outage(false, 1) }),
    status('waiting_for_ups', 4, { upsOutage: outage(false, 2) }),
    status('waiting_for_ups', 4, { upsOutage: outage(true, 3) }),
    status('executing', 6),
    status('completed', 10),
  ];
  let out = '';
  await watchBatch(scripted(items), 'batch-w', {
    show: true,
    tty: false,
    intervalMs: 1,
    write: (t) => (out += t),
  });
  const lines = out.trim().split('\n');
  assert.ok(
    lines.includes(
      'batch-w: waiting_for_ups — waiting for UPS: UPS unreachable: connection refused; resumes by itself when UPS answers',
    ),
    out,
  );
  assert.ok(
    lines.includes(
      'batch-w: waiting_for_ups — waiting for UPS: UPS refused the credentials; UPS refused the credentials: fix them, then `shipbatch resume batch-w`',
    ),
    out,
  );
  assert.ok(
    lines.includes(
      'waiting_for_ups: UPS unreachable: connection refused | shipped 4 failed 0 pending 6 | 1 probe, next probe at 10:01:00 UTC',
    ),
    out,
  );
  const waitingLines = lines.slice(
    lines.findIndex((l) => l.startsWith('batch-w: waiting_for_ups')),
    lines.lastIndexOf('batch-w: executing'),
  );
  assert.ok(
    waitingLines.every((l) => !l.startsWith('[')),
    `no progress bar while waiting for UPS:\n${out}`,
  );
  assert.equal(lines.filter((l) => l === 'batch-w: executing').length, 2, 'executing again after the wait');
  assert.equal(lines.at(-1), 'batch-w: completed');

  // On a terminal the line redrawn in place is the reason too.
  let tty = '';
  await watchBatch(scripted(items), 'batch-w', {
    show: true,
    tty: true,
    intervalMs: 1,
    write: (t) => (tty += t),
  });
  assert.match(tty, /\r\u001b\[2Kwaiting_for_ups: UPS unreachable: connection refused \| shipped 4/);
});
