/**
 * `shipbatch/client` as a backend service gets it: the client is built (`npm run build`'s script), the
 * project packed with `npm pack`, and the tarball installed into a fresh project with nothing but
 * `npm install` — a project that approves no dependency install scripts (`ignore-scripts`), since the
 * client needs none. From there a plain `.mjs` (Node, no tsx) starts a confirm-mode batch on a table of
 * orders, approves it with its preview hash and follows it to `completed`, against a worker of this
 * test's own; a `.ts` file type-checks against the declarations under `"moduleResolution"` `node16` and
 * `bundler`, and a deliberate type error in another is caught.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type pg from 'pg';
import { openPool } from '../../db/pool';
import type { BatchPhase } from '../../domain/row-status';
import type { BatchPreview, BatchResult, BatchStatus } from '../../domain/batch';
import { batchInput, createOrdersTable, makeOrders } from '../helpers/batch';
import { processExited, startWorkerProcess } from '../helpers/worker-process';

const ROOT = path.join(import.meta.dirname, '..', '..');
const TSC = path.join(ROOT, 'node_modules', '.bin', 'tsc');
const run = promisify(execFile);
const ORDERS = 4;

interface PackedFile {
  path: string;
  size: number;
}
interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: PackedFile[];
}

let dir: string;
let app: string;
let packed: Packed;
let worker: ChildProcess;
let pool: pg.Pool;
const taskQueue = `test-client-package-${randomUUID().slice(0, 8)}`;

/** The backend service's script: only `shipbatch/client`, run by plain Node. */
const FOLLOW_MJS = `import { readFileSync } from 'node:fs';
import { approveBatch, batchResult, closeClient, FINAL_PHASES, getBatch, getPreview, startBatch } from 'shipbatch/client';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { batchId } = await startBatch(input);
let preview = null;
for (const deadline = Date.now() + 60_000; !preview && Date.now() < deadline; ) {
  preview = await getPreview(batchId).catch(() => null);
  if (!preview) await sleep(200);
}
if (!preview) throw new Error('no preview within 60 s');
const approved = await approveBatch(batchId, { previewHash: preview.previewHash, by: 'backend-service' });
const phases = [approved.phase];
let status = approved;
for (const deadline = Date.now() + 60_000; !FINAL_PHASES.has(status.phase) && Date.now() < deadline; ) {
  await sleep(200);
  status = await getBatch(batchId);
  if (phases.at(-1) !== status.phase) phases.push(status.phase);
}
const result = await batchResult(batchId);
await closeClient();
process.stdout.write(JSON.stringify({ batchId, preview, phases, status, result }));
`;

/** Uses the declarations the way a TypeScript service would; must compile. */
const GOOD_TS = `import {
  approveBatch,
  BatchRefusedError,
  ShipbatchClient,
  startBatch,
  type BatchInputArg,
  type BatchPhase,
  type BatchRow,
  type BatchStatus,
} from 'shipbatch/client';

export async function ship(input: BatchInputArg, previewHash: string): Promise<BatchPhase> {
  const { batchId } = await startBatch(input, { id: 'spring' });
  try {
    const status: BatchStatus = await approveBatch(batchId, { previewHash, by: 'ops' });
    return status.phase;
  } catch (err) {
    if (err instanceof BatchRefusedError) return 'rejected';
    throw err;
  }
}

export async function firstRow(client: ShipbatchClient, batchId: string): Promise<BatchRow | undefined> {
  const [row] = await client.batchRows(batchId, { limit: 1 });
  return row;
}
`;

/** Each line below BAD_TS's import is one deliberate type error, reported on that line. */
const BAD_TS = `import { getBatch, startBatch } from 'shipbatch/client';
const phase: number = (await getBatch('batch-x')).phase;
await startBatch({ source: { table: 42 } });
export { phase };
`;

async function tsc(project: string, ...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, [TSC, '-p', project, ...args], { cwd: app });
    return { code: 0, out: stdout };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, out: `${x.stdout ?? ''}${x.stderr ?? ''}` };
  }
}

before(async () => {
  if (!process.env.TEMPORAL_ADDRESS || !process.env.DATABASE_URL) {
    throw new Error('run through `npm test`, which starts Temporal and PostgreSQL');
  }
  dir = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-client-package-'));
  app = path.join(dir, 'service');
  // The worker starts while the package is built and installed.
  await mkdir(path.join(dir, 'ups'));
  worker = startWorkerProcess('worker', { taskQueue, sandboxDir: path.join(dir, 'ups'), knobs: {} });
  pool = await openPool({ url: process.env.DATABASE_URL, max: 2 });

  await run(process.execPath, [path.join(ROOT, 'scripts', 'run.mjs'), 'build-client'], { cwd: ROOT });
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], {
    cwd: ROOT,
    maxBuffer: 16 << 20,
  });
  [packed] = JSON.parse(stdout) as [Packed];

  const own = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  await mkdir(app);
  await writeFile(
    path.join(app, 'package.json'),
    JSON.stringify({
      name: 'backend-service',
      private: true,
      type: 'module',
      // A TypeScript service has these; @types/pg because the client's ledger API names pg's Pool.
      devDependencies: {
        '@types/node': own.devDependencies['@types/node'],
        '@types/pg': own.devDependencies['@types/pg'],
      },
    }),
  );
  await writeFile(path.join(app, '.npmrc'), 'ignore-scripts=true\n');
  await run(
    'npm',
    ['install', path.join(dir, packed.filename), '--prefer-offline', '--no-audit', '--no-fund'],
    { cwd: app, maxBuffer: 16 << 20 },
  );
});

