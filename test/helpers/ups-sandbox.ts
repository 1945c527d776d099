/**
 * Test harnesses for the UPS MCP sandbox: real sandbox processes reached through the real client and
 * its session pool, over stdio (the worker's way) or Streamable HTTP, each with its own data dir and
 * knobs file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { UpsClient, type UpsClientOptions } from '../../activities/ups/client';
import { sandboxTarget, type UpsServerTarget } from '../../activities/ups/connection';
import { UpsSessionPool } from '../../activities/ups/session-pool';
import type { ShipmentRequestBody } from '../../domain/shipment-schema';
import { loadConfig } from '../../temporal.config';
import { createSandboxServer, openSandboxState, slowCallsSettled } from '../../ups-sandbox/server';

const SANDBOX_BIN = fileURLToPath(new URL('../../bin/ups-sandbox.js', import.meta.url));

/** The tool names of the real server (the configuration's defaults). */
export const TOOL_NAMES: UpsClientOptions['tools'] = loadConfig({}).ups.tools;

export interface SandboxHarness {
  transport: 'stdio' | 'http';
  dataDir: string;
  knobsFile: string;
  client: UpsClient;
  /** The client's session pool (`sessions` sessions; stdio: that many sandbox processes). */
  connection: UpsSessionPool;
  /** Replace the knobs (the sandbox re-reads the file on its next call). */
  setKnobs(knobs: Record<string, unknown>): void;
  /** Stop the sandbox process and start a new one on the same data dir. */
  restart(): Promise<void>;
  /** HTTP only: stop the server process (the client keeps its session id). */
  stopServer(): Promise<void>;
  /** HTTP only: start the server again on the same port and data dir. */
  startServer(): Promise<void>;
  /** Another client of the same sandbox with a pool of its own (stdio: other processes, same data dir). */
  newClient(opts?: Partial<UpsClientOptions>, sessions?: number): UpsClient;
  close(): Promise<void>;
}

function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `shipbatch-${prefix}-`));
}

