/**
 * Credentials stay out of everything shipbatch records or prints. Batches run against real worker
 * processes configured with fake credentials in every place they can go (SHIPBATCH_UPS_ENV, a variable
 * passed through to the server, the server's arguments, the UPS URL's user info and query, DATABASE_URL's
 * password), through a configuration error, a UPS server that cannot be reached (stdio and HTTP) and UPS
 * refusing the credentials; then the histories, search attributes, memo, status, CLI output and every
 * log file are searched for them, plainly and in base64.
 *
 * And the embedded PostgreSQL: a random superuser password per data dir (kept 0600 beside it), SCRAM
 * logins from 127.0.0.1 only, the fixed password of earlier versions refused, and a cluster made with it
 * moved to a random one at its next start with its data.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import {
  EMBEDDED_PG_DATABASE,
  EMBEDDED_PG_LEGACY_PASSWORD,
  EMBEDDED_PG_USER,
  loadConfig,
} from '../../temporal.config';
import { approveUpdate, cancelSignal, statusQuery } from '../../domain/messages';
import type { BatchStatus } from '../../domain/batch';
import { scramVerifier, startEmbeddedPostgres } from '../../stack/embedded-postgres';
import { startStack } from '../../stack/stack';
import { freePort } from '../../stack/processes';
import { pgOnlyConfig } from '../helpers/embedded-pg';
import { openTestEnvironment, type TestEnvironment } from '../helpers/environment';
import {
  batchInput,
  createOrdersTable,
  inPhase,
  makeOrders,
  startBatch,
  waitForStatus,
} from '../helpers/batch';
import { processExited, startWorkerProcess } from '../helpers/worker-process';
import {
  assertNoSecret,
  fakeSecret,
  findSecret,
  jsonWithBytes,
  withDecodedPayloads,
} from '../helpers/secrets';

const ROOT = path.join(import.meta.dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'shipbatch.js');
const SANDBOX_BIN = fileURLToPath(new URL('../../bin/ups-sandbox.js', import.meta.url));
const run = promisify(execFile);

/** Every regular file under `dir` (none when it does not exist). */
async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** A login as `password`: 'ok', or the SQLSTATE PostgreSQL refused it with. */
async function login(port: number, password: string): Promise<string> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: EMBEDDED_PG_USER,
    password,
    database: 'postgres',
  });
  try {
    await client.connect();
    return 'ok';
  } catch (err) {
    return String((err as { code?: unknown }).code);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The logins the server's pg_hba.conf admits, and how the superuser's password is stored. */
async function authSettings(url: string): Promise<{ rules: string[]; stored: string }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rules = await client.query<{ rule: string }>(
      `SELECT type || ' ' || coalesce(address, '') || ' ' || auth_method AS rule
         FROM pg_hba_file_rules ORDER BY line_number`,
    );
    const stored = await client.query<{ kind: string }>(
      "SELECT split_part(rolpassword, '$', 1) AS kind FROM pg_authid WHERE rolname = current_user",
    );
    return { rules: rules.rows.map((r) => r.rule), stored: stored.rows[0]!.kind };
  } finally {
    await client.end();
  }
}

