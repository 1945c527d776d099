/**
 * `shipbatch track`'s output without a stack: the summary lines per phase and source, the package CSV (formula
 * triggers neutralised, hostile text quoted), the package table's cells, and the streamed `--json` equal to
 * `JSON.stringify` of the whole object.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  packageCells,
  packageCsvLine,
  putTrackingJson,
  TRACK_CSV_HEADER,
  trackingLines,
} from '../../client/cli/track-command';
import { csvLine } from '../../client/cli/output';
import type { BatchTracking, TrackedPackage } from '../../client/tracking';
import { emptyTrackingCounts } from '../../domain/tracking';

const STATE: BatchTracking = {
  batchId: 'batch-t',
  phase: 'tracking',
  counts: { ...emptyTrackingCounts(), delivered: 6, exception: 1, returned: 1 },
  exceptions: 1,
  startedAt: '2026-12-06T15:00:00.000Z',
  deadline: '2026-12-06T16:00:00.000Z',
  lastCheckAt: '2026-12-06T15:00:10.000Z',
  nextCheckAt: '2026-12-06T15:00:11.000Z',
  runs: 1,
  source: 'query',
  workflowStatus: 'RUNNING',
};

const PKG: TrackedPackage = {
  rowNo: 2,
  trackingNumber: '1ZA1B2C30312345678',
  status: 'exception',
  description: 'THE ADDRESS IS INCORRECT. UPS WILL ATTEMPT TO UPDATE THIS ADDRESS.',
  statusAt: '2026-12-09T11:02:00.000Z',
  location: 'Portland, OR, US',
  deliveredOn: null,
  checkedAt: '2026-12-06T15:00:10.000Z',
  lastError: null,
};

test('the summary: packages, phase, exceptions with the command listing them, looks, deadline, counts per status', () => {
  const text = trackingLines(STATE).join('\n');
  assert.match(text, /^Tracking of batch-t: 8 packages\n/);
  assert.match(text, /phase {7}tracking \(packages are followed/);
  assert.match(text, /exceptions {2}1 {3}\(list them: shipbatch track batch-t --status exception\)/);
  assert.match(text, /next look {3}2026-12-06T15:00:11\.000Z/);
  assert.match(text, /until {7}2026-12-06T16:00:00\.000Z/);
  assert.match(text, /from {8}tracking-batch-t \(running\)/);
  assert.match(text, /\ndelivered +6\n/);
  assert.match(text, /\nexception +1\n/);
  // Every status has its line, in the fixed order.
  const statuses = text
    .split('\n')
    .slice(-8)
    .map((l) => l.split(/\s+/)[0]);
  assert.deepEqual(statuses, [
    'label_created',
    'in_transit',
    'out_for_delivery',
    'delivered',
    'exception',
    'returned',
    'voided',
    'unknown',
  ]);

  const done = trackingLines({
    ...STATE,
    phase: 'done',
    exceptions: 0,
    nextCheckAt: undefined,
    source: 'result',
  });
  assert.match(done.join('\n'), /phase {7}done \(every package delivered, returned or voided\)/);
  assert.match(done.join('\n'), /exceptions {2}0\n/);
  assert.match(done.join('\n'), /ended {7}2026-12-06T16:00:00\.000Z/);
  assert.doesNotMatch(done.join('\n'), /next look/);
  const stopped = trackingLines({
    ...STATE,
    phase: 'expired',
    source: 'ledger',
    workflowStatus: 'TERMINATED',
  });
  assert.match(stopped.join('\n'), /stopped \(terminated\) before every package was final/);
  assert.match(stopped.join('\n'), /the ledger \(tracking-batch-t is terminated\)/);
  assert.doesNotMatch(text, /write-back/);
  const writeBackStopped = trackingLines({
    ...STATE,
    statusWriteBackError: 'status write-back to orders.delivery: unknown column\n\u001b[31m"delivery"',
  }).join('\n');
  assert.match(
    writeBackStopped,
    /write-back {2}stopped \(tracking goes on\): status write-back to orders\.delivery: unknown column +\[31m"delivery"/,
    'said once, control characters neutralised',
  );
});

test('the CSV: its header, one line per package, formula triggers and quotes neutralised', () => {
  assert.equal(
    csvLine([...TRACK_CSV_HEADER]),
    'row,tracking_number,status,description,location,status_at,delivered_on\r\n',
  );
  assert.equal(
    packageCsvLine(PKG),
    '2,1ZA1B2C30312345678,exception,THE ADDRESS IS INCORRECT. UPS WILL ATTEMPT TO UPDATE THIS ADDRESS.,"Portland, OR, US",2026-12-09T11:02:00.000Z,\r\n',
  );
  // A place comes from the row's address: row data, so hostile.
  const hostile = packageCsvLine({ ...PKG, location: '=HYPERLINK("http://x")', description: '+1"2' });
  assert.equal(
    hostile,
    `2,1ZA1B2C30312345678,exception,"'+1""2","'=HYPERLINK(""http://x"")",2026-12-09T11:02:00.000Z,\r\n`,
  );
  assert.equal(
    packageCsvLine({ ...PKG, status: 'delivered', description: 'DELIVERED', deliveredOn: '2026-12-09' })
      .split(',')
      .at(-1),
    '2026-12-09\r\n',
  );
});

test("the table cells: UPS's words, else why UPS did not answer", () => {
  assert.deepEqual(packageCells(PKG), [
    2,
    '1ZA1B2C30312345678',
    PKG.description,
    'Portland, OR, US',
    '2026-12-09T11:02:00.000Z',
    '',
  ]);
  assert.equal(
    packageCells({ ...PKG, description: null, lastError: 'UPS unavailable' })[2],
    '(no answer: UPS unavailable)',
  );
});

async function* packages(n: number): AsyncGenerator<TrackedPackage> {
  for (let i = 0; i < n; i++) yield await Promise.resolve({ ...PKG, rowNo: i + 1 });
}

test('--json streamed a package at a time is JSON.stringify of {tracking, packages}', async () => {
  for (const n of [0, 1, 3]) {
    let text = '';
    const written = await putTrackingJson(STATE, packages(n), (t) => Promise.resolve(void (text += t)));
    assert.equal(written, n);
    const all: TrackedPackage[] = [];
    for await (const p of packages(n)) all.push(p);
    assert.equal(text, `${JSON.stringify({ tracking: STATE, packages: all }, null, 2)}\n`);
  }
  let text = '';
  await putTrackingJson(STATE, undefined, (t) => Promise.resolve(void (text += t)));
  assert.equal(text, `${JSON.stringify({ tracking: STATE }, null, 2)}\n`);
});
