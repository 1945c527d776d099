/**
 * After the label in the CLI (issue 25): the `start` flags that say what happens once the labels are made
 * (`--track-for`, `--track-every`, `--pickup`, `--write-back`, `--write-back-status`), checked with the domain's
 * schemas and turned into batch options, and the Pickup lines of `preview` and `status`. Pure (tested without a
 * stack); what UPS or the ledger said passes through {@link clean}.
 */
import { InvalidArgumentError } from 'commander';
import type { z } from 'zod';
import {
  BatchOptionsSchema,
  ColumnNameSchema,
  DurationSchema,
  durationToMs,
  type BatchOptions,
} from '../../domain/batch';
import {
  isTimeZone,
  PickupOptionSchema,
  type PickupOption,
  type PickupQuote,
  type PickupStatus,
} from '../../domain/pickup';
import { BatchInputError } from '../errors';
import { clean, formatMoney } from './output';

/** The after-the-label flags of `start`, as commander parsed them. */
export interface AfterLabelFlags {
  trackFor?: string;
  trackEvery?: string;
  pickup?: PickupOption;
  pickupTimeZone?: string;
  writeBack?: string;
  writeBackStatus?: string;
}

/** The rules an invalid value broke, in the schema's words. */
const rules = (error: z.ZodError): string => error.issues.map((i) => i.message).join('; ');

/** `--track-for` / `--track-every`: a duration the batch option `key` accepts (30s, 5m, 2h, 14d). */
export function durationArg(flag: string, key: 'trackFor' | 'trackEvery'): (value: string) => string {
  return (value: string) => {
    // The format first: the option's own limit (a refinement) cannot read a malformed duration.
    const format = DurationSchema.safeParse(value.trim());
    const r = format.success ? BatchOptionsSchema.shape[key].safeParse(format.data) : format;
    if (!r.success)
      throw new InvalidArgumentError(`${flag}: ${rules(r.error)}, got ${JSON.stringify(value)}`);
    return r.data;
  };
}

/** `--write-back` / `--write-back-status`: a column name of the source. */
export function columnArg(flag: string): (value: string) => string {
  return (value: string) => {
    const r = ColumnNameSchema.safeParse(value.trim());
    if (!r.success)
      throw new InvalidArgumentError(`${flag}: ${rules(r.error)}, got ${JSON.stringify(value)}`);
    return r.data;
  };
}

const PICKUP_FORMAT = 'HH:MM-HH:MM or HH:MM-HH:MM@YYYY-MM-DD (e.g. 09:00-17:00@2026-12-08)';
const PICKUP_PART: Record<string, string> = {
  readyTime: 'ready time',
  closeTime: 'close time',
  date: 'date',
};

/** `--pickup 09:00-17:00[@2026-12-08]`: the ready and close times, and the date when given. */
export function pickupArg(value: string): PickupOption {
  const [span, date, ...more] = value.trim().split('@');
  const times = span!.split('-');
  if (more.length > 0 || times.length !== 2 || date === '')
    throw new InvalidArgumentError(`--pickup takes ${PICKUP_FORMAT}, got ${JSON.stringify(value)}`);
  const r = PickupOptionSchema.safeParse({
    readyTime: times[0]!.trim(),
    closeTime: times[1]!.trim(),
    ...(date !== undefined ? { date: date.trim() } : {}),
  });
  if (!r.success) {
    const why = r.error.issues
      .map((i) => `${PICKUP_PART[String(i.path[0])] ?? i.path.join('.')}: ${i.message}`)
      .join('; ');
    throw new InvalidArgumentError(`--pickup ${JSON.stringify(value)}: ${why}`);
  }
  return r.data;
}

/** `--pickup-time-zone America/Chicago`: an IANA time zone. */
export function timeZoneArg(value: string): string {
  const tz = value.trim();
  if (!isTimeZone(tz))
    throw new InvalidArgumentError(
      `--pickup-time-zone: ${JSON.stringify(value)} is not an IANA time zone such as America/Chicago or UTC`,
    );
  return tz;
}

/** The time zone of the machine the CLI runs on (what an operator's "09:00" means), UTC when unknown. */
export function localTimeZone(): string {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return tz && isTimeZone(tz) ? tz : 'UTC';
}

/**
 * The batch options of the after-the-label flags (only those given: the others keep the schema's defaults),
 * the flags checked together first (a BatchInputError naming them, before anything is read or started):
 * `--write-back-status` only with `--write-back` and another column, `--track-every` and `--write-back-status`
 * only with tracking (`--track-for` not 0s).
 */
