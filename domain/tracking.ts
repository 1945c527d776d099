/**
 * After the label (issue 25): every shipped package followed until it is delivered, returned or voided, or
 * until the batch's `trackFor` passes. The statuses the ledger keeps, how UPS Tracking's answer maps onto
 * them, how soon a package is asked again, and what the tracking workflow reports. Pure (zod only).
 */
import { z } from 'zod';
import { DurationSchema, durationToMs } from './batch';

export const TRACKING_STATUSES = [
  'label_created',
  'in_transit',
  'out_for_delivery',
  'delivered',
  'exception',
  'returned',
  'voided',
  'unknown',
] as const;
export type TrackingStatus = (typeof TRACKING_STATUSES)[number];

/** Statuses after which UPS is not asked again. */
export const FINAL_TRACKING: ReadonlySet<TrackingStatus> = new Set(['delivered', 'returned', 'voided']);

/** The longest a batch may be followed: a year. */
export const MAX_TRACK_DAYS = 365;

/** The tracking workflow's input (docs/design.md §3a). Strict: a signal or a start with junk is refused. */
export const TrackingInputSchema = z
  .object({
    batchId: z.string().regex(/^batch-[A-Za-z0-9_.-]{1,64}$/),
    /** How long to follow the packages after the batch closed. */
    trackFor: DurationSchema.refine((t) => durationToMs(t) <= MAX_TRACK_DAYS * 86_400_000, {
      error: `at most ${MAX_TRACK_DAYS} days`,
    }).default('14d'),
    /**
     * The base polling interval: in transit every base, out for delivery every base / 4, an exception from
     * base / 2 backing off to a day (`nextCheckAfterMs`).
     */
    pollEvery: DurationSchema.refine((t) => durationToMs(t) >= 1000, { error: 'at least 1s' }).default('4h'),
    /** Packages asked per activity (one ledger page). */
    pageSize: z.number().int().min(1).max(2_000).default(500),
    /** History events after which a run continues as new (Temporal suggests at 4,096). */
    eventsPerRun: z.number().int().min(100).max(4_000).default(3_000),
  })
  .strict();
export type TrackingInputArg = z.input<typeof TrackingInputSchema>;
export type TrackingInput = z.output<typeof TrackingInputSchema>;

/** The tracking workflow of a batch: one per batch, its id derived from the batch's. */
export function trackingWorkflowId(batchId: string): string {
  return `tracking-${batchId}`;
}

/** Packages per status (the tracking workflow's `trackingStatus` query and `shipbatch track`). */
export type TrackingCounts = Record<TrackingStatus, number>;

export function emptyTrackingCounts(): TrackingCounts {
  return Object.fromEntries(TRACKING_STATUSES.map((s) => [s, 0])) as TrackingCounts;
}

/** One package's reading from UPS Tracking, as the ledger keeps it. */
export interface PackageReading {
  status: TrackingStatus;
  /** UPS's own words for the current status ("DELIVERED", "THE ADDRESS IS INCORRECT"…). */
  description: string;
  /** When UPS recorded it (ISO), when it said. */
  at?: string;
  /** City, state, country of the last activity. */
  location?: string;
  /** The delivery date, once delivered (YYYY-MM-DD). */
  deliveredOn?: string;
}

/**
 * UPS Tracking's status type (activity `status.type`: M label, P pickup, I in transit, O out for delivery,
 * D delivered, X exception, RS returned to shipper, MV voided) and words → the ledger's status.
 */
export function trackingStatusOf(type: string, description: string): TrackingStatus {
  const t = type.trim().toUpperCase();
  const words = description.toUpperCase();
  if (t === 'MV' || /\bVOID/.test(words)) return 'voided';
  if (t === 'RS' || /RETURN(ED)? TO (THE )?SENDER|RETURNED TO SHIPPER/.test(words)) return 'returned';
  if (t === 'D' || t === 'DO' || t === 'DD') return 'delivered';
  if (t === 'X') return 'exception';
  if (t === 'O' || /OUT FOR DELIVERY/.test(words)) return 'out_for_delivery';
  if (t === 'I' || t === 'P' || t === 'W') return 'in_transit';
  if (t === 'M') return 'label_created';
  return 'unknown';
}

