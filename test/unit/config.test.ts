import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, chown, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, describeConfig, durationMs, loadConfig } from '../../temporal.config';
import { clientEnv, isDevCommandLine, readDevState, type DevState } from '../../client/config';

// Only what each test sets: never the developer's own environment.
const base = { HOME: '/home/test', TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml' };

test('defaults run the embedded stack with no configuration at all', () => {
  const config = loadConfig(base);
  assert.equal(config.taskQueue, 'shipbatch');
  assert.equal(config.temporal.address, '127.0.0.1:7233');
  assert.equal(config.temporal.embedded, true);
  assert.equal(config.temporal.namespace, 'default');
  assert.equal(config.database.embedded, true);
  assert.match(config.database.url, /^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:54329\/shipbatch$/);
  assert.equal(config.ups.transport, 'sandbox');
  assert.equal(config.ups.tools.create, 'create_shipment');
  assert.equal(config.temporal.devServer.cliVersion, 'v1.5.1');
});

test('environment variables override, Temporal through envconfig', () => {
  const config = loadConfig({
    ...base,
    TEMPORAL_ADDRESS: 'temporal.example:7233',
    TEMPORAL_NAMESPACE: 'shipping',
    TEMPORAL_API_KEY: 'secret-key',
    DATABASE_URL: 'postgres://u:p@db.example:5432/orders',
    SHIPBATCH_UPS_TRANSPORT: 'http',
    SHIPBATCH_UPS_URL: 'http://127.0.0.1:9000/mcp',
    SHIPBATCH_UPS_TOOL_CREATE: 'ups_create_shipment',
    SHIPBATCH_UPS_RECONCILE_GRACE: '500ms',
    CLIENT_SECRET: 'ups-secret',
  });
  assert.equal(config.temporal.address, 'temporal.example:7233');
  assert.equal(config.temporal.embedded, false);
  assert.equal(config.temporal.namespace, 'shipping');
  assert.equal(config.temporal.connection.apiKey, 'secret-key');
  assert.equal(config.database.embedded, false);
  assert.equal(config.ups.url, 'http://127.0.0.1:9000/mcp');
  assert.equal(config.ups.tools.create, 'ups_create_shipment');
  assert.equal(config.ups.reconcileGraceMs, 500);
  assert.equal(config.ups.recreateAfterGrace, false, 'over HTTP a doubtful row is never created blind');
  assert.equal(config.worker.shutdownGraceMs, 70_000, 'a stopping worker waits out a call (60s) and more');
  assert.equal(config.ups.env.CLIENT_SECRET, 'ups-secret', 'UPS credentials pass through to a stdio server');

  const printed = JSON.stringify(describeConfig(config));
  for (const secret of ['secret-key', 'ups-secret', ':p@'])
    assert.ok(!printed.includes(secret), `hides ${secret}`);
});

test('a bad value is an error naming the variable; all problems are reported at once', () => {
  assert.throws(
    () =>
      loadConfig({ ...base, SHIPBATCH_TEMPORAL_PORT: 'eighty', SHIPBATCH_UPS_TRANSPORT: 'carrier-pigeon' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /SHIPBATCH_TEMPORAL_PORT="eighty"/);
      assert.match(err.message, /SHIPBATCH_UPS_TRANSPORT="carrier-pigeon"/);
      return true;
    },
  );
  assert.throws(
    () => loadConfig({ ...base, DATABASE_URL: 'mysql://x' }),
    /DATABASE_URL=\(hidden\): expected a postgres/,
  );
  assert.throws(
    () => loadConfig({ ...base, UPS_ACCOUNT_NUMBER: '12345' }),
    /UPS_ACCOUNT_NUMBER=\(hidden\): a UPS shipper number has 6 characters/,
  );
  assert.throws(
    () => loadConfig({ ...base, SHIPBATCH_UPS_CALL_TIMEOUT: '10 minutes' }),
    /SHIPBATCH_UPS_CALL_TIMEOUT/,
  );
  assert.throws(
    () => loadConfig({ ...base, SHIPBATCH_UPS_TRANSPORT: 'stdio' }),
    /SHIPBATCH_UPS_COMMAND is required when SHIPBATCH_UPS_TRANSPORT=stdio/,
  );
  assert.throws(() => loadConfig({ ...base, SHIPBATCH_UPS_ENV: '{not json' }), /SHIPBATCH_UPS_ENV/);
});

test('stdio UPS server command and arguments', () => {
  const config = loadConfig({
    ...base,
    SHIPBATCH_UPS_TRANSPORT: 'stdio',
    SHIPBATCH_UPS_COMMAND: 'uvx',
    SHIPBATCH_UPS_ARGS: '["--from", "ups-mcp", "ups-mcp"]',
    SHIPBATCH_UPS_ENV: '{"ENVIRONMENT":"test"}',
  });
  assert.equal(config.ups.command, 'uvx');
  assert.deepEqual(config.ups.args, ['--from', 'ups-mcp', 'ups-mcp']);
  assert.equal(config.ups.env.ENVIRONMENT, 'test');
  assert.deepEqual(loadConfig({ ...base, SHIPBATCH_UPS_ARGS: 'a b  c' }).ups.args, ['a', 'b', 'c']);
});

test('durationMs', () => {
  assert.equal(durationMs('500ms'), 500);
  assert.equal(durationMs('30s'), 30_000);
  assert.equal(durationMs('7d'), 604_800_000);
  assert.throws(() => durationMs('7 days'), ConfigError);
});

test('sandbox knobs variables are handed on to the sandbox, and only those', () => {
  const config = loadConfig({ ...base, UPS_SANDBOX_KNOBS_FILE: '/tmp/knobs.json', CLIENT_SECRET: 's3cret' });
  assert.deepEqual(config.ups.sandboxKnobsEnv, { UPS_SANDBOX_KNOBS_FILE: '/tmp/knobs.json' });
  assert.deepEqual(loadConfig(base).ups.sandboxKnobsEnv, {});
});

test('SHIPBATCH_UPS_SESSIONS: the pool size, 4 by default, a whole number from 1 to 256', () => {
  assert.equal(loadConfig(base).ups.sessions, 4);
  assert.equal(loadConfig({ ...base, SHIPBATCH_UPS_SESSIONS: '1' }).ups.sessions, 1);
  assert.equal(loadConfig({ ...base, SHIPBATCH_UPS_SESSIONS: '16' }).ups.sessions, 16);
  assert.equal(loadConfig({ ...base, SHIPBATCH_UPS_SESSIONS: '256' }).ups.sessions, 256);
  for (const bad of ['0', '-1', '2.5', '1e1', '0x10', ' 4', 'four', '257', '99999999999999999999']) {
    assert.throws(
      () => loadConfig({ ...base, SHIPBATCH_UPS_SESSIONS: bad }),
      (err: unknown) =>
        err instanceof ConfigError && err.message.includes(`SHIPBATCH_UPS_SESSIONS=${JSON.stringify(bad)}`),
      bad,
    );
  }
  const printed = describeConfig(loadConfig({ ...base, SHIPBATCH_UPS_SESSIONS: '8' })) as {
    ups: { sessions: number; callTimeoutMs: number };
  };
  assert.deepEqual([printed.ups.sessions, printed.ups.callTimeoutMs], [8, 60_000]);
});

test('reconcile and shutdown settings: defaults, overrides, bad values named', () => {
  const d = loadConfig(base);
  assert.equal(d.ups.reconcileGraceMs, 30_000);
  assert.equal(d.ups.recreateAfterGrace, true, 'the sandbox over stdio replaces a timed-out server');
  const o = loadConfig({
    ...base,
    SHIPBATCH_UPS_RECREATE: 'never',
    SHIPBATCH_WORKER_SHUTDOWN_GRACE: '2m',
    SHIPBATCH_UPS_CALL_TIMEOUT: '5s',
  });
  assert.equal(o.ups.recreateAfterGrace, false);
  assert.equal(o.worker.shutdownGraceMs, 120_000);
  assert.equal(loadConfig({ ...base, SHIPBATCH_UPS_CALL_TIMEOUT: '5s' }).worker.shutdownGraceMs, 15_000);
  assert.throws(() => loadConfig({ ...base, SHIPBATCH_UPS_RECREATE: 'sometimes' }), /SHIPBATCH_UPS_RECREATE/);
});

// ---------------------------------------------------------------- dev.json: whom commands trust

const ROOT = path.join(import.meta.dirname, '..', '..');
const isRoot = process.getuid?.() === 0;
/** The user and group "nobody": another owner than the one running the tests (as root). */
const OTHER_UID = 65534;
const PLANTED_PASSWORD = 'planted-password';

/**
 * A do-nothing process whose command line is the one `shipbatch dev` has (`node … bin/shipbatch.js dev`):
 * a preload that never settles keeps the real entry from running.
 */
async function fakeDev(opts: { uid?: number; gid?: number } = {}): Promise<ChildProcess> {
  const hold = 'data:text/javascript,setInterval(()=>{},1<<30);await new Promise(()=>{})';
  const child = spawn(process.execPath, ['--import', hold, path.join(ROOT, 'bin', 'shipbatch.js'), 'dev'], {
    stdio: 'ignore',
    ...opts,
  });
  await once(child, 'spawn');
  return child;
}

async function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}

