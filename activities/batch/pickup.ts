/**
 * The batch's UPS pickup (issue 25, docs/design.md §3 step 4b): its charge in the preview, one pickup for the
 * shipped packages scheduled exactly once, cancelled with a batch cancelled with void — unless another batch
 * still holds the same pickup (UPS merges requests for one address and date into one PRN).
 *
 * Exactly once: before a schedule_pickup request leaves, the ledger counts it (`requests_sent`); an attempt
 * that finds a request may have left (a lost answer, a killed worker) first looks for the pickup among the
 * account's pending ones (get_pickup_status) and adopts it. Even a second request would not make a second
 * pickup at UPS (same address and date: same PRN); the reconcile keeps us from relying on that.
 */
import { Context } from '@temporalio/activity';
import type pg from 'pg';
import type { Shipper } from '../../domain/shipment-schema';
import {
  defaultPickupDate,
  upsDate,
  upsTime,
  type PickupOption,
  type PickupQuote,
  type PickupStatus,
} from '../../domain/pickup';
import { getBatch } from '../../db/ledger/batches';
import {
  getPickup,
  keepPickup,
  letGoOfPending,
  markPickupCancelled,
  markPickupFailed,
  markPickupScheduled,
  notePickupError,
  movePickupDate,
  notePickupRequestSent,
  openPickup,
  otherAddressPrns,
  packagesOf,
  pickupSharers,
  pickupStatusOf,
  prnLetGo,
  recordSeenBefore,
  releasePickup,
  reopenPickup,
  type PickupRecord,
} from '../../db/ledger/pickup';
import { UpsError } from '../ups/errors';
import { SendWithheld, type UpsClient } from '../ups/client';
import type { PickupCharge, PickupRequest } from '../ups/pickup';

/** UPS takes at most 999 pieces in one pickup request (PickupPiece.Quantity); the driver takes them all. */
export const MAX_PICKUP_PIECES = 999;

const norm = (s: string | undefined) => (s ?? '').trim().replace(/\s+/g, ' ').toUpperCase();

/** The shipper's pickup address, normalised: what UPS treats as "the same pickup point". */
export function pickupAddressKey(shipper: Shipper): string {
  const a = shipper.Address;
  return [a.AddressLine.join(' '), a.City, a.StateProvinceCode, postal(a), a.CountryCode].map(norm).join('|');
}

/** The Pickup API's postal code: at most 8 characters; a US/PR ZIP without its +4. */
function postal(a: Shipper['Address']): string {
  const code = (a.PostalCode ?? '').trim();
  return a.CountryCode === 'US' || a.CountryCode === 'PR' ? code.slice(0, 5) : code.slice(0, 8);
}

/** Who UPS's driver asks for (PickupAddress.ContactName: 22 characters at most). */
function contactOf(shipper: Shipper): string {
  return (shipper.AttentionName ?? shipper.Name).trim().slice(0, 22);
}

/** The request for a pickup of `packages` packages at the shipper's address. */
export function pickupRequestOf(
  shipper: Shipper,
  when: { date: string; readyTime: string; closeTime: string },
  load: { packages: number; weightLbs: string; serviceCode?: string },
): PickupRequest {
  const a = shipper.Address;
  return {
    pickupDate: upsDate(when.date),
    readyTime: upsTime(when.readyTime),
    closeTime: upsTime(when.closeTime),
    addressLine: a.AddressLine.join(' ').slice(0, 73),
    city: a.City,
    state: a.StateProvinceCode ?? '',
    postalCode: postal(a),
    countryCode: a.CountryCode,
    contactName: contactOf(shipper),
    phone: shipper.Phone?.Number ?? '',
    accountNumber: shipper.ShipperNumber,
    quantity: Math.min(Math.max(load.packages, 1), MAX_PICKUP_PIECES),
    weightLbs: load.weightLbs,
    // PickupPiece.ServiceCode is the shipment's service in three digits (03 → 003); the tool's default else.
    serviceCode: /^\d{1,3}$/.test(load.serviceCode ?? '') ? load.serviceCode!.padStart(3, '0') : '001',
    residential: false,
  };
}

const reason = (err: unknown) =>
  err instanceof UpsError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);

/** The preview's line: UPS's charge for the pickup of the rows still to ship (never fails the preview). */
export async function quotePickup(
  pool: pg.Pool,
  ups: UpsClient,
  batchId: string,
  shipper: Shipper,
  option: PickupOption,
  signal?: AbortSignal,
): Promise<PickupQuote> {
  const when = {
    ...option,
    date: option.date ?? defaultPickupDate(new Date(), option.closeTime, option.timeZone ?? 'UTC'),
  };
  const quote: PickupQuote = {
    date: when.date,
    readyTime: when.readyTime,
    closeTime: when.closeTime,
    ...(option.timeZone ? { timeZone: option.timeZone } : {}),
  };
  try {
    const load = await packagesOf(pool, batchId, ['pending', 'in_flight', 'shipped']);
    const charge = await ups.ratePickup(pickupRequestOf(shipper, when, load), signal);
    return { ...quote, costCents: charge.cents, currency: charge.currency };
  } catch (err) {
    if (signal?.aborted) throw err;
    return { ...quote, error: reason(err) };
  }
}

