/**
 * `npm run cluster` as a user meets it: hostile arguments and taken ports are one line that
 * names the problem and the fix, and leave nothing running; start is idempotent; a supervisor killed
 * with SIGKILL leaves services that the next start refuses to run beside and `stop` cleans up.
 * Run by `npm run test:cluster` (it needs the Temporal server build the cluster uses).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { isAlive, readClusterState } from '../../stack/cluster/state';

const ROOT = path.join(import.meta.dirname, '..', '..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cluster(...args: string[]): Promise<Run> {
  return clusterWithEnv(process.env, ...args);
}

function clusterWithEnv(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, 'scripts', 'run.mjs'), 'cluster', ...args],
      { cwd: ROOT, encoding: 'utf8', timeout: 240_000, env },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const freshDir = () => mkdtempSync(path.join(os.tmpdir(), 'shipbatch-cluster-cli-'));

/** The error lines a failed command printed (progress lines of the starter are not errors). */
const errorLines = (r: Run) => r.stderr.split('\n').filter((l) => l && !/supervisor pid \d+; log/.test(l));

/** No process recorded in `dir`'s state still runs. */
async function nothingRunning(dir: string): Promise<void> {
  const state = await readClusterState(dir);
  if (!state) return;
  assert.equal(isAlive(state.supervisorPid), false, 'the supervisor is gone');
  for (const [name, p] of Object.entries(state.processes))
    assert.equal(isAlive(p.pid), false, `${name} is gone`);
}

/** Remove a data dir and, when PostgreSQL's cluster was placed elsewhere (root), that too. */
function cleanUp(dir: string): void {
  try {
    rmSync(path.resolve(path.dirname(path.join(dir, 'pg')), readlinkSync(path.join(dir, 'pg'))), {
      recursive: true,
      force: true,
    });
  } catch {
    // not a link: inside dir
  }
  rmSync(dir, { recursive: true, force: true });
}

test('hostile --port values are refused before anything starts, naming the value', async () => {
  for (const [arg, expected] of [
    ['frontend=abc', /expected NAME=PORT/],
    ['frontend=70000', /a port is 1-65535/],
    ['frontend=0', /a port is 1-65535/],
    ['../../etc=1', /expected NAME=PORT/],
    ['shell=1234', /unknown port name/],
    ['frontend=1234;rm -rf /', /expected NAME=PORT/],
  ] as const) {
    const dir = freshDir();
    const r = await cluster('start', '--data-dir', dir, '--port', arg);
    assert.equal(r.code, 2, `${arg}: usage error`);
    assert.match(r.stderr, expected);
    assert.ok(r.stderr.includes(JSON.stringify(arg)), `${arg} is named`);
    assert.equal(await readClusterState(dir), undefined, 'nothing was started');
    cleanUp(dir);
  }
  for (const delay of ['-1', '5s', '1e9']) {
    const r = await cluster('start', `--restart-delay-ms=${delay}`);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`--restart-delay-ms "${delay}": expected milliseconds`));
  }
  for (const [flag, value, expected] of [
    ['--namespace', '../etc', /namespace "..\/etc": expected letters/],
    ['--namespace', 'a b', /namespace "a b": expected letters/],
    ['--version', 'v1.29.1; rm -rf /', /--version "v1.29.1; rm -rf \/": expected a release tag/],
    ['--version', 'latest', /--version "latest"/],
  ] as const) {
    const never = path.join(os.tmpdir(), `shipbatch-cluster-cli-never-${process.pid}`);
    const r = await cluster('start', '--data-dir', never, flag, value);
    assert.equal(r.code, 2, `${flag} ${value}`);
    assert.match(r.stderr, expected);
    assert.equal(existsSync(never), false, 'refused before the data dir is made');
  }
  const unknown = await cluster('reboot');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "reboot"/);
});

