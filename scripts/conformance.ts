/**
 * Side-by-side conformance check: the same MCP calls to the real UPS MCP server (matt-hans/ups-mcp,
 * Python) and to `ups-sandbox`, both over stdio, with fake credentials and no network (the real
 * server's HTTPS goes to a proxy on a closed local port, so everything it would send to UPS fails
 * at the OAuth token call with REQUEST_ERROR). Prints a per-case structural diff and a summary line.
 *
 *   node --import tsx scripts/conformance.ts --real <venv dir with bin/ups-mcp> [--verbose] [--case <substr>]
 *
 * Not part of `npm test` (the project's tests never depend on the real server): install the real
 * server with `python3 -m venv <dir> && <dir>/bin/pip install 'mcp<2' <checkout of matt-hans/ups-mcp>`.
 *
 * "Structure" is what a client can act on: error or not, sent to UPS or refused locally, the error
 * code and reason, the set of missing fields (dot path + flat key), pydantic error locations and
 * types, the kind of plain-text failure, tool argument names/types/defaults/required, the fields an
 * elicitation asks for. "Wording" is the rest: messages, prompts and their order, Python reprs.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CONFORMANCE_CASES, type ConformanceCase } from '../ups-sandbox/conformance-cases';

const SANDBOX_BIN = fileURLToPath(new URL('../bin/ups-sandbox.js', import.meta.url));

type Json = unknown;
interface Observed {
  structure: Json;
  wording: Json;
}

/** A port nothing listens on: the real server's proxy, so its HTTPS calls fail before leaving. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || !address) throw new Error('could not pick a free port');
  return address.port;
}

interface Side {
  name: 'real' | 'sandbox';
  plain: Client;
  /** A client declaring form elicitation that declines every request (and records it). */
  eliciting: Client;
  elicitations: Json[];
  close(): Promise<void>;
}

async function connect(
  command: string,
  args: string[],
  env: Record<string, string>,
  elicit: ((params: Record<string, unknown>) => void) | undefined,
): Promise<Client> {
  const client = new Client(
    { name: 'shipbatch-conformance', version: '1.0.0' },
    elicit ? { capabilities: { elicitation: { form: {} } } } : { capabilities: {} },
  );
  if (elicit) {
    client.setRequestHandler(ElicitRequestSchema, (request) => {
      elicit(request.params);
      return { action: 'decline' };
    });
  }
  const transport = new StdioClientTransport({ command, args, env, stderr: 'ignore' });
  // The real server prints a banner on stdout before speaking JSON-RPC; the SDK skips that line.
  transport.onerror = () => undefined;
  await client.connect(transport);
  return client;
}