/** A fresh data dir (0700, as `shipbatch dev` makes it) holding a dev.json naming `pid` and other services. */
async function plantedDataDir(pid: unknown): Promise<{ dataDir: string; file: string }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-devjson-'));
  const file = path.join(dataDir, 'dev.json');
  const state: Record<string, unknown> = {
    pid,
    temporalAddress: '203.0.113.9:7233',
    namespace: 'elsewhere',
    databaseUrl: `postgres://orders:${PLANTED_PASSWORD}@203.0.113.9:5432/orders`,
    dataDir,
    startedAt: new Date().toISOString(),
  };
  await writeFile(file, JSON.stringify(state), { mode: 0o600 });
  return { dataDir, file };
}

/** What a command in `dataDir` would use: the dev state read, the completed environment, the warnings. */
function seenFrom(dataDir: string): {
  state: DevState | undefined;
  env: NodeJS.ProcessEnv;
  warnings: string;
} {
  let warnings = '';
  const write = process.stderr.write.bind(process.stderr);
  const capture = (chunk: string | Uint8Array): boolean => {
    warnings += chunk.toString();
    return true;
  };
  process.stderr.write = capture;
  try {
    const env = { SHIPBATCH_DATA_DIR: dataDir };
    return { state: readDevState(env), env: clientEnv(env), warnings };
  } finally {
    process.stderr.write = write;
  }
}

