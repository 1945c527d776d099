import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/stack/processes';

const ROOT = path.join(import.meta.dirname, '..', '..');

/** PIDs of processes whose command line mentions `needle` (ours only: the needle is a unique temp dir). */
function processesMentioning(needle: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes(needle) && !line.includes('ps -eo'))
    .map((line) => line.trim().split(/\s+/)[0]!);
}

test('npm start serves the Web UI, a worker polls `shipbatch`, and Ctrl-C leaves nothing running', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-start-'));
  const [temporalPort, uiPort, pgPort] = [await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SHIPBATCH_DATA_DIR: dataDir,
    SHIPBATCH_TEMPORAL_PORT: String(temporalPort),
    SHIPBATCH_TEMPORAL_UI_PORT: String(uiPort),
    SHIPBATCH_PG_PORT: String(pgPort),
  };
  // The embedded stack is what is under test, not the harness's.
  delete env.TEMPORAL_ADDRESS;
  delete env.DATABASE_URL;

  const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'run.mjs'), 'start'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 120_000;
    while (!output.includes('shipbatch: ready') && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.match(output, /shipbatch: ready/, output);
    assert.match(output, new RegExp(`Temporal Web UI\\s+http://127\\.0\\.0\\.1:${uiPort}`));
    assert.match(
      output,
      /Worker\s+polling task queue shipbatch \(stack check stack-check-\d+ written by shipbatch-worker@/,
    );

    const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /<html/i);
    assert.ok(processesMentioning(dataDir).length >= 2, 'Temporal and PostgreSQL run from the data dir');

    child.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.match(output, /shipbatch: stopped/);
    assert.deepEqual(processesMentioning(dataDir), [], 'no process of the stack is left running');
    const workerLog = await readFile(path.join(dataDir, 'logs', 'worker.log'), 'utf8');
    assert.match(
      workerLog,
      /SIGTERM received[\s\S]*worker: stopped/,
      'the worker was stopped gracefully, first',
    );
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
});
