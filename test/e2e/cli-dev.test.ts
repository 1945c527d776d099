/**
 * `shipbatch dev`: the embedded stack and a worker in the foreground. While it runs, other commands in
 * the same project directory find its services with no flag (its state file); Ctrl-C stops everything,
 * worker first, and removes the state file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../stack/processes';
import { removeDataDir } from '../helpers/data-dir';

const ROOT = path.join(import.meta.dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'shipbatch.js');
const run = promisify(execFile);

function processesMentioning(needle: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(needle) && !l.includes('ps -eo'));
}

test('shipbatch dev serves the stack; commands in the same directory find it; Ctrl-C leaves nothing', async () => {
  const project = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-dev-'));
  const dataDir = path.join(project, '.data');
  const [temporalPort, uiPort, pgPort] = [await freePort(), await freePort(), await freePort()];
  const devEnv: NodeJS.ProcessEnv = {
    ...process.env,
    SHIPBATCH_TEMPORAL_PORT: String(temporalPort),
    SHIPBATCH_TEMPORAL_UI_PORT: String(uiPort),
    SHIPBATCH_PG_PORT: String(pgPort),
  };
  // The embedded stack is what is under test, not the harness's; the data dir is the default `.data`.
  for (const v of [
    'TEMPORAL_ADDRESS',
    'TEMPORAL_NAMESPACE',
    'DATABASE_URL',
    'SHIPBATCH_DATA_DIR',
    'SHIPBATCH_TASK_QUEUE',
    'SHIPBATCH_METRICS_ADDRESS',
  ]) {
    delete devEnv[v];
  }
  const child = spawn(process.execPath, [BIN, 'dev'], {
    cwd: project,
    env: devEnv,
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
    assert.match(output, /Worker\s+polling task queue shipbatch \(stack check stack-check-\d+ written by /);
    // The worker's metrics are on, at 127.0.0.1:9464 or (taken) the next free port, as printed.
    const metricsUrl = /Metrics\s+(http:\/\/127\.0\.0\.1:94(?:6[4-9]|7[0-3])\/metrics)/.exec(output)?.[1];
    assert.ok(metricsUrl, output);
    const metrics = await (await fetch(metricsUrl)).text();
    assert.match(metrics, /^temporal_\w+/m, "the SDK's metrics");
    assert.match(metrics, /^shipbatch_ups_sessions 4$/m, "shipbatch's, with the default pool size");
    const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /<html/i);
    const state = JSON.parse(await readFile(path.join(dataDir, 'dev.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(state.temporalAddress, `127.0.0.1:${temporalPort}`);
    // What tells commands where to send orders is private: a 0700 data dir, a 0600 dev.json of ours,
    // and no world-readable stack.json holding the database URL.
    assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
    const devJson = await lstat(path.join(dataDir, 'dev.json'));
    assert.ok(devJson.isFile());
    assert.equal(devJson.mode & 0o777, 0o600);
    assert.equal(devJson.uid, process.getuid?.());
    assert.ok(!existsSync(path.join(dataDir, 'stack.json')), 'no stack.json');

    // Another command in the project directory with none of the ports set: it finds dev's services.
    const plainEnv = { ...devEnv };
    delete plainEnv.SHIPBATCH_TEMPORAL_PORT;
    delete plainEnv.SHIPBATCH_PG_PORT;
    await run(
      process.execPath,
      [BIN, 'import', path.join(ROOT, 'examples', 'orders.csv'), '--table', 'orders'],
      {
        cwd: project,
        env: plainEnv,
      },
    );
    const list = await run(process.execPath, [BIN, 'list', '--json'], { cwd: project, env: plainEnv });
    assert.ok(Array.isArray(JSON.parse(list.stdout)));
    // A second dev in the same directory is refused with the reason.
    const second = await run(process.execPath, [BIN, 'dev'], { cwd: project, env: devEnv }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal((second as { code: number }).code, 1);
    assert.match((second as { stderr: string }).stderr, /shipbatch dev already runs in this directory/);

    child.kill('SIGINT');
    assert.equal(await exited, 0, output);
    assert.match(output, /shipbatch: stopped/);
    assert.ok(!existsSync(path.join(dataDir, 'dev.json')), 'the state file is removed');
    assert.deepEqual(processesMentioning(project), [], 'no process of the stack is left running');
    assert.match(
      await readFile(path.join(dataDir, 'logs', 'worker.log'), 'utf8'),
      /SIGTERM received[\s\S]*worker: stopped/,
    );
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await removeDataDir(dataDir);
    await rm(project, { recursive: true, force: true });
  }
});

/** A TCP listener standing in for someone else's Temporal or PostgreSQL: counts connections, serves none. */
async function standIn(): Promise<{ port: number; connections: () => number; close: () => void }> {
  let n = 0;
  const server = net.createServer((socket) => {
    n++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => n,
    close: () => server.close(),
  };
}

test('a dev.json naming a process that is not a shipbatch dev (pid 1) redirects nothing: import and worker ignore it, with a warning', async () => {
  const project = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-planted-'));
  const dataDir = path.join(project, '.data');
  await mkdir(dataDir, { mode: 0o700 });
  const [temporal, postgres] = [await standIn(), await standIn()];
  const password = 'planted-password';
  const devJson = path.join(dataDir, 'dev.json');
  await writeFile(
    devJson,
    JSON.stringify({
      pid: 1, // always alive; EPERM to a user, init to root
      temporalAddress: `127.0.0.1:${temporal.port}`,
      namespace: 'default',
      databaseUrl: `postgres://orders:${password}@127.0.0.1:${postgres.port}/orders`,
      dataDir,
      startedAt: new Date().toISOString(),
    }),
    { mode: 0o600 },
  );
  // No service named: commands would take them from dev.json. The embedded defaults point at closed ports.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SHIPBATCH_TEMPORAL_PORT: String(await freePort()),
    SHIPBATCH_PG_PORT: String(await freePort()),
  };
  for (const v of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'DATABASE_URL', 'SHIPBATCH_DATA_DIR'])
    delete env[v];
  try {
    const imported = await run(
      process.execPath,
      [BIN, 'import', path.join(ROOT, 'examples', 'orders.csv'), '--table', 'orders'],
      { cwd: project, env },
    ).catch((e: { code: number; stderr: string }) => e);
    assert.equal((imported as { code?: number }).code, 1, 'import fails: no PostgreSQL of ours runs');
    const importErr = (imported as { stderr: string }).stderr;
    assert.match(
      importErr,
      new RegExp(
        `warning: ignoring ${devJson}: its process 1 (is not a \`shipbatch dev\`|belongs to another user)`,
      ),
    );
    assert.ok(!importErr.includes(password), 'the planted database URL is never printed');

    // The worker (which holds the UPS credentials) takes no orders from the planted services either.
    const worker = spawn(process.execPath, [BIN, 'worker'], {
      cwd: project,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let workerOut = '';
    worker.stdout.on('data', (c: Buffer) => (workerOut += c.toString()));
    worker.stderr.on('data', (c: Buffer) => (workerOut += c.toString()));
    const killer = setTimeout(() => worker.kill('SIGTERM'), 60_000);
    const workerCode = await new Promise<number | null>((resolve) => worker.on('exit', (c) => resolve(c)));
    clearTimeout(killer);
    assert.equal(workerCode, 1, workerOut);
    assert.match(workerOut, new RegExp(`warning: ignoring ${devJson}`));
    assert.ok(!workerOut.includes(password));

    assert.equal(postgres.connections(), 0, 'nothing connected to the planted PostgreSQL');
    assert.equal(temporal.connections(), 0, 'nothing connected to the planted Temporal');
  } finally {
    temporal.close();
    postgres.close();
    await rm(project, { recursive: true, force: true });
  }
});
