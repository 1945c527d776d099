/**
 * Credentials stay out of what shipbatch prints and records: configuration errors and the printed
 * configuration show only values known to be safe; the UPS connection's description, its errors (their
 * whole cause chain, as the failure converter records them in workflow history) and the server's own words
 * mask the arguments, environment values and URL credentials of the server; credentials in the URL's user
 * info are sent as HTTP Basic authentication. Real MCP servers over stdio and a real HTTP listener.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { DefaultFailureConverter, defaultPayloadConverter } from '@temporalio/common';
import { ConfigError, describeConfig, EMBEDDED_PG_LEGACY_PASSWORD, loadConfig } from '../../temporal.config';
import { UpsMcpConnection } from '../../activities/ups/connection';
import { classifyUpsFailure, toActivityFailure, UpsError } from '../../activities/ups/errors';
import { createUpsClient } from '../../activities/ups/from-config';
import { freePort } from '../../stack/processes';
import { assertNoSecret, fakeSecret, jsonWithBytes } from '../helpers/secrets';

// Only what each test sets: never the developer's own environment.
const base = { HOME: '/home/test', TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml' };

/** The failure an activity would record for `err`, as JSON (payloads as base64 and as text). */
function recordedFailure(err: UpsError): string {
  const failure = new DefaultFailureConverter().errorToFailure(
    toActivityFailure(err, { rowNo: 1 }),
    defaultPayloadConverter,
  );
  return jsonWithBytes(failure);
}

/** Every message and stack of an error's cause chain. */
function wholeError(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    parts.push(e.message, e.stack ?? '');
  }
  return parts.join('\n');
}

