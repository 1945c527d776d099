/**
 * The sandbox's durable record of every shipment: an append-only JSON-lines file under the data dir.
 * Several sandbox processes may share one dir (each worker starts its own over stdio, and a killed
 * worker's sandbox may still be finishing), so every lookup first reads what others appended since.
 * Appends are single `write` calls on an O_APPEND descriptor, so concurrent lines never interleave.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';

/** One package of a stored shipment: enough to answer tracking and to redraw its label. */
export interface StoredPackage {
  trackingNumber: string;
  weight: string;
  weightUnit: 'LBS' | 'KGS';
  references: string[];
  voidedAt?: string;
}

/** A party as printed on a label (UPS Shipper / ShipTo subset). */
export interface StoredParty {
  Name: string;
  AttentionName?: string;
  Phone?: { Number: string };
  Address: {
    AddressLine: string[];
    City: string;
    StateProvinceCode?: string;
    PostalCode?: string;
    CountryCode: string;
  };
}

export interface ShipmentRecord {
  shipmentId: string;
  shipperNumber: string;
  serviceCode: string;
  /** Request.TransactionReference.CustomerContext, when sent. */
  customerContext?: string;
  /** Every Package ReferenceNumber value (deduplicated). */
  references: string[];
  shipper: StoredParty & { ShipperNumber: string };
  shipTo: StoredParty;
  packages: StoredPackage[];
  labelFormat: 'GIF' | 'ZPL';
  currency: string;
  publishedCents: number;
  negotiatedCents: number;
  billingWeightLbs: number;
  /** When UPS made the shipment: it does not exist before (a `slow` create is recorded ahead of it). */
  createdAt: string;
  /** A `slow` create: UPS took this long to make it (recorded when the request came, landed `createdAt`). */
  slowMs?: number;
  /** Set once every package is voided. */
  voidedAt?: string;
}

type StoreLine =
  | ({ type: 'shipment' } & ShipmentRecord)
  | { type: 'void'; shipmentId: string; at: string; trackingNumbers?: string[] };

/** Shipments by id, tracking number and reference, kept in step with the file. */
export class ShipmentStore {
  readonly file: string;
  private fd: number;
  private offset = 0;
  /** Bytes of a line another process has not finished writing (it may end mid-character). */
  private partial: Buffer = Buffer.alloc(0);
  private readonly byId = new Map<string, ShipmentRecord>();
  private readonly byTracking = new Map<string, ShipmentRecord>();
  private readonly byReference = new Map<string, ShipmentRecord[]>();

  constructor(readonly dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.file = path.join(dataDir, 'shipments.jsonl');
    this.fd = openSync(this.file, 'a+');
    this.refresh();
  }

  /** Read the lines appended since the last read (by this or another process). */
  refresh(): void {
    const size = fstatSync(this.fd).size;
    if (size <= this.offset) return;
    const buf = Buffer.alloc(size - this.offset);
    let read = 0;
    while (read < buf.length) {
      const n = readSync(this.fd, buf, read, buf.length - read, this.offset + read);
      if (n === 0) break;
      read += n;
    }
    this.offset += read;
    const bytes = Buffer.concat([this.partial, buf.subarray(0, read)]);
    // A line another process is still writing has no newline yet: keep its bytes for the next read.
    const end = bytes.lastIndexOf(0x0a) + 1;
    this.partial = Buffer.from(bytes.subarray(end));
    const lines = bytes.subarray(0, end).toString('utf8').split('\n');
    for (const line of lines) {
      if (!line.trim()) continue;
      let parsed: StoreLine;
      try {
        parsed = JSON.parse(line) as StoreLine;
      } catch {
        // A torn line (a process killed mid-write before O_APPEND finished): skip it, keep the rest.
        process.stderr.write(`ups-sandbox: skipping a corrupt line in ${this.file}\n`);
        continue;
      }
      this.apply(parsed);
    }
  }

  private apply(line: StoreLine): void {
    if (line.type === 'void') {
      const rec = this.byId.get(line.shipmentId);
      if (!rec) return;
      for (const p of rec.packages) {
        if (!line.trackingNumbers || line.trackingNumbers.includes(p.trackingNumber)) p.voidedAt ??= line.at;
      }
      if (rec.packages.every((p) => p.voidedAt)) rec.voidedAt ??= line.at;
      return;
    }
    const { type: _type, ...rec } = line;
    this.byId.set(rec.shipmentId, rec);
    for (const p of rec.packages) this.byTracking.set(p.trackingNumber, rec);
    const refs = new Set([...rec.references, ...(rec.customerContext ? [rec.customerContext] : [])]);
    for (const ref of refs) {
      const list = this.byReference.get(ref) ?? [];
      list.push(rec);
      this.byReference.set(ref, list);
    }
  }

  private append(line: StoreLine): void {
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
  }

  /** Record a new shipment durably before it is reported to the caller. */
  add(rec: ShipmentRecord): void {
    this.refresh();
    this.append({ type: 'shipment', ...rec });
    this.refresh();
  }

  /** Void some packages of a shipment (all when `trackingNumbers` is omitted). */
  markVoided(shipmentId: string, at: string, trackingNumbers?: string[]): void {
    this.refresh();
    this.append({ type: 'void', shipmentId, at, ...(trackingNumbers ? { trackingNumbers } : {}) });
    this.refresh();
  }

  /** Taken by any shipment, landed or still being made (a tracking number is never reused). */
  hasTrackingNumber(trackingNumber: string): boolean {
    this.refresh();
    return this.byTracking.has(trackingNumber);
  }

  findById(shipmentId: string): ShipmentRecord | undefined {
    this.refresh();
    return landed(this.byId.get(shipmentId));
  }

  findByTracking(trackingNumber: string): ShipmentRecord | undefined {
    this.refresh();
    return landed(this.byTracking.get(trackingNumber));
  }

  /** Shipments carrying `reference` (package reference or customer context), oldest first. */
  findByReference(reference: string, shipperNumber?: string): ShipmentRecord[] {
    this.refresh();
    const list = this.byReference.get(reference) ?? [];
    return list
      .filter((r) => landed(r) && (!shipperNumber || r.shipperNumber === shipperNumber))
      .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  }

  /** Every shipment UPS has made so far; with `pending`, also those it is still making (slow creates). */
  all({ pending = false }: { pending?: boolean } = {}): ShipmentRecord[] {
    this.refresh();
    return [...this.byId.values()].filter((r) => pending || landed(r));
  }

  close(): void {
    closeSync(this.fd);
    this.fd = -1;
  }
}

/** `rec` if UPS has made it by now (a slow create is recorded before it lands). */
function landed(rec: ShipmentRecord | undefined): ShipmentRecord | undefined {
  return rec && Date.parse(rec.createdAt) <= Date.now() ? rec : undefined;
}

/** Every shipment recorded in a sandbox data dir (for tests and tools outside the server). */
export function readShipments(dataDir: string, opts: { pending?: boolean } = {}): ShipmentRecord[] {
  if (!existsSync(path.join(dataDir, 'shipments.jsonl'))) return [];
  const store = new ShipmentStore(dataDir);
  try {
    return store.all(opts);
  } finally {
    store.close();
  }
}
