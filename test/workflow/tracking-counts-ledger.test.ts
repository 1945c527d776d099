/**
 * The packages per status the ledger keeps for the tracking workflow (`tracking_counts`, 010_tracking_counts.sql),
 * on the real PostgreSQL without Temporal or UPS: after every change (the seed, looks that move a package, keep
 * it, fail; rows and batches deleted; the same page stored twice at once) they equal a count of the lines; the
 * summary's next due time and its due packages counted up to a page; the migration counts the batches tracked
 * before it. And the wait each look chose, read back with the due packages: what a long exception backs off from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { useTestPool } from '../helpers/test-pool';
import {
  duePackages,
  recountTracking,
  seedTracking,
  storeLooks,
  trackingSummary,
  type PackageLook,
} from '../../db/ledger/tracking';
import {
  emptyTrackingCounts,
  nextCheckAfterMs,
  TRACKING_STATUSES,
  type TrackingStatus,
} from '../../domain/tracking';

let pool: pg.Pool;
useTestPool((p) => (pool = p));

/** The package tracking numbers of row `n` of a batch (`boxes` of them). */
const numbers = (batchId: string, n: number, boxes: number) =>
  Array.from({ length: boxes }, (_, b) => `1Z${batchId.slice(-8)}${String(n).padStart(4, '0')}${b}`);

/**
 * A closed batch straight into the ledger, row n with boxes[n-1] packages (shipped; `voided` rows voided),
 * seeded with its first look `firstLookAfterMs` away.
 */
async function trackedBatch(boxes: number[], voided: number[] = [], firstLookAfterMs = 0) {
  const batchId = `batch-tc${randomUUID().slice(0, 8)}`;
  await pool.query(
    `INSERT INTO batches (batch_id, mode, phase, source_table, key_column, template, shipper)
     VALUES ($1, 'auto', 'completed', 'orders', 'id', '{}', '{}'::jsonb)`,
    [batchId],
  );
  for (const [i, n] of boxes.entries()) {
    await pool.query(
      `INSERT INTO batch_rows (batch_id, row_no, source_key, data, checksum, status, reference, tracking_numbers)
       VALUES ($1, $2, $3, '{}', 'x', $4, $5, $6)`,
      [
        batchId,
        i + 1,
        String(i + 1),
        voided.includes(i + 1) ? 'voided' : 'shipped',
        `TC${batchId}-${i + 1}`,
        numbers(batchId, i + 1, n),
      ],
    );
  }
  await seedTracking(pool, batchId, firstLookAfterMs);
  const packages = boxes.flatMap((n, i) => numbers(batchId, i + 1, n));
  return { batchId, packages };
}

/** The counts the ledger keeps for the batch, checked against a count of its lines. */
async function keptCounts(batchId: string, what: string) {
  const { counts } = await trackingSummary(pool, batchId);
  assert.deepEqual(counts, await recountTracking(pool, batchId), `kept = counted: ${what}`);
  return counts;
}

