/**
 * The client's configuration: `loadConfig()` (the one loader), plus the services of a `shipbatch dev`
 * running from the same project directory, so commands find them with no flag (DESIGN §9).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, type ShipbatchConfig } from '../temporal.config';

/** What `shipbatch dev` writes to `<data dir>/dev.json` while it runs. */
export interface DevState {
  pid: number;
  temporalAddress: string;
  namespace: string;
  databaseUrl: string;
  uiUrl?: string;
  dataDir: string;
  startedAt: string;
}

const DEV_STATE_FILE = 'dev.json';

function dataDirOf(env: NodeJS.ProcessEnv): string {
  return path.resolve(env.SHIPBATCH_DATA_DIR || '.data');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running `shipbatch dev` of this project directory, if any (a stale file is ignored). */
export function readDevState(env: NodeJS.ProcessEnv = process.env): DevState | undefined {
  let state: DevState;
  try {
    state = JSON.parse(readFileSync(path.join(dataDirOf(env), DEV_STATE_FILE), 'utf8')) as DevState;
  } catch {
    return undefined;
  }
  if (typeof state?.pid !== 'number' || typeof state.temporalAddress !== 'string') return undefined;
  if (typeof state.databaseUrl !== 'string' || !alive(state.pid)) return undefined;
  return state;
}

/** Record this process as the project's `shipbatch dev` (mode 600: the file holds the database URL). */
export function writeDevState(state: DevState): string {
  const file = path.join(state.dataDir, DEV_STATE_FILE);
  writeFileSync(file, JSON.stringify(state, null, 2), { mode: 0o600 });
  return file;
}

export function removeDevState(dataDir: string): void {
  rmSync(path.join(dataDir, DEV_STATE_FILE), { force: true });
}

/**
 * The environment a command runs with: `env` as is when it names its services, else completed with the
 * services of this directory's running `shipbatch dev` (explicit variables always win).
 */
export function clientEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const dev = readDevState(env);
  if (!dev) return env;
  return {
    ...env,
    TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS || dev.temporalAddress,
    TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE || (env.TEMPORAL_ADDRESS ? undefined : dev.namespace),
    DATABASE_URL: env.DATABASE_URL || dev.databaseUrl,
  };
}

/** `loadConfig()` over {@link clientEnv}. Throws ConfigError for a bad variable. */
export function loadClientConfig(env: NodeJS.ProcessEnv = process.env): ShipbatchConfig {
  return loadConfig(clientEnv(env));
}
