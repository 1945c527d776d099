/**
 * The batch's UPS pickup in the ledger (`batch_pickups`, 008_pickup.sql): one row per batch that asked for a
 * pickup, what UPS answered, and who else holds the same PRN (UPS merges requests for one address and date).
 */
import type { PickupState, PickupStatus } from '../../domain/pickup';
import { inTransaction, type Db } from './transaction';
import type pg from 'pg';

/** A batch's pickup as the ledger has it (the address itself is the shipper's, in `batches`). */
export interface PickupRecord {
  batchId: string;
  state: PickupState;
  /** YYYY-MM-DD. */
  date: string;
  readyTime: string;
  closeTime: string;
  addressKey: string;
  account: string;
  quantity?: number;
  weight?: string;
  prn?: string;
  costCents?: number;
  currency?: string;
  /** schedule_pickup calls that may have reached UPS. */
  requestsSent: number;
  /** The PRN was found at UPS (get_pickup_status) after an answer was lost, not answered to a request. */
  reconciled: boolean;
  lastError?: string;
  /** The account's pending pickups on the date before the first request (never taken for this batch's). */
  seenBefore?: string[];
  /** The pickup place's time zone (the option's; UTC when it named none). */
  timeZone?: string;
}

interface PickupRow {
  batch_id: string;
  state: PickupState;
  pickup_date: string;
  ready_time: string;
  close_time: string;
  address_key: string;
  account: string;
  quantity: number | null;
  weight: string | null;
  prn: string | null;
  cost_cents: string | null;
  currency: string | null;
  requests_sent: number;
  reconciled: boolean;
  last_error: string | null;
  seen_before: string[] | null;
  time_zone: string | null;
}

const COLUMNS = `batch_id, state, to_char(pickup_date, 'YYYY-MM-DD') AS pickup_date, ready_time, close_time,
  address_key, account, quantity, weight, prn, cost_cents, currency, requests_sent, reconciled, last_error,
  seen_before, time_zone`;

function toRecord(r: PickupRow): PickupRecord {
  return {
    batchId: r.batch_id,
    state: r.state,
    date: r.pickup_date,
    readyTime: r.ready_time,
    closeTime: r.close_time,
    addressKey: r.address_key,
    account: r.account,
    requestsSent: r.requests_sent,
    reconciled: r.reconciled,
    ...(r.quantity !== null ? { quantity: r.quantity } : {}),
    ...(r.weight !== null ? { weight: r.weight } : {}),
    ...(r.prn !== null ? { prn: r.prn } : {}),
    ...(r.cost_cents !== null ? { costCents: Number(r.cost_cents) } : {}),
    ...(r.currency !== null ? { currency: r.currency } : {}),
    ...(r.last_error !== null ? { lastError: r.last_error } : {}),
    ...(r.seen_before !== null ? { seenBefore: r.seen_before } : {}),
    ...(r.time_zone !== null ? { timeZone: r.time_zone } : {}),
  };
}

/** The batch's pickup, if it asked for one and shipping reached it. */
export async function getPickup(db: Db, batchId: string): Promise<PickupRecord | undefined> {
  const { rows } = await db.query<PickupRow>(`SELECT ${COLUMNS} FROM batch_pickups WHERE batch_id = $1`, [
    batchId,
  ]);
  return rows[0] && toRecord(rows[0]);
}

/**
 * The batch's pickup row, made on first use with the date and window fixed then: every later attempt (a
 * retry, a successor after a crash) works on the same date even if the day has changed meanwhile.
 */
export async function openPickup(
  db: Db,
  batchId: string,
  init: {
    date: string;
    readyTime: string;
    closeTime: string;
    addressKey: string;
    account: string;
    timeZone?: string;
  },
): Promise<PickupRecord> {
  await db.query(
    `INSERT INTO batch_pickups (batch_id, pickup_date, ready_time, close_time, address_key, account, time_zone)
       VALUES ($1, $2::date, $3, $4, $5, $6, $7) ON CONFLICT (batch_id) DO NOTHING`,
    [
      batchId,
      init.date,
      init.readyTime,
      init.closeTime,
      init.addressKey,
      init.account,
      init.timeZone ?? null,
    ],
  );
  return (await getPickup(db, batchId))!;
}

/**
 * Packages of the batch's rows in `statuses`, their total weight in pounds (one decimal, at least 0.1) and
 * the service most of those rows ship with.
 */
