/**
 * The sandbox MCP server: the real ups-mcp tool surface (see tools.ts) over any MCP transport, with
 * the latency and faults of the knobs applied and every call written to the call log.
 */
import { asList, isObj, text, type JsonObject } from './json';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { CallLog, type CallLogEntry } from './call-log';
import { ToolFailure, UPS_CODES, requestError, toolErrorResult, upsHttpError } from './errors';
import {
  AFTER_CREATE_FAULTS,
  drawLatencyMs,
  FaultPicker,
  FileRuleCounter,
  KnobSource,
  slowDelayMs,
  type FaultKind,
} from './knobs';
import { ShipmentStore } from './store';
import { argumentErrors, TOOLS } from './tools';
import * as ups from './ups';
import { formElicitor } from './elicitation';
import { answerEmptyListings, SERVER_CAPABILITIES, SERVER_INFO } from './identity';

/**
 * The calls one process answers at once (knob `concurrency`, 1 by default, like the real server);
 * the others wait in arrival order. Shared by every session of the process, as the real server's one
 * blocked event loop is.
 */
export class CallLanes {
  private active = 0;
  private readonly queue: Array<() => void> = [];

  constructor(private readonly limit: () => number) {}

  /** Calls in service and waiting. */
  get load(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.queue.length };
  }

  /**
   * Wait for a free lane; resolves with the function that frees it. Rejects when `signal` aborts
   * first (the caller gave up: the call is dropped without being served).
   */
  async enter(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.queue.length === 0 && this.active < this.limit()) {
      this.active += 1;
      return this.exit();
    }
    await new Promise<void>((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const at = this.queue.indexOf(go);
        if (at >= 0) this.queue.splice(at, 1);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('cancelled'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(go);
    });
    return this.exit();
  }

  private exit(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.active -= 1;
      this.pump();
    };
  }

  private pump(): void {
    while (this.queue.length > 0 && this.active < this.limit()) {
      this.active += 1;
      this.queue.shift()!();
    }
  }
}

/** Shared state of one sandbox process: its store, call log, knobs and call lanes. */
export interface SandboxState {
  dataDir: string;
  store: ShipmentStore;
  callLog: CallLog;
  knobs: KnobSource;
  faults: FaultPicker;
  lanes: CallLanes;
  accountNumber?: string;
}

export function openSandboxState(dataDir: string, env: NodeJS.ProcessEnv = process.env): SandboxState {
  const knobs = new KnobSource(env);
  return {
    dataDir,
    store: new ShipmentStore(dataDir),
    callLog: new CallLog(dataDir),
    knobs,
    // Rule counts live in the data dir: the processes of a pool share them.
    faults: new FaultPicker(Math.random, new FileRuleCounter(path.join(dataDir, 'fault-rules'))),
    lanes: new CallLanes(() => knobs.current().concurrency),
    accountNumber: env.UPS_ACCOUNT_NUMBER || undefined,
  };
}

type Obj = JsonObject;
type AfterCreateFault = 'hang_after_create' | 'timeout_after_create';

/**
 * The row reference a call is about, for the call log and per-reference fault rules: from the request
 * body (CustomerContext, the recovery's reference, the first package reference), else the call's
 * `trans_id` (the UPS transId header; the only place a get_time_in_transit or validate_address call can
 * carry one).
 */
export function callReference(tool: string, args: Obj): string | undefined {
  return bodyReference(tool, args) ?? (text(args.trans_id) || undefined);
}

function bodyReference(tool: string, args: Obj): string | undefined {
  const body = isObj(args.request_body) ? args.request_body : {};
  const part = (body.ShipmentRequest ?? body.RateRequest ?? body.LabelRecoveryRequest) as Obj | undefined;
  if (!isObj(part)) return undefined;
  const context =
    isObj(part.Request) && isObj(part.Request.TransactionReference)
      ? part.Request.TransactionReference
      : undefined;
  if (context?.CustomerContext) return text(context.CustomerContext);
  if (
    tool === 'recover_label' &&
    isObj(part.ReferenceValues) &&
    isObj(part.ReferenceValues.ReferenceNumber)
  ) {
    return text(part.ReferenceValues.ReferenceNumber.Value) || undefined;
  }
  const shipment = isObj(part.Shipment) ? part.Shipment : undefined;
  const pkg: unknown = shipment && asList(shipment.Package)[0];
  const ref: unknown = isObj(pkg) ? asList(pkg.ReferenceNumber)[0] : undefined;
  return isObj(ref) && ref.Value ? text(ref.Value) : undefined;
}

