/**
 * The library's functions (client/index.ts, docs/design.md §9): each runs the ShipbatchClient method of the
 * same name on one shared client, connected on first use; a failed connect is tried again next time, and
 * closeClient closes it.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from '../../client/index';
import { ShipbatchClient } from '../../client/batches';

/** A fake client recording each call: `name(args)` resolves to `{ name, args }`. */
function fakeClient() {
  const calls: string[] = [];
  let closed = 0;
  const method =
    (name: string) =>
    (...args: unknown[]) => {
      calls.push(name);
      return Promise.resolve({ name, args });
    };
  const client = {
    startBatch: method('startBatch'),
    getBatch: method('getBatch'),
    getPreview: method('getPreview'),
    batchResult: method('batchResult'),
    approveBatch: method('approveBatch'),
    rejectBatch: method('rejectBatch'),
    setBatchMode: method('setBatchMode'),
    cancelBatch: method('cancelBatch'),
    restartBatch: method('restartBatch'),
    resolveRow: method('resolveRow'),
    finishBatch: method('finishBatch'),
    resumeBatch: method('resumeBatch'),
    listBatches: method('listBatches'),
    batchRows: method('batchRows'),
    async *batchLabels(id: string) {
      calls.push('batchLabels');
      yield await Promise.resolve({ rowNo: 1, id });
    },
    close: () => {
      closed++;
      return Promise.resolve();
    },
  };
  return { client, calls, closed: () => closed };
}

test('library functions: each is the shared client method of the same name, with the same arguments', async () => {
  const fake = fakeClient();
  const connect = mock.method(ShipbatchClient, 'connect', () =>
    Promise.resolve(fake.client as unknown as ShipbatchClient),
  );
  try {
    const input = { source: { table: 'orders' } } as unknown as lib.BatchInputArg;
    const cases: [string, () => Promise<unknown>, unknown[]][] = [
      ['startBatch', () => lib.startBatch(input, { id: 'x' }), [input, { id: 'x' }]],
      ['getBatch', () => lib.getBatch('batch-a'), ['batch-a']],
      ['getPreview', () => lib.getPreview('batch-a'), ['batch-a']],
      ['batchResult', () => lib.batchResult('batch-a'), ['batch-a']],
      [
        'approveBatch',
        () => lib.approveBatch('batch-a', { previewHash: 'h', by: 'ops' }),
        ['batch-a', { previewHash: 'h', by: 'ops' }],
      ],
      ['rejectBatch', () => lib.rejectBatch('batch-a', { reason: 'no' }), ['batch-a', { reason: 'no' }]],
      ['setBatchMode', () => lib.setBatchMode('batch-a', 'auto'), ['batch-a', 'auto']],
      [
        'cancelBatch',
        () => lib.cancelBatch('batch-a', { voidShipped: true }),
        ['batch-a', { voidShipped: true }],
      ],
      [
        'restartBatch',
        () => lib.restartBatch('batch-a', { scope: 'failed' }),
        ['batch-a', { scope: 'failed' }],
      ],
      [
        'resolveRow',
        () => lib.resolveRow('batch-a', { row: 3, outcome: 'retry' }),
        ['batch-a', { row: 3, outcome: 'retry' }],
      ],
      ['finishBatch', () => lib.finishBatch('batch-a'), ['batch-a']],
      ['resumeBatch', () => lib.resumeBatch('batch-a', { by: 'ops' }), ['batch-a', { by: 'ops' }]],
      ['listBatches', () => lib.listBatches({ phase: 'executing' }), [{ phase: 'executing' }]],
      ['batchRows', () => lib.batchRows('batch-a', { limit: 5 }), ['batch-a', { limit: 5 }]],
    ];
    for (const [name, call, args] of cases) {
      assert.deepEqual(await call(), { name, args }, name);
    }
    const labels: unknown[] = [];
    for await (const l of lib.batchLabels('batch-a')) labels.push(l);
    assert.deepEqual(labels, [{ rowNo: 1, id: 'batch-a' }]);
    assert.deepEqual(fake.calls, [...cases.map(([name]) => name), 'batchLabels']);
    assert.equal(connect.mock.callCount(), 1, 'one shared client');
    assert.equal(await lib.defaultClient(), fake.client);

    await lib.closeClient();
    assert.equal(fake.closed(), 1);
    await lib.closeClient();
    assert.equal(fake.closed(), 1, 'closing again closes nothing');
    await lib.getBatch('batch-a');
    assert.equal(connect.mock.callCount(), 2, 'connected again after closeClient');
    await lib.closeClient();
  } finally {
    connect.mock.restore();
  }
});

test('library functions: a failed connect is not kept; the next call connects again', async () => {
  const fake = fakeClient();
  let attempts = 0;
  const connect = mock.method(ShipbatchClient, 'connect', () => {
    attempts++;
    return attempts === 1
      ? Promise.reject(new lib.ConnectionError('Temporal is unreachable'))
      : Promise.resolve(fake.client as unknown as ShipbatchClient);
  });
  try {
    await assert.rejects(lib.getBatch('batch-a'), lib.ConnectionError);
    assert.deepEqual(await lib.getBatch('batch-a'), { name: 'getBatch', args: ['batch-a'] });
    assert.equal(connect.mock.callCount(), 2);
    await lib.closeClient();
  } finally {
    connect.mock.restore();
  }
});