/** Start `ups-sandbox --http 0` and resolve with its process and URL once it listens. */
async function startHttpSandbox(
  dataDir: string,
  knobsFile: string,
  port = 0,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [SANDBOX_BIN, '--http', String(port), '--data-dir', dataDir], {
    env: { ...process.env, UPS_SANDBOX_KNOBS_FILE: knobsFile },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`ups-sandbox --http did not start: ${seen}`)), 30_000);
    child.stderr.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const m = /listening on (http:\/\/\S+\/mcp)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ups-sandbox --http exited with ${code}: ${seen}`));
    });
  });
  return { child, url };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * A sandbox (stdio: started per session by the pool; http: one server process) and a client with a
 * pool of `sessions` sessions (default 1). The sandbox answers one call at a time per process unless
 * `knobs.concurrency` says otherwise.
 */
export async function openSandboxHarness(
  transport: 'stdio' | 'http',
  opts: Partial<UpsClientOptions> = {},
  { sessions = 1, knobs = {} }: { sessions?: number; knobs?: Record<string, unknown> } = {},
): Promise<SandboxHarness> {
  const dataDir = tempDir(`ups-${transport}`);
  const knobsFile = path.join(dataDir, 'knobs.json');
  writeFileSync(knobsFile, JSON.stringify(knobs));
  const clientOpts: UpsClientOptions = { tools: TOOL_NAMES, callTimeoutMs: 30_000, ...opts };
  const env = { UPS_SANDBOX_DATA_DIR: dataDir, UPS_SANDBOX_KNOBS_FILE: knobsFile };
  let http = transport === 'http' ? await startHttpSandbox(dataDir, knobsFile) : undefined;
  const target = (): UpsServerTarget => (http ? { transport: 'http', url: http.url } : sandboxTarget(env));
  const makeConnection = (size = sessions) => UpsSessionPool.forTarget(target(), size);
  const extra: UpsClient[] = [];
  const harness: SandboxHarness = {
    transport,
    dataDir,
    knobsFile,
    connection: makeConnection(),
    client: undefined as unknown as UpsClient,
    setKnobs(knobs) {
      writeFileSync(knobsFile, JSON.stringify(knobs));
    },
    async restart() {
      await harness.client.close();
      if (http) {
        await stop(http.child);
        http = await startHttpSandbox(dataDir, knobsFile);
      }
      harness.connection = makeConnection();
      harness.client = new UpsClient(harness.connection, clientOpts);
    },
    async stopServer() {
      if (http) await stop(http.child);
    },
    async startServer() {
      if (http) http = await startHttpSandbox(dataDir, knobsFile, Number(new URL(http.url).port));
    },
    newClient(more = {}, size = 1) {
      const client = new UpsClient(makeConnection(size), { ...clientOpts, ...more });
      extra.push(client);
      return client;
    },
    async close() {
      await Promise.all([harness.client.close(), ...extra.map((c) => c.close())]);
      if (http) await stop(http.child);
    },
  };
  harness.client = new UpsClient(harness.connection, clientOpts);
  return harness;
}

export const SHIPPER = {
  Name: 'Acme Widgets Inc',
  AttentionName: 'Shipping Dept',
  ShipperNumber: 'A1B2C3',
  Phone: { Number: '5125550100' },
  Address: {
    AddressLine: ['1200 Industrial Blvd', 'Dock 4'],
    City: 'Austin',
    StateProvinceCode: 'TX',
    PostalCode: '78744',
    CountryCode: 'US',
  },
};

/** A complete ShipmentRequest as shipbatch sends it, for reference `ref`. */
export function shipmentRequest(
  ref: string,
  opts: {
    service?: string;
    zip?: string;
    weights?: string[];
    format?: 'GIF' | 'ZPL';
    shipperNumber?: string;
  } = {},
): ShipmentRequestBody {
  const shipperNumber = opts.shipperNumber ?? SHIPPER.ShipperNumber;
  return {
    ShipmentRequest: {
      Request: { RequestOption: 'nonvalidate', TransactionReference: { CustomerContext: ref } },
      Shipment: {
        Description: 'Desk lamp',
        Shipper: { ...SHIPPER, ShipperNumber: shipperNumber },
        ShipTo: {
          Name: 'Emily Wilson',
          AttentionName: 'Emily',
          Phone: { Number: '2155551004' },
          Address: {
            AddressLine: ['3223 Cedar Ln'],
            City: 'Philadelphia',
            StateProvinceCode: 'PA',
            PostalCode: opts.zip ?? '19103',
            CountryCode: 'US',
          },
        },
        PaymentInformation: {
          ShipmentCharge: [{ Type: '01', BillShipper: { AccountNumber: shipperNumber } }],
        },
        Service: { Code: opts.service ?? '03' },
        Package: (opts.weights ?? ['5.2']).map((weight) => ({
          Packaging: { Code: '02' },
          PackageWeight: { UnitOfMeasurement: { Code: 'LBS' as const }, Weight: weight },
          ReferenceNumber: { Value: ref },
        })),
      },
      LabelSpecification: { LabelImageFormat: { Code: opts.format ?? 'GIF' } },
    },
  };
}

/** A sandbox MCP server in this process, reached by an MCP client over linked in-memory transports. */
export interface InProcessSandbox {
  /** The sandbox's data dir (shipments, call log). */
  dir: string;
  client: Client;
  setKnobs(k: Record<string, unknown>): void;
  call(name: string, args: unknown, signal?: AbortSignal): Promise<CallToolResult>;
  /** Resolves once no `slow` call is in its delay. */
  settled(): Promise<void>;
}

/** A sandbox server on a fresh data dir with a knobs file; closed and removed after the test. */
export async function inProcessSandbox(
  t: TestContext,
  initial: Record<string, unknown> = {},
): Promise<InProcessSandbox> {
  const dir = tempDir('ups-in-process');
  const knobsFile = path.join(dir, 'knobs.json');
  writeFileSync(knobsFile, JSON.stringify(initial));
  const state = openSandboxState(path.join(dir, 'data'), { UPS_SANDBOX_KNOBS_FILE: knobsFile });
  const server = createSandboxServer(state);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'in-process-test', version: '0' });
  await client.connect(clientSide);
  t.after(async () => {
    await slowCallsSettled(state);
    await client.close();
    await server.close();
    state.store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir: state.dataDir,
    client,
    setKnobs: (k) => writeFileSync(knobsFile, JSON.stringify(k)),
    call: async (name, args, signal) =>
      (await client.callTool({ name, arguments: args as Record<string, unknown> }, undefined, {
        signal,
      })) as CallToolResult,
    settled: () => slowCallsSettled(state),
  };
}
