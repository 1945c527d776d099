/**
 * The sandbox's call log: one JSON line per tool call, appended by every sandbox process sharing the
 * data dir. Tests and benchmarks read it to count calls per tool and per reference; with the shipment
 * store it is the duplicate detector of the chaos tests (more than one create_shipment that produced a
 * shipment for one reference = a duplicate).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readShipments } from './store';

export interface CallLogEntry {
  at: string;
  pid: number;
  tool: string;
  /** The row reference the call was about (package reference / customer context), when it had one. */
  reference?: string;
  /** ok: answered; error: answered with isError; fault: an injected fault; hang: never answered. */
  outcome: 'ok' | 'error' | 'fault' | 'hang';
  /** UPS or MCP error code of an error or fault. */
  code?: string;
  /** Tracking numbers of a shipment created by this call. */
  trackingNumbers?: string[];
  /** How long serving took, including any latency and `slowMs`. */
  ms: number;
  /** The delay of an injected `slow` fault (the call was then served normally). */
  slowMs?: number;
}

export const CALL_LOG_FILE = 'calls.jsonl';

export class CallLog {
  readonly file: string;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.file = path.join(dataDir, CALL_LOG_FILE);
  }

  record(entry: CallLogEntry): void {
    appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
  }
}

/** Every call logged in a sandbox data dir, oldest first. */
export function readCallLog(dataDir: string): CallLogEntry[] {
  const file = path.join(dataDir, CALL_LOG_FILE);
  if (!existsSync(file)) return [];
  const entries: CallLogEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      entries.push(JSON.parse(line) as CallLogEntry);
    } catch {
      // a line still being written, or torn by a killed process: not a call we can count
    }
  }
  return entries;
}

/** How many calls of `tool` each reference received (whatever their outcome). */
export function callsPerReference(dataDir: string, tool = 'create_shipment'): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of readCallLog(dataDir)) {
    if (e.tool === tool && e.reference) counts.set(e.reference, (counts.get(e.reference) ?? 0) + 1);
  }
  return counts;
}

/**
 * How many shipments the sandbox holds for each reference: any count above 1 is a duplicate. Creates
 * UPS is still making (slow ones whose caller may have gone) count: they will land.
 */
export function shipmentsPerReference(dataDir: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const rec of readShipments(dataDir, { pending: true })) {
    const ref = rec.customerContext ?? rec.references[0];
    if (ref) counts.set(ref, (counts.get(ref) ?? 0) + 1);
  }
  return counts;
}

/**
 * How many shipments not voided the sandbox holds for each reference: any count above 1 is a
 * duplicate still live (one that was voided no longer counts). References whose shipments are all
 * voided are absent.
 */
export function liveShipmentsPerReference(dataDir: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const rec of readShipments(dataDir, { pending: true })) {
    if (rec.voidedAt) continue;
    const ref = rec.customerContext ?? rec.references[0];
    if (ref) counts.set(ref, (counts.get(ref) ?? 0) + 1);
  }
  return counts;
}