export function afterLabelOptions(
  f: AfterLabelFlags,
): Partial<Pick<BatchOptions, 'trackFor' | 'trackEvery' | 'pickup' | 'writeBack'>> {
  const noTracking = f.trackFor !== undefined && durationToMs(f.trackFor) === 0;
  if (noTracking && f.trackEvery !== undefined) {
    throw new BatchInputError(
      `--track-every ${f.trackEvery} applies only with tracking (--track-for is 0s)`,
      {
        fix: 'leave out --track-every, or give --track-for a duration such as 14d',
      },
    );
  }
  if (f.writeBackStatus !== undefined && f.writeBack === undefined) {
    throw new BatchInputError(
      `--write-back-status ${f.writeBackStatus} needs --write-back <column> (the column the tracking numbers go to)`,
      { fix: 'add --write-back <column>, or leave out --write-back-status' },
    );
  }
  if (noTracking && f.writeBackStatus !== undefined) {
    throw new BatchInputError(
      `--write-back-status ${f.writeBackStatus} needs tracking (--track-for is 0s): the status comes from it`,
      { fix: 'leave out --write-back-status, or give --track-for a duration such as 14d' },
    );
  }
  if (f.pickupTimeZone !== undefined && f.pickup === undefined) {
    throw new BatchInputError(`--pickup-time-zone ${f.pickupTimeZone} applies only with --pickup`, {
      fix: 'add --pickup HH:MM-HH:MM, or leave out --pickup-time-zone',
    });
  }
  let writeBack: BatchOptions['writeBack'];
  if (f.writeBack !== undefined) {
    const r = BatchOptionsSchema.shape.writeBack.safeParse({
      column: f.writeBack,
      ...(f.writeBackStatus !== undefined ? { statusColumn: f.writeBackStatus } : {}),
    });
    if (!r.success) {
      throw new BatchInputError(
        `--write-back-status ${f.writeBackStatus ?? ''} and --write-back ${f.writeBack}: ${rules(r.error)}`,
        { fix: 'write the delivery status into another column than the tracking numbers' },
      );
    }
    writeBack = r.data;
  }
  return {
    ...(f.trackFor !== undefined ? { trackFor: f.trackFor } : {}),
    ...(f.trackEvery !== undefined ? { trackEvery: f.trackEvery } : {}),
    // The times are the pickup place's: this machine's time zone unless --pickup-time-zone says another.
    ...(f.pickup !== undefined
      ? { pickup: { ...f.pickup, timeZone: f.pickupTimeZone ?? f.pickup.timeZone ?? localTimeZone() } }
      : {}),
    ...(writeBack !== undefined ? { writeBack } : {}),
  };
}

// ---------------------------------------------------------------- preview and status

const pickupWindow = (p: { date: string; readyTime: string; closeTime: string; timeZone?: string }) =>
  `${clean(p.date)} ${clean(p.readyTime)}-${clean(p.closeTime)}${p.timeZone ? ` ${clean(p.timeZone)}` : ''}`;

/** The preview's pickup: `2026-12-08 09:00-17:00, UPS charge $7.45 (not in the total)`, or why no charge. */
export function pickupQuoteText(q: PickupQuote, currency: string): string {
  const charge =
    q.costCents !== undefined
      ? `UPS charge ${formatMoney(q.costCents, q.currency ?? currency)} (not in the total)`
      : `no charge from UPS${q.error ? `: ${clean(q.error)}` : ''} (the pickup is still asked for after shipping)`;
  return `${pickupWindow(q)}, ${charge}`;
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/**
 * The status's pickup: `scheduled, PRN 2929602E9CP, 2026-12-08 09:00-17:00, 3 packages, 12.5 lbs, $7.45,
 * shared with batch-a`, and UPS's reason when it failed.
 */
export function pickupStatusText(p: PickupStatus, currency: string): string {
  const parts = [clean(p.state)];
  if (p.prn) parts.push(`PRN ${clean(p.prn)}`);
  parts.push(pickupWindow(p));
  if (p.quantity !== undefined) parts.push(plural(p.quantity, 'package'));
  if (p.weight !== undefined)
    parts.push(/^\d+(\.\d+)?$/.test(p.weight) ? `${p.weight} lbs` : clean(p.weight));
  if (p.costCents !== undefined) parts.push(formatMoney(p.costCents, p.currency ?? currency));
  if (p.sharedWith?.length) parts.push(`shared with ${p.sharedWith.map(clean).join(', ')}`);
  if (p.error) parts.push(clean(p.error));
  return parts.join(', ');
}
