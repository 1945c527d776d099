/**
 * `shipbatch-mcp` against an over-eager (or prompt-injected) agent, through the real MCP client over stdio
 * and Streamable HTTP, against the real stack: every tool that can lead to shipping is annotated
 * destructive; auto mode (shipping without the user's approval) is refused unless the server allows it;
 * `source_table` is limited to an allow-list compared on the relation the batch will read; the HTTP
 * transport bounds its sessions, expires idle ones and checks an optional bearer token.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { readCallLog } from '../../ups-sandbox/call-log';
import { openTestEnvironment, type TestEnvironment } from '../helpers/environment';
import { statusQuery } from '../../domain/messages';
import { createOrdersTable, makeOrders, SHIPPER, TEMPLATE } from '../helpers/batch';
import { createImportedOrdersTable, recordImported } from '../helpers/imported-orders';

const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'shipbatch-mcp.js');

let env: TestEnvironment;
let sbx: ReturnType<TestEnvironment['sandboxClient']>;
/** Servers and clients opened by the tests, closed in `after`. */
const cleanups: (() => Promise<unknown>)[] = [];

interface Answer {
  isError: boolean;
  text: string;
}

async function call(mcp: Client, name: string, args: Record<string, unknown>): Promise<Answer> {
  const r = (await mcp.callTool({ name, arguments: args }, undefined, { timeout: 90_000 })) as {
    isError?: boolean;
    content: { type: string; text?: string }[];
  };
  return { isError: r.isError === true, text: r.content.map((c) => c.text ?? '').join('\n') };
}

