/**
 * The sandbox's durable record of on-call pickups (UPS Pickup API): an append-only JSON-lines file,
 * `<data dir>/pickups.jsonl`, shared by every sandbox process of the data dir like `shipments.jsonl`.
 * Appends are single `write` calls in O_APPEND mode, so lines never interleave, and every process reads
 * the lines in the same order: decisions that depend on other requests (the PRN a second request for the
 * same address gets, which of two cancellations of one pickup won) are made from the file's order alone,
 * so all processes agree on them. The file is opened per operation (pickups are rare; no descriptor is
 * held between calls).
 */
import { randomInt } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';

export const PICKUPS_FILE = 'pickups.jsonl';

/** The pickup address as UPS holds it. */
export interface PickupAddress {
  addressLine: string;
  city: string;
  state: string;
  postalCode: string;
  countryCode: string;
  residential: 'Y' | 'N';
}

/** One on-call pickup as scheduled (Pickup Creation request, in the sandbox's words). */
export interface PickupRequest {
  /** `Shipper.Account.AccountNumber`, when the request carried one (it is how status lists pickups). */
  account?: string;
  /** YYYYMMDD. */
  pickupDate: string;
  /** HHMM, the pickup location's time (the sandbox's clock is UTC). */
  readyTime: string;
  closeTime: string;
  address: PickupAddress;
  contactName: string;
  phone: string;
  serviceCode: string;
  containerCode: string;
  quantity: string;
  weight: string;
  weightUnit: string;
  paymentMethod: string;
}

export interface PickupRecord extends PickupRequest {
  /** Pickup Request Number: 11 characters. */
  prn: string;
  /** When UPS took the request. */
  scheduledAt: string;
  /** Set once cancelled. */
  cancelledAt?: string;
}

type PickupLine =
  ({ type: 'pickup'; key: string } & PickupRecord) | { type: 'cancel'; prn: string; at: string; id: string };

/** The address and date a pickup is for, normalised: UPS answers a second request for them with the same PRN. */
export function pickupKey(req: Pick<PickupRequest, 'pickupDate' | 'address'>): string {
  const a = req.address;
  const norm = (s: string) => s.trim().replace(/\s+/g, ' ').toUpperCase();
  return [req.pickupDate, a.addressLine, a.city, a.state, a.postalCode, a.countryCode].map(norm).join('|');
}

/** When a pickup's window closes (its date at CloseTime, UTC). */
export function pickupClosesAt(p: Pick<PickupRequest, 'pickupDate' | 'closeTime'>): number {
  return hhmmOn(p.pickupDate, p.closeTime);
}

/** When a pickup's window opens (its date at ReadyTime, UTC). */
export function pickupReadyAt(p: Pick<PickupRequest, 'pickupDate' | 'readyTime'>): number {
  return hhmmOn(p.pickupDate, p.readyTime);
}

function hhmmOn(yyyymmdd: string, hhmm: string): number {
  const t = hhmm.padStart(4, '0');
  return Date.UTC(
    Number(yyyymmdd.slice(0, 4)),
    Number(yyyymmdd.slice(4, 6)) - 1,
    Number(yyyymmdd.slice(6, 8)),
    Number(t.slice(0, 2)),
    Number(t.slice(2, 4)),
  );
}

const PRN_CHARS = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';

/** A new PRN: 4 digits and 7 letters or digits (11 characters, as the Pickup API's schema has it). */
function newPrn(): string {
  let prn = String(randomInt(1000, 10_000));
  for (let i = 0; i < 7; i++) prn += PRN_CHARS[randomInt(PRN_CHARS.length)];
  return prn;
}

/** Pickups by PRN, kept in step with the file. */
export class PickupStore {
  readonly file: string;
  private offset = 0;
  private partial: Buffer = Buffer.alloc(0);
  /** Every PRN a request was given, including those merged into an earlier pickup (never reused). */
  private readonly issued = new Set<string>();
  /** A request's PRN → the PRN of the pickup it became (itself, or the earlier pickup it was merged into). */
  private readonly resolved = new Map<string, string>();
  /** Pickups that exist, by PRN. */
  private readonly byPrn = new Map<string, PickupRecord>();
  /** Pickup key → PRN of the last pickup made for it. */
  private readonly byKey = new Map<string, string>();
  /** Cancel line id → whether it was the one that cancelled its pickup. */
  private readonly cancelWon = new Map<string, boolean>();