/** The pickup as `status` shows it, with the other batches holding its PRN. */
async function statusOf(pool: pg.Pool, p: PickupRecord): Promise<PickupStatus> {
  return pickupStatusOf(
    p,
    p.prn && p.state === 'scheduled' ? await pickupSharers(pool, p.prn, p.batchId) : [],
  );
}

/**
 * Schedule the batch's pickup once: undefined when the batch asked for none or shipped nothing. A refusal
 * (UPS will not take the date, window or address) is the pickup's outcome (`failed`, UPS's words); UPS not
 * answering is thrown, so Temporal retries, and the retry reconciles first.
 */
export async function schedulePickup(
  pool: pg.Pool,
  ups: UpsClient,
  args: { batchId: string },
  signal: AbortSignal = Context.current().cancellationSignal,
): Promise<PickupStatus | undefined> {
  const { batchId } = args;
  const batch = await getBatch(pool, batchId);
  const option = batch?.input.options.pickup;
  if (!batch || !option) return undefined;
  const existing = await getPickup(pool, batchId);
  if (existing && existing.state !== 'pending') return statusOf(pool, existing);
  const load = await packagesOf(pool, batchId, ['shipped']);
  if (load.packages === 0) return undefined;
  const shipper = batch.input.shipper;
  const timeZone = option.timeZone ?? 'UTC';
  const today = () => defaultPickupDate(new Date(), option.closeTime, timeZone);
  let rec = await openPickup(pool, batchId, {
    date: option.date ?? today(),
    readyTime: option.readyTime,
    closeTime: option.closeTime,
    addressKey: pickupAddressKey(shipper),
    account: shipper.ShipperNumber,
    timeZone,
  });
  if (!shipper.Phone?.Number) {
    await markPickupFailed(pool, batchId, 'the shipper has no Phone.Number: UPS needs one for a pickup');
    return statusOf(pool, (await getPickup(pool, batchId))!);
  }
  // A request may have reached UPS (a lost answer, a killed worker): its pickup is taken, not asked for again.
  // Looking fails → thrown and retried, never "failed": the pickup may exist.
  // What UPS is told of the load (for the ledger and `status`): the same whatever the date.
  const { quantity, weightLbs: weight } = pickupRequestOf(shipper, rec, load);
  const found = rec.requestsSent > 0 ? await findAtUps(pool, ups, rec, shipper, signal) : undefined;
  if (found) {
    await markPickupScheduled(pool, batchId, { prn: found, quantity, weight, reconciled: true });
    return statusOf(pool, (await getPickup(pool, batchId))!);
  }
  // Nothing at UPS: a default date whose day is over (the batch waited) moves to the next one.
  if (!option.date && rec.date !== today()) {
    await movePickupDate(pool, batchId, today());
    rec = (await getPickup(pool, batchId))!;
  }
  if (!rec.seenBefore) {
    // What the account had pending on the date before this batch asked: never mistaken for its own later.
    const before = await ups.pendingPickups(rec.account, signal);
    const seen = before.filter((p) => p.date === upsDate(rec.date)).map((p) => p.prn);
    await recordSeenBefore(pool, batchId, seen);
    rec = { ...rec, seenBefore: seen };
  }
  const request = pickupRequestOf(shipper, rec, load);
  let made: { prn: string; charge?: PickupCharge };
  try {
    made = await ups.schedulePickup(request, signal, async () => {
      if (!(await notePickupRequestSent(pool, batchId))) {
        throw new SendWithheld('the pickup is no longer pending (the batch let go of it)');
      }
    });
  } catch (err) {
    if (err instanceof SendWithheld) return statusOf(pool, (await getPickup(pool, batchId))!);
    if (err instanceof UpsError && err.errorClass === 'definitive' && err.category !== 'auth') {
      await markPickupFailed(pool, batchId, reason(err));
      return statusOf(pool, (await getPickup(pool, batchId))!);
    }
    await notePickupError(pool, batchId, reason(err));
    throw err;
  }
  const stored = await markPickupScheduled(pool, batchId, {
    prn: made.prn,
    quantity,
    weight,
    costCents: made.charge?.cents,
    currency: made.charge?.currency,
    reconciled: false,
  });
  if (!stored) {
    // The batch let go of its pickup while this request was out (cancelled with void): UPS made one nobody
    // here needs. Cancelled like the batch's own, unless another batch holds the PRN.
    await letGoOfUnwanted(pool, ups, batchId, made.prn, signal);
  } else if (await prnLetGo(pool, made.prn, batchId)) {
    // UPS merged the request into a PRN another batch let go of: still there, or cancelled under us?
    const pending = await ups.pendingPickups(rec.account, signal);
    if (!pending.some((p) => p.prn === made.prn)) {
      await reopenPickup(pool, batchId, `PRN ${made.prn} was cancelled by another batch: asking again`);
      throw new Error(`pickup ${made.prn} was cancelled at UPS by another batch; asking again`);
    }
  }
  return statusOf(pool, (await getPickup(pool, batchId))!);
}