async function ok<T = Record<string, unknown>>(
  mcp: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<T> {
  const r = await call(mcp, name, args);
  assert.equal(r.isError, false, `${name} ${JSON.stringify(args)} failed: ${r.text}`);
  return JSON.parse(r.text) as T;
}

async function refused(
  mcp: Client,
  name: string,
  args: Record<string, unknown>,
  pattern: RegExp,
): Promise<string> {
  const r = await call(mcp, name, args);
  assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} should be refused, answered ${r.text}`);
  assert.match(r.text, pattern);
  return r.text;
}

const previewArgs = (table: string, extra: Record<string, unknown> = {}) => ({
  source_table: table,
  mapping_template: TEMPLATE,
  shipper_info: SHIPPER,
  ...extra,
});

/** A stdio `shipbatch-mcp` with `args`, in a directory without a `shipbatch dev` state file. */
async function stdioServer(
  args: string[] = [],
  extraEnv: Record<string, string> = {},
): Promise<{ mcp: Client; log: () => string }> {
  let log = '';
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, ...args],
    cwd: await mkdtemp(path.join(os.tmpdir(), 'shipbatch-agent-security-')),
    env: { ...(process.env as Record<string, string>), SHIPBATCH_TASK_QUEUE: env.taskQueue, ...extraEnv },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const mcp = new Client({ name: 'agent-security-test', version: '1.0.0' });
  await mcp.connect(transport);
  cleanups.push(() => mcp.close());
  return { mcp, log: () => log };
}

const shipments = () => readCallLog(sbx.dataDir).filter((c) => c.tool === 'create_shipment').length;

before(async () => {
  env = await openTestEnvironment('agent-security');
  sbx = env.sandboxClient('security');
});

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await sbx?.ups.close();
  await env?.close();
});

// ---------------------------------------------------------------- annotations

test('every tool that can lead to shipping is annotated destructive (clients ask the user first)', async () => {
  const { mcp } = await stdioServer();
  const { tools } = await mcp.listTools();
  for (const name of ['batch_preview', 'batch_execute', 'batch_set_mode', 'batch_resume']) {
    const t = tools.find((x) => x.name === name);
    assert.ok(t, `${name} is listed`);
    assert.equal(t.annotations?.destructiveHint, true, `${name} can lead to shipping: destructiveHint`);
    assert.equal(t.annotations?.readOnlyHint, false, `${name} is not read-only`);
  }
});

// ---------------------------------------------------------------- auto mode

test('auto mode is refused unless the server allows it: batch_preview {mode: auto} and batch_set_mode auto ship nothing', async () => {
  const { mcp } = await stdioServer();
  const table = await createImportedOrdersTable(env.pool, makeOrders(2));
  writeFileSync(sbx.knobsFile, '{}');
  await env.withWorker(
    async () => {
      // Straight to auto: refused before anything is started.
      await refused(
        mcp,
        'batch_preview',
        previewArgs(table, { mode: 'AUTO' }),
        /mode: auto mode is not allowed by this server.*--allow-auto/,
      );
      // Preview in confirm mode, then try to switch the batch to auto to skip the approval.
      const p = await ok<{ job_id: string; phase: string; mode: string }>(
        mcp,
        'batch_preview',
        previewArgs(table),
      );
      assert.equal(p.phase, 'awaiting_approval');
      await refused(
        mcp,
        'batch_set_mode',
        { job_id: p.job_id, mode: ' Auto ' },
        /mode: auto mode is not allowed by this server.*--allow-auto/,
      );
      await refused(mcp, 'batch_execute', { job_id: p.job_id }, /Preview approval required in CONFIRM mode/);
      const s = await env.client.workflow.getHandle(p.job_id).query(statusQuery);
      assert.equal(s.phase, 'awaiting_approval', 'still waiting for the user');
      assert.equal(s.mode, 'confirm');
      assert.equal(shipments(), 0, 'nothing shipped');
      // The approval message no longer suggests auto mode as a way round it.
      const msg = await refused(mcp, 'batch_execute', { job_id: p.job_id }, /approved: true/);
      assert.doesNotMatch(msg, /batch_set_mode/);

      // A server started with --allow-auto may switch it (the operator chose so).
      const { mcp: allowing } = await stdioServer(['--allow-auto']);
      const auto = await ok<{ mode: string }>(allowing, 'batch_set_mode', { job_id: p.job_id, mode: 'auto' });
      assert.equal(auto.mode, 'auto');
      let done: { phase: string; counts: { shipped: number } };
      const deadline = Date.now() + 60_000;
      do {
        done = await ok(allowing, 'batch_execute', { job_id: p.job_id, wait_seconds: 5 });
      } while (done.phase !== 'completed' && Date.now() < deadline);
      assert.equal(done.phase, 'completed');
      assert.equal(done.counts.shipped, 2);
    },
    { ups: sbx.ups },
  );
});

// ---------------------------------------------------------------- source tables

/** The `source.table` a started batch reads (its workflow's input). */
async function startedSource(jobId: string): Promise<string> {
  const history = await env.client.workflow.getHandle(jobId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  assert.ok(payload?.data, `no input for ${jobId}`);
  const input = JSON.parse(Buffer.from(payload.data).toString('utf8')) as { source: { table: string } };
  return input.source.table;
}

test('source_table is limited to an allow-list (default: imported tables) compared on the relation read', async () => {
  // No worker polls this queue: an allowed request starts its batch and says so; a refused one starts nothing.
  const queue = `${env.taskQueue}-tables`;
  const u = randomUUID().slice(0, 8);
  const t = `orders_${u}`; // public, imported
  const mixed = `Orders_${u}`; // public, a different relation than t (case matters), not imported
  const shadow = `shadow_${u}`; // a schema with a table named t, not imported
  const secret = await createOrdersTable(env.pool, makeOrders(1), 'secret'); // readable, never imported
  await env.pool.query(`CREATE TABLE public.${t} (LIKE public.${secret} INCLUDING ALL)`);
  await env.pool.query(`CREATE TABLE public."${mixed}" (LIKE public.${secret} INCLUDING ALL)`);
  await env.pool.query(`CREATE SCHEMA ${shadow}`);
  await env.pool.query(`CREATE TABLE ${shadow}.${t} (LIKE public.${secret} INCLUDING ALL)`);
  await recordImported(env.pool, 'public', t);
  const started: string[] = [];
  async function allowed(mcp: Client, name: string, expected: string): Promise<void> {
    const msg = await refused(mcp, 'batch_preview', previewArgs(name), /no worker polls task queue/);
    const jobId = /job_id "(batch-[\w.-]+)"/.exec(msg)?.[1];
    assert.ok(jobId, msg);
    started.push(jobId);
    assert.equal(await startedSource(jobId), expected, `${name} reads ${expected}`);
  }
  const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  /** The refusal: the table as resolved, and the flag that would allow it. */
  const notAllowed = (resolved: string) =>
    new RegExp(
      `source_table: "[^"]+" \\(${esc(resolved)}\\) is not a table this server lets agents use.*--tables ${esc(resolved)}`,
    );

  const { mcp } = await stdioServer([], { SHIPBATCH_TASK_QUEUE: queue });
  await refused(mcp, 'batch_preview', previewArgs(secret), notAllowed(`public.${secret}`));
  await refused(mcp, 'batch_preview', previewArgs(`public.${secret}`), notAllowed(`public.${secret}`));
  await refused(mcp, 'batch_preview', previewArgs(`${shadow}.${t}`), notAllowed(`${shadow}.${t}`));
  await refused(mcp, 'batch_preview', previewArgs(mixed), notAllowed(`public.${mixed}`));
  await refused(mcp, 'batch_preview', previewArgs(`"${mixed}"`), notAllowed(`public.${mixed}`));
  await refused(mcp, 'batch_preview', previewArgs(t.toUpperCase()), /source_table: .*does not exist/);
  // Every spelling of the imported table is the same relation, and the batch reads it schema-qualified.
  await allowed(mcp, t, `public.${t}`);
  await allowed(mcp, `public.${t}`, `public.${t}`);
  await allowed(mcp, `"${t}"`, `public.${t}`);
  await allowed(mcp, `"public"."${t}"`, `public.${t}`);

  // A server whose search_path puts the shadow schema first: the unqualified name is the shadow table.
  const url = new URL(process.env.DATABASE_URL!);
  url.searchParams.set('options', `-c search_path=${shadow},public`);
  const { mcp: shadowed } = await stdioServer([], {
    SHIPBATCH_TASK_QUEUE: queue,
    DATABASE_URL: url.toString(),
  });
  await refused(shadowed, 'batch_preview', previewArgs(t), notAllowed(`${shadow}.${t}`));
  await allowed(shadowed, `public.${t}`, `public.${t}`);

  // --tables replaces the default: exactly the listed relations (quoted names keep their case).
  const { mcp: listed } = await stdioServer(['--tables', `"${mixed}", ${shadow}.${t}`], {
    SHIPBATCH_TASK_QUEUE: queue,
  });
  await allowed(listed, mixed, `public.${mixed}`);
  await allowed(listed, `${shadow}.${t}`, `${shadow}.${t}`);
  await refused(listed, 'batch_preview', previewArgs(t), notAllowed(`public.${t}`));
  await refused(listed, 'batch_preview', previewArgs(secret), notAllowed(`public.${secret}`));
  // The same list from the environment (how MCP clients often configure a server); a flag wins over it.
  const { mcp: fromEnv } = await stdioServer([], {
    SHIPBATCH_TASK_QUEUE: queue,
    SHIPBATCH_MCP_TABLES: `"${mixed}"`,
  });
  await allowed(fromEnv, mixed, `public.${mixed}`);
  await refused(fromEnv, 'batch_preview', previewArgs(t), notAllowed(`public.${t}`));
  const { mcp: flagWins } = await stdioServer(['--tables', t], {
    SHIPBATCH_TASK_QUEUE: queue,
    SHIPBATCH_MCP_TABLES: `"${mixed}"`,
  });
  await refused(flagWins, 'batch_preview', previewArgs(mixed), notAllowed(`public.${mixed}`));

  // Only the allowed requests started a batch.
  let ids: string[] = [];
  for (let i = 0; i < 40 && ids.length < started.length; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 250));
    ids = [];
    for await (const w of env.client.workflow.list({ query: `TaskQueue = '${queue}'` }))
      ids.push(w.workflowId);
  }
  assert.deepEqual(ids.sort(), [...started].sort());
  for (const id of started) await env.client.workflow.getHandle(id).terminate('test done');
});