/** The failure a fault answers with (`slow` is no failure: the call is served after its delay). */
function faultFailure(kind: Exclude<FaultKind, 'slow'>, retryAfterSeconds: number): ToolFailure {
  switch (kind) {
    case 'rate_limit':
      // The real server passes no headers on; the sandbox adds the Retry-After it would have carried.
      return upsHttpError(429, UPS_CODES.rateLimited, 'Rate limit exceeded', {
        retry_after: retryAfterSeconds,
      });
    case 'unavailable':
      return upsHttpError(503, UPS_CODES.systemUnavailable, 'The UPS system is temporarily unavailable');
    case 'busy':
      return upsHttpError(503, UPS_CODES.systemBusy, 'The UPS system is busy; please try again later');
    case 'auth_error':
      return upsHttpError(401, UPS_CODES.invalidCredentials, 'Invalid Authentication Information.');
    case 'invalid_request':
      return upsHttpError(
        400,
        UPS_CODES.invalidRequest,
        'Invalid request: the request could not be processed.',
      );
    case 'server_error':
      return new ToolFailure({
        status_code: 500,
        code: '500',
        message: 'UPS API returned HTTP 500',
        details: null,
      });
    case 'request_error':
    case 'timeout_after_create':
    case 'hang':
    case 'hang_after_create':
      return requestError(
        `HTTPSConnectionPool(host='onlinetools.ups.com', port=443): Read timed out. (read timeout=30)`,
      );
  }
}

/** `slow` calls still being served, per sandbox state (see {@link slowCallsSettled}). */
const slowCalls = new WeakMap<SandboxState, Set<Promise<void>>>();

/**
 * Resolves once every `slow` call in progress has passed its delay (its create landed): for tests that
 * close an in-process server only once its calls are over.
 */
export async function slowCallsSettled(state: SandboxState): Promise<void> {
  while ((slowCalls.get(state)?.size ?? 0) > 0) await Promise.all(slowCalls.get(state)!);
}

/**
 * The delay of a `slow` fault: UPS taking its time. The client's cancellation does not shorten it
 * (UPS goes on with the request whatever the client does), in either concurrency mode.
 */
async function slowDown(state: SandboxState, ms: number): Promise<void> {
  const pending = slowCalls.get(state) ?? new Set<Promise<void>>();
  slowCalls.set(state, pending);
  const delay = sleep(ms);
  pending.add(delay);
  try {
    await delay;
  } finally {
    pending.delete(delay);
  }
}

async function hang(ms: number, signal: AbortSignal): Promise<never> {
  await sleep(ms, undefined, { signal }).catch(() => undefined);
  throw requestError('Read timed out. (read timeout=30)');
}

/** Create an MCP server for one session; every session of the process shares `state`. */
export function createSandboxServer(state: SandboxState): Server {
  const server = new Server({ ...SERVER_INFO }, { capabilities: SERVER_CAPABILITIES });
  answerEmptyListings(server);
  const ctx: ups.UpsContext = {
    store: state.store,
    knobs: () => state.knobs.current(),
    accountNumber: state.accountNumber,
  };

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: TOOLS }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const name = request.params.name;
    const def = TOOLS.find((t) => t.name === name);
    if (!def) return { isError: true, content: [{ type: 'text', text: `Unknown tool: ${name}` }] };
    let leave: () => void;
    try {
      leave = await state.lanes.enter(extra.signal);
    } catch {
      // The client cancelled while the call was queued: it is dropped, nothing is answered or logged.
      return { isError: true, content: [{ type: 'text', text: 'Request cancelled' }] };
    }
    try {
      return await serve(
        state,
        { ...ctx, elicit: formElicitor(server, extra) },
        def,
        name,
        request.params.arguments ?? {},
        extra.signal,
      );
    } finally {
      leave();
    }
  });
  return server;
}

