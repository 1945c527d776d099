/**
 * The one configuration loader of shipbatch (docs/design.md §8). Every value has a default so the embedded demo
 * runs with no set-up; environment variables override. The Temporal connection comes from
 * @temporalio/envconfig (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS variables, profiles).
 */
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

/** A configuration value that failed validation; the message names the variable and the value's problem. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'expected a duration such as 500ms, 30s, 5m, 2h or 7d');

/**
 * `host:port` to listen on, or `off`. The Temporal runtime binds it as a socket address, so the host is an IP
 * (`localhost` is taken as 127.0.0.1); IPv6 in brackets (`[::1]:9464`). `off` parses to undefined.
 */
const listenAddress = z.string().transform((text, ctx): string | undefined => {
  const value = text.trim();
  if (value.toLowerCase() === 'off') return undefined;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const host = m?.[1] ?? (m?.[2] === 'localhost' ? '127.0.0.1' : m?.[2]);
  const portNo = Number(m?.[3]);
  const ipOk = host !== undefined && (m?.[1] !== undefined ? isIPv6(host) : isIPv4(host));
  if (!m || !ipOk || !(portNo >= 1 && portNo <= 65535)) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected host:port with an IP address and a port 1-65535 (e.g. 127.0.0.1:9464), or off',
    });
    return z.NEVER;
  }
  return m[1] !== undefined ? `[${host}]:${portNo}` : `${host}:${portNo}`;
});

const stringList = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const text = v.trim();
  if (text.startsWith('[')) return JSON.parse(text) as unknown;
  return text === '' ? [] : text.split(/\s+/);
}, z.array(z.string()));

const stringMap = z.preprocess(
  (v) => (typeof v === 'string' ? (JSON.parse(v) as unknown) : v),
  z.record(z.string(), z.string()),
);

/**
 * Each setting: its environment variable, its schema (with the default). The variable name is what a
 * user sets, so it is also what an error names.
 */