test('a bad --tables entry stops the server with exit code 2 naming it', async () => {
  const child = spawn(process.execPath, [BIN, '--tables', 'orders, orders;drop'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 2, err);
  assert.match(err, /--tables: invalid table name "orders;drop"/);
  for (const [variable, value, message] of [
    ['SHIPBATCH_MCP_TABLES', 'orders;drop', /SHIPBATCH_MCP_TABLES: invalid table name "orders;drop"/],
    ['SHIPBATCH_MCP_ALLOW_AUTO', 'yes please', /SHIPBATCH_MCP_ALLOW_AUTO must be 1\/true or 0\/false/],
  ] as const) {
    const bad = spawn(process.execPath, [BIN], {
      env: { ...process.env, [variable]: value },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let text = '';
    bad.stderr.on('data', (d: Buffer) => (text += d.toString()));
    const [exit] = (await once(bad, 'exit')) as [number];
    assert.equal(exit, 2, text);
    assert.match(text, message);
  }
});

// ---------------------------------------------------------------- HTTP sessions and token

interface HttpServer {
  url: string;
  child: ChildProcess;
  log: () => string;
}

async function httpServer(args: string[]): Promise<HttpServer> {
  const child = spawn(process.execPath, [BIN, '--http', '0', ...args], {
    env: { ...process.env, SHIPBATCH_TASK_QUEUE: env.taskQueue },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  cleanups.push(async () => {
    child.kill('SIGTERM');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  });
  let log = '';
  let url: string | undefined;
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const deadline = Date.now() + 30_000;
  while (!url && Date.now() < deadline && child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 50));
    url = /listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(log)?.[1];
  }
  assert.ok(url, `no address printed: ${log}`);
  return { url, child, log: () => log };
}

/** One raw HTTP request (node:http: headers exactly as given). */
async function raw(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: unknown },
): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  const req = request(url, {
    method: opts.method ?? 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...opts.headers,
    },
  });
  req.end(opts.body === undefined ? undefined : JSON.stringify(opts.body));
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let body = '';
  for await (const chunk of res) body += (chunk as Buffer).toString();
  return { status: res.statusCode ?? 0, headers: res.headers, body };
}

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