  constructor(readonly dataDir: string) {
    this.file = path.join(dataDir, PICKUPS_FILE);
  }

  private open(): number {
    mkdirSync(this.dataDir, { recursive: true });
    return openSync(this.file, 'a+');
  }

  /** Read the lines appended since the last read (by this or another process). */
  refresh(): void {
    const fd = this.open();
    try {
      this.readFrom(fd);
    } finally {
      closeSync(fd);
    }
  }

  private readFrom(fd: number): void {
    const size = fstatSync(fd).size;
    if (size <= this.offset) return;
    const buf = Buffer.alloc(size - this.offset);
    let read = 0;
    while (read < buf.length) {
      const n = readSync(fd, buf, read, buf.length - read, this.offset + read);
      if (n === 0) break;
      read += n;
    }
    this.offset += read;
    const bytes = Buffer.concat([this.partial, buf.subarray(0, read)]);
    const end = bytes.lastIndexOf(0x0a) + 1;
    this.partial = Buffer.from(bytes.subarray(end));
    for (const line of bytes.subarray(0, end).toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      let parsed: PickupLine;
      try {
        parsed = JSON.parse(line) as PickupLine;
      } catch {
        process.stderr.write(`ups-sandbox: skipping a corrupt line in ${this.file}\n`);
        continue;
      }
      this.apply(parsed);
    }
  }

  /**
   * Apply one line. A pickup request for an address and date whose last pickup is neither cancelled nor
   * past its close time (as of the request) gets that pickup's PRN: UPS's Pickup Creation "returns the
   * same PRN if a pickup request already exists for a pickup address/point". Only the first cancellation
   * of a pickup counts.
   */
  private apply(line: PickupLine): void {
    if (line.type === 'cancel') {
      const rec = this.byPrn.get(line.prn);
      const wins = rec !== undefined && rec.cancelledAt === undefined;
      if (wins) rec.cancelledAt = line.at;
      this.cancelWon.set(line.id, wins);
      return;
    }
    const { type: _type, key, ...rec } = line;
    this.issued.add(rec.prn);
    const earlier = this.byPrn.get(this.byKey.get(key) ?? '');
    if (
      earlier &&
      earlier.cancelledAt === undefined &&
      Date.parse(rec.scheduledAt) < pickupClosesAt(earlier)
    ) {
      this.resolved.set(rec.prn, earlier.prn);
      return;
    }
    this.byPrn.set(rec.prn, rec);
    this.byKey.set(key, rec.prn);
    this.resolved.set(rec.prn, rec.prn);
  }

  private append(line: PickupLine): void {
    const fd = this.open();
    try {
      this.readFrom(fd);
      writeSync(fd, `${JSON.stringify(line)}\n`);
      this.readFrom(fd);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Record a pickup request durably and return the pickup it became: a new one, or the pending pickup
   * already scheduled for the same address and date.
   */
  schedule(req: PickupRequest, at: Date): PickupRecord {
    this.refresh();
    let prn = newPrn();
    while (this.issued.has(prn)) prn = newPrn();
    this.append({ type: 'pickup', key: pickupKey(req), ...req, prn, scheduledAt: at.toISOString() });
    return this.byPrn.get(this.resolved.get(prn)!)!;
  }

  /**
   * Cancel a pickup durably; false when another cancellation got there first (the pickup was already
   * cancelled by the time this one was written).
   */
  cancel(prn: string, at: Date): boolean {
    const id = `${process.pid}-${Date.now()}-${randomInt(1_000_000_000)}`;
    this.append({ type: 'cancel', prn, at: at.toISOString(), id });
    return this.cancelWon.get(id) === true;
  }

  /** The pickup with this PRN (cancelled ones included); undefined for a PRN UPS never gave out. */
  find(prn: string): PickupRecord | undefined {
    this.refresh();
    return this.byPrn.get(prn);
  }

  /** Every pickup, oldest request first. */
  all(): PickupRecord[] {
    this.refresh();
    return [...this.byPrn.values()];
  }
}

/** Every pickup recorded in a sandbox data dir (for tests and tools outside the server). */
export function readPickups(dataDir: string): PickupRecord[] {
  if (!existsSync(path.join(dataDir, PICKUPS_FILE))) return [];
  return new PickupStore(dataDir).all();
}