test('no build cached and no Go to build it: one line saying so and what to do', async () => {
  const dir = freshDir();
  try {
    const r = await clusterWithEnv(
      { ...process.env, PATH: path.dirname(process.execPath) },
      'start',
      '--data-dir',
      path.join(dir, 'data'),
      '--cache-dir',
      path.join(dir, 'cache'),
    );
    assert.equal(r.code, 1);
    assert.deepEqual(errorLines(r), [
      'cluster: Go is not installed, and the Temporal server is built from source with it. Fix: install Go ≥ 1.25 and run again (the build is cached under SHIPBATCH_CACHE_DIR), or use a Temporal cluster you already run (TEMPORAL_ADDRESS)',
    ]);
  } finally {
    cleanUp(dir);
  }
});

test('a taken port, a clash, a membership port Temporal cannot record: one line each, nothing left running', async () => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const taken = (blocker.address() as net.AddressInfo).port;
  try {
    const cases = [
      [
        ['--port', `frontend=${taken}`],
        new RegExp(
          `port ${taken} on 127\\.0\\.0\\.1 \\(the cluster's frontend port\\) is already in use\\. Fix: .*--port frontend=`,
        ),
      ],
      [
        ['--port', 'history=29001', '--port', 'matching=29001'],
        /ports clash: history and matching are both 29001/,
      ],
      [['--port', 'historyMembership=40000'], /historyMembership port 40000 is above 32767/],
    ] as const;
    for (const [args, expected] of cases) {
      const dir = freshDir();
      const r = await cluster('start', '--data-dir', dir, '--free-ports', ...args);
      assert.equal(r.code, 1, r.stderr);
      const lines = errorLines(r);
      assert.equal(lines.length, 1, `one line: ${r.stderr}`);
      assert.match(lines[0]!, expected);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      await nothingRunning(dir);
      cleanUp(dir);
    }
  } finally {
    blocker.close();
  }
});

test('start is idempotent; a supervisor killed with SIGKILL leaves services that start refuses and stop cleans up', async () => {
  const dir = freshDir();
  try {
    const first = await cluster('start', '--data-dir', dir, '--free-ports');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /cluster ready at 127\.0\.0\.1:\d+/);
    const state = (await readClusterState(dir))!;
    assert.equal(state.phase, 'ready');

    const again = await cluster('start', '--data-dir', dir);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`already running \\(supervisor pid ${state.supervisorPid}\\)`));

    const status = await cluster('status', '--data-dir', dir, '--json');
    assert.equal(status.code, 0);
    const parsed = JSON.parse(status.stdout) as {
      frontendServing: boolean;
      processes: { name: string; alive: boolean }[];
    };
    assert.equal(parsed.frontendServing, true);
    assert.deepEqual(
      parsed.processes.map((p) => `${p.name}:${p.alive}`),
      ['supervisor:true', 'postgres:true', 'history:true', 'matching:true', 'frontend:true', 'worker:true'],
    );

    const env = await cluster('env', '--data-dir', dir);
    assert.equal(env.code, 0, env.stderr);
    const shell = await new Promise<string>((resolve, reject) =>
      execFile(
        'sh',
        [
          '-c',
          'eval "$1"; sh -c \'echo "$TEMPORAL_ADDRESS|$TEMPORAL_NAMESPACE|$DATABASE_URL"\'',
          'sh',
          env.stdout,
        ],
        { encoding: 'utf8' },
        (err, out) => (err ? reject(new Error(`sh: ${err.message}`)) : resolve(out.trim())),
      ),
    );
    assert.equal(
      shell,
      `${state.frontendAddress}|${state.namespace}|${state.databaseUrl}`,
      'env exports to children',
    );

    process.kill(state.supervisorPid, 'SIGKILL');
    while (isAlive(state.supervisorPid)) await new Promise((r) => setTimeout(r, 100));
    const refused = await cluster('start', '--data-dir', dir);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /still run without their supervisor: .*postgres \(pid \d+\).*Fix: `cluster stop` stops them/,
    );

    const stopped = await cluster('stop', '--data-dir', dir);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /stopped processes left by a dead supervisor/);
    await nothingRunning(dir);
    const down = await cluster('status', '--data-dir', dir);
    assert.equal(down.code, 3, 'status exits 3 when the cluster is not running');
    assert.match(down.stdout, /not running/);
  } finally {
    await cluster('stop', '--data-dir', dir);
    cleanUp(dir);
  }
});
