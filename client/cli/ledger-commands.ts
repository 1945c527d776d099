/**
 * What the CLI reads from the ledger: `rows` (a table, `--json`, `--ndjson` or `--csv`, streamed), the rows CSV
 * as a file (the demo's results.csv) and `labels` (PDF or ZPL files).
 */
import { once } from 'node:events';
import type { WriteStream } from 'node:fs';
import path from 'node:path';
import { formatCents } from '../../domain/money';
import type { ShipbatchClient } from '../batches';
import { batchRowStream, type BatchRow } from '../ledger';
import { checkOutputPath, OutputFiles } from '../output-file';
import { ChunkedWriter, printJson, say, type Io } from './io';
import { csvLine, formatMoney, jsonArrayEnd, jsonArrayItem, TableLayout } from './output';
import { withClient, withLedger } from './sessions';

/**
 * The CSV of `rows --csv` and the demo's results.csv: the header, then one line per row (cost in units of the
 * currency, two decimals). Returns the number of rows.
 */
async function putRowsCsv(
  rows: AsyncIterable<BatchRow>,
  put: (text: string) => Promise<void>,
): Promise<number> {
  await put(csvLine(['row', 'status', 'tracking_number', 'cost', 'currency', 'error']));
  let n = 0;
  for await (const r of rows) {
    await put(
      csvLine([
        r.rowNo,
        r.status,
        r.trackingNumbers.join(' '),
        r.costCents === null ? '' : formatCents(r.costCents),
        r.currency ?? '',
        r.error ?? '',
      ]),
    );
    n++;
  }
  return n;
}

function rowsTableCells(r: BatchRow): unknown[] {
  const extras = r.extraShipments.map(
    (e) =>
      `extra shipment ${e.trackingNumbers.join(' ') || e.shipmentId} ${e.status === 'voided' ? 'voided' : `NOT voided${e.voidError ? `: ${e.voidError}` : ''}`}`,
  );
  return [
    r.rowNo,
    r.status,
    r.trackingNumbers.join(' '),
    r.costCents === null
      ? ''
      : `${formatMoney(r.costCents, r.currency ?? 'USD')}${r.costEstimated ? ' (est.)' : ''}`,
    [r.error, ...extras].filter(Boolean).join('; '),
  ];
}

/**
 * `rows ID`: the ledger's rows, streamed a page of 1,000 at a time whatever the format, written with
 * backpressure (memory does not grow with the batch): `--json` one array (the same bytes as the array
 * printed whole), `--ndjson` one object per line, `--csv` RFC 4180 lines, else a table (two passes: the
 * column widths, then the lines).
 */
export async function rowsCommand(
  id: string,
  f: { status?: string; csv?: boolean; json?: boolean; ndjson?: boolean },
  io: Io,
): Promise<number> {
  return withLedger(async (pool) => {
    const out = new ChunkedWriter(io);
    const rows = () => batchRowStream(pool, id, { status: f.status });
    if (f.csv) {
      await putRowsCsv(rows(), (text) => out.put(text));
    } else if (f.ndjson) {
      for await (const r of rows()) await out.put(`${JSON.stringify(r)}\n`);
    } else if (f.json) {
      let n = 0;
      for await (const r of rows()) await out.put(jsonArrayItem(r, n++));
      await out.put(`${jsonArrayEnd(n)}\n`);
    } else {
      const layout = new TableLayout(['Row', 'Status', 'Tracking', 'Cost', 'Error'], [0, 3]);
      let n = 0;
      for await (const r of rows()) {
        layout.measure(rowsTableCells(r));
        n++;
      }
      if (n === 0) await out.put('no rows\n');
      else {
        await out.put(`${layout.head()}\n`);
        for await (const r of rows()) await out.put(`${layout.line(rowsTableCells(r))}\n`);
      }
    }
    await out.flush();
    return 0;
  });
}

/**
 * Write the rows CSV to a new file (the demo's results.csv): refused if anything is at that path (a link
 * included, never followed); the file appears only once complete.
 */
export async function writeRowsCsv(c: ShipbatchClient, id: string, file: string): Promise<number> {
  const files = new OutputFiles();
  let stream: WriteStream | undefined;
  try {
    const out = (stream = await files.stream(file));
    const n = await putRowsCsv(c.allBatchRows(id), async (text) => {
      if (!out.write(text)) await once(out, 'drain');
    });
    out.end();
    await once(out, 'close');
    await files.commit();
    return n;
  } finally {
    stream?.destroy();
    await files.discard();
  }
}

export async function labelsCommand(
  id: string,
  f: { out: string; format?: 'pdf' | 'zpl'; split?: number; force?: boolean; json?: boolean },
  io: Io,
): Promise<number> {
  const { writeLabels, partFile } = await import('../labels');
  const out = path.resolve(f.out);
  // A taken path is refused before connecting (writeLabels checks again, and every part as it places it).
  await checkOutputPath(partFile(out, 1, (f.split ?? 0) > 0), {
    force: f.force,
    fix: 'choose another --out, or add --force to replace it',
  });
  return withClient(async (c) => {
    const res = await writeLabels(c.batchLabels(id), {
      out,
      format: f.format,
      split: f.split,
      force: f.force,
    });
    if (f.json) printJson(io, { batchId: id, ...res });
    else if (res.labels === 0) say(io, `${id}: no labels yet (no shipped rows); nothing written`);
    else say(io, `${id}: ${res.labels} labels written to ${res.files.join(', ')}`);
    return res.labels === 0 ? 1 : 0;
  });
}