const SETTINGS = {
  taskQueue: ['SHIPBATCH_TASK_QUEUE', z.string().min(1).default('shipbatch')],
  dataDir: ['SHIPBATCH_DATA_DIR', z.string().min(1).default('.data')],
  logLevel: ['SHIPBATCH_LOG_LEVEL', z.enum(['debug', 'info', 'warn', 'error']).default('info')],

  temporalDevPort: ['SHIPBATCH_TEMPORAL_PORT', port.default(7233)],
  temporalUiPort: ['SHIPBATCH_TEMPORAL_UI_PORT', port.default(8233)],
  temporalCliVersion: [
    'SHIPBATCH_TEMPORAL_CLI_VERSION',
    z
      .string()
      .regex(/^v\d+\.\d+\.\d+$/)
      .default('v1.5.1'),
  ],
  cacheDir: [
    'SHIPBATCH_CACHE_DIR',
    z
      .string()
      .min(1)
      .default(path.join(os.homedir(), '.cache', 'shipbatch')),
  ],

  databaseUrl: [
    'DATABASE_URL',
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL')
      .optional(),
  ],
  embeddedPgPort: ['SHIPBATCH_PG_PORT', port.default(54329)],
  dbStatementTimeout: ['SHIPBATCH_DB_STATEMENT_TIMEOUT', duration.default('30s')],

  upsTransport: ['SHIPBATCH_UPS_TRANSPORT', z.enum(['sandbox', 'stdio', 'http']).default('sandbox')],
  upsCommand: ['SHIPBATCH_UPS_COMMAND', z.string().min(1).optional()],
  upsArgs: ['SHIPBATCH_UPS_ARGS', stringList.default([])],
  upsEnv: ['SHIPBATCH_UPS_ENV', stringMap.default({})],
  upsEnvPassthrough: [
    'SHIPBATCH_UPS_ENV_PASSTHROUGH',
    stringList.default(['CLIENT_ID', 'CLIENT_SECRET', 'ENVIRONMENT', 'UPS_ACCOUNT_NUMBER']),
  ],
  upsUrl: ['SHIPBATCH_UPS_URL', z.url().optional()],
  upsShipperNumber: [
    'UPS_ACCOUNT_NUMBER',
    z.string().length(6, 'a UPS shipper number has 6 characters').optional(),
  ],
  upsToolRate: ['SHIPBATCH_UPS_TOOL_RATE', z.string().min(1).default('rate_shipment')],
  upsToolCreate: ['SHIPBATCH_UPS_TOOL_CREATE', z.string().min(1).default('create_shipment')],
  upsToolVoid: ['SHIPBATCH_UPS_TOOL_VOID', z.string().min(1).default('void_shipment')],
  upsToolRecoverLabel: ['SHIPBATCH_UPS_TOOL_RECOVER_LABEL', z.string().min(1).default('recover_label')],
  upsToolValidateAddress: [
    'SHIPBATCH_UPS_TOOL_VALIDATE_ADDRESS',
    z.string().min(1).default('validate_address'),
  ],
  upsToolTrack: ['SHIPBATCH_UPS_TOOL_TRACK', z.string().min(1).default('track_package')],
  upsToolRatePickup: ['SHIPBATCH_UPS_TOOL_RATE_PICKUP', z.string().min(1).default('rate_pickup')],
  upsToolSchedulePickup: ['SHIPBATCH_UPS_TOOL_SCHEDULE_PICKUP', z.string().min(1).default('schedule_pickup')],
  upsToolCancelPickup: ['SHIPBATCH_UPS_TOOL_CANCEL_PICKUP', z.string().min(1).default('cancel_pickup')],
  upsToolPickupStatus: ['SHIPBATCH_UPS_TOOL_PICKUP_STATUS', z.string().min(1).default('get_pickup_status')],
  /** Sessions in the worker's UPS pool (stdio: server processes); each carries one call at a time. */
  upsSessions: [
    'SHIPBATCH_UPS_SESSIONS',
    z
      .string()
      .regex(/^[1-9]\d*$/, 'expected a whole number of sessions from 1 to 256')
      .transform(Number)
      .pipe(z.number().max(256, 'at most 256 sessions (each stdio session is a server process)'))
      .default(4),
  ],
  upsCallsPerSecond: ['SHIPBATCH_UPS_CALLS_PER_SECOND', z.coerce.number().positive().default(50)],
  upsCallTimeout: ['SHIPBATCH_UPS_CALL_TIMEOUT', duration.default('60s')],
  /**
   * How long "not found" must hold, after the last create could still have been answered, before a doubtful
   * row is created again: it covers UPS's own lag between recording a shipment and label recovery seeing it.
   */
  upsReconcileGrace: ['SHIPBATCH_UPS_RECONCILE_GRACE', duration.default('30s')],
  /**
   * Whether a doubtful row not found after the grace is created again (`after-grace`) or left for review
   * (`never`). Default: `never` over HTTP, where a shared server may run a call long after the client's
   * timeout; `after-grace` over stdio, where a timed-out call's server process is replaced.
   */
  upsRecreate: ['SHIPBATCH_UPS_RECREATE', z.enum(['after-grace', 'never']).optional()],
  upsSandboxDataDir: ['SHIPBATCH_UPS_SANDBOX_DATA_DIR', z.string().min(1).optional()],

  workerMaxActivities: ['SHIPBATCH_WORKER_MAX_ACTIVITIES', positiveInt.default(32)],
  /** How long a stopping worker (SIGTERM, a deploy) lets calls in flight finish; default: the UPS call timeout + 10s. */
  workerShutdownGrace: ['SHIPBATCH_WORKER_SHUTDOWN_GRACE', duration.optional()],
  /** Where the worker serves Prometheus metrics (activities/metrics.ts and the SDK's); unset or `off`: nowhere. */
  metricsAddress: ['SHIPBATCH_METRICS_ADDRESS', listenAddress.optional()],
} as const satisfies Record<string, readonly [string, z.ZodType]>;

/**
 * The variables whose values are safe to echo in a configuration error: names, numbers, durations, tool
 * names and paths of local state. Every other value (URLs, the UPS server's command, arguments and
 * environment, account numbers, and any setting added later) may carry credentials and shows as `(hidden)`.
 */
