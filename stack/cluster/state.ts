/**
 * `<dataDir>/cluster.json`: what the supervisor of a running cluster has started, where it listens and
 * how far it got. Written atomically by the supervisor; read by `cluster status|stop` and the tests.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ClusterPorts } from './config';

export type ClusterPhase = 'starting' | 'ready' | 'stopping' | 'stopped' | 'failed';

/** One supervised process. */
export interface ProcessState {
  pid?: number;
  /** ISO time of its latest start. */
  startedAt?: string;
  /** Times the supervisor restarted it after it exited on its own (a crash or a kill). */
  restarts: number;
  logFile: string;
}

export interface ClusterState {
  phase: ClusterPhase;
  /** The one-line reason when `phase` is `failed`. */
  error?: string;
  supervisorPid: number;
  temporalVersion: string;
  dataDir: string;
  ports: ClusterPorts;
  /** host:port of the frontend (what TEMPORAL_ADDRESS should be). */
  frontendAddress: string;
  namespace: string;
  /** shipbatch's own database on the cluster's PostgreSQL (what DATABASE_URL should be). */
  databaseUrl: string;
  processes: Record<string, ProcessState>;
  startedAt: string;
  /** Milliseconds from the supervisor's start to `ready`. */
  readyAfterMs?: number;
  /** Ephemeral (tests): the data dir is removed on stop. */
  ephemeral: boolean;
}

export const stateFile = (dataDir: string) => path.join(dataDir, 'cluster.json');

/** The state file, or undefined when there is none (never started here) or it is unreadable. */
export async function readClusterState(dataDir: string): Promise<ClusterState | undefined> {
  try {
    return JSON.parse(await readFile(stateFile(dataDir), 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

export async function writeClusterState(state: ClusterState): Promise<void> {
  const file = stateFile(state.dataDir);
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

/**
 * Is `pid` a live process of this user? (Signal 0 checks existence without touching it.) A process of another
 * user (EPERM) is not ours: a state file naming one (pid 1, say) must not pass for a running cluster.
 */
export function isAlive(pid: number | undefined): boolean {
  if (!pid || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The command line of `pid` (Linux /proc), to tell our process from an unrelated one that reused its pid. */
export async function commandLine(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/** Resident memory of `pid` in MB (Linux /proc), undefined when unknown. */
export async function rssMb(pid: number | undefined): Promise<number | undefined> {
  if (!pid) return undefined;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb ? Math.round(Number(kb) / 1024) : undefined;
  } catch {
    return undefined;
  }
}
