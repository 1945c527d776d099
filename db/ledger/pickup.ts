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
}

const COLUMNS = `batch_id, state, to_char(pickup_date, 'YYYY-MM-DD') AS pickup_date, ready_time, close_time,
  address_key, account, quantity, weight, prn, cost_cents, currency, requests_sent, reconciled, last_error`;

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
  init: { date: string; readyTime: string; closeTime: string; addressKey: string; account: string },
): Promise<PickupRecord> {
  await db.query(
    `INSERT INTO batch_pickups (batch_id, pickup_date, ready_time, close_time, address_key, account)
       VALUES ($1, $2::date, $3, $4, $5, $6) ON CONFLICT (batch_id) DO NOTHING`,
    [batchId, init.date, init.readyTime, init.closeTime, init.addressKey, init.account],
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

/** A schedule_pickup request is about to leave: from now on the pickup may exist at UPS. */
export async function notePickupRequestSent(db: Db, batchId: string): Promise<void> {
  await db.query(
    `UPDATE batch_pickups SET requests_sent = requests_sent + 1, updated_at = now() WHERE batch_id = $1`,
    [batchId],
  );
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
): Promise<void> {
  await db.query(
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
 * whether another batch still holds it. Under a lock on every row of the PRN, so of two batches letting go
 * at once the second sees the first already gone: the last one out cancels at UPS, none is left out.
 */
export async function releasePickup(
  pool: pg.Pool,
  batchId: string,
): Promise<{ prn?: string; stillHeldBy: string[] }> {
  return inTransaction(pool, async (c) => {
    const own = await c.query<{ prn: string | null }>(
      `SELECT prn FROM batch_pickups WHERE batch_id = $1 AND state IN ('scheduled', 'released') FOR UPDATE`,
      [batchId],
    );
    const prn = own.rows[0]?.prn ?? undefined;
    if (!prn) return { stillHeldBy: [] };
    const held = await c.query<{ batch_id: string }>(
      `SELECT batch_id FROM batch_pickups WHERE prn = $1 AND batch_id <> $2 AND state = 'scheduled'
        ORDER BY batch_id FOR UPDATE`,
      [prn, batchId],
    );
    await c.query(`UPDATE batch_pickups SET state = 'released', updated_at = now() WHERE batch_id = $1`, [
      batchId,
    ]);
    return { prn, stillHeldBy: held.rows.map((r) => r.batch_id) };
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
    ...(sharedWith.length ? { sharedWith } : {}),
    ...(p.lastError ? { error: p.lastError } : {}),
  };
}
