/**
 * The rows CSV (`rows --csv`, the demo's results.csv) written to a file: the header, a line a row, the cost in
 * units of the currency with two decimals (exact, from integer cents), hostile text neutralised.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ShipbatchClient } from '../../client/batches';
import type { BatchRow } from '../../client/ledger';
import { writeRowsCsv } from '../../client/cli/ledger-commands';

function row(rowNo: number, r: Partial<BatchRow>): BatchRow {
  return {
    rowNo,
    sourceKey: String(rowNo),
    status: 'shipped',
    trackingNumbers: [],
    costCents: null,
    currency: null,
    errors: [],
    upsErrorCode: null,
    upsErrorMessage: null,
    reviewReason: null,
    error: null,
    costEstimated: false,
    extraShipments: [],
    ...r,
  };
}

test('results CSV: header, one line a row, exact cents, formula triggers neutralised', async () => {
  const rows = [
    row(1, { trackingNumbers: ['1Z999AA10123456784'], costCents: 123456, currency: 'USD' }),
    row(2, { trackingNumbers: ['1ZA', '1ZB'], costCents: 5, currency: 'EUR' }),
    row(3, { status: 'failed', error: '=HYPERLINK("x")' }),
    row(4, { costCents: 0, currency: 'USD' }),
  ];
  const client = {
    // Each row read as the ledger reads them: asynchronously.
    async *allBatchRows() {
      for (const r of rows) yield await Promise.resolve(r);
    },
  } as unknown as ShipbatchClient;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-csv-'));
  try {
    const file = path.join(dir, 'results.csv');
    assert.equal(await writeRowsCsv(client, 'batch-x', file), 4);
    assert.equal(
      await readFile(file, 'utf8'),
      'row,status,tracking_number,cost,currency,error\r\n' +
        '1,shipped,1Z999AA10123456784,1234.56,USD,\r\n' +
        '2,shipped,1ZA 1ZB,0.05,EUR,\r\n' +
        `3,failed,,,,"'=HYPERLINK(""x"")"\r\n` +
        '4,shipped,,0.00,USD,\r\n',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