async function openSide(
  name: Side['name'],
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<Side> {
  const elicitations: Json[] = [];
  const plain = await connect(command, args, env, undefined);
  const eliciting = await connect(command, args, env, (params) => elicitations.push(params));
  return {
    name,
    plain,
    eliciting,
    elicitations,
    async close() {
      await plain.close();
      await eliciting.close();
    },
  };
}

const PREFIX = /^Error executing tool ([^:]+): ([\s\S]*)$/;

/** Parse pydantic's "N validation errors for Model" text into locations and error types. */
function pydanticErrors(
  body: string,
): { model: string; errors: { loc: string; type: string }[] } | undefined {
  const head = /^(\d+) validation errors? for (\S+)\n/.exec(body);
  if (!head) return undefined;
  const errors: { loc: string; type: string }[] = [];
  const re = /^(\S[^\n]*)\n {2}[^\n]*\[type=([a-z_]+)/gm;
  for (const m of body.slice(head[0].length).matchAll(re)) errors.push({ loc: m[1]!, type: m[2]! });
  return { model: head[2]!, errors };
}

/** Plain-text failures that are the same rule in different words. */
function textKind(body: string): string {
  if (/object has no attribute/.test(body)) return 'attribute_error';
  if (/^Invalid requestoption/.test(body)) return 'invalid_requestoption';
  if (/^request_body must be a JSON object/.test(body)) return 'request_body_not_object';
  if (/^trackingnumber must be/.test(body)) return 'trackingnumber_type';
  if (/^Unknown tool/i.test(body)) return 'unknown_tool';
  return body;
}

/** What one tool result means, split into structure and wording. */
export function observeResult(result: CallToolResult): Observed {
  if (!result.isError) return { structure: { outcome: 'sent_to_ups' }, wording: null };
  const first = result.content[0];
  const text = first && first.type === 'text' ? first.text : '';
  const m = PREFIX.exec(text);
  const body = m ? m[2]! : text;
  let payload: unknown;
  if (body.startsWith('{')) {
    try {
      payload = JSON.parse(body);
    } catch {
      payload = undefined;
    }
  }
  if (payload && typeof payload === 'object' && !Array.isArray(payload)) {
    const p = payload as Record<string, unknown>;
    // Without network the real server's UPS calls end as REQUEST_ERROR; the sandbox answers for UPS.
    if ('status_code' in p || p.code === 'REQUEST_ERROR') {
      return { structure: { outcome: 'sent_to_ups' }, wording: null };
    }
    const missing = Array.isArray(p.missing) ? (p.missing as Record<string, unknown>[]) : [];
    return {
      structure: {
        outcome: 'refused',
        prefix: Boolean(m),
        code: p.code,
        reason: p.reason,
        missing: missing.map((f) => `${String(f.dot_path)} ${String(f.flat_key)}`).sort(),
      },
      wording: {
        message: p.message,
        prompts: missing.map((f) => `${String(f.flat_key)}: ${String(f.prompt)}`),
      },
    };
  }
  const pyd = pydanticErrors(body);
  if (pyd) return { structure: { outcome: 'bad_arguments', prefix: Boolean(m), ...pyd }, wording: body };
  return { structure: { outcome: 'text', prefix: Boolean(m), kind: textKind(body) }, wording: body };
}

/** Tool listing: argument names, types, defaults, required (structure); titles and order (wording). */
function observeTools(
  tools: { name: string; inputSchema: Record<string, unknown>; description?: string }[],
  names: string[],
): Observed {
  const structure: Record<string, unknown> = {};
  const wording: Record<string, unknown> = {};
  for (const name of names) {
    const tool = tools.find((t) => t.name === name);
    if (!tool) {
      structure[name] = 'absent';
      continue;
    }
    const props = (tool.inputSchema.properties ?? {}) as Record<string, Record<string, unknown>>;
    structure[name] = {
      required: [...((tool.inputSchema.required as string[] | undefined) ?? [])].sort(),
      properties: Object.fromEntries(
        Object.entries(props)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => [k, { type: v.type, anyOf: v.anyOf, default: v.default, items: v.items }]),
      ),
    };
    wording[name] = {
      order: Object.keys(props),
      titles: Object.values(props).map((v) => v.title),
      modelTitle: tool.inputSchema.title,
    };
  }
  return { structure, wording };
}

function summarizeElicitation(params: Json): Observed {
  const p = params as {
    message?: string;
    requestedSchema?: { properties?: Record<string, unknown>; required?: string[] };
  };
  const props = p.requestedSchema?.properties ?? {};
  return {
    structure: {
      fields: Object.keys(props).sort(),
      required: [...(p.requestedSchema?.required ?? [])].sort(),
    },
    wording: { message: p.message, properties: props },
  };
}

async function observe(side: Side, c: ConformanceCase): Promise<Observed> {
  switch (c.call) {
    case 'listTools': {
      const { tools } = await side.plain.listTools();
      return observeTools(tools, c.tools ?? []);
    }
    case 'serverInfo': {
      const info = side.plain.getServerVersion();
      const caps = side.plain.getServerCapabilities() ?? {};
      return {
        structure: { name: info?.name, capabilities: caps },
        wording: { version: info?.version, instructions: side.plain.getInstructions() ?? null },
      };
    }
    case 'tool': {
      const client = c.elicitation ? side.eliciting : side.plain;
      side.elicitations.length = 0;
      const result = (await client.callTool({ name: c.tool!, arguments: c.args ?? {} }, undefined, {
        timeout: 60_000,
      })) as CallToolResult;
      const observed = observeResult(result);
      if (!c.elicitation) return observed;
      const asked = side.elicitations.map(summarizeElicitation);
      return {
        structure: { result: observed.structure, elicitations: asked.map((a) => a.structure) },
        wording: { result: observed.wording, elicitations: asked.map((a) => a.wording) },
      };
    }
  }
}

function show(value: Json): string {
  return JSON.stringify(value, null, 2)
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      real: { type: 'string' },
      sandbox: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      case: { type: 'string' },
    },
  });
  if (!values.real) {
    process.stderr.write(
      'usage: conformance --real <venv dir holding bin/ups-mcp> [--verbose] [--case <substr>]\n',
    );
    process.exit(2);
  }
  const realBin = path.join(values.real, 'bin', 'ups-mcp');
  if (!existsSync(realBin)) {
    process.stderr.write(`conformance: no ups-mcp executable at ${realBin}\n`);
    process.exit(2);
  }
  const proxy = `http://127.0.0.1:${await closedPort()}`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'shipbatch-conformance-'));
  const cases = CONFORMANCE_CASES.filter((c) => !values.case || c.name.includes(values.case));
  const groups = [...new Set(cases.map((c) => c.accountNumber ?? ''))];
  let equal = 0;
  let wordingOnly = 0;
  let structural = 0;
  try {
    for (const account of groups) {
      const base: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? os.tmpdir(),
        ...(account ? { UPS_ACCOUNT_NUMBER: account } : {}),
      };
      const real = await openSide('real', realBin, [], {
        ...base,
        CLIENT_ID: 'conformance-fake-id',
        CLIENT_SECRET: 'conformance-fake-secret',
        HTTPS_PROXY: proxy,
        HTTP_PROXY: proxy,
        NO_PROXY: '',
      });
      const sandbox = await openSide('sandbox', process.execPath, [values.sandbox ?? SANDBOX_BIN], {
        ...base,
        UPS_SANDBOX_DATA_DIR: path.join(dataDir, account || 'none'),
      });
      try {
        for (const c of cases.filter((x) => (x.accountNumber ?? '') === account)) {
          const [r, s] = [await observe(real, c), await observe(sandbox, c)];
          const label = `[${c.kind}] ${c.name}`;
          if (!isDeepStrictEqual(r.structure, s.structure)) {
            structural++;
            process.stdout.write(
              `STRUCTURE ${label}\n    real:\n${show(r.structure)}\n    sandbox:\n${show(s.structure)}\n`,
            );
            if (values.verbose)
              process.stdout.write(
                `    real wording:\n${show(r.wording)}\n    sandbox wording:\n${show(s.wording)}\n`,
              );
          } else if (!isDeepStrictEqual(r.wording, s.wording)) {
            wordingOnly++;
            process.stdout.write(`wording   ${label}\n`);
            if (values.verbose)
              process.stdout.write(`    real:\n${show(r.wording)}\n    sandbox:\n${show(s.wording)}\n`);
          } else {
            equal++;
            process.stdout.write(`equal     ${label}\n`);
            if (values.verbose) process.stdout.write(`${show(r.structure)}\n`);
          }
        }
      } finally {
        await real.close();
        await sandbox.close();
      }
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  const total = equal + wordingOnly + structural;
  process.stdout.write(
    `${total} cases, ${equal} structurally equal, ${wordingOnly} wording-only differences, ${structural} structural differences\n`,
  );
  process.exitCode = structural > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    process.stderr.write(`conformance: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
