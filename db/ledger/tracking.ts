/**
 * The ledger's `package_tracking` (issue 25, docs/design.md §3a): one line per shipped package, seeded from the
 * shipped rows, the pages of packages due for a look, each page's readings stored in one statement, and the
 * counts (kept per status by the database as the lines change, 010_tracking_counts.sql) and lists
 * `shipbatch track` shows.
 */
import {
  emptyTrackingCounts,
  FINAL_TRACKING,
  type PackageReading,
  type TrackingCounts,
  type TrackingStatus,
} from '../../domain/tracking';
import type { Db } from './transaction';

const FINAL_SQL = [...FINAL_TRACKING].map((s) => `'${s}'`).join(', ');

/**
 * A batch whose delivery statuses go to its source (`options.writeBack.statusColumn`) and have not been stopped
 * by a problem: the rows whose packages change are marked for the write-back (db/ledger/write-back.ts).
 */
const STATUS_WRITE_BACK_ON = `b.batch_id = $1 AND b.options->'writeBack'->>'statusColumn' IS NOT NULL
     AND b.delivery_write_back_error IS NULL`;

/**
 * One line per package of every shipped (or voided) row not yet tracked; voided rows' packages start voided.
 * The first look is `firstLookAfterMs` away (a label just made has nothing to tell yet). With the status
 * write-back, the rows are marked for it (their first status). Idempotent (a retried seed adds nothing);
 * returns the packages added.
 */
export async function seedTracking(db: Db, batchId: string, firstLookAfterMs: number): Promise<number> {
  const { rows } = await db.query<{ added: number }>(
    `WITH added AS (
       INSERT INTO package_tracking (batch_id, row_no, tracking_number, status, next_check_at)
       SELECT r.batch_id, r.row_no, t.number, CASE WHEN r.status = 'voided' THEN 'voided' ELSE 'label_created' END,
              now() + $2 * interval '1 millisecond'
         FROM batch_rows r CROSS JOIN LATERAL unnest(r.tracking_numbers) AS t(number)
        WHERE r.batch_id = $1 AND r.status IN ('shipped', 'voided') AND r.tracking_numbers IS NOT NULL
       ON CONFLICT (batch_id, tracking_number) DO NOTHING
       RETURNING row_no),
     marked AS (
       UPDATE batch_rows r SET delivery_status_pending = true FROM batches b
        WHERE ${STATUS_WRITE_BACK_ON} AND r.batch_id = $1 AND r.row_no IN (SELECT row_no FROM added))
     SELECT count(*)::int AS added FROM added`,
    [batchId, firstLookAfterMs],
  );
  return rows[0]?.added ?? 0;
}

/**
 * Packages due for a look (not final, `next_check_at` passed), the most overdue first, each with its status and
 * the wait its last look chose (`lastWaitMs`, absent before the first look): what `nextCheckAfterMs` backs
 * off from.
 */
export async function duePackages(
  db: Db,
  batchId: string,
  limit: number,
): Promise<{ rowNo: number; trackingNumber: string; status: TrackingStatus; lastWaitMs?: number }[]> {
  const { rows } = await db.query<{
    row_no: number;
    tracking_number: string;
    status: TrackingStatus;
    last_wait_ms: string | null;
  }>(
    `SELECT row_no, tracking_number, status,
            round(extract(epoch FROM next_check_at - checked_at) * 1000)::bigint AS last_wait_ms
       FROM package_tracking
      WHERE batch_id = $1 AND status NOT IN (${FINAL_SQL}) AND next_check_at <= now()
      ORDER BY next_check_at, tracking_number LIMIT $2`,
    [batchId, limit],
  );
  return rows.map((r) => ({
    rowNo: r.row_no,
    trackingNumber: r.tracking_number,
    status: r.status,
    ...(r.last_wait_ms !== null ? { lastWaitMs: Number(r.last_wait_ms) } : {}),
  }));
}

/** One package's look: what UPS said (or why it could not), and when to look again (none: final). */
export interface PackageLook {
  trackingNumber: string;
  reading?: PackageReading;
  error?: string;
  nextCheckAfterMs?: number;
}

