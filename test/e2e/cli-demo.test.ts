/**
 * `npm start` is the demo: on a fresh data dir, unattended (CI=true, no TTY), it brings the embedded stack
 * up, imports examples/orders.csv, previews, approves, ships, writes labels + results under
 * <data dir>/out/, prints the batch's Web UI link, exits 0 and leaves nothing running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort, isPortOpen } from '../../stack/processes';
import { readLabelPages } from '../../client/labels';
import { removeDataDir } from '../helpers/data-dir';

const ROOT = path.join(import.meta.dirname, '..', '..');

/** `npm start` (scripts/run.mjs start) with `env`: its exit code and its output; SIGTERM after `killAfterMs`. */
async function npmStart(
  env: NodeJS.ProcessEnv,
  killAfterMs?: number,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'run.mjs'), 'start'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const killer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), killAfterMs);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(killer);
  return { code, output };
}

function processesMentioning(needle: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(needle) && !l.includes('ps -eo'));
}

test('CI=true npm start runs the whole demo unattended, exits 0 and leaves nothing running', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-demo-'));
  const uiPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CI: 'true',
    SHIPBATCH_DATA_DIR: dataDir,
    SHIPBATCH_TEMPORAL_PORT: String(await freePort()),
    SHIPBATCH_TEMPORAL_UI_PORT: String(uiPort),
    SHIPBATCH_PG_PORT: String(await freePort()),
  };
  // The embedded stack is part of what is under test, not the harness's.
  delete env.TEMPORAL_ADDRESS;
  delete env.TEMPORAL_NAMESPACE;
  delete env.DATABASE_URL;
  delete env.SHIPBATCH_TASK_QUEUE;
  try {
    const { code, output } = await npmStart(env);
    assert.equal(code, 0, output);

    assert.match(
      output,
      /== Preview[\s\S]*Row\s+Recipient\s+City\/State[\s\S]*Total estimate: \$[\d,]+\.\d\d for 196 rows/,
    );
    assert.match(output, /approved by demo \(auto-approved\)/);
    assert.match(output, /completed_with_errors: 196 shipped, 0 failed, 4 invalid/);
    // One UPS pickup for the batch: its charge in the preview, its PRN once shipped.
    assert.match(output, /Pickup: +\d{4}-\d{2}-\d{2} 09:00-17:00, UPS charge \$\d+\.\d\d/);
    assert.match(
      output,
      /pickup +scheduled, PRN [0-9A-Z]{11}, \d{4}-\d{2}-\d{2} 09:00-17:00, 196 packages, [\d.]+ lbs, \$\d+\.\d\d/,
    );
    const link = new RegExp(
      `Web UI   http://127\\.0\\.0\\.1:${uiPort}/namespaces/default/workflows/(batch-demo-[0-9-]+)`,
    );
    assert.match(output, link);
    const batchId = link.exec(output)![1]!;

    const out = path.join(dataDir, 'out');
    assert.deepEqual((await readdir(out)).sort(), [`${batchId}-labels.pdf`, `${batchId}-results.csv`]);
    const pages = await readLabelPages(await readFile(path.join(out, `${batchId}-labels.pdf`)));
    assert.equal(pages.length, 196, 'one label page per shipped row');
    assert.ok(pages.every((p) => p.image && p.image.width === 812 && p.image.height === 1218));
    const csv = (await readFile(path.join(out, `${batchId}-results.csv`), 'utf8')).trim().split('\r\n');
    assert.equal(csv.length, 201);
    assert.equal(csv.filter((l) => /^\d+,shipped,1Z/.test(l)).length, 196);

    assert.match(output, /shipbatch: stopped\n?$/);
    assert.deepEqual(processesMentioning(dataDir), [], 'no process of the demo is left running');
  } finally {
    await removeDataDir(dataDir);
  }
});

test('npm start with a UPS server other than the sandbox stops before starting anything, naming the variable', async () => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-demo-real-'));
  const dataDir = path.join(home, 'data');
  // Stand-ins for a real UPS server: an HTTP one that records every request, a stdio one that records
  // being started. The demo must reach neither.
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const upsUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/mcp`;
  const started = path.join(home, 'ups-server-started');
  const transports: [string, Record<string, string>][] = [
    ['http', { SHIPBATCH_UPS_URL: upsUrl }],
    [
      'stdio',
      {
        SHIPBATCH_UPS_COMMAND: process.execPath,
        SHIPBATCH_UPS_ARGS: JSON.stringify([
          '-e',
          `require('fs').writeFileSync(${JSON.stringify(started)}, '')`,
        ]),
      },
    ],
  ];
  try {
    for (const [transport, vars] of transports) {
      const temporalPort = await freePort();
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        CI: 'true',
        SHIPBATCH_DATA_DIR: dataDir,
        SHIPBATCH_TEMPORAL_PORT: String(temporalPort),
        SHIPBATCH_TEMPORAL_UI_PORT: String(await freePort()),
        SHIPBATCH_PG_PORT: String(await freePort()),
        SHIPBATCH_UPS_TRANSPORT: transport,
        ...vars,
      };
      delete env.TEMPORAL_ADDRESS;
      delete env.TEMPORAL_NAMESPACE;
      delete env.DATABASE_URL;
      // A demo that does start would run on (UPS does not answer): it must stop long before this. SIGTERM
      // lets a demo that did start stop what it started.
      const { code, output } = await npmStart(env, 90_000);
      assert.equal(code, 2, `${transport}: ${output}`);
      assert.match(output, new RegExp(`SHIPBATCH_UPS_TRANSPORT=${transport}`), output);
      assert.match(output, /only against the UPS sandbox/, output);
      assert.doesNotMatch(output, /== Starting/, 'not even the first step is announced');
      assert.ok(!existsSync(dataDir), `${transport}: no data dir was made`);
      assert.equal(await isPortOpen(temporalPort), false, `${transport}: no Temporal was started`);
      assert.deepEqual(requests, [], `${transport}: the HTTP UPS server was never called`);
      assert.ok(!existsSync(started), `${transport}: the stdio UPS server was never started`);
      assert.deepEqual(processesMentioning(dataDir), []);
    }
  } finally {
    server.close();
    await rm(home, { recursive: true, force: true });
  }
});