export async function packagesOf(
  db: Db,
  batchId: string,
  statuses: readonly string[],
): Promise<{ packages: number; weightLbs: string; serviceCode?: string }> {
  const { rows } = await db.query<{ packages: string; lbs: string | null; service: string | null }>(
    `WITH r AS (
       SELECT request #> '{ShipmentRequest,Shipment}' AS s FROM batch_rows
        WHERE batch_id = $1 AND status = ANY($2::text[]) AND request IS NOT NULL),
     p AS (
       SELECT pkg FROM r, jsonb_array_elements(CASE jsonb_typeof(r.s -> 'Package')
                                                 WHEN 'array' THEN r.s -> 'Package'
                                                 ELSE jsonb_build_array(r.s -> 'Package') END) pkg)
     SELECT (SELECT count(*) FROM p) AS packages,
            (SELECT sum(CASE WHEN pkg #>> '{PackageWeight,UnitOfMeasurement,Code}' = 'KGS'
                             THEN (pkg #>> '{PackageWeight,Weight}')::numeric * 2.20462
                             ELSE (pkg #>> '{PackageWeight,Weight}')::numeric END) FROM p) AS lbs,
            (SELECT s #>> '{Service,Code}' FROM r GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1) AS service`,
    [batchId, statuses],
  );
  const r = rows[0];
  const lbs = Math.max(0.1, Math.round(Number(r?.lbs ?? 0) * 10) / 10);
  return {
    packages: Number(r?.packages ?? 0),
    weightLbs: lbs.toFixed(1),
    ...(r?.service ? { serviceCode: r.service } : {}),
  };
}

/**
 * A schedule_pickup request is about to leave: from now on the pickup may exist at UPS. False when the pickup
 * is no longer pending (a cancel let go of it, or another attempt settled it): the request must not leave.
 */
export async function notePickupRequestSent(db: Db, batchId: string): Promise<boolean> {
  const res = await db.query(
    `UPDATE batch_pickups SET requests_sent = requests_sent + 1, updated_at = now()
      WHERE batch_id = $1 AND state = 'pending'`,
    [batchId],
  );
  return (res.rowCount ?? 0) > 0;
}

/** The account's pending PRNs on the pickup's date before its first request (the reconcile never takes them). */
export async function recordSeenBefore(db: Db, batchId: string, prns: readonly string[]): Promise<void> {
  await db.query(`UPDATE batch_pickups SET seen_before = $2, updated_at = now() WHERE batch_id = $1`, [
    batchId,
    prns,
  ]);
}

/** A default date whose day is over, nothing made at UPS: the next day (and a new look before the first request). */
export async function movePickupDate(db: Db, batchId: string, date: string): Promise<void> {
  await db.query(
    `UPDATE batch_pickups SET pickup_date = $2::date, seen_before = NULL, updated_at = now()
      WHERE batch_id = $1 AND state = 'pending'`,
    [batchId, date],
  );
}

/**
 * A cancel found nothing at UPS: the batch lets go of its pending pickup (`cancelled`). A request of this batch
 * still on its way then finds the pickup no longer pending; one not sent yet is withheld.
 */
export async function letGoOfPending(db: Db, batchId: string): Promise<void> {
  await db.query(
    `UPDATE batch_pickups SET state = 'cancelled', cancelled_at = now(), updated_at = now()
      WHERE batch_id = $1 AND state = 'pending'`,
    [batchId],
  );
}

/** A PRN found cancelled at UPS under the batch (another batch let go of it): ask again. */
export async function reopenPickup(db: Db, batchId: string, why: string): Promise<void> {
  await db.query(
    `UPDATE batch_pickups SET state = 'pending', prn = NULL, last_error = $2, scheduled_at = NULL,
            updated_at = now()
      WHERE batch_id = $1 AND state = 'scheduled'`,
    [batchId, why.slice(0, 500)],
  );
}

/** A cancel that did not happen at UPS: the pickup is still there, and still this batch's. */
export async function keepPickup(db: Db, batchId: string, why: string): Promise<void> {
  await db.query(
    `UPDATE batch_pickups SET state = 'scheduled', last_error = $2, updated_at = now()
      WHERE batch_id = $1 AND state = 'released'`,
    [batchId, why.slice(0, 500)],
  );
}