function httpClient(
  url: string,
  token?: string,
): { client: Client; transport: StreamableHTTPClientTransport } {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    ...(token ? { requestInit: { headers: { authorization: `Bearer ${token}` } } } : {}),
  });
  const client = new Client({ name: 'agent-security-http', version: '1.0.0' });
  cleanups.push(() => client.close());
  return { client, transport };
}

async function connectHttp(url: string, token?: string): Promise<Client> {
  const { client, transport } = httpClient(url, token);
  await client.connect(transport);
  return client;
}

test('--http with a token: a missing or wrong bearer token is 401 on every request; the right one works', async () => {
  const token = randomUUID() + randomUUID();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shipbatch-agent-token-'));
  const tokenFile = path.join(dir, 'token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const server = await httpServer(['--token-file', tokenFile]);

  const attempts: Record<string, string>[] = [
    {},
    { authorization: `Bearer ${token.slice(0, -1)}x` }, // same length, last character wrong
    { authorization: `Bearer ${token.slice(0, 10)}` },
    { authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` },
    { authorization: token },
  ];
  for (const headers of attempts) {
    const r = await raw(server.url, { headers, body: INITIALIZE });
    assert.equal(r.status, 401, JSON.stringify(headers));
    assert.match(String(r.headers['www-authenticate']), /^Bearer/);
    const body = JSON.parse(r.body) as { jsonrpc: string; error: { message: string } };
    assert.equal(body.jsonrpc, '2.0');
    assert.match(body.error.message, /bearer token/i);
  }
  for (const method of ['GET', 'DELETE']) {
    const r = await raw(server.url, { method, headers: { 'mcp-session-id': randomUUID() } });
    assert.equal(r.status, 401, method);
  }
  // The real MCP client without the token, and with a wrong one, cannot connect.
  await assert.rejects(connectHttp(server.url), /401|bearer token/i);
  await assert.rejects(connectHttp(server.url, 'not-the-token-at-all'), /401|bearer token/i);

  const good = await connectHttp(server.url, token);
  assert.equal((await good.listTools()).tools.length, 4);
  // A session id alone is not a credential: the next request of the session without the token is refused.
  const sessionId = (good.transport as StreamableHTTPClientTransport).sessionId;
  assert.ok(sessionId);
  const r = await raw(server.url, {
    headers: { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
    body: { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} },
  });
  assert.equal(r.status, 401);
});

test('--http sessions are bounded (default 32): the one too many is a 503 JSON-RPC error, a burst opens exactly the bound', async () => {
  const server = await httpServer([]);
  // A burst of initialize requests: exactly 32 sessions open, every other request is refused.
  const answers = await Promise.all(Array.from({ length: 40 }, () => raw(server.url, { body: INITIALIZE })));
  const opened = answers.filter((a) => a.status === 200);
  const refusedOnes = answers.filter((a) => a.status !== 200);
  assert.equal(opened.length, 32, answers.map((a) => a.status).join(','));
  assert.ok(opened.every((a) => typeof a.headers['mcp-session-id'] === 'string'));
  for (const a of refusedOnes) {
    assert.equal(a.status, 503);
    const body = JSON.parse(a.body) as { jsonrpc: string; error: { code: number; message: string } };
    assert.equal(body.jsonrpc, '2.0');
    assert.match(body.error.message, /too many MCP sessions \(32 open, at most 32\).*--max-sessions/);
  }
  // The real client is refused the same way while the bound is reached…
  await assert.rejects(connectHttp(server.url), /503|too many MCP sessions/);
  // …and gets in once one session ends (DELETE closes it).
  const first = opened[0]!.headers['mcp-session-id'] as string;
  const del = await raw(server.url, {
    method: 'DELETE',
    headers: { 'mcp-session-id': first, 'mcp-protocol-version': '2025-06-18' },
  });
  assert.equal(del.status, 200);
  const c = await connectHttp(server.url);
  assert.equal((await c.listTools()).tools.length, 4);
  await assert.rejects(connectHttp(server.url), /503|too many MCP sessions/);
});

test('--http idle sessions expire (freeing their place); a session in use stays open', async () => {
  const server = await httpServer(['--max-sessions', '2', '--session-idle', '2s']);
  const busy = await connectHttp(server.url);
  const idle = await connectHttp(server.url);
  await assert.rejects(connectHttp(server.url), /503|too many MCP sessions/);
  const idleId = (idle.transport as StreamableHTTPClientTransport).sessionId;
  // Keep one session busy while the other one idles past its timeout.
  let expired = false;
  const deadline = Date.now() + 30_000;
  while (!expired && Date.now() < deadline) {
    assert.equal((await busy.listTools()).tools.length, 4, 'the busy session keeps working');
    await new Promise((r) => setTimeout(r, 400));
    expired = new RegExp(`session ${idleId!.slice(0, 8)}\\S* closed \\(idle`).test(server.log());
  }
  assert.ok(expired, `the idle session expired: ${server.log()}`);
  await assert.rejects(idle.listTools(), /404|unknown or expired Mcp-Session-Id/);
  // Its place is free again, and only one place: the bound still holds.
  const again = await connectHttp(server.url);
  assert.equal((await again.listTools()).tools.length, 4);
  await assert.rejects(connectHttp(server.url), /503|too many MCP sessions/);
  assert.match(server.log(), /session \S+ opened \(2 of 2 open\)/);
});
