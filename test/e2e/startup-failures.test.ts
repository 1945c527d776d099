/**
 * First run anywhere: `npm start` failing at start-up prints ONE line naming the cause and the fix (no
 * stack trace), exits non-zero and leaves nothing running; and the embedded PostgreSQL starts from a
 * data dir inside a private (mode 700, root-owned when run as root) directory — a clone under /root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startStack } from '../../stack/stack';
import { startEmbeddedPostgres } from '../../stack/embedded-postgres';
import { EMBEDDED_PG_DATABASE, EMBEDDED_PG_USER } from '../../temporal.config';
import { StartupError, describeStartupError } from '../../stack/errors';
import { freePort } from '../../stack/processes';
import { pgOnlyConfig } from '../helpers/embedded-pg';

const ROOT = path.join(import.meta.dirname, '..', '..');
const isRoot = process.getuid?.() === 0;

/** PIDs of processes whose command line mentions `needle` (ours only: the needle is a unique temp dir). */
function processesMentioning(needle: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes(needle) && !line.includes('ps -eo'))
    .map((line) => line.trim().split(/\s+/)[0]!);
}

/** A listener on 127.0.0.1:`port`, as another program holding the port would be. */
async function occupy(port: number): Promise<net.Server> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return server;
}

interface StartRun {
  code: number | null;
  output: string;
}

/** `npm start` as a user runs it (scripts/run.mjs start), against the embedded stack only. */
async function npmStart(env: Record<string, string>): Promise<StartRun> {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    SHIPBATCH_TEMPORAL_PORT: String(await freePort()),
    SHIPBATCH_TEMPORAL_UI_PORT: String(await freePort()),
    SHIPBATCH_PG_PORT: String(await freePort()),
    CI: 'true',
    ...env,
  };
  // The embedded stack is what is under test, not the harness's.
  delete childEnv.TEMPORAL_ADDRESS;
  delete childEnv.DATABASE_URL;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'run.mjs'), 'start'], {
      cwd: ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    // A start that does not fail would run until stopped: the failure must come well before this.
    const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, output });
    });
  });
}

