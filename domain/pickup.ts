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

/** Whether `tz` is an IANA time zone this runtime knows (America/Chicago, Europe/Berlin, UTC). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The shortest ready..close window shipbatch asks UPS for (UPS needs lead time; it refuses shorter ones). */
export const MIN_PICKUP_WINDOW_MINUTES = 60;

/** Minutes after midnight of an HH:MM time. */
export function minutesOfDay(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

/**
 * The batch option `pickup`: when the packages are ready and the place closes, in the pickup place's time (UPS
 * reads the times so), `timeZone` saying where that is (default UTC; the CLI passes the operator's); `date`
 * defaults to the day the batch's shipping ends there (the next weekday once today's close is under an hour away).
 */
export const PickupOptionSchema = z
  .object({
    date: PickupDateSchema.optional(),
    readyTime: TimeOfDaySchema,
    closeTime: TimeOfDaySchema,
    timeZone: z
      .string()
      .max(64)
      .refine(isTimeZone, { error: 'timeZone must be an IANA time zone such as America/Chicago or UTC' })
      .optional(),
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
  /** The pickup place's time zone, when the option named one (else UTC). */
  timeZone?: string;
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
  /** The pickup place's time zone, when not UTC. */
  timeZone?: string;
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

/** Lead time UPS needs before a pickup's close: a default date never asks for less. */
export const PICKUP_LEAD_MINUTES = 60;

/**
 * The pickup date when the option names none, in the pickup place's time zone: today if its close time is at
 * least {@link PICKUP_LEAD_MINUTES} ahead and today is a weekday, else the next weekday (UPS picks up Monday to
 * Friday).
 */
export function defaultPickupDate(now: Date, closeTime: string, timeZone = 'UTC'): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(now)
      .map((p) => [p.type, p.value]),
  );
  const day = new Date(Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day)));
  const minutesNow = Number(parts.hour) * 60 + Number(parts.minute);
  const weekday = (d: Date) => d.getUTCDay() !== 0 && d.getUTCDay() !== 6;
  if (minutesNow + PICKUP_LEAD_MINUTES <= minutesOfDay(closeTime) && weekday(day)) {
    return day.toISOString().slice(0, 10);
  }
  do day.setUTCDate(day.getUTCDate() + 1);
  while (!weekday(day));
  return day.toISOString().slice(0, 10);
}
