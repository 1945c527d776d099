import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, describeConfig, durationMs, loadConfig } from '../../temporal.config';

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
  assert.throws(() => loadConfig({ ...base, UPS_ACCOUNT_NUMBER: '12345' }), /UPS_ACCOUNT_NUMBER="12345"/);
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