/** A pickup UPS made for a batch that no longer wants one: cancelled unless another batch holds its PRN. */
async function letGoOfUnwanted(
  pool: pg.Pool,
  ups: UpsClient,
  batchId: string,
  prn: string,
  signal: AbortSignal,
): Promise<void> {
  if ((await pickupSharers(pool, prn, batchId)).length > 0) return;
  await ups.cancelPickup(prn, signal).catch(async (err: unknown) => {
    if (err instanceof UpsError && ['already_cancelled', 'not_found'].includes(err.category)) return;
    await notePickupError(
      pool,
      batchId,
      `pickup ${prn} made after the cancel, not cancelled: ${reason(err)}`,
    );
  });
}

/**
 * A request may have reached UPS: its pickup among the account's pending ones — the batch's date, its contact,
 * not one the account had before the batch's first request, not a PRN the ledger knows for another address.
 * UPS's status carries no address, so that is the key.
 */
async function findAtUps(
  pool: pg.Pool,
  ups: UpsClient,
  rec: PickupRecord,
  shipper: Shipper,
  signal: AbortSignal,
): Promise<string | undefined> {
  const contact = norm(contactOf(shipper));
  const pending = await ups.pendingPickups(rec.account, signal);
  const others = await otherAddressPrns(pool, rec);
  const seen = new Set(rec.seenBefore ?? []);
  return pending.find(
    (p) =>
      p.date === upsDate(rec.date) &&
      !others.has(p.prn) &&
      !seen.has(p.prn) &&
      (p.contactName === undefined || norm(p.contactName) === contact),
  )?.prn;
}

/**
 * A batch cancelled with void lets go of its pickup: cancelled at UPS unless another batch still holds the
 * PRN. Returns the pickup afterwards and any problem to report (UPS refused the cancel: the window is over).
 */
export async function cancelPickup(
  pool: pg.Pool,
  ups: UpsClient,
  args: { batchId: string },
  signal: AbortSignal = Context.current().cancellationSignal,
): Promise<{ pickup?: PickupStatus; problem?: string }> {
  const { batchId } = args;
  let before = await getPickup(pool, batchId);
  if (!before) return {};
  if (before.state === 'pending') {
    // A request may have reached UPS without its answer: a pickup made then is found and cancelled below.
    const found =
      before.requestsSent > 0
        ? await findAtUps(pool, ups, before, (await getBatch(pool, batchId))!.input.shipper, signal)
        : undefined;
    if (!found) {
      // Nothing at UPS: let go here. A request still on its way finds the pickup no longer pending and cancels
      // what UPS made (schedulePickup); one not sent yet is withheld by its hook.
      await letGoOfPending(pool, batchId);
      return { pickup: await statusOf(pool, (await getPickup(pool, batchId))!) };
    }
    // Found only to cancel it: what UPS was told is not known here.
    await markPickupScheduled(pool, batchId, { prn: found, reconciled: true });
    before = (await getPickup(pool, batchId))!;
  }
  if (!['scheduled', 'released'].includes(before.state) || !before.prn) {
    return { pickup: await statusOf(pool, before) };
  }
  const prn = before.prn;
  const { stillHeldBy } = await releasePickup(pool, batchId);
  if (stillHeldBy.length > 0) {
    const after = (await getPickup(pool, batchId))!;
    return { pickup: { ...pickupStatusOf(after), sharedWith: stillHeldBy } };
  }
  let problem: string | undefined;
  try {
    await ups.cancelPickup(prn, signal);
    await markPickupCancelled(pool, batchId, prn);
  } catch (err) {
    if (err instanceof UpsError && ['already_cancelled', 'not_found'].includes(err.category)) {
      await markPickupCancelled(pool, batchId, prn);
    } else {
      // Not cancelled at UPS: the pickup is still there and still this batch's (a retry lets go again).
      problem = `pickup ${prn} not cancelled: ${reason(err)}`;
      await keepPickup(pool, batchId, problem);
      if (!(err instanceof UpsError) || err.errorClass !== 'definitive') throw err;
    }
  }
  const after = (await getPickup(pool, batchId))!;
  return { pickup: pickupStatusOf(after), ...(problem ? { problem } : {}) };
}