/** The run failed with exactly one `… Fix: …` line matching `expected`, and no stack trace. */
function assertOneClearLine(run: StartRun, expected: RegExp): void {
  assert.notEqual(run.code, 0, run.output);
  assert.equal(run.code !== null, true, `killed instead of exiting:\n${run.output}`);
  const fixLines = run.output.split('\n').filter((l) => l.includes('Fix: '));
  assert.equal(fixLines.length, 1, `one line naming the fix:\n${run.output}`);
  assert.match(fixLines[0]!, expected);
  assert.doesNotMatch(run.output, /^\s+at .+[:(]/m, `no stack trace:\n${run.output}`);
  assert.doesNotMatch(run.output, /node:internal|Unhandled|EACCES/, run.output);
}

test('npm start with the Temporal port taken: one line naming the port and the fix, exit 1, nothing left', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-fail-'));
  const port = await freePort();
  const holder = await occupy(port);
  try {
    const run = await npmStart({ SHIPBATCH_DATA_DIR: dataDir, SHIPBATCH_TEMPORAL_PORT: String(port) });
    assertOneClearLine(
      run,
      new RegExp(
        `port ${port} on 127\\.0\\.0\\.1 \\(Temporal\\) is already in use\\. Fix: .*SHIPBATCH_TEMPORAL_PORT`,
      ),
    );
    assert.deepEqual(processesMentioning(dataDir), [], 'nothing of the stack is left running');
  } finally {
    holder.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('npm start with the PostgreSQL port taken: one clear line, Temporal (already up) stopped again', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-fail-'));
  const port = await freePort();
  const holder = await occupy(port);
  try {
    const run = await npmStart({ SHIPBATCH_DATA_DIR: dataDir, SHIPBATCH_PG_PORT: String(port) });
    assertOneClearLine(
      run,
      new RegExp(
        `port ${port} on 127\\.0\\.0\\.1 \\(PostgreSQL\\) is already in use\\. Fix: .*SHIPBATCH_PG_PORT`,
      ),
    );
    // The Temporal dev server had started (its SQLite file is in the data dir) and was stopped.
    assert.match(run.output, /starting the Temporal dev server/);
    await stat(path.join(dataDir, 'temporal.db'));
    assert.deepEqual(processesMentioning(dataDir), [], 'the Temporal dev server was stopped');
  } finally {
    holder.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('npm start with a data dir path blocked by a file: one line naming the path and SHIPBATCH_DATA_DIR', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-fail-'));
  const file = path.join(dir, 'not-a-dir');
  await writeFile(file, 'x');
  try {
    const run = await npmStart({ SHIPBATCH_DATA_DIR: path.join(file, 'data') });
    assertOneClearLine(
      run,
      new RegExp(
        `data directory ${file}/data is not a directory \\(a file is in the way\\)\\. Fix: .*SHIPBATCH_DATA_DIR`,
      ),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** Make `dir` unwritable for this user: chmod for a normal user; root ignores modes, so the immutable flag. */
function makeUnwritable(dir: string, on: boolean): void {
  if (isRoot) execFileSync('chattr', [on ? '+i' : '-i', dir]);
  else execFileSync('chmod', [on ? '555' : '755', dir]);
}

test('npm start with an unwritable data dir: one line naming it and SHIPBATCH_DATA_DIR', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-fail-'));
  const dataDir = path.join(dir, 'data');
  await mkdir(dataDir);
  makeUnwritable(dataDir, true);
  try {
    const run = await npmStart({ SHIPBATCH_DATA_DIR: dataDir });
    assertOneClearLine(
      run,
      new RegExp(
        `data directory ${dataDir} cannot be created, read or written by this user\\. Fix: .*SHIPBATCH_DATA_DIR`,
      ),
    );
    assert.deepEqual(processesMentioning(dataDir), []);
  } finally {
    makeUnwritable(dataDir, false);
    await rm(dir, { recursive: true, force: true });
  }
});

test('npm start with neither the Temporal CLI nor Go: one line saying what to install', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-fail-'));
  const emptyBin = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-path-'));
  try {
    const run = await npmStart({
      SHIPBATCH_DATA_DIR: dataDir,
      SHIPBATCH_CACHE_DIR: path.join(dataDir, 'cache'),
      PATH: emptyBin, // no `temporal`, no `go`
    });
    assertOneClearLine(
      run,
      /the Temporal CLI is not on PATH and Go is not installed to build it\. Fix: install Go .*TEMPORAL_ADDRESS/,
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
    await rm(emptyBin, { recursive: true, force: true });
  }
});

test('a pg directory that is not a PostgreSQL cluster is refused by name, and left untouched', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-fail-'));
  await mkdir(path.join(dataDir, 'pg'));
  await writeFile(path.join(dataDir, 'pg', 'notes.txt'), 'mine');
  try {
    const err = await startStack(await pgOnlyConfig(dataDir)).then(
      async (stack) => {
        await stack.stop();
        assert.fail('the stack started over a foreign directory');
      },
      (e: unknown) => e,
    );
    assert.ok(err instanceof StartupError, String(err));
    assert.match(
      describeStartupError(err),
      new RegExp(`^${dataDir}/pg is not empty but holds no PostgreSQL database \\(no PG_VERSION\\)\\. Fix: `),
    );
    assert.equal(await readFile(path.join(dataDir, 'pg', 'notes.txt'), 'utf8'), 'mine');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('embedded PostgreSQL starts from a data dir inside a private (0700) directory, keeps its data, forgets it when wiped', async () => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-home-'));
  await chmod(home, 0o700); // as /root is: the `postgres` user cannot enter it
  const dataDir = path.join(home, 'clone', '.data');
  const config = await pgOnlyConfig(dataDir);
  let postgresDir: string | undefined;
  try {
    const first = await startStack(config);
    postgresDir = first.postgresDir;
    assert.ok(postgresDir);
    try {
      const client = new pg.Client({ connectionString: first.databaseUrl });
      await client.connect();
      try {
        await client.query('CREATE TABLE survives_restart (n int)');
        await client.query('INSERT INTO survives_restart VALUES (42)');
      } finally {
        await client.end();
      }
    } finally {
      await first.stop();
    }
    if (isRoot) {
      // The `postgres` user cannot enter `home`: the cluster lives outside it, linked from the data dir.
      assert.ok(!postgresDir.startsWith(home), postgresDir);
      assert.ok((await lstat(path.join(dataDir, 'pg'))).isSymbolicLink());
      assert.equal(
        (await stat(postgresDir)).uid,
        Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
      );
    }
    assert.deepEqual(processesMentioning(postgresDir), [], 'PostgreSQL stopped');

    const second = await startStack(config);
    try {
      assert.equal(second.postgresDir, postgresDir, 'the same cluster is found again');
      const client = new pg.Client({ connectionString: second.databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: number }>('SELECT n FROM survives_restart');
        assert.deepEqual(rows, [{ n: 42 }]);
      } finally {
        await client.end();
      }
    } finally {
      await second.stop();
    }

    // A wiped data dir (its link gone with it) starts afresh: the old database is not resurrected next
    // to a new Temporal database.
    await rm(dataDir, { recursive: true, force: true });
    const third = await startStack(config);
    try {
      assert.equal(third.postgresDir, postgresDir);
      const client = new pg.Client({ connectionString: third.databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query("SELECT to_regclass('survives_restart') AS t");
        assert.deepEqual(rows, [{ t: null }]);
      } finally {
        await client.end();
      }
    } finally {
      await third.stop();
    }
  } finally {
    if (postgresDir && !postgresDir.startsWith(home)) await rm(postgresDir, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  }
});

test('a cluster made inside the data dir before it was private is moved out (as root), with its data and password', async () => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-inplace-'));
  const dataDir = path.join(home, '.data');
  let postgresDir: string | undefined;
  try {
    // As an earlier version left it: a data dir the `postgres` user could enter, the cluster in it.
    await chmod(home, 0o755);
    await mkdir(dataDir, { mode: 0o755 });
    await chmod(dataDir, 0o755);
    const before = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'pg'),
      port: await freePort(),
      user: EMBEDDED_PG_USER,
      database: EMBEDDED_PG_DATABASE,
      logDir: path.join(dataDir, 'logs'),
      log: () => undefined,
    });
    try {
      assert.equal(before.clusterDir, path.join(dataDir, 'pg'), 'made in place');
      const client = new pg.Client({ connectionString: before.url });
      await client.connect();
      await client.query('CREATE TABLE made_in_place (n int); INSERT INTO made_in_place VALUES (5)');
      await client.end();
    } finally {
      await before.stop();
    }

    // The stack makes the data dir private: as root the cluster moves out of it, linked from it.
    const stack = await startStack(await pgOnlyConfig(dataDir));
    postgresDir = stack.postgresDir;
    try {
      assert.equal((await stat(dataDir)).mode & 0o777, 0o700, 'the data dir is private');
      if (isRoot) {
        assert.ok(!postgresDir!.startsWith(home), postgresDir);
        assert.ok((await lstat(path.join(dataDir, 'pg'))).isSymbolicLink());
      }
      assert.equal(new URL(stack.databaseUrl).password, new URL(before.url).password, 'the same password');
      const client = new pg.Client({ connectionString: stack.databaseUrl });
      await client.connect();
      try {
        assert.deepEqual((await client.query('SELECT n FROM made_in_place')).rows, [{ n: 5 }]);
      } finally {
        await client.end();
      }
    } finally {
      await stack.stop();
    }
  } finally {
    if (postgresDir && !postgresDir.startsWith(home)) await rm(postgresDir, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  }
});

test('describeStartupError: one line for every error, the StartupError as is, errno errors with a fix', () => {
  const named = new StartupError('port 1 is\nin use', 'pick another');
  assert.equal(describeStartupError(named), 'port 1 is in use. Fix: pick another');
  assert.equal(describeStartupError(new Error('wrapped', { cause: named })), named.message);
  const eacces = Object.assign(new Error('spawn /x/initdb EACCES\n    at foo (bar.js:1:1)'), {
    code: 'EACCES',
    path: '/x/initdb',
  });
  assert.match(describeStartupError(eacces), /^no permission to use \/x\/initdb\. Fix: /);
  const plain = describeStartupError(new Error('first line\n    at frame (file.js:1:2)'));
  assert.equal(plain, 'first line');
  assert.equal(describeStartupError('a string'), 'a string');
  assert.equal(describeStartupError(new Error('x'.repeat(1000))).length, 400);
});