describe('configuration errors and the printed configuration', () => {
  test('a bad value is shown only for variables whose values are known to be safe', () => {
    const s = {
      env: fakeSecret('env'),
      args: fakeSecret('args'),
      url: fakeSecret('url'),
      account: fakeSecret('account'),
      command: fakeSecret('command'),
      db: fakeSecret('db'),
    };
    const err = (() => {
      try {
        loadConfig({
          ...base,
          // Valid JSON, one value not a string: the variable is named, its JSON not echoed.
          SHIPBATCH_UPS_ENV: JSON.stringify({ CLIENT_SECRET: s.env, RETRIES: 3 }),
          // Broken JSON: the parser's message quotes the text around the error.
          SHIPBATCH_UPS_ARGS: `["--token", "${s.args}", ]`,
          SHIPBATCH_UPS_URL: `not a url ${s.url}`,
          UPS_ACCOUNT_NUMBER: s.account,
          DATABASE_URL: `mysql://u:${s.db}@db.example/orders`,
          SHIPBATCH_TEMPORAL_PORT: 'eighty',
        });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof ConfigError, String(err));
    for (const variable of [
      'SHIPBATCH_UPS_ENV',
      'SHIPBATCH_UPS_ARGS',
      'SHIPBATCH_UPS_URL',
      'UPS_ACCOUNT_NUMBER',
      'DATABASE_URL',
    ]) {
      assert.match(err.message, new RegExp(`${variable}=\\(hidden\\): \\S`), `names ${variable}`);
    }
    assert.match(err.message, /SHIPBATCH_UPS_ARGS=\(hidden\): not valid JSON/);
    assertNoSecret(err.message, Object.values(s), 'the configuration error');
    // Safe values are still echoed, so the user sees what was wrong.
    assert.match(err.message, /SHIPBATCH_TEMPORAL_PORT="eighty"/);
  });

  test('describeConfig shows no credential of the UPS URL or the database URL', () => {
    const s = [fakeSecret('user'), fakeSecret('pass'), fakeSecret('query'), fakeSecret('dbpass')];
    const config = loadConfig({
      ...base,
      SHIPBATCH_UPS_TRANSPORT: 'http',
      SHIPBATCH_UPS_URL: `https://${s[0]}:${s[1]}@ups.example/mcp?api_key=${s[2]}`,
      DATABASE_URL: `postgres://u@db.example:5432/orders?password=${s[3]}`,
    });
    const printed = JSON.stringify(describeConfig(config));
    assertNoSecret(printed, s, 'describeConfig');
    assert.match(printed, /https:\/\/ups\.example\/mcp/);
    assert.match(printed, /db\.example:5432\/orders/);
  });
});

describe("the embedded PostgreSQL's URL", () => {
  test("takes the data dir's password file; the fixed password of earlier clusters when there is none", () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-pgurl-'));
    try {
      const url = () => new URL(loadConfig({ ...base, SHIPBATCH_DATA_DIR: dataDir }).database.url);
      assert.equal(url().password, EMBEDDED_PG_LEGACY_PASSWORD, 'no password file yet');
      const password = fakeSecret('pg').replace(/[^\w-]/g, '');
      writeFileSync(path.join(dataDir, 'pg.password'), `${password}\n`, { mode: 0o600 });
      assert.equal(url().password, password);
      assert.equal(url().host, '127.0.0.1:54329');
      assertNoSecret(
        JSON.stringify(describeConfig(loadConfig({ ...base, SHIPBATCH_DATA_DIR: dataDir }))),
        [password],
        'describeConfig',
      );
      writeFileSync(path.join(dataDir, 'pg.password'), '');
      assert.throws(
        () => url(),
        (err: unknown) =>
          err instanceof ConfigError && err.message.includes(path.join(dataDir, 'pg.password')),
      );
      // Not read at all when DATABASE_URL names the database.
      assert.equal(
        loadConfig({ ...base, SHIPBATCH_DATA_DIR: dataDir, DATABASE_URL: 'postgres://u@db.example/x' })
          .database.url,
        'postgres://u@db.example/x',
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the UPS MCP connection', () => {
  let dir: string;
  let fakeServer: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-secrets-'));
    fakeServer = path.join(dir, 'fake-ups.cjs');
    const require = createRequire(import.meta.url);
    const sdk = (p: string) => JSON.stringify(require.resolve(`@modelcontextprotocol/sdk/${p}`));
    // A server that repeats its arguments and credentials in everything it says: on stderr, in a tool's
    // error result (an HTTP 401 from UPS, as the real server reports it) and in a JSON-RPC error.
    writeFileSync(
      fakeServer,
      `const { Server } = require(${sdk('server/index.js')});
const { StdioServerTransport } = require(${sdk('server/stdio.js')});
const { CallToolRequestSchema, ListToolsRequestSchema, McpError } = require(${sdk('types.js')});
const said = 'argv=' + process.argv.slice(2).join(' ') + ' CLIENT_SECRET=' + process.env.CLIENT_SECRET;
process.stderr.write('fake-ups: starting with ' + said + '\\n');
if (process.argv.includes('--die')) process.exit(1);
const server = new Server({ name: 'fake-ups', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [{ name: 'rate_shipment', inputSchema: { type: 'object' } }],
}));
server.setRequestHandler(CallToolRequestSchema, async (request) => {
  if (request.params.name === 'void_shipment') throw new McpError(-32602, 'bad parameters: ' + said);
  const body = {
    status_code: 401,
    code: '401',
    message: '401 Client Error: Unauthorized for url: https://onlinetools.ups.com/security/v1/oauth/token (' + said + ')',
    details: { response: { errors: [{ code: '250002', message: 'Invalid Authentication Information. ' + said }] } },
  };
  return { isError: true, content: [{ type: 'text', text: 'Error executing tool rate_shipment: ' + JSON.stringify(body) }] };
});
server.connect(new StdioServerTransport());
`,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A stdio UPS client configured the way a user does, with credentials in every place they go. */
  function stdioClient(
    secrets: { arg: string; flag: string; env: string; passthrough: string },
    die = false,
  ) {
    const config = loadConfig({
      ...base,
      SHIPBATCH_UPS_TRANSPORT: 'stdio',
      SHIPBATCH_UPS_COMMAND: process.execPath,
      SHIPBATCH_UPS_ARGS: JSON.stringify([
        fakeServer,
        ...(die ? ['--die'] : []),
        '--token',
        secrets.arg,
        `--api-key=${secrets.flag}`,
      ]),
      SHIPBATCH_UPS_ENV: JSON.stringify({ CLIENT_SECRET: secrets.env }),
      SHIPBATCH_UPS_ENV_PASSTHROUGH: 'CLIENT_ID',
      CLIENT_ID: secrets.passthrough,
      SHIPBATCH_UPS_SESSIONS: '1',
      SHIPBATCH_UPS_CALL_TIMEOUT: '10s',
    });
    return createUpsClient(config.ups);
  }

  const newSecrets = () => ({
    arg: fakeSecret('arg'),
    flag: fakeSecret('flag'),
    env: fakeSecret('env'),
    passthrough: fakeSecret('id'),
  });

  test('a server that dies at start: the error names the command, not its arguments or credentials', async () => {
    const s = newSecrets();
    const client = stdioClient(s, true);
    try {
      const description = client.connection.describe();
      assertNoSecret(description, Object.values(s), 'describe()');
      assert.match(description, /^stdio .*node/);
      assert.ok(description.includes(fakeServer), `the server's script is shown: ${description}`);
      const err = await client.rate({}).then(
        () => assert.fail('a dead server answered'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof UpsError, String(err));
      assert.equal(err.category, 'transport');
      assert.match(err.message, /server said: .*fake-ups: starting with/, 'what the server said is kept');
      assertNoSecret(wholeError(err), Object.values(s), 'the error and its causes');
      assertNoSecret(recordedFailure(err), Object.values(s), 'the recorded activity failure');
    } finally {
      await client.close();
    }
  });

  test('a command that cannot be started: no argument in the error, printed whole as a log does', async () => {
    const s = newSecrets();
    const connection = new UpsMcpConnection({
      transport: 'stdio',
      command: path.join(dir, 'no-such-server'),
      args: ['--token', s.arg, `--api-key=${s.flag}`],
      env: { CLIENT_SECRET: s.env },
    });
    try {
      const err = await connection.callTool('rate_shipment', {}, { timeoutMs: 5000 }).then(
        () => assert.fail('there is no such server'),
        (e: unknown) => e,
      );
      const classified = classifyUpsFailure('rate_shipment', err);
      assert.match(classified.message, /ENOENT/);
      // A log entry that is not an expected failure prints the error with util.inspect: every property.
      assertNoSecret(inspect(classified, { depth: 10 }), Object.values(s), 'the error as inspected');
      assertNoSecret(recordedFailure(classified), Object.values(s), 'the recorded failure');
    } finally {
      await connection.close();
    }
  });

  test("the server's error answers (a UPS 401, a JSON-RPC error) are masked before they are classified", async () => {
    const s = newSecrets();
    const client = stdioClient(s);
    try {
      const auth = await client.rate({}).then(
        () => assert.fail('the fake server never succeeds'),
        (e: unknown) => e,
      );
      assert.ok(auth instanceof UpsError, String(auth));
      assert.equal(auth.category, 'auth', 'still classified as refused credentials');
      assert.equal(auth.upsCode, '250002');
      assertNoSecret(wholeError(auth), Object.values(s), 'the auth error');
      assertNoSecret(JSON.stringify(auth.upsErrors), Object.values(s), "the auth error's UPS errors");
      assertNoSecret(recordedFailure(auth), Object.values(s), 'the recorded auth failure');

      const rpc = await client.voidShipment('1Z999').then(
        () => assert.fail('the fake server never succeeds'),
        (e: unknown) => e,
      );
      assert.ok(rpc instanceof UpsError, String(rpc));
      assert.match(rpc.message, /bad parameters/);
      assertNoSecret(wholeError(rpc), Object.values(s), 'the JSON-RPC error');
      assertNoSecret(recordedFailure(rpc), Object.values(s), 'the recorded JSON-RPC failure');
    } finally {
      await client.close();
    }
  });

  test('credentials in the URL: sent as Basic authentication, never in a description or an error', async () => {
    const user = fakeSecret('user');
    const password = fakeSecret('pass');
    const key = fakeSecret('query');
    const secrets = [user, password, key];
    const basic = Buffer.from(`${user}:${password}`).toString('base64');

    // Nothing listens: a connection failure.
    const closedPort = await freePort();
    const down = new UpsMcpConnection({
      transport: 'http',
      url: `http://${user}:${password}@127.0.0.1:${closedPort}/mcp?api_key=${key}`,
    });
    try {
      assertNoSecret(down.describe(), [...secrets, basic], 'describe()');
      const err = await down.callTool('rate_shipment', {}, { timeoutMs: 5000 }).then(
        () => assert.fail('nothing listens there'),
        (e: unknown) => e,
      );
      const classified = classifyUpsFailure('rate_shipment', err);
      assert.equal(classified.category, 'transport');
      assert.doesNotMatch(
        classified.message,
        /credentials/,
        'the request was made (refused), not refused by fetch',
      );
      assertNoSecret(wholeError(err), [...secrets, basic], 'the connection error');
      assertNoSecret(recordedFailure(classified), [...secrets, basic], 'the recorded failure');
    } finally {
      await down.close();
    }

    // A listener that refuses the request, echoing what it got: the credentials went as a header.
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end(`unauthorized: ${req.url} ${req.headers.authorization}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const up = new UpsMcpConnection({
      transport: 'http',
      url: `http://${user}:${password}@127.0.0.1:${port}/mcp?api_key=${key}`,
    });
    try {
      const err = await up.callTool('rate_shipment', {}, { timeoutMs: 5000 }).then(
        () => assert.fail('the listener refuses'),
        (e: unknown) => e,
      );
      assert.ok(seen.length > 0, 'the request reached the server');
      assert.equal(seen[0]!.authorization, `Basic ${basic}`);
      assertNoSecret(wholeError(err), [...secrets, basic], 'the refused request');
    } finally {
      await up.close();
      server.close();
    }
  });
});