/** Answer one call (in a lane): latency, faults, the tool itself, the call log. */
async function serve(
  state: SandboxState,
  ctx: ups.UpsContext,
  def: (typeof TOOLS)[number],
  name: string,
  rawArgs: Record<string, unknown>,
  clientSignal: AbortSignal,
): Promise<CallToolResult> {
  const args = rawArgs as Obj;
  const started = Date.now();
  const reference = callReference(name, args);
  let slowMs: number | undefined;
  const log = (entry: Pick<CallLogEntry, 'outcome'> & Partial<CallLogEntry>) =>
    state.callLog.record({
      at: new Date(started).toISOString(),
      pid: process.pid,
      tool: name,
      reference,
      ms: Date.now() - started,
      ...(slowMs !== undefined ? { slowMs } : {}),
      ...entry,
    });

  const knobs = state.knobs.current();
  // A serial server cannot notice a cancellation: it is blocked in the UPS request until that
  // returns (or its own read timeout fires). Concurrent answers stop early when the client gives up.
  const signal = knobs.concurrency === 1 ? new AbortController().signal : clientSignal;
  const delay = drawLatencyMs(knobs.latency);
  if (delay > 0) await sleep(delay, undefined, { signal }).catch(() => undefined);
  const choice = state.faults.choose(knobs, name, reference);
  const fault = choice?.kind;
  if (choice?.kind === 'slow') slowMs = slowDelayMs(choice, knobs);
  const afterCreate = fault && AFTER_CREATE_FAULTS.has(fault) ? (fault as AfterCreateFault) : undefined;
  let logged = false;
  let slowed: Promise<void> | undefined;
  try {
    const bad = argumentErrors(def, args);
    if (bad) throw new ToolFailure(bad);
    if (fault === 'hang') {
      log({ outcome: 'hang', code: 'hang' });
      return await hang(knobs.hangMs, signal);
    }
    // Slow: served normally once the delay has passed. A create is on UPS's record from the start, landing
    // when the delay ends, so it lands even if this process is stopped meanwhile (UPS has the request).
    slowed = slowMs === undefined ? undefined : slowDown(state, slowMs);
    if (name !== 'create_shipment') await slowed;
    if (fault && fault !== 'slow' && !afterCreate) {
      throw Object.assign(faultFailure(fault, knobs.retryAfterSeconds), { injected: true });
    }
    const body = await dispatch(ctx, name, args, slowMs, async () => {
      if (!afterCreate) return;
      // The shipment is on record; now the answer gets lost.
      logged = true;
      log({
        outcome: afterCreate === 'hang_after_create' ? 'hang' : 'fault',
        code: afterCreate,
        trackingNumbers: lastTracking(state, reference),
      });
      if (afterCreate === 'hang_after_create') await hang(knobs.hangMs, signal);
      throw faultFailure(afterCreate, knobs.retryAfterSeconds);
    });
    await slowed;
    log({ outcome: 'ok', trackingNumbers: trackingOf(body) });
    return { content: [{ type: 'text', text: JSON.stringify(body, null, 2) }], structuredContent: body };
  } catch (err) {
    await slowed;
    if (!(err instanceof ToolFailure)) {
      // Anything unexpected becomes the generic text the real server's SDK wraps exceptions in.
      log({ outcome: 'error', code: 'exception' });
      return toolErrorResult(name, new ToolFailure(err instanceof Error ? err.message : text(err)));
    }
    const injected = (err as { injected?: boolean }).injected === true;
    if (!logged) log({ outcome: injected ? 'fault' : 'error', code: failureCode(err) });
    return toolErrorResult(name, err);
  }
}

async function dispatch(
  ctx: ups.UpsContext,
  name: string,
  args: Obj,
  slowMs: number | undefined,
  afterRecord: () => Promise<void>,
): Promise<Obj> {
  switch (name) {
    case 'rate_shipment':
      return ups.rateShipment(ctx, args);
    case 'create_shipment':
      return ups.createShipment(ctx, args, afterRecord, slowMs);
    case 'void_shipment':
      return ups.voidShipment(ctx, args);
    case 'recover_label':
      return ups.recoverLabel(ctx, args);
    case 'validate_address':
      return ups.validateAddress(ctx, args);
    case 'track_package':
      return ups.trackPackage(ctx, args);
    case 'get_time_in_transit':
      return ups.getTimeInTransit(ctx, args);
    case 'rate_pickup':
      return ups.ratePickup(ctx, args);
    case 'schedule_pickup': {
      // Like a create: the pickup is on UPS's record, then the answer may be lost (after-create faults).
      const body = ups.schedulePickup(ctx, args);
      await afterRecord();
      return body;
    }
    case 'cancel_pickup':
      return ups.cancelPickup(ctx, args);
    case 'get_pickup_status':
      return ups.getPickupStatus(ctx, args);
    default:
      throw new ToolFailure(`Unknown tool: ${name}`);
  }
}

/** The UPS code of a failure (under `details.response.errors`, or `details.errors` for Time in Transit). */
function failureCode(f: ToolFailure): string | undefined {
  if (typeof f.payload === 'string') return undefined;
  type Errors = { errors?: { code?: string }[] };
  const details = f.payload.details as (Errors & { response?: Errors }) | null | undefined;
  return (
    details?.response?.errors?.[0]?.code ??
    details?.errors?.[0]?.code ??
    (f.payload.code as string | undefined)
  );
}

function trackingOf(body: Obj): string[] | undefined {
  const results = (
    body.ShipmentResponse as
      { ShipmentResults?: { PackageResults?: { TrackingNumber: string }[] } } | undefined
  )?.ShipmentResults?.PackageResults;
  return results?.map((p) => p.TrackingNumber);
}

function lastTracking(state: SandboxState, reference: string | undefined): string[] | undefined {
  if (!reference) return undefined;
  const recs = state.store.findByReference(reference);
  return recs.at(-1)?.packages.map((p) => p.trackingNumber);
}