const SHOWN_VALUES: ReadonlySet<string> = new Set([
  'SHIPBATCH_TASK_QUEUE',
  'SHIPBATCH_DATA_DIR',
  'SHIPBATCH_LOG_LEVEL',
  'SHIPBATCH_TEMPORAL_PORT',
  'SHIPBATCH_TEMPORAL_UI_PORT',
  'SHIPBATCH_TEMPORAL_CLI_VERSION',
  'SHIPBATCH_CACHE_DIR',
  'SHIPBATCH_PG_PORT',
  'SHIPBATCH_DB_STATEMENT_TIMEOUT',
  'SHIPBATCH_UPS_TRANSPORT',
  'SHIPBATCH_UPS_ENV_PASSTHROUGH',
  'SHIPBATCH_UPS_TOOL_RATE',
  'SHIPBATCH_UPS_TOOL_CREATE',
  'SHIPBATCH_UPS_TOOL_VOID',
  'SHIPBATCH_UPS_TOOL_RECOVER_LABEL',
  'SHIPBATCH_UPS_TOOL_VALIDATE_ADDRESS',
  'SHIPBATCH_UPS_TOOL_TRACK',
  'SHIPBATCH_UPS_TOOL_RATE_PICKUP',
  'SHIPBATCH_UPS_TOOL_SCHEDULE_PICKUP',
  'SHIPBATCH_UPS_TOOL_CANCEL_PICKUP',
  'SHIPBATCH_UPS_TOOL_PICKUP_STATUS',
  'SHIPBATCH_UPS_SESSIONS',
  'SHIPBATCH_UPS_CALLS_PER_SECOND',
  'SHIPBATCH_UPS_CALL_TIMEOUT',
  'SHIPBATCH_UPS_RECONCILE_GRACE',
  'SHIPBATCH_UPS_RECREATE',
  'SHIPBATCH_UPS_SANDBOX_DATA_DIR',
  'SHIPBATCH_WORKER_MAX_ACTIVITIES',
  'SHIPBATCH_WORKER_SHUTDOWN_GRACE',
  'SHIPBATCH_METRICS_ADDRESS',
]);

type Settings = { [K in keyof typeof SETTINGS]: z.output<(typeof SETTINGS)[K][1]> };

/** The validated configuration. */
export interface ShipbatchConfig {
  /** Task queue of the batch workflow and its activities. */
  taskQueue: string;
  /** Root of local state: Temporal's SQLite file, embedded PostgreSQL, sandbox records. */
  dataDir: string;
  logLevel: Settings['logLevel'];
  temporal: {
    /** host:port of the frontend: TEMPORAL_ADDRESS / the profile's, else the embedded dev server's. */
    address: string;
    /** Connection options from envconfig, with `address` filled in. */
    connection: NativeConnectionOptions;
    namespace: string;
    /** True when no address was configured: the embedded dev server is the target. */
    embedded: boolean;
    devServer: { port: number; uiPort: number; cliVersion: string; cacheDir: string };
  };
  database: {
    /** DATABASE_URL, or the embedded PostgreSQL's URL. */
    url: string;
    embedded: boolean;
    embeddedPort: number;
    statementTimeoutMs: number;
  };
  ups: {
    transport: Settings['upsTransport'];
    command?: string;
    args: string[];
    env: Record<string, string>;
    url?: string;
    shipperNumber?: string;
    tools: {
      rate: string;
      create: string;
      void: string;
      recoverLabel: string;
      validateAddress: string;
      track: string;
      ratePickup: string;
      schedulePickup: string;
      cancelPickup: string;
      pickupStatus: string;
    };
    /** Sessions in the pool (stdio: server processes); each carries one call at a time. */
    sessions: number;
    callsPerSecond: number;
    /** Per call, from when it is handed to a session (waiting for a free session is not counted). */
    callTimeoutMs: number;
    reconcileGraceMs: number;
    /** Create a doubtful row again once "not found" held for the grace (else: needs review). */
    recreateAfterGrace: boolean;
    sandboxDataDir: string;
    /** UPS_SANDBOX_KNOBS / UPS_SANDBOX_KNOBS_FILE, handed on to the sandbox the worker starts. */
    sandboxKnobsEnv: Record<string, string>;
  };
  worker: {
    maxConcurrentActivities: number;
    /** Time a stopping worker gives its activities to finish before cancelling them. */
    shutdownGraceMs: number;
    /** `host:port` of the worker's Prometheus endpoint (`/metrics`); undefined: no metrics served. */
    metricsAddress?: string;
  };
}