/** The planted file was ignored: no service taken from it, one warning naming it and why, no password. */
function assertIgnored(seen: ReturnType<typeof seenFrom>, file: string, reason: RegExp): void {
  assert.equal(seen.state, undefined, 'the state file is not trusted');
  assert.equal(seen.env.TEMPORAL_ADDRESS, undefined);
  assert.equal(seen.env.DATABASE_URL, undefined);
  const lines = seen.warnings.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `one warning:\n${seen.warnings}`);
  assert.ok(lines[0]!.includes(file), `the warning names ${file}: ${lines[0]}`);
  assert.match(lines[0]!, reason);
  assert.ok(!seen.warnings.includes(PLANTED_PASSWORD), 'the database URL is never printed');
}

test('dev.json of a live `shipbatch dev` of this user: commands use its services, quietly', async () => {
  const dev = await fakeDev();
  const { dataDir } = await plantedDataDir(dev.pid);
  try {
    const seen = seenFrom(dataDir);
    assert.equal(seen.state?.pid, dev.pid);
    assert.equal(seen.env.TEMPORAL_ADDRESS, '203.0.113.9:7233');
    assert.equal(seen.env.TEMPORAL_NAMESPACE, 'elsewhere');
    assert.match(seen.env.DATABASE_URL ?? '', /@203\.0\.113\.9:5432\/orders$/);
    assert.equal(seen.warnings, '');
    // Explicit variables win, and then the file is not even read.
    const explicit = clientEnv({
      SHIPBATCH_DATA_DIR: dataDir,
      TEMPORAL_ADDRESS: 'mine:7233',
      DATABASE_URL: 'postgres://me@mine/db',
    });
    assert.deepEqual(
      [explicit.TEMPORAL_ADDRESS, explicit.DATABASE_URL],
      ['mine:7233', 'postgres://me@mine/db'],
    );
  } finally {
    await stopped(dev);
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('dev.json naming pid 1 (alive, but not a shipbatch dev) is ignored with a warning', async () => {
  const { dataDir, file } = await plantedDataDir(1);
  try {
    assertIgnored(seenFrom(dataDir), file, /process 1 (is not a `shipbatch dev`|belongs to another user)/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('dev.json naming a live process of this user that is not shipbatch dev (a reused pid) is ignored', async () => {
  const { dataDir, file } = await plantedDataDir(process.pid);
  try {
    assertIgnored(seenFrom(dataDir), file, new RegExp(`process ${process.pid} is not a \`shipbatch dev\``));
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('dev.json with a pid that is no process (0, -1, 2.5, "1", none) is ignored as not a valid state file', async () => {
  for (const pid of [0, -1, 2.5, '1', undefined]) {
    const { dataDir, file } = await plantedDataDir(pid);
    try {
      assertIgnored(seenFrom(dataDir), file, /not a valid state file/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
});

test('dev.json of a shipbatch dev that is gone is ignored, with a warning once per process', async () => {
  const gone = spawn(process.execPath, ['-e', '']);
  await once(gone, 'exit');
  const { dataDir, file } = await plantedDataDir(gone.pid);
  try {
    assertIgnored(seenFrom(dataDir), file, new RegExp(`process ${gone.pid} is not running`));
    assert.equal(seenFrom(dataDir).warnings, '', 'warned once');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test(
  'dev.json owned by another user is ignored, even naming a live shipbatch dev',
  { skip: !isRoot && 'chown needs root' },
  async () => {
    const dev = await fakeDev();
    const { dataDir, file } = await plantedDataDir(dev.pid);
    try {
      await chown(file, OTHER_UID, OTHER_UID);
      assertIgnored(seenFrom(dataDir), file, new RegExp(`belongs to uid ${OTHER_UID}`));
    } finally {
      await stopped(dev);
      await rm(dataDir, { recursive: true, force: true });
    }
  },
);

test('dev.json that group or others can write is ignored', async () => {
  const dev = await fakeDev();
  const { dataDir, file } = await plantedDataDir(dev.pid);
  try {
    await chmod(file, 0o666);
    assertIgnored(seenFrom(dataDir), file, /writable by group or others \(mode 0666\)/);
  } finally {
    await stopped(dev);
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('dev.json that is a symbolic link is ignored, whatever it points to', async () => {
  const dev = await fakeDev();
  const real = await plantedDataDir(dev.pid);
  const { dataDir } = await plantedDataDir(dev.pid);
  const file = path.join(dataDir, 'dev.json');
  try {
    await rm(file);
    await symlink(real.file, file);
    assertIgnored(seenFrom(dataDir), file, /symbolic link/);
  } finally {
    await stopped(dev);
    await rm(real.dataDir, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('dev.json in a data dir that group or others can write is ignored', async () => {
  const dev = await fakeDev();
  const { dataDir, file } = await plantedDataDir(dev.pid);
  try {
    await chmod(dataDir, 0o777);
    assertIgnored(seenFrom(dataDir), file, new RegExp(`${dataDir} is writable by group or others`));
  } finally {
    await stopped(dev);
    await rm(dataDir, { recursive: true, force: true });
  }
});

test(
  'dev.json naming a shipbatch dev of another user is ignored',
  { skip: !isRoot && 'needs root' },
  async () => {
    const dev = await fakeDev({ uid: OTHER_UID, gid: OTHER_UID });
    const { dataDir, file } = await plantedDataDir(dev.pid);
    try {
      assertIgnored(
        seenFrom(dataDir),
        file,
        new RegExp(`process ${dev.pid} belongs to another user \\(uid ${OTHER_UID}\\)`),
      );
    } finally {
      await stopped(dev);
      await rm(dataDir, { recursive: true, force: true });
    }
  },
);

test('the command lines that run a shipbatch dev, however started, and only those', async () => {
  const bin = path.join(ROOT, 'bin', 'shipbatch.js');
  const runMjs = path.join(ROOT, 'scripts', 'run.mjs');
  const links = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-bin-'));
  try {
    await symlink(bin, path.join(links, 'shipbatch')); // as npm links a bin (npx, a global install)
    const yes: [string[], string][] = [
      [['/usr/bin/node', bin, 'dev'], '/'],
      [['node', '--no-node-snapshot', '--import', 'tsx', 'bin/shipbatch.js', 'dev', '--no-worker'], ROOT],
      [['node', path.join(links, 'shipbatch'), 'dev', '--json'], '/'],
      [['node', bin, 'demo', '--keep'], '/'],
      [['node', runMjs, 'start', '--keep'], '/'],
    ];
    const no: [string[], string][] = [
      [['node', bin, 'worker'], '/'],
      [['node', bin, 'import', 'dev'], '/'],
      [['node', bin, 'demo'], '/'],
      [['node', runMjs, 'start'], '/'],
      [['node', runMjs, 'test', '--keep'], '/'],
      [['node', 'bin/shipbatch.js', 'dev'], '/'], // relative to a directory where it is not
      [['node', '-e', 'x', 'dev'], '/'],
      [['/sbin/init'], '/'],
      [[], '/'],
    ];
    for (const [argv, cwd] of yes) assert.equal(isDevCommandLine(argv, cwd), true, argv.join(' '));
    for (const [argv, cwd] of no) assert.equal(isDevCommandLine(argv, cwd), false, argv.join(' '));
  } finally {
    await rm(links, { recursive: true, force: true });
  }
});
