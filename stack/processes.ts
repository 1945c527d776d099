import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { constants, createWriteStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

/** A child process whose output goes to a log file, and which can be stopped gracefully. */
export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or signal name) once the process has exited; 'spawn-error' if it never ran. */
  exited: Promise<number | string>;
  /** Why the process could not be started (EACCES, ENOENT…), once `exited` resolved with 'spawn-error'. */
  spawnError?: Error;
  /** The stop signal (SIGTERM unless set), then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const children = new Set<ChildProcess>();
// Last resort if the parent exits without stopping them (an uncaught error): nothing is left orphaned.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * Spawn `command` with stdout/stderr appended to `<logDir>/<name>.log` (mode 600, in a 700 log dir when
 * it makes one: logs may hold what the services print; a link at the log's path is refused, not followed).
 * A failure to start (EACCES, ENOENT) is not thrown: `exited` resolves with 'spawn-error' and `spawnError`
 * says why.
 */
export async function startProcess(
  name: string,
  command: string,
  args: string[],
  opts: SpawnOptions & { logDir: string; stopSignal?: NodeJS.Signals },
): Promise<ManagedProcess> {
  const { logDir, stopSignal = 'SIGTERM', ...spawnOpts } = opts;
  await mkdir(logDir, { recursive: true, mode: 0o700 });
  const logFile = path.join(logDir, `${name}.log`);
  const fd = await open(
    logFile,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
    0o600,
  ).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ELOOP')
      throw new Error(`the log file ${logFile} is a symbolic link; remove it`, { cause: err });
    throw err;
  });
  const log = createWriteStream('', { fd });
  // An unwritable log must not crash the process with an unhandled 'error' event.
  log.on('error', () => undefined);
  // Own process group: a terminal's Ctrl-C reaches only the parent, which stops children in order.
  const child = spawn(command, args, { ...spawnOpts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const managed: ManagedProcess = {
    name,
    child,
    logFile,
    exited: new Promise<number | string>((resolve) => {
      child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
      child.on('error', (err) => {
        children.delete(child);
        managed.spawnError = err;
        resolve('spawn-error');
      });
    }),
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null || managed.spawnError) return;
      child.kill(stopSignal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await managed.exited;
      clearTimeout(timer);
    },
  };
  void managed.exited.then(() => log.end());
  return managed;
}

/** True when something accepts TCP connections on host:port. */
export function isPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Poll `check` until it returns true or `timeoutMs` passes (a throwing check aborts the wait). */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
}