after(async () => {
  if (worker) {
    worker.kill('SIGTERM');
    await processExited(worker);
  }
  await pool?.end();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the tarball holds the built client, the bins and their sources, and nothing of the development', () => {
  const files = new Set(packed.files.map((f) => f.path));
  for (const f of [
    'package.json',
    'README.md',
    'dist/client/index.js',
    'dist/client/index.d.ts',
    'dist/domain/batch.d.ts',
    'bin/shipbatch.js',
    'client/cli/main.ts',
    'workers/main.ts',
    'workflows/index.ts',
    'db/migrations/001_ledger.sql',
    'examples/orders.csv',
  ]) {
    assert.ok(files.has(f), `${f} is in the tarball`);
  }
  const development = packed.files.filter((f) =>
    /^(test|scripts|docs|\.ci|stack\/cluster|node_modules|\.data)\/|^(tsconfig.*|eslint\.config\.js|\.env)/.test(
      f.path,
    ),
  );
  assert.deepEqual(development, []);
  assert.ok(packed.size < 1_000_000, `tarball of ${packed.size} bytes`);
});

test('a plain .mjs imports shipbatch/client and starts, approves and follows a batch to completed', async () => {
  const table = await createOrdersTable(pool, makeOrders(ORDERS), 'client_package');
  await writeFile(
    path.join(app, 'input.json'),
    JSON.stringify(batchInput(table, { name: 'from a service' })),
  );
  await writeFile(path.join(app, 'follow.mjs'), FOLLOW_MJS);
  const { stdout } = await run(process.execPath, ['follow.mjs', 'input.json'], {
    cwd: app,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_OPTIONS: '',
      TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
      DATABASE_URL: process.env.DATABASE_URL,
      SHIPBATCH_TASK_QUEUE: taskQueue,
    },
    timeout: 150_000,
  });
  const out = JSON.parse(stdout) as {
    batchId: string;
    preview: BatchPreview;
    phases: BatchPhase[];
    status: BatchStatus;
    result: BatchResult;
  };
  assert.match(out.batchId, /^batch-/);
  assert.equal(out.preview.validRows, ORDERS);
  assert.equal(out.status.previewHash, out.preview.previewHash);
  assert.equal(out.status.approval?.by, 'backend-service');
  assert.equal(out.phases.at(-1), 'completed', `phases ${out.phases.join(' → ')}`);
  assert.equal(out.status.counts.shipped, ORDERS);
  assert.equal(out.result.phase, 'completed');
  assert.equal(out.result.counts.shipped, ORDERS);
});

test('the declarations type-check a .ts consumer (node16 and bundler) and catch a type error', async () => {
  await writeFile(path.join(app, 'good.ts'), GOOD_TS);
  await writeFile(path.join(app, 'bad.ts'), BAD_TS);
  // The good file is checked with the declarations themselves (skipLibCheck off): shipbatch's must be
  // free of errors; other packages' own declarations are theirs (@temporalio/common imports the
  // untyped `ms`), which consumers' usual skipLibCheck hides, as it does for the bad file.
  const compilerOptions = { target: 'ES2022', strict: true, noEmit: true, types: ['node'] };
  const configs = {
    node16: { module: 'node16', moduleResolution: 'node16' },
    bundler: { module: 'esnext', moduleResolution: 'bundler' },
  };
  for (const [name, resolution] of Object.entries(configs)) {
    for (const [file, skipLibCheck] of [
      ['good', false],
      ['bad', true],
    ] as const) {
      await writeFile(
        path.join(app, `tsconfig.${name}.${file}.json`),
        JSON.stringify({
          compilerOptions: { ...compilerOptions, ...resolution, skipLibCheck },
          files: [`${file}.ts`],
        }),
      );
    }
    const good = await tsc(`tsconfig.${name}.good.json`, '--listFiles');
    const lines = good.out.split('\n');
    const errors = lines.filter(
      (l) =>
        /^error /.test(l) ||
        /^(?!node_modules\/)\S+\(\d+,\d+\): error /.test(l) ||
        /^node_modules\/shipbatch\/.*: error /.test(l),
    );
    assert.deepEqual(errors, [], `${name}: good.ts and shipbatch's declarations compile:\n${good.out}`);
    // The types are the built declarations, never the TypeScript sources the bins ship with.
    const own = lines.filter((f) => f.includes('/node_modules/shipbatch/'));
    assert.ok(
      own.some((f) => f.endsWith('/node_modules/shipbatch/dist/client/index.d.ts')),
      `${name}: dist/client/index.d.ts is loaded:\n${good.out}`,
    );
    assert.deepEqual(
      own.filter((f) => !/\/node_modules\/shipbatch\/dist\/.*\.d\.ts$/.test(f)),
      [],
      `${name}: only dist/ declarations`,
    );
    const bad = await tsc(`tsconfig.${name}.bad.json`);
    assert.notEqual(bad.code, 0, `${name}: bad.ts must not compile`);
    const badLines = [...bad.out.matchAll(/^bad\.ts\((\d+),\d+\): error TS\d+/gm)].map((m) => Number(m[1]));
    assert.deepEqual([...new Set(badLines)], [2, 3], `${name}: one error on each bad line:\n${bad.out}`);
  }
});

test('the installed bins run from the tarball', async () => {
  const { stdout } = await run(path.join(app, 'node_modules', '.bin', 'shipbatch'), ['--help'], { cwd: app });
  assert.match(stdout, /^Usage: shipbatch/m);
});
