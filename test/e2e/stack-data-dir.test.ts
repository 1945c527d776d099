/**
 * The data dir holds what other users must not read or plant (the database, Temporal's history, logs,
 * dev.json): the stack makes it private (0700), refuses one that is shared or belongs to another user,
 * writes no world-readable copy of the database URL, and never follows a link planted as a log file.
 * The stack here uses the harness's Temporal and PostgreSQL, so only the data dir handling runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../temporal.config';
import { startStack } from '../../stack/stack';
import { startProcess } from '../../stack/processes';
import { StartupError, describeStartupError } from '../../stack/errors';

const isRoot = process.getuid?.() === 0;
const OTHER_UID = 65534;

/** The harness's services (nothing embedded is started), with `dataDir` as the data dir. */
function externalConfig(dataDir: string) {
  const config = loadConfig(process.env);
  assert.ok(!config.temporal.embedded && !config.database.embedded, 'run through `npm test`');
  return { ...config, dataDir };
}

const modeOf = async (p: string) => (await stat(p)).mode & 0o7777;

test('the data dir is made private (0700); no stack.json with the database URL, a leftover one removed', async () => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-datadir-'));
  try {
    const fresh = path.join(home, 'fresh', '.data');
    const stack = await startStack(externalConfig(fresh));
    await stack.stop();
    assert.equal(await modeOf(fresh), 0o700, 'a new data dir is 0700');

    // A data dir made by an earlier version: world-readable, with the URL in a 0644 stack.json.
    const old = path.join(home, 'old');
    await mkdir(old, { mode: 0o755 });
    await chmod(old, 0o755);
    await writeFile(path.join(old, 'stack.json'), '{"databaseUrl": "postgres://u:pw@h/db"}', { mode: 0o644 });
    const again = await startStack(externalConfig(old));
    await again.stop();
    assert.equal(await modeOf(old), 0o700, 'an existing data dir is made 0700');
    await assert.rejects(stat(path.join(old, 'stack.json')), /ENOENT/, 'the leftover stack.json is removed');
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

/** What starting the stack on `dataDir` throws (a stack that starts is stopped again: undefined). */
async function startError(dataDir: string): Promise<unknown> {
  return startStack(externalConfig(dataDir)).then(
    async (s) => {
      await s.stop();
      return undefined;
    },
    (e: unknown) => e,
  );
}

test('a directory everyone can write (like /tmp) is refused as the data dir, and left as it was', async () => {
  const shared = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-shared-'));
  await chmod(shared, 0o1777);
  try {
    const err = await startError(shared);
    assert.ok(err instanceof StartupError, `refused: ${String(err)}`);
    assert.match(
      describeStartupError(err),
      new RegExp(`^the data directory ${shared} is writable by other users.*Fix: .*SHIPBATCH_DATA_DIR`),
    );
    assert.equal(await modeOf(shared), 0o1777, 'its mode is unchanged');
  } finally {
    await rm(shared, { recursive: true, force: true });
  }
});

test(
  'a data dir that belongs to another user is refused, and left as it was',
  { skip: !isRoot && 'chown needs root' },
  async () => {
    const theirs = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-theirs-'));
    await chmod(theirs, 0o755);
    await chown(theirs, OTHER_UID, OTHER_UID);
    try {
      const err = await startError(theirs);
      assert.ok(err instanceof StartupError, `refused: ${String(err)}`);
      assert.match(
        describeStartupError(err),
        new RegExp(`^the data directory ${theirs} belongs to uid ${OTHER_UID}.*Fix: .*SHIPBATCH_DATA_DIR`),
      );
      const st = await stat(theirs);
      assert.deepEqual([st.uid, st.mode & 0o7777], [OTHER_UID, 0o755], 'owner and mode unchanged');
    } finally {
      await rm(theirs, { recursive: true, force: true });
    }
  },
);

test('a link planted as a log file is not followed: the process is not started, the target untouched', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-logs-'));
  try {
    const logDir = path.join(dir, 'logs');
    await mkdir(logDir);
    const target = path.join(dir, 'precious.txt');
    await writeFile(target, 'precious\n');
    await symlink(target, path.join(logDir, 'echo.log'));
    await assert.rejects(
      startProcess('echo', process.execPath, ['-e', 'console.log("overwritten")'], { logDir }),
      /echo\.log/,
    );
    assert.equal(await readFile(target, 'utf8'), 'precious\n');

    // An ordinary log: private to this user.
    const proc = await startProcess('quiet', process.execPath, ['-e', 'console.log("hello")'], { logDir });
    await proc.exited;
    assert.equal(await modeOf(proc.logFile), 0o600);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