/** Whether another batch let go of this PRN (released or cancelled it): it may be gone at UPS. */
export async function prnLetGo(db: Db, prn: string, exceptBatchId: string): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM batch_pickups
      WHERE prn = $1 AND batch_id <> $2 AND state IN ('released', 'cancelled') LIMIT 1`,
    [prn, exceptBatchId],
  );
  return rows.length > 0;
}

/** UPS has the pickup: its PRN, what was told to UPS and (when rated) its charge. Only from pending. */
export async function markPickupScheduled(
  db: Db,
  batchId: string,
  r: {
    prn: string;
    quantity?: number;
    weight?: string;
    costCents?: number;
    currency?: string;
    reconciled: boolean;
  },
): Promise<boolean> {
  const res = await db.query(
    `UPDATE batch_pickups SET state = 'scheduled', prn = $2, quantity = $3, weight = $4, cost_cents = $5,
            currency = $6, reconciled = $7, last_error = NULL, scheduled_at = now(), updated_at = now()
      WHERE batch_id = $1 AND state = 'pending'`,
    [
      batchId,
      r.prn,
      r.quantity ?? null,
      r.weight ?? null,
      r.costCents ?? null,
      r.currency ?? null,
      r.reconciled,
    ],
  );
  return (res.rowCount ?? 0) > 0;
}

/** UPS refused the pickup (a retry cannot help): `failed`, with UPS's words. */
export async function markPickupFailed(db: Db, batchId: string, error: string): Promise<void> {
  await db.query(
    `UPDATE batch_pickups SET state = 'failed', last_error = $2, updated_at = now()
      WHERE batch_id = $1 AND state = 'pending'`,
    [batchId, error.slice(0, 500)],
  );
}

/** A problem that leaves the state as it is (UPS down, a cancel UPS refused): kept to show. */
export async function notePickupError(db: Db, batchId: string, error: string): Promise<void> {
  await db.query(`UPDATE batch_pickups SET last_error = $2, updated_at = now() WHERE batch_id = $1`, [
    batchId,
    error.slice(0, 500),
  ]);
}

/** PRNs other batches hold for another address on the same date: never this batch's pickup. */
export async function otherAddressPrns(db: Db, p: PickupRecord): Promise<Set<string>> {
  const { rows } = await db.query<{ prn: string }>(
    `SELECT prn FROM batch_pickups
      WHERE prn IS NOT NULL AND batch_id <> $1 AND pickup_date = $2::date AND address_key <> $3`,
    [p.batchId, p.date, p.addressKey],
  );
  return new Set(rows.map((r) => r.prn));
}

/** Other batches whose scheduled pickup is this PRN (UPS merged their requests). */
export async function pickupSharers(db: Db, prn: string, exceptBatchId: string): Promise<string[]> {
  const { rows } = await db.query<{ batch_id: string }>(
    `SELECT batch_id FROM batch_pickups WHERE prn = $1 AND batch_id <> $2 AND state = 'scheduled'
      ORDER BY batch_id`,
    [prn, exceptBatchId],
  );
  return rows.map((r) => r.batch_id);
}

/**
 * The batch no longer needs its pickup (cancelled with void): it lets go of the PRN (`released`) and learns
 * who may still hold it — batches scheduled with the same PRN, and batches whose request for the same address
 * and date may be on its way (UPS would merge it into this PRN; a request is on its way for minutes, so a
 * pending row untouched for 30 minutes is not one). Every such row is locked in one statement in
 * batch order, so two batches letting go at once neither deadlock nor both stay: the last one out cancels.
 */
export async function releasePickup(
  pool: pg.Pool,
  batchId: string,
): Promise<{ prn?: string; stillHeldBy: string[] }> {
  return inTransaction(pool, async (c) => {
    const { rows } = await c.query<{ batch_id: string; state: PickupState; prn: string | null }>(
      `WITH own AS (SELECT prn, address_key, pickup_date FROM batch_pickups WHERE batch_id = $1)
       SELECT p.batch_id, p.state, p.prn FROM batch_pickups p, own
        WHERE p.batch_id = $1
           OR (p.prn = own.prn AND p.state = 'scheduled')
           OR (p.state = 'pending' AND p.requests_sent > 0 AND p.address_key = own.address_key
               AND p.pickup_date = own.pickup_date AND p.updated_at > now() - interval '30 minutes')
        ORDER BY p.batch_id FOR UPDATE OF p`,
      [batchId],
    );
    const own = rows.find((r) => r.batch_id === batchId);
    if (!own?.prn || !['scheduled', 'released'].includes(own.state)) return { stillHeldBy: [] };
    await c.query(`UPDATE batch_pickups SET state = 'released', updated_at = now() WHERE batch_id = $1`, [
      batchId,
    ]);
    return { prn: own.prn, stillHeldBy: rows.filter((r) => r.batch_id !== batchId).map((r) => r.batch_id) };
  });
}

/** Cancelled at UPS (or UPS said it was cancelled already). */
export async function markPickupCancelled(db: Db, batchId: string, prn: string): Promise<void> {
  // The batches that let go of the PRN before this one (`released`) lose it too: it is gone at UPS.
  await db.query(
    `UPDATE batch_pickups SET state = 'cancelled', cancelled_at = now(), updated_at = now()
      WHERE (batch_id = $1 AND state IN ('released', 'scheduled')) OR (prn = $2 AND state = 'released')`,
    [batchId, prn],
  );
}

/** What `status` shows of a pickup record (no address). */
export function pickupStatusOf(p: PickupRecord, sharedWith: string[] = []): PickupStatus {
  return {
    state: p.state,
    date: p.date,
    readyTime: p.readyTime,
    closeTime: p.closeTime,
    ...(p.prn ? { prn: p.prn } : {}),
    ...(p.quantity !== undefined ? { quantity: p.quantity } : {}),
    ...(p.weight ? { weight: p.weight } : {}),
    ...(p.costCents !== undefined ? { costCents: p.costCents } : {}),
    ...(p.currency ? { currency: p.currency } : {}),
    ...(p.timeZone && p.timeZone !== 'UTC' ? { timeZone: p.timeZone } : {}),
    ...(sharedWith.length ? { sharedWith } : {}),
    ...(p.lastError ? { error: p.lastError } : {}),
  };
}