/** Superuser and database of the embedded PostgreSQL (a local, loopback-only development database). */
export const EMBEDDED_PG_USER = 'postgres';
export const EMBEDDED_PG_DATABASE = 'shipbatch';
/**
 * The fixed superuser password of embedded clusters made by earlier versions. A cluster is now made with a
 * random password kept in {@link embeddedPgPasswordFile}; one still on this password gets a random one at
 * its next start. Until then (no password file yet) the embedded URL uses it.
 */
export const EMBEDDED_PG_LEGACY_PASSWORD = 'shipbatch';
/** Where the stack keeps the embedded PostgreSQL cluster in a data dir. */
export function embeddedPgDir(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'pg');
}

/**
 * The file (mode 0600) holding the superuser password of the embedded cluster at `pgDir`: next to it, in
 * the data dir, where the user who runs shipbatch (and nobody else) can read it.
 */
export function embeddedPgPasswordFile(pgDir: string): string {
  return `${path.resolve(pgDir)}.password`;
}

/**
 * The embedded cluster's password as {@link loadConfig} puts it in the URL: the password file's, else (no
 * cluster yet, or one made before passwords were generated) the legacy one.
 */
function embeddedPgPassword(dataDir: string): string {
  const file = embeddedPgPasswordFile(embeddedPgDir(dataDir));
  try {
    const password = readFileSync(file, 'utf8').trim();
    if (password) return password;
  } catch (err) {
    // No file yet (or no data dir yet: a path through a file is ENOTDIR): the stack's start-up names the data dir.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return EMBEDDED_PG_LEGACY_PASSWORD;
    throw new ConfigError(
      `cannot read the embedded PostgreSQL's password file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}): ` +
        'run as the user that started the embedded stack, or set DATABASE_URL',
    );
  }
  throw new ConfigError(
    `the embedded PostgreSQL's password file ${file} is empty: restore it, or remove it and ${embeddedPgDir(dataDir)} ` +
      'to start a new database, or set DATABASE_URL',
  );
}

/** Parse a duration such as `500ms`, `30s`, `5m`, `2h`, `7d` into milliseconds. */
export function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new ConfigError(`invalid duration ${JSON.stringify(text)}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    m[2] as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  return Number(m[1]) * unit;
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, [variable, schema]] of Object.entries(SETTINGS)) {
    const raw = env[variable];
    // Values known to be safe are echoed back, so the user sees what was wrong; any other may hold a
    // credential, and so may the parser's message, which quotes the text around a JSON error.
    const shown = SHOWN_VALUES.has(variable);
    const named = `${variable}=${shown ? JSON.stringify(raw) : '(hidden)'}`;
    let result;
    try {
      result = (schema as z.ZodType).safeParse(raw === '' ? undefined : raw);
    } catch (err) {
      const why = err instanceof SyntaxError ? 'not valid JSON' : 'not a valid value';
      problems.push(`${named}: ${shown ? (err as Error).message : why}`);
      continue;
    }
    if (result.success) out[key] = result.data;
    else {
      const why = result.error.issues.map((i) => i.message).join('; ');
      problems.push(`${named}: ${why}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return out as Settings;
}

/** The named variables that are set in `env`. */
function pickEnv(env: NodeJS.ProcessEnv, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]]])));
}