describe('the embedded PostgreSQL superuser', () => {
  test('a random password per data dir, kept 0600 beside the cluster, SCRAM from 127.0.0.1 only; the fixed one refused', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-pgpw-'));
    const clusters: string[] = [];
    try {
      const dataA = path.join(home, 'a', '.data');
      const configA = await pgOnlyConfig(dataA);
      const first = await startStack(configA);
      clusters.push(first.postgresDir!);
      let passwordA: string;
      try {
        const url = new URL(first.databaseUrl);
        passwordA = decodeURIComponent(url.password);
        assert.notEqual(passwordA, EMBEDDED_PG_LEGACY_PASSWORD, 'not the fixed password');
        assert.ok(passwordA.length >= 32, `a long random password (${passwordA.length} characters)`);
        const file = path.join(dataA, 'pg.password');
        assert.equal(
          (await stat(file)).mode & 0o777,
          0o600,
          'the password file is readable by its owner only',
        );
        assert.equal((await readFile(file, 'utf8')).trim(), passwordA);
        // A worker or CLI without DATABASE_URL finds the same database through the configuration.
        const fromConfig = loadConfig({
          HOME: os.homedir(),
          TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml',
          SHIPBATCH_DATA_DIR: dataA,
          SHIPBATCH_PG_PORT: url.port,
        });
        assert.equal(fromConfig.database.url, first.databaseUrl);
        assert.equal(
          await login(Number(url.port), EMBEDDED_PG_LEGACY_PASSWORD),
          '28P01',
          'the fixed password is refused',
        );
        assert.equal(await login(Number(url.port), passwordA), 'ok');
        const auth = await authSettings(first.databaseUrl);
        assert.deepEqual(auth.rules, ['host 127.0.0.1 scram-sha-256']);
        assert.equal(auth.stored, 'SCRAM-SHA-256');
      } finally {
        await first.stop();
      }

      // Kept between runs: the next start reads the same password.
      const again = await startStack(configA);
      try {
        assert.equal(decodeURIComponent(new URL(again.databaseUrl).password), passwordA);
      } finally {
        await again.stop();
      }

      // Another data dir, another password.
      const dataB = path.join(home, 'b', '.data');
      const other = await startStack(await pgOnlyConfig(dataB));
      clusters.push(other.postgresDir!);
      try {
        assert.notEqual(decodeURIComponent(new URL(other.databaseUrl).password), passwordA);
      } finally {
        await other.stop();
      }
      for (const file of [
        ...(await filesUnder(path.join(dataA, 'logs'))),
        ...(await filesUnder(path.join(dataB, 'logs'))),
      ]) {
        assertNoSecret(await readFile(file, 'utf8'), [passwordA], file);
      }
    } finally {
      for (const dir of clusters) if (!dir.startsWith(home)) await rm(dir, { recursive: true, force: true });
      await rm(home, { recursive: true, force: true });
    }
  });

  test('a cluster made with the fixed password by an earlier version gets a random one at its next start, data kept', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-pgold-'));
    const dataDir = path.join(home, '.data');
    const pgDir = path.join(dataDir, 'pg');
    const passwordFile = path.join(dataDir, 'pg.password');
    const logDir = path.join(dataDir, 'logs');
    const port = await freePort();
    const lines: string[] = [];
    const start = () =>
      startEmbeddedPostgres({
        dataDir: pgDir,
        port,
        user: EMBEDDED_PG_USER,
        database: EMBEDDED_PG_DATABASE,
        logDir,
        log: (line) => lines.push(line),
      });
    /** Put the cluster back as an earlier version left it: the fixed password, clear-text logins. */
    const makeItOld = async (url: string, clusterDir: string) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`ALTER ROLE postgres PASSWORD '${scramVerifier(EMBEDDED_PG_LEGACY_PASSWORD)}'`);
      } finally {
        await client.end();
      }
      await writeFile(path.join(clusterDir, 'pg_hba.conf'), 'host all all 127.0.0.1/32 password\n');
    };
    let clusterDir: string | undefined;
    try {
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      const made = await start();
      clusterDir = made.clusterDir;
      try {
        const client = new pg.Client({ connectionString: made.url });
        await client.connect();
        await client.query('CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)');
        await client.end();
        await makeItOld(made.url, made.clusterDir);
      } finally {
        await made.stop();
      }
      await rm(passwordFile);
      // Until its next start the configuration reaches such a cluster with the fixed password.
      const config = loadConfig({
        HOME: os.homedir(),
        TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml',
        SHIPBATCH_DATA_DIR: dataDir,
        SHIPBATCH_PG_PORT: String(port),
      });
      assert.equal(decodeURIComponent(new URL(config.database.url).password), EMBEDDED_PG_LEGACY_PASSWORD);

      lines.length = 0;
      const moved = await start();
      let password: string;
      try {
        password = decodeURIComponent(new URL(moved.url).password);
        assert.notEqual(password, EMBEDDED_PG_LEGACY_PASSWORD);
        assert.equal((await readFile(passwordFile, 'utf8')).trim(), password);
        assert.equal((await stat(passwordFile)).mode & 0o777, 0o600);
        assert.equal(
          await login(port, EMBEDDED_PG_LEGACY_PASSWORD),
          '28P01',
          'the fixed password no longer works',
        );
        const client = new pg.Client({ connectionString: moved.url });
        await client.connect();
        assert.deepEqual((await client.query('SELECT n FROM kept')).rows, [{ n: 7 }], 'the data is kept');
        await client.end();
        assert.deepEqual((await authSettings(moved.url)).rules, ['host 127.0.0.1 scram-sha-256']);
        assert.ok(
          lines.some((l) => l.includes('random password') && l.includes(passwordFile)),
          `the move is reported: ${lines.join(' | ')}`,
        );
        assertNoSecret(lines.join('\n'), [password], 'what the start printed');
        await makeItOld(moved.url, moved.clusterDir);
      } finally {
        await moved.stop();
      }

      // A move cut short after the password file was written: the next start finishes it.
      const planned = randomBytes(24).toString('base64url');
      await writeFile(passwordFile, `${planned}\n`, { mode: 0o600 });
      const finished = await start();
      try {
        assert.equal(decodeURIComponent(new URL(finished.url).password), planned);
        assert.equal(await login(port, EMBEDDED_PG_LEGACY_PASSWORD), '28P01');
        assert.equal(await login(port, planned), 'ok');
      } finally {
        await finished.stop();
      }
      for (const file of await filesUnder(logDir)) {
        assertNoSecret(await readFile(file, 'utf8'), [password, planned], file);
      }
    } finally {
      if (clusterDir && !clusterDir.startsWith(home)) await rm(clusterDir, { recursive: true, force: true });
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('fake UPS and database credentials through failures', () => {
  let env: TestEnvironment;
  let dir: string;
  const workers: ChildProcess[] = [];
  let role: string | undefined;
  before(async () => {
    env = await openTestEnvironment('secrets');
    dir = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-secrets-e2e-'));
  });
  after(async () => {
    for (const w of workers) {
      w.kill('SIGTERM');
      await processExited(w);
    }
    if (role) await env.pool.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`).catch(() => undefined);
    await env?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('no secret in histories, search attributes, memo, status, CLI output or any log file', async () => {
    const s = {
      env: fakeSecret('env'),
      passthrough: fakeSecret('passthrough'),
      arg: fakeSecret('arg'),
      flag: fakeSecret('flag'),
      urlUser: fakeSecret('urluser'),
      urlPass: fakeSecret('urlpass'),
      urlQuery: fakeSecret('urlquery'),
      db: fakeSecret('db'),
    };
    const secrets = Object.values(s);
    const logDir = path.join(dir, 'logs');
    await mkdir(logDir);

    // A role with a known password on the harness's PostgreSQL (set as a verifier: the password itself
    // never reaches the server), with the harness user's rights.
    role = `sb_secret_${randomBytes(4).toString('hex')}`;
    await env.pool.query(`CREATE ROLE ${role} LOGIN PASSWORD '${scramVerifier(s.db)}'`);
    await env.pool.query(
      `GRANT ${(await env.pool.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u} TO ${role}`,
    );
    const dbUrl = new URL(env.config.database.url);
    dbUrl.username = role;
    dbUrl.password = s.db;

    // A UPS server that dies at once after saying what it got; and the sandbox behind a wrapper that
    // says the same, then serves (its arguments are the wrapper's own).
    const dying = path.join(dir, 'dying-ups.mjs');
    await writeFile(
      dying,
      `process.stderr.write('dying-ups: argv=' + process.argv.slice(2).join(' ') + ' CLIENT_SECRET=' + process.env.CLIENT_SECRET + ' CLIENT_ID=' + process.env.CLIENT_ID + '\\n');
process.exit(1);
`,
    );
    const wrapper = path.join(dir, 'sandbox-wrapper.mjs');
    await writeFile(
      wrapper,
      `process.stderr.write('sandbox-wrapper: argv=' + process.argv.slice(2).join(' ') + ' CLIENT_SECRET=' + process.env.CLIENT_SECRET + ' CLIENT_ID=' + process.env.CLIENT_ID + '\\n');
process.argv.splice(2);
await import(${JSON.stringify(SANDBOX_BIN)});
`,
    );
    const sandboxDir = path.join(dir, 'ups-sandbox');
    const knobsFile = path.join(dir, 'knobs.json');
    await writeFile(knobsFile, '{}');
    const secretArgs = (script: string) => JSON.stringify([script, '--token', s.arg, `--api-key=${s.flag}`]);
    const common: Record<string, string> = {
      DATABASE_URL: dbUrl.href,
      SHIPBATCH_UPS_ENV_PASSTHROUGH: 'CLIENT_ID',
      CLIENT_ID: s.passthrough,
      SHIPBATCH_UPS_SESSIONS: '1',
      SHIPBATCH_UPS_CALL_TIMEOUT: '10s',
      // The server's stderr is printed live at debug level: it goes through the same masking.
      SHIPBATCH_LOG_LEVEL: 'debug',
    };
    const closedPort = await freePort();
    const scenarios = {
      stdioDown: {
        ...common,
        SHIPBATCH_UPS_TRANSPORT: 'stdio',
        SHIPBATCH_UPS_COMMAND: process.execPath,
        SHIPBATCH_UPS_ARGS: secretArgs(dying),
        SHIPBATCH_UPS_ENV: JSON.stringify({ CLIENT_SECRET: s.env }),
      },
      httpDown: {
        ...common,
        SHIPBATCH_UPS_TRANSPORT: 'http',
        SHIPBATCH_UPS_URL: `http://${s.urlUser}:${s.urlPass}@127.0.0.1:${closedPort}/mcp?api_key=${s.urlQuery}`,
      },
      authRefused: {
        ...common,
        SHIPBATCH_UPS_TRANSPORT: 'stdio',
        SHIPBATCH_UPS_COMMAND: process.execPath,
        SHIPBATCH_UPS_ARGS: secretArgs(wrapper),
        SHIPBATCH_UPS_ENV: JSON.stringify({
          CLIENT_SECRET: s.env,
          UPS_SANDBOX_DATA_DIR: sandboxDir,
          // Rewritten once the preview is rated: every call then HTTP 401, UPS 250002.
          UPS_SANDBOX_KNOBS_FILE: knobsFile,
        }),
      },
    };

    /** A worker process on a task queue of its own; its stderr goes to `<logDir>/<name>.log`. */
    const logs = new Map<string, string>();
    const startWorker = (
      name: string,
      workerEnv: Record<string, string>,
      taskQueue = `secrets-${name}-${randomUUID().slice(0, 8)}`,
    ) => {
      const child = startWorkerProcess(name, { taskQueue, sandboxDir, knobs: {}, env: workerEnv });
      logs.set(name, '');
      child.stderr!.on('data', (d: Buffer) => logs.set(name, logs.get(name)! + d.toString()));
      workers.push(child);
      return { child, taskQueue };
    };
    const untilPolling = async (name: string, child: ChildProcess) => {
      const deadline = Date.now() + 90_000;
      while (!logs.get(name)!.includes('polling task queue')) {
        if (Date.now() > deadline || child.exitCode !== null)
          assert.fail(`worker ${name} did not start:\n${logs.get(name)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };

    // 1. Configuration errors: the worker stops with a message naming the variables.
    const badConfig = startWorker('bad-config', {
      ...common,
      SHIPBATCH_UPS_ENV: JSON.stringify({ CLIENT_SECRET: s.env, RETRIES: 3 }),
      SHIPBATCH_UPS_ARGS: `["--token", "${s.arg}", ]`,
      SHIPBATCH_UPS_URL: `not a url ${s.urlPass}`,
    });
    // 2. PostgreSQL unreachable with the password in DATABASE_URL.
    const deadDb = new URL(dbUrl.href);
    deadDb.port = String(closedPort);
    const badDb = startWorker('db-unreachable', { ...scenarios.stdioDown, DATABASE_URL: deadDb.href });
    // 3. The batches' workers: UPS unreachable over stdio and HTTP, UPS refusing the credentials.
    const running = Object.fromEntries(
      Object.entries(scenarios).map(([name, workerEnv]) => [name, startWorker(name, workerEnv)]),
    ) as Record<keyof typeof scenarios, { child: ChildProcess; taskQueue: string }>;

    await processExited(badConfig.child);
    assert.equal(badConfig.child.exitCode, 1);
    assert.match(logs.get('bad-config')!, /invalid configuration/);
    assert.match(logs.get('bad-config')!, /SHIPBATCH_UPS_ENV=\(hidden\)/);
    await processExited(badDb.child);
    assert.equal(badDb.child.exitCode, 1);
    assert.match(logs.get('db-unreachable')!, /PostgreSQL at 127\.0\.0\.1:\d+\/\w+ is unreachable/);

    for (const [name, { child }] of Object.entries(running)) await untilPolling(name, child);
    const table = await createOrdersTable(env.pool, makeOrders(2));
    const handles: Record<string, WorkflowHandle> = {};
    const waiting: Record<string, BatchStatus> = {};
    for (const [name, { taskQueue }] of Object.entries(running)) {
      handles[name] = await startBatch(env.client, taskQueue, batchInput(table, { name: `secrets ${name}` }));
    }
    // UPS refuses the credentials once the batch ships: after the preview, and the approval.
    const previewed = await waitForStatus(handles.authRefused!, inPhase('awaiting_approval'), 120_000);
    await writeFile(knobsFile, JSON.stringify({ faultRates: { auth_error: 1 } }));
    await handles.authRefused!.executeUpdate(approveUpdate, {
      args: [{ previewHash: previewed.previewHash!, by: 'secrets test' }],
    });
    for (const [name, handle] of Object.entries(handles)) {
      waiting[name] = await waitForStatus(handle, inPhase('waiting_for_ups'), 120_000);
    }
    assert.match(waiting.stdioDown!.upsOutage?.reason ?? '', /UPS unreachable/);
    assert.match(
      waiting.httpDown!.upsOutage?.reason ?? '',
      /UPS unreachable: cannot connect .*\(http http:\/\/127\.0\.0\.1/,
    );
    assert.match(waiting.authRefused!.upsOutage?.reason ?? '', /UPS refused the credentials/);
    assert.equal(waiting.authRefused!.upsOutage?.needsOperator, true);

    // What a user sees with the CLI, configured like the workers.
    const cliOutput: string[] = [];
    const cli = async (cliEnv: Record<string, string>, ...args: string[]) => {
      const result = await run(process.execPath, [BIN, ...args], {
        cwd: dir,
        env: { ...process.env, ...cliEnv },
        maxBuffer: 64 << 20,
      }).catch((e: { stdout?: string; stderr?: string }) => ({
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? '',
      }));
      cliOutput.push(`$ shipbatch ${args.join(' ')}\n${result.stdout}${result.stderr}`);
    };
    for (const [name, handle] of Object.entries(handles)) {
      const cliEnv = {
        ...scenarios[name as keyof typeof scenarios],
        SHIPBATCH_TASK_QUEUE: running[name as keyof typeof scenarios].taskQueue,
      };
      await cli(cliEnv, 'status', handle.workflowId);
      await cli(cliEnv, 'status', handle.workflowId, '--json');
      await cli(cliEnv, 'preview', handle.workflowId);
      await cli(cliEnv, 'rows', handle.workflowId, '--json');
      await cli(cliEnv, 'list', '--attention');
    }
    await cli(
      { ...common, SHIPBATCH_UPS_ENV: JSON.stringify({ CLIENT_SECRET: s.env, RETRIES: 3 }) },
      'status',
      'batch-x',
    );
    const cliText = cliOutput.join('\n');
    assert.match(cliText, /UPS refused the credentials/, 'the CLI shows the outage');
    assert.match(cliText, /SHIPBATCH_UPS_ENV=\(hidden\)/, 'and the configuration error');

    // Close the batches (their workers still run), then take what Temporal keeps of them.
    const records: [string, string][] = [];
    for (const [name, handle] of Object.entries(handles)) {
      records.push([`${name} status`, JSON.stringify(await handle.query(statusQuery))]);
      await handle.signal(cancelSignal, { reason: 'secrets test' });
      await handle.result();
      records.push([`${name} history`, withDecodedPayloads(historyToJSON(await handle.fetchHistory()))]);
      const description = await handle.describe();
      records.push([
        `${name} search attributes and memo`,
        jsonWithBytes({
          searchAttributes: description.searchAttributes,
          typed: description.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value]),
          memo: description.memo,
          raw: description.raw,
        }),
      ]);
    }
    for (const w of workers) {
      w.kill('SIGTERM');
      await processExited(w);
    }
    for (const [name, text] of logs) await writeFile(path.join(logDir, `worker-${name}.log`), text);

    // The material is not empty: the failures are in it.
    const history = (name: string) => records.find(([n]) => n === `${name} history`)![1];
    const log = (name: string) => logs.get(name)!;
    for (const [text, expected, where] of [
      [
        history('stdioDown'),
        /cannot connect to the UPS MCP server \(stdio .*--token \*\*\* --api-key=\*\*\*/,
        'stdio history',
      ],
      [
        log('stdioDown'),
        /server said: dying-ups: argv=--token \*\*\* --api-key=\*\*\* CLIENT_SECRET=\*\*\* CLIENT_ID=\*\*\*/,
        'stdio log',
      ],
      [
        history('httpDown'),
        /cannot connect to the UPS MCP server \(http http:\/\/127\.0\.0\.1:\d+\/mcp\)/,
        'HTTP history',
      ],
      [history('authRefused'), /UPS refused the credentials/, 'auth history'],
      [
        log('authRefused'),
        /ups-mcp: sandbox-wrapper: argv=--token \*\*\* --api-key=\*\*\* CLIENT_SECRET=\*\*\*/,
        'auth log',
      ],
      [
        log('authRefused'),
        /"message":"UPS call failed".*"tool":"create_shipment","category":"auth","code":"250002"/,
        'auth log',
      ],
    ] as const) {
      assert.ok(expected.test(text), `the ${where} holds ${expected}: …${text.slice(-600)}`);
    }

    for (const [where, text] of records) assertNoSecret(text, secrets, where);
    assertNoSecret(cliText, secrets, 'the CLI output');
    const harnessLogs = process.env.SHIPBATCH_DATA_DIR
      ? path.join(process.env.SHIPBATCH_DATA_DIR, 'logs')
      : '';
    const files = [
      ...(await filesUnder(logDir)),
      ...(await filesUnder(harnessLogs)),
      ...(await filesUnder(sandboxDir)),
    ];
    assert.ok(
      files.some((f) => f.endsWith('postgres.log')),
      `the harness's logs are searched too: ${files.join(', ')}`,
    );
    for (const file of files) {
      const found = findSecret(await readFile(file, 'utf8'), secrets);
      assert.equal(found, undefined, `a secret leaked into ${file}: ${found}`);
    }
  });
});
