import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../domain/search-attributes';
import { StartupError, briefly, oneLine } from './errors';
import { isPortOpen, startProcess, waitFor, type ManagedProcess } from './processes';

export interface DevServerOptions {
  cli: string;
  port: number;
  uiPort: number;
  namespace: string;
  /** SQLite file for a persistent server; omitted → in-memory (tests). */
  dbFile?: string;
  logDir: string;
  startTimeoutMs?: number;
}

/** The first error line Temporal logged since byte `since`, for a one-line message. */
async function reasonFromLog(logFile: string, since: number): Promise<string | undefined> {
  const text = (await readFile(logFile, 'utf8').catch(() => '')).slice(since);
  const line = text.split('\n').find((l) => /level=(ERROR|FATAL)|"level":"(error|fatal)"|^Error:/i.test(l));
  if (!line) return undefined;
  const msg = /msg="((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? /"msg":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1];
  return oneLine(msg ?? line, 300);
}

/** Resolves once the frontend answers a real gRPC call (an open port alone is not enough). */
export async function temporalIsServing(address: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 2000 });
    await connection.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/**
 * Start `temporal server start-dev` bound to 127.0.0.1 with the Web UI, shipbatch's search attributes
 * and no version check (no internet), and wait until it serves. We start it ourselves rather than
 * through the SDK's launcher, which gives a server only 5 s to come up.
 */
export async function startTemporalDevServer(opts: DevServerOptions): Promise<ManagedProcess> {
  if (await isPortOpen(opts.port)) {
    throw new StartupError(
      `port ${opts.port} on 127.0.0.1 (Temporal) is already in use`,
      'stop what listens there, or set SHIPBATCH_TEMPORAL_PORT to a free port (or TEMPORAL_ADDRESS to use that server)',
    );
  }
  if (await isPortOpen(opts.uiPort)) {
    throw new StartupError(
      `port ${opts.uiPort} on 127.0.0.1 (Temporal Web UI) is already in use`,
      'stop what listens there, or set SHIPBATCH_TEMPORAL_UI_PORT to a free port',
    );
  }
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--ui-ip',
    '127.0.0.1',
    '--ui-port',
    String(opts.uiPort),
    '--namespace',
    opts.namespace,
    // Eager activities: the worker that completes a workflow task gets the activities it scheduled in the
    // reply, with no trip through matching (less server CPU per row; `npm run bench`, docs/design.md §10).
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    '--log-level',
    'warn',
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
    ...(opts.dbFile ? ['--db-filename', path.resolve(opts.dbFile)] : []),
  ];
  const since = (await stat(path.join(opts.logDir, 'temporal.log')).catch(() => undefined))?.size ?? 0;
  const proc = await startProcess('temporal', opts.cli, args, {
    logDir: opts.logDir,
    env: { ...process.env, TEMPORAL_VERSION_CHECK_DISABLED: '1' },
  });
  const address = `127.0.0.1:${opts.port}`;
  let exitCode: number | string | undefined;
  void proc.exited.then((code) => (exitCode = code));
  try {
    await waitFor(
      `the Temporal dev server on ${address} (log: ${proc.logFile})`,
      async () => {
        if (exitCode !== undefined) throw new Error(`exited with ${exitCode}`);
        return temporalIsServing(address);
      },
      opts.startTimeoutMs ?? 60_000,
    );
  } catch (err) {
    await proc.stop(2000);
    if (proc.spawnError) {
      throw new StartupError(
        `the Temporal CLI ${opts.cli} could not be run (${briefly(proc.spawnError)})`,
        'make it executable, or remove it so npm run setup builds it again',
        { cause: proc.spawnError },
      );
    }
    const reason = await reasonFromLog(proc.logFile, since);
    const why =
      exitCode !== undefined
        ? `exited with ${exitCode}${reason ? `: ${reason}` : ''}`
        : (err as Error).message;
    throw new StartupError(
      `the Temporal dev server did not start (${why})`,
      /address already in use|bind/i.test(reason ?? '')
        ? 'a port it needs is taken: stop what listens there, or set SHIPBATCH_TEMPORAL_PORT / SHIPBATCH_TEMPORAL_UI_PORT to free ports'
        : `see ${proc.logFile}`,
      { cause: err },
    );
  }
  return proc;
}