/** The statuses of a package on its way, the least advanced first. */
const ON_THE_WAY: readonly TrackingStatus[] = [
  'unknown',
  'label_created',
  'in_transit',
  'out_for_delivery',
  'delivered',
];

/**
 * A row's delivery status from its packages' (the write-back's `statusColumn`): `exception` if any package is
 * in exception, else `returned` if any was returned, else the least advanced of the rest (`unknown` <
 * `label_created` < `in_transit` < `out_for_delivery` < `delivered`: `delivered` only once every package is).
 * Voided packages count only when every package is voided (`voided`); none at all is `unknown`.
 */
export function rowDeliveryStatus(packages: readonly TrackingStatus[]): TrackingStatus {
  if (packages.includes('exception')) return 'exception';
  if (packages.includes('returned')) return 'returned';
  const moving = packages.filter((s) => s !== 'voided');
  if (moving.length === 0) return packages.length > 0 ? 'voided' : 'unknown';
  return moving.reduce((least, s) => (ON_THE_WAY.indexOf(s) < ON_THE_WAY.indexOf(least) ? s : least));
}

/** The longest wait between two looks at a package in exception: a day, or eight bases when that is shorter. */
const MAX_EXCEPTION_WAIT_MS = 86_400_000;

/**
 * How long until a package is asked again: faster while something happens soon (out for delivery: a quarter
 * of the base), the base otherwise; never for a final status. An exception is asked again after half the base
 * at first, then, at each look that finds it still in exception, after twice the last wait, up to a day or eight
 * bases, whichever is shorter: the n-th look in a row to find it in exception waits
 * min(base/2 × 2^(n−1), 24 h, 8 × base), never under the first wait (a long exception rarely ends within
 * hours; a delay's end is seen within one such wait). `before` is the package as the ledger had it before this look: its status, and the
 * wait the previous look chose (`next_check_at − checked_at`; absent before the first look).
 */
export function nextCheckAfterMs(
  status: TrackingStatus,
  baseMs: number,
  before?: { status: TrackingStatus; lastWaitMs?: number },
): number | undefined {
  if (FINAL_TRACKING.has(status)) return undefined;
  if (status === 'out_for_delivery') return Math.max(1000, Math.round(baseMs / 4));
  if (status === 'exception') {
    const first = Math.max(1000, Math.round(baseMs / 2));
    if (before?.status !== 'exception' || before.lastWaitMs === undefined) return first;
    const longest = Math.max(first, Math.min(MAX_EXCEPTION_WAIT_MS, 8 * baseMs));
    return Math.min(longest, Math.max(first, 2 * before.lastWaitMs));
  }
  return baseMs;
}

/** What one tracking page reports to the workflow: counts and the next due time only, never row data. */
export interface TrackingPage {
  /** Packages asked in this page. */
  asked: number;
  /** Packages per status now (the whole batch, as the ledger keeps them: `tracking_counts`). */
  counts: TrackingCounts;
  /**
   * Packages due now that this page did not reach (another page follows at once while above zero), counted up
   * to the page size: exact below it, "at least another page" at it.
   */
  dueNow: number;
  /** When the next package is due (ISO), absent when every package is final. */
  nextDueAt?: string;
  /** Set when not one package was answered, only because UPS did not: the workflow waits and asks again. */
  upsDown?: { kind: string; reason: string };
  /** With `writeBack.statusColumn`: rows whose delivery status this page wrote into the source table. */
  statusesWritten?: number;
  /**
   * The problem that stopped the delivery-status write-back for this batch (kept in the ledger, logged once):
   * every page says it from then on; the tracking goes on.
   */
  statusWriteBackError?: string;
}

/** What the tracking workflow's query answers. */
export interface TrackingState {
  batchId: string;
  phase: 'tracking' | 'done' | 'expired';
  counts: TrackingCounts;
  /** Packages in exception now (also `counts.exception`), the attention count. */
  exceptions: number;
  startedAt: string;
  /** When the tracking stops even if packages are not final (ISO). */
  deadline: string;
  lastCheckAt?: string;
  nextCheckAt?: string;
  runs: number;
  /** Why the delivery-status write-back (`writeBack.statusColumn`) stopped for this batch; tracking goes on. */
  statusWriteBackError?: string;
}