/** Load and validate the configuration from an environment (process.env by default). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ShipbatchConfig {
  const s = readSettings(env);
  let connect;
  try {
    connect = loadClientConnectConfig({ overrideEnvVars: env as Record<string, string> });
  } catch (err) {
    throw new ConfigError(
      `invalid Temporal client configuration (TEMPORAL_* / profile): ${(err as Error).message}`,
    );
  }
  const embeddedTemporal = !connect.connectionOptions.address;
  const address = connect.connectionOptions.address ?? `127.0.0.1:${s.temporalDevPort}`;
  const connection: NativeConnectionOptions = { ...connect.connectionOptions, address };
  if (s.upsTransport === 'stdio' && !s.upsCommand) {
    throw new ConfigError(
      'invalid configuration:\n  SHIPBATCH_UPS_COMMAND is required when SHIPBATCH_UPS_TRANSPORT=stdio',
    );
  }
  if (s.upsTransport === 'http' && !s.upsUrl) {
    throw new ConfigError(
      'invalid configuration:\n  SHIPBATCH_UPS_URL is required when SHIPBATCH_UPS_TRANSPORT=http',
    );
  }
  const passthrough = pickEnv(env, s.upsEnvPassthrough);
  // Read only when the embedded PostgreSQL is the database (its password file is in the data dir).
  const databaseUrl =
    s.databaseUrl ??
    `postgres://${EMBEDDED_PG_USER}:${encodeURIComponent(embeddedPgPassword(s.dataDir))}@127.0.0.1:${s.embeddedPgPort}/${EMBEDDED_PG_DATABASE}`;
  return {
    taskQueue: s.taskQueue,
    dataDir: path.resolve(s.dataDir),
    logLevel: s.logLevel,
    temporal: {
      address,
      connection,
      namespace: connect.namespace ?? 'default',
      embedded: embeddedTemporal,
      devServer: {
        port: s.temporalDevPort,
        uiPort: s.temporalUiPort,
        cliVersion: s.temporalCliVersion,
        cacheDir: path.resolve(s.cacheDir),
      },
    },
    database: {
      url: databaseUrl,
      embedded: !s.databaseUrl,
      embeddedPort: s.embeddedPgPort,
      statementTimeoutMs: durationMs(s.dbStatementTimeout),
    },
    ups: {
      transport: s.upsTransport,
      command: s.upsCommand,
      args: s.upsArgs,
      env: { ...passthrough, ...s.upsEnv },
      url: s.upsUrl,
      shipperNumber: s.upsShipperNumber,
      tools: {
        rate: s.upsToolRate,
        create: s.upsToolCreate,
        void: s.upsToolVoid,
        recoverLabel: s.upsToolRecoverLabel,
        validateAddress: s.upsToolValidateAddress,
        track: s.upsToolTrack,
        ratePickup: s.upsToolRatePickup,
        schedulePickup: s.upsToolSchedulePickup,
        cancelPickup: s.upsToolCancelPickup,
        pickupStatus: s.upsToolPickupStatus,
      },
      sessions: s.upsSessions,
      callsPerSecond: s.upsCallsPerSecond,
      callTimeoutMs: durationMs(s.upsCallTimeout),
      reconcileGraceMs: durationMs(s.upsReconcileGrace),
      recreateAfterGrace:
        (s.upsRecreate ?? (s.upsTransport === 'http' ? 'never' : 'after-grace')) === 'after-grace',
      sandboxDataDir: path.resolve(s.upsSandboxDataDir ?? path.join(s.dataDir, 'ups-sandbox')),
      sandboxKnobsEnv: pickEnv(env, ['UPS_SANDBOX_KNOBS', 'UPS_SANDBOX_KNOBS_FILE']),
    },
    worker: {
      maxConcurrentActivities: s.workerMaxActivities,
      shutdownGraceMs: s.workerShutdownGrace
        ? durationMs(s.workerShutdownGrace)
        : durationMs(s.upsCallTimeout) + 10_000,
      ...(s.metricsAddress ? { metricsAddress: s.metricsAddress } : {}),
    },
  };
}

/**
 * A URL as safe to print: scheme, host, port and path; no user info and no query (either can carry keys).
 */
export function urlWithoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

/** The configuration as safe to print: secrets and credentials in URLs are left out. */
export function describeConfig(config: ShipbatchConfig): Record<string, unknown> {
  return {
    taskQueue: config.taskQueue,
    dataDir: config.dataDir,
    temporal: {
      address: config.temporal.address,
      namespace: config.temporal.namespace,
      embedded: config.temporal.embedded,
      apiKey: config.temporal.connection.apiKey ? '(set)' : undefined,
      tls: Boolean(config.temporal.connection.tls),
    },
    database: {
      url: urlWithoutCredentials(config.database.url),
      embedded: config.database.embedded,
    },
    ups: {
      transport: config.ups.transport,
      command: config.ups.command,
      url: config.ups.url && urlWithoutCredentials(config.ups.url),
      env: Object.keys(config.ups.env),
      sessions: config.ups.sessions,
      callTimeoutMs: config.ups.callTimeoutMs,
    },
  };
}
