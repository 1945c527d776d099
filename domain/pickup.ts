/**
 * One UPS on-call pickup for a batch's packages (issue 25, docs/design.md §3 step 4b): the batch option,
 * what the preview says it costs, and what the ledger knows of it. Pure (zod only).
 */
import { z } from 'zod';

/** A time of day as operators type it: 09:00 (24 h). UPS takes it as HHMM in the pickup place's time. */
const TimeOfDaySchema = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'expected a time of day such as 09:00 or 17:30 (24 h)' });

/** A calendar date, YYYY-MM-DD, that exists. */
const PickupDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'expected a date such as 2026-12-08' })
  .refine(
    (d) =>
      !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d),
    {
      error: 'not a calendar date',
    },
  );

/** The shortest ready..close window shipbatch asks UPS for (UPS needs lead time; it refuses shorter ones). */
export const MIN_PICKUP_WINDOW_MINUTES = 60;

/** Minutes after midnight of an HH:MM time. */
export function minutesOfDay(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

/**
 * The batch option `pickup`: when the packages are ready and the place closes; `date` defaults to the day the
 * batch's shipping ends (the next weekday once today's close time has passed).
 */
export const PickupOptionSchema = z
  .object({
    date: PickupDateSchema.optional(),
    readyTime: TimeOfDaySchema,
    closeTime: TimeOfDaySchema,
  })
  .strict()
  .refine((p) => minutesOfDay(p.closeTime) - minutesOfDay(p.readyTime) >= MIN_PICKUP_WINDOW_MINUTES, {
    error: `closeTime must be at least ${MIN_PICKUP_WINDOW_MINUTES} minutes after readyTime`,
    path: ['closeTime'],
  });
export type PickupOption = z.output<typeof PickupOptionSchema>;

/**
 * The pickup's state in the ledger: `scheduled` (UPS gave a PRN), `failed` (UPS refused; the reason is kept),
 * `cancelled` (cancelled at UPS with the batch), `released` (the batch was cancelled but another live batch
 * shares the PRN, so it stays), `pending` (not asked yet, or the answer was lost: reconciled first).
 */
export const PICKUP_STATES = ['pending', 'scheduled', 'failed', 'cancelled', 'released'] as const;
export type PickupState = (typeof PICKUP_STATES)[number];

/** What the preview says of the pickup: the date and window asked for and UPS's charge. */
export interface PickupQuote {
  date: string;
  readyTime: string;
  closeTime: string;
  /** UPS's charge for the pickup (rate_pickup), when UPS answered. */
  costCents?: number;
  currency?: string;
  /** Why there is no charge (UPS refused or did not answer): the batch still schedules after shipping. */
  error?: string;
}

/** The batch's pickup as `status` and the CLI show it (no address: that is the shipper's, in the ledger). */
export interface PickupStatus {
  state: PickupState;
  date: string;
  readyTime: string;
  closeTime: string;
  /** UPS's Pickup Request Number. */
  prn?: string;
  /** Packages and total weight told to UPS (UPS takes at most 999 pieces per request). */
  quantity?: number;
  weight?: string;
  costCents?: number;
  currency?: string;
  /** Other batches whose pickup UPS merged into this one (same address and date). */
  sharedWith?: string[];
  error?: string;
}

/** YYYYMMDD (UPS) of a YYYY-MM-DD date. */
export function upsDate(date: string): string {
  return date.replaceAll('-', '');
}

/** HHMM (UPS) of an HH:MM time. */
export function upsTime(hhmm: string): string {
  return hhmm.replace(':', '');
}

/**
 * The pickup date when the option names none: today (in the clock's UTC date) if its close time is still
 * ahead, else the next weekday. UPS picks up Monday to Friday.
 */
export function defaultPickupDate(now: Date, closeTime: string): string {
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const closesAt = day.getTime() + minutesOfDay(closeTime) * 60_000;
  const weekday = (d: Date) => d.getUTCDay() !== 0 && d.getUTCDay() !== 6;
  if (now.getTime() < closesAt && weekday(day)) return day.toISOString().slice(0, 10);
  do day.setUTCDate(day.getUTCDate() + 1);
  while (!weekday(day));
  return day.toISOString().slice(0, 10);
}
