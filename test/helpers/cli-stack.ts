/**
 * What the CLI's end-to-end tests share: a data folder, the environment every `shipbatch` child gets (the test
 * stack npm test started, a task queue of its own, the sandbox with a knobs file), a `shipbatch worker` child
 * polling before the first test, the CLI run as a child process, and a client to read the batch with.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ShipbatchClient } from '../../client/batches';
import type { BatchStatus } from '../../domain/batch';
import { loadConfig } from '../../temporal.config';

export const ROOT = path.join(import.meta.dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'shipbatch.js');
const run = promisify(execFile);

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export interface CliStack {
  dir: string;
  env: NodeJS.ProcessEnv;
  client: ShipbatchClient;
  /** What the worker printed so far (for failure messages). */
  log(): string;
  /** Run the CLI in `dir`; never throws: the exit code is part of what is tested. */
  cli(...args: string[]): Promise<CliResult>;
  /** Run with `--json`, expect exit 0, parse stdout. */
  cliJson<T>(...args: string[]): Promise<T>;
  /** Poll the batch's status until `pred` holds (fails with the worker's log). */
  waitStatus(id: string, pred: (s: BatchStatus) => boolean, ms?: number): Promise<BatchStatus>;
  close(): Promise<void>;
}

/** A data folder named after `name`, a knobs file holding `knobs`, and a worker that polls. */
export async function openCliStack(name: string, knobs: object = {}): Promise<CliStack> {
  if (!process.env.TEMPORAL_ADDRESS || !process.env.DATABASE_URL) {
    throw new Error('run through `npm test`, which starts Temporal and PostgreSQL');
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), `shipbatch-${name}-`));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SHIPBATCH_TASK_QUEUE: `${name}-${randomUUID().slice(0, 8)}`,
    SHIPBATCH_DATA_DIR: path.join(dir, 'data'),
    SHIPBATCH_UPS_SANDBOX_DATA_DIR: path.join(dir, 'ups'),
    // Re-read on change: a test may slow UPS down or inject faults while the worker runs.
    UPS_SANDBOX_KNOBS_FILE: path.join(dir, 'knobs.json'),
  };
  await writeFile(path.join(dir, 'knobs.json'), JSON.stringify(knobs));
  const client = await ShipbatchClient.connect({ config: loadConfig(env) });
  let workerLog = '';
  const worker: ChildProcess = spawn(process.execPath, [BIN, 'worker'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout!.on('data', (c: Buffer) => (workerLog += c.toString()));
  worker.stderr!.on('data', (c: Buffer) => (workerLog += c.toString()));
  const deadline = Date.now() + 60_000;
  while (!(await client.workerPolling())) {
    if (Date.now() > deadline || worker.exitCode !== null)
      throw new Error(`the worker did not start:\n${workerLog}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const cli = async (...args: string[]): Promise<CliResult> => {
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
        cwd: dir,
        env,
        maxBuffer: 64 << 20,
      });
      return { code: 0, out: stdout, err: stderr };
    } catch (e) {
      const x = e as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof x.code === 'number' ? x.code : -1, out: x.stdout ?? '', err: x.stderr ?? '' };
    }
  };
  return {
    dir,
    env,
    client,
    log: () => workerLog,
    cli,
    async cliJson<T>(...args: string[]): Promise<T> {
      const r = await cli(...args, '--json');
      assert.equal(r.code, 0, `shipbatch ${args.join(' ')} --json: ${r.err}`);
      return JSON.parse(r.out) as T;
    },
    async waitStatus(id, pred, ms = 120_000) {
      const until = Date.now() + ms;
      let last: BatchStatus | undefined;
      while (Date.now() < until) {
        last = await client.getBatch(id).catch(() => last);
        if (last && pred(last)) return last;
        await new Promise((r) => setTimeout(r, 300));
      }
      throw new Error(`timed out; last status ${JSON.stringify(last)}; worker log:\n${workerLog}`);
    },
    async close() {
      worker.kill('SIGTERM');
      if (worker.exitCode === null) await new Promise((r) => worker.once('exit', r));
      await client.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
