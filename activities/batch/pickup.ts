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
  markPickupCancelled,
  markPickupFailed,
  markPickupScheduled,
  notePickupError,
  notePickupRequestSent,
  openPickup,
  otherAddressPrns,
  packagesOf,
  pickupSharers,
  pickupStatusOf,
  releasePickup,
  type PickupRecord,
} from '../../db/ledger/pickup';
import type { UpsClient } from '../ups/client';
import { UpsError } from '../ups/errors';
import type { PickupRequest } from '../ups/pickup';

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
    serviceCode: (load.serviceCode ?? '03').padStart(3, '0'),
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
  const when = { ...option, date: option.date ?? defaultPickupDate(new Date(), option.closeTime) };
  const quote: PickupQuote = { date: when.date, readyTime: when.readyTime, closeTime: when.closeTime };
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
  const batch = await getBatch(pool, args.batchId);
  const option = batch?.input.options.pickup;
  if (!batch || !option) return undefined;
  const existing = await getPickup(pool, args.batchId);
  if (existing && existing.state !== 'pending') return statusOf(pool, existing);
  const load = await packagesOf(pool, args.batchId, ['shipped']);
  if (load.packages === 0) return undefined;
  const shipper = batch.input.shipper;
  const rec = await openPickup(pool, args.batchId, {
    date: option.date ?? defaultPickupDate(new Date(), option.closeTime),
    readyTime: option.readyTime,
    closeTime: option.closeTime,
    addressKey: pickupAddressKey(shipper),
    account: shipper.ShipperNumber,
  });
  const request = pickupRequestOf(shipper, rec, load);
  const told = { quantity: request.quantity, weight: request.weightLbs };
  if (!request.phone) {
    await markPickupFailed(pool, args.batchId, 'the shipper has no Phone.Number: UPS needs one for a pickup');
    return statusOf(pool, (await getPickup(pool, args.batchId))!);
  }
  try {
    const found = rec.requestsSent > 0 ? await findAtUps(pool, ups, rec, request, signal) : undefined;
    if (found) {
      await markPickupScheduled(pool, args.batchId, { prn: found, ...told, reconciled: true });
    } else {
      const made = await ups.schedulePickup(request, signal, () => notePickupRequestSent(pool, args.batchId));
      await markPickupScheduled(pool, args.batchId, {
        prn: made.prn,
        ...told,
        costCents: made.charge?.cents,
        currency: made.charge?.currency,
        reconciled: false,
      });
    }
  } catch (err) {
    if (err instanceof UpsError && err.errorClass === 'definitive' && err.category !== 'auth') {
      await markPickupFailed(pool, args.batchId, reason(err));
    } else {
      await notePickupError(pool, args.batchId, reason(err));
      throw err;
    }
  }
  return statusOf(pool, (await getPickup(pool, args.batchId))!);
}

/**
 * A request may have reached UPS: its pickup among the account's pending ones — the batch's date, its contact,
 * and not a PRN the ledger knows for another address. UPS's status carries no address, so that is the key.
 */
async function findAtUps(
  pool: pg.Pool,
  ups: UpsClient,
  rec: PickupRecord,
  request: PickupRequest,
  signal: AbortSignal,
): Promise<string | undefined> {
  const pending = await ups.pendingPickups(rec.account, signal);
  const others = await otherAddressPrns(pool, rec);
  return pending.find(
    (p) =>
      p.date === request.pickupDate &&
      !others.has(p.prn) &&
      (p.contactName === undefined || norm(p.contactName) === norm(request.contactName)),
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
  let before = await getPickup(pool, args.batchId);
  if (before?.state === 'pending' && before.requestsSent > 0) {
    // A request may have reached UPS without its answer: a pickup made then would be left behind.
    const batch = (await getBatch(pool, args.batchId))!;
    const request = pickupRequestOf(batch.input.shipper, before, { packages: 1, weightLbs: '0.1' });
    const found = await findAtUps(pool, ups, before, request, signal);
    if (found) {
      // Found only to cancel it: what UPS was told is not known here.
      await markPickupScheduled(pool, args.batchId, { prn: found, reconciled: true });
      before = (await getPickup(pool, args.batchId))!;
    }
  }
  if (!before || !['scheduled', 'released'].includes(before.state) || !before.prn) {
    return before ? { pickup: await statusOf(pool, before) } : {};
  }
  const { stillHeldBy } = await releasePickup(pool, args.batchId);
  if (stillHeldBy.length > 0) {
    const after = (await getPickup(pool, args.batchId))!;
    return { pickup: { ...pickupStatusOf(after), sharedWith: stillHeldBy } };
  }
  let problem: string | undefined;
  try {
    await ups.cancelPickup(before.prn, signal);
    await markPickupCancelled(pool, args.batchId, before.prn);
  } catch (err) {
    if (!(err instanceof UpsError) || err.errorClass !== 'definitive') throw err;
    if (err.category === 'already_cancelled' || err.category === 'not_found') {
      await markPickupCancelled(pool, args.batchId, before.prn);
    } else {
      problem = `pickup ${before.prn} not cancelled: ${reason(err)}`;
      await notePickupError(pool, args.batchId, problem);
    }
  }
  const after = (await getPickup(pool, args.batchId))!;
  return { pickup: pickupStatusOf(after), ...(problem ? { problem } : {}) };
}