/**
 * Store a page of looks in one statement; with the status write-back, the rows of the packages whose status
 * changed are marked for it in the same statement.
 */
export async function storeLooks(db: Db, batchId: string, looks: readonly PackageLook[]): Promise<void> {
  if (looks.length === 0) return;
  await db.query(
    `WITH t AS (
       SELECT * FROM jsonb_to_recordset($2::jsonb) AS t(tracking_number text, status text, description text,
              status_at timestamptz, location text, delivered_on date, error text, after_ms bigint)),
     marked AS (
       UPDATE batch_rows r SET delivery_status_pending = true
         FROM package_tracking p JOIN t ON t.tracking_number = p.tracking_number, batches b
        WHERE ${STATUS_WRITE_BACK_ON} AND p.batch_id = $1 AND t.status IS NOT NULL AND t.status <> p.status
          AND r.batch_id = $1 AND r.row_no = p.row_no)
     UPDATE package_tracking p
        SET status = COALESCE(t.status, p.status),
            description = COALESCE(t.description, p.description),
            status_at = COALESCE(t.status_at, p.status_at),
            location = COALESCE(t.location, p.location),
            delivered_on = COALESCE(t.delivered_on, p.delivered_on),
            last_error = t.error,
            checked_at = now(), checks = p.checks + 1,
            next_check_at = CASE WHEN t.after_ms IS NULL THEN 'infinity'::timestamptz
                                 ELSE now() + t.after_ms * interval '1 millisecond' END
       FROM t
      WHERE p.batch_id = $1 AND p.tracking_number = t.tracking_number`,
    [
      batchId,
      JSON.stringify(
        looks.map((l) => ({
          tracking_number: l.trackingNumber,
          status: l.reading?.status ?? null,
          description: l.reading?.description ?? null,
          status_at: l.reading?.at ?? null,
          location: l.reading?.location ?? null,
          delivered_on: l.reading?.deliveredOn ?? null,
          error: l.error ?? null,
          after_ms: l.nextCheckAfterMs ?? null,
        })),
      ),
    ],
  );
}

/**
 * Packages per status (kept by the ledger: `tracking_counts`, 010_tracking_counts.sql), packages due now, and
 * when the next one is due (none when every one is final). Reads a few index entries whatever the batch's size,
 * so the tracking workflow can ask after every page: `dueUpTo` stops counting the due packages there (the
 * page's size: "at least another page"), exact below it.
 */
export async function trackingSummary(
  db: Db,
  batchId: string,
  opts: { dueUpTo?: number } = {},
): Promise<{ counts: TrackingCounts; dueNow: number; nextDueAt?: string }> {
  const { rows } = await db.query<{ counts: Partial<TrackingCounts>; due: number; next: Date | null }>(
    `SELECT (SELECT COALESCE(jsonb_object_agg(status, packages), '{}'::jsonb)
               FROM tracking_counts WHERE batch_id = $1) AS counts,
            (SELECT count(*)::int FROM (
               SELECT 1 FROM package_tracking
                WHERE batch_id = $1 AND status NOT IN (${FINAL_SQL}) AND next_check_at <= now() LIMIT $2) AS d) AS due,
            (SELECT min(next_check_at) FROM package_tracking
              WHERE batch_id = $1 AND status NOT IN (${FINAL_SQL})) AS next`,
    [batchId, opts.dueUpTo ?? null],
  );
  const r = rows[0]!;
  return {
    counts: { ...emptyTrackingCounts(), ...r.counts },
    dueNow: r.due,
    ...(r.next ? { nextDueAt: r.next.toISOString() } : {}),
  };
}

/** Packages per status counted line by line (what `tracking_counts` must always equal: tests, benchmarks). */
export async function recountTracking(db: Db, batchId: string): Promise<TrackingCounts> {
  const { rows } = await db.query<{ status: TrackingStatus; n: number }>(
    'SELECT status, count(*)::int AS n FROM package_tracking WHERE batch_id = $1 GROUP BY status',
    [batchId],
  );
  const counts = emptyTrackingCounts();
  for (const r of rows) counts[r.status] = r.n;
  return counts;
}