/** A deterministic stream of numbers in [0, 1) (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

test('the kept counts equal a count of the lines after the seed and after every page of looks', async () => {
  const a = await trackedBatch([1, 2, 1, 3, 1, 1], [5]);
  const b = await trackedBatch([2, 2]);
  assert.deepEqual(
    await keptCounts(a.batchId, 'seeded'),
    { ...emptyTrackingCounts(), label_created: 8, voided: 1 },
    'seeded: the voided row starts voided',
  );
  assert.equal(await seedTracking(pool, a.batchId, 0), 0, 'a second seed adds nothing');
  await keptCounts(a.batchId, 'seeded twice');
  assert.equal((await keptCounts(b.batchId, 'the other batch')).label_created, 4);

  // Pages of looks drawn at random: a package moves, says the same again, or cannot be read (keeps its status).
  const next = random(25);
  const voidedOne = numbers(a.batchId, 5, 1)[0];
  const moving = a.packages.filter((p) => p !== voidedOne);
  for (let page = 1; page <= 40; page++) {
    const looks: PackageLook[] = moving
      .filter(() => next() < 0.6)
      .map((trackingNumber): PackageLook => {
        if (next() < 0.15) return { trackingNumber, error: 'not known yet', nextCheckAfterMs: 1000 };
        const status = TRACKING_STATUSES[Math.floor(next() * TRACKING_STATUSES.length)]!;
        return { trackingNumber, reading: { status, description: status }, nextCheckAfterMs: 1000 };
      });
    await storeLooks(pool, a.batchId, looks);
    const counts = await keptCounts(a.batchId, `page ${page}`);
    assert.equal(
      Object.values(counts).reduce((x, y) => x + y, 0),
      a.packages.length,
      'every package counted once',
    );
  }
  assert.equal((await keptCounts(b.batchId, 'the other batch untouched')).label_created, 4);
});

test('the same page stored twice at once (a worker thought lost and its successor): each package counted once', async () => {
  const { batchId, packages } = await trackedBatch([1, 1, 1, 1, 1, 1, 1, 1]);
  const say = (status: TrackingStatus): PackageLook[] =>
    packages.map((trackingNumber) => ({
      trackingNumber,
      reading: { status, description: status },
      nextCheckAfterMs: 1000,
    }));
  for (const [first, second] of [
    ['in_transit', 'out_for_delivery'],
    ['delivered', 'delivered'],
    ['exception', 'in_transit'],
  ] as const) {
    await Promise.all([storeLooks(pool, batchId, say(first)), storeLooks(pool, batchId, say(second))]);
    const counts = await keptCounts(batchId, `${first} and ${second} at once`);
    assert.equal(counts[first] + (first === second ? 0 : counts[second]), packages.length);
  }
});

test('rows and batches deleted: their packages leave the counts', async () => {
  const { batchId } = await trackedBatch([1, 2, 1]);
  await pool.query('DELETE FROM batch_rows WHERE batch_id = $1 AND row_no = 2', [batchId]);
  assert.equal((await keptCounts(batchId, 'a row deleted')).label_created, 2);
  await pool.query('DELETE FROM batches WHERE batch_id = $1', [batchId]);
  const { rows } = await pool.query('SELECT 1 FROM tracking_counts WHERE batch_id = $1', [batchId]);
  assert.deepEqual(rows, [], 'no counts left for a batch that is gone');
});

test('the summary: the next due time, and the due packages counted up to a page', async () => {
  const { batchId, packages } = await trackedBatch([1, 1, 1, 1, 1, 1], [], 0);
  assert.equal((await trackingSummary(pool, batchId)).dueNow, 6, 'exact without a limit');
  assert.equal((await trackingSummary(pool, batchId, { dueUpTo: 4 })).dueNow, 4, 'at least a page of 4');
  assert.equal((await trackingSummary(pool, batchId, { dueUpTo: 10 })).dueNow, 6, 'exact below the page');
  // Two delivered (final), two due in an hour, two in a day: two left due now, the next one in an hour.
  const look = (i: number, status: TrackingStatus, afterMs?: number): PackageLook => ({
    trackingNumber: packages[i]!,
    reading: { status, description: status },
    ...(afterMs !== undefined ? { nextCheckAfterMs: afterMs } : {}),
  });
  const before = Date.now();
  await storeLooks(pool, batchId, [
    look(0, 'delivered'),
    look(1, 'delivered'),
    look(2, 'in_transit', 3_600_000),
    look(3, 'exception', 86_400_000),
  ]);
  const summary = await trackingSummary(pool, batchId, { dueUpTo: 500 });
  assert.equal(summary.dueNow, 2);
  const nextIn = Date.parse(summary.nextDueAt!) - before;
  assert.ok(nextIn <= 0, `packages 5 and 6 are still due (${nextIn} ms)`);
  await storeLooks(pool, batchId, [look(4, 'in_transit', 7_200_000), look(5, 'in_transit', 7_200_000)]);
  const later = await trackingSummary(pool, batchId, { dueUpTo: 500 });
  assert.equal(later.dueNow, 0);
  const hour = Date.parse(later.nextDueAt!) - before;
  assert.ok(hour > 3_500_000 && hour < 3_700_000, `the next look in an hour (${hour} ms)`);
  assert.deepEqual(later.counts, await recountTracking(pool, batchId));
  // Every package final: no next look.
  await storeLooks(
    pool,
    batchId,
    [2, 3, 4, 5].map((i) => look(i, 'delivered')),
  );
  const done = await trackingSummary(pool, batchId, { dueUpTo: 500 });
  assert.equal(done.nextDueAt, undefined);
  assert.equal(done.counts.delivered, 6);
});

test('the migration counts the batches tracked before it (and may run again)', async () => {
  const { batchId } = await trackedBatch([2, 1, 1], [3]);
  const counted = await keptCounts(batchId, 'seeded');
  // As before 010: the lines there, no counts kept.
  await pool.query('DELETE FROM tracking_counts WHERE batch_id = $1', [batchId]);
  assert.deepEqual(Object.values((await trackingSummary(pool, batchId)).counts).filter(Boolean), []);
  const sql = await readFile(
    path.join(import.meta.dirname, '..', '..', 'db', 'migrations', '010_tracking_counts.sql'),
    'utf8',
  );
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(sql);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
  assert.deepEqual(await keptCounts(batchId, 'after the migration'), counted);
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = 'package_tracking'::regclass
        AND tgname LIKE 'tracking_counts_%'`,
  );
  assert.equal(rows[0]!.n, 4, 'each trigger once');
});

test("each look's wait is read back with the due packages: a package left in exception backs off to a day", async () => {
  const hour = 3_600_000;
  const { batchId, packages } = await trackedBatch([1, 1], [], 0);
  const [stuck, moving] = packages as [string, string];
  const chosen: Record<string, number[]> = { [stuck]: [], [moving]: [] };
  for (let look = 1; look <= 6; look++) {
    const due = await duePackages(pool, batchId, 10);
    assert.deepEqual(
      due.map((p) => [p.trackingNumber, p.lastWaitMs]),
      packages.map((n) => [n, chosen[n]!.at(-1)]),
      `look ${look}: both due, each with the wait its last look chose (none before the first)`,
    );
    const looks = due.map((pkg): PackageLook => {
      const status: TrackingStatus = pkg.trackingNumber === stuck ? 'exception' : 'in_transit';
      const wait = nextCheckAfterMs(status, 4 * hour, pkg)!;
      chosen[pkg.trackingNumber]!.push(wait);
      return {
        trackingNumber: pkg.trackingNumber,
        reading: { status, description: status },
        nextCheckAfterMs: wait,
      };
    });
    await storeLooks(pool, batchId, looks);
    assert.deepEqual(await duePackages(pool, batchId, 10), [], 'nothing due until the waits pass');
    // The waits pass: both times moved back together, so the wait between them is kept.
    await pool.query(
      `UPDATE package_tracking SET checked_at = checked_at - (next_check_at - now() + interval '1 second'),
              next_check_at = now() - interval '1 second'
        WHERE batch_id = $1`,
      [batchId],
    );
  }
  assert.deepEqual(
    chosen[stuck],
    [2, 4, 8, 16, 24, 24].map((h) => h * hour),
  );
  assert.deepEqual(
    chosen[moving],
    Array.from({ length: 6 }, () => 4 * hour),
  );
});
