import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../stack/processes';

const WORKER = path.join(import.meta.dirname, '..', '..', 'workers', 'main.ts');

interface Run {
  code: number | null;
  stderr: string;
}

/** Run the worker entry as a user would, optionally sending `signal` once it says it is polling. */
function runWorker(env: Record<string, string>, signal?: NodeJS.Signals): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let signalled = false;
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (signal && !signalled && stderr.includes('worker: polling task queue')) {
        signalled = true;
        child.kill(signal);
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stderr });
    });
  });
}

test('the worker exits 1 naming Temporal when the server is unreachable', async () => {
  const port = await freePort();
  const run = await runWorker({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
  assert.equal(run.code, 1);
  assert.match(run.stderr, new RegExp(`Temporal at 127\\.0\\.0\\.1:${port} is unreachable`));
});

test('the worker exits 1 naming PostgreSQL (not its password) when the database is unreachable', async () => {
  const port = await freePort();
  const run = await runWorker({ DATABASE_URL: `postgres://app:hunter2@127.0.0.1:${port}/orders` });
  assert.equal(run.code, 1);
  assert.match(run.stderr, new RegExp(`PostgreSQL at 127\\.0\\.0\\.1:${port}/orders is unreachable`));
  assert.ok(!run.stderr.includes('hunter2'), 'the password stays out of the message');
});

test('the worker exits 1 with the variable named on bad configuration', async () => {
  const run = await runWorker({ SHIPBATCH_WORKER_MAX_ACTIVITIES: '-3' });
  assert.equal(run.code, 1);
  // The process's own lines are JSON lines like the rest of its log.
  const fatal = run.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: string; message: string })
    .find((l) => l.level === 'ERROR');
  assert.match(
    fatal?.message ?? run.stderr,
    /^worker: invalid configuration:[\s\S]*SHIPBATCH_WORKER_MAX_ACTIVITIES="-3"/,
  );
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`the worker polls the real server and shuts down gracefully on ${signal}`, async () => {
    const run = await runWorker({ SHIPBATCH_TASK_QUEUE: `test-worker-process-${signal}` }, signal);
    assert.match(run.stderr, /worker: polling task queue test-worker-process-/);
    assert.match(run.stderr, new RegExp(`${signal} received`));
    assert.match(run.stderr, /worker: stopped/);
    assert.equal(run.code, 0);
  });
}