/** One package as `shipbatch track` lists it. Row data: for the client, never the workflow. */
export interface TrackedPackage {
  rowNo: number;
  trackingNumber: string;
  status: TrackingStatus;
  description: string | null;
  statusAt: string | null;
  location: string | null;
  deliveredOn: string | null;
  checkedAt: string | null;
  lastError: string | null;
}

type PackageRecord = {
  row_no: number;
  tracking_number: string;
  status: TrackingStatus;
  description: string | null;
  status_at: Date | null;
  location: string | null;
  delivered_on: string | null;
  checked_at: Date | null;
  last_error: string | null;
};

const PACKAGE_COLUMNS = `row_no, tracking_number, status, description, status_at, location,
            to_char(delivered_on, 'YYYY-MM-DD') AS delivered_on, checked_at, last_error`;

function packageOf(r: PackageRecord): TrackedPackage {
  return {
    rowNo: r.row_no,
    trackingNumber: r.tracking_number,
    status: r.status,
    description: r.description,
    statusAt: r.status_at?.toISOString() ?? null,
    location: r.location,
    deliveredOn: r.delivered_on,
    checkedAt: r.checked_at?.toISOString() ?? null,
    lastError: r.last_error,
  };
}

/** The batch's packages in row order, optionally of one status; `limit`/`afterRow` page through them. */
export async function trackedPackages(
  db: Db,
  batchId: string,
  opts: { status?: TrackingStatus; afterRow?: number; limit?: number } = {},
): Promise<TrackedPackage[]> {
  const { rows } = await db.query<PackageRecord>(
    `SELECT ${PACKAGE_COLUMNS}
       FROM package_tracking
      WHERE batch_id = $1 AND ($2::text IS NULL OR status = $2) AND row_no > $3
      ORDER BY row_no, tracking_number LIMIT $4`,
    [batchId, opts.status ?? null, opts.afterRow ?? 0, opts.limit ?? 1000],
  );
  return rows.map(packageOf);
}

/**
 * A page of the batch's packages after the package `after` (row, then tracking number: the table's order),
 * optionally of one status. Unlike `afterRow`, a row with several packages is never cut between two pages:
 * the client's package stream (`shipbatch track`) pages with it.
 */
export async function trackedPackagesAfter(
  db: Db,
  batchId: string,
  opts: { status?: TrackingStatus; after?: { rowNo: number; trackingNumber: string }; limit?: number } = {},
): Promise<TrackedPackage[]> {
  const { rows } = await db.query<PackageRecord>(
    `SELECT ${PACKAGE_COLUMNS}
       FROM package_tracking
      WHERE batch_id = $1 AND ($2::text IS NULL OR status = $2) AND (row_no, tracking_number) > ($3, $4)
      ORDER BY row_no, tracking_number LIMIT $5`,
    [
      batchId,
      opts.status ?? null,
      opts.after?.rowNo ?? 0,
      opts.after?.trackingNumber ?? '',
      opts.limit ?? 1000,
    ],
  );
  return rows.map(packageOf);
}

/**
 * What tells why a batch has no tracking workflow (the client's TrackingNotFoundError): its `trackFor` option,
 * its shipped rows and the packages the ledger follows; undefined for a batch the ledger does not know.
 */
export async function trackingFacts(
  db: Db,
  batchId: string,
): Promise<{ trackFor: string | null; shipped: number; packages: number } | undefined> {
  const { rows } = await db.query<{ track_for: string | null; shipped: number; packages: number }>(
    `SELECT b.options->>'trackFor' AS track_for,
            (SELECT count(*)::int FROM batch_rows r WHERE r.batch_id = b.batch_id AND r.status = 'shipped') AS shipped,
            (SELECT count(*)::int FROM package_tracking p WHERE p.batch_id = b.batch_id) AS packages
       FROM batches b WHERE b.batch_id = $1`,
    [batchId],
  );
  const r = rows[0];
  return r ? { trackFor: r.track_for, shipped: r.shipped, packages: r.packages } : undefined;
}
