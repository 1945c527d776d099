/**
 * The client's configuration: `loadConfig()` (the one loader), plus the services of a `shipbatch dev`
 * running from the same project directory, so commands find them with no flag (docs/design.md §9).
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import { loadConfig, type ShipbatchConfig } from '../temporal.config';
import { writeFileReplacing } from './output-file';

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

/** Why a state file is not trusted; the message names what is wrong, never the file's contents. */
class Untrusted extends Error {}

const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

/**
 * Check a directory entry's owner and mode: only this user (or root, for a directory) may have written
 * it. Group- or world-writable means another user could have put it there.
 */
function checkOwnership(what: string, st: { uid: number; mode: number }, uid: number, rootOk: boolean): void {
  if (st.uid !== uid && !(rootOk && st.uid === 0))
    throw new Untrusted(`${what} belongs to uid ${st.uid}, not to this user (uid ${uid})`);
  if (st.mode & 0o022) throw new Untrusted(`${what} is writable by group or others (mode ${octal(st.mode)})`);
}

/**
 * Which entry of a shipbatch install `file` (a real path) is: `bin` (bin/shipbatch.js) or `run`
 * (scripts/run.mjs, `npm start`), when the package.json beside them is shipbatch's.
 */
function shipbatchEntry(file: string): 'bin' | 'run' | undefined {
  const kind =
    path.basename(file) === 'shipbatch.js' && path.basename(path.dirname(file)) === 'bin'
      ? 'bin'
      : path.basename(file) === 'run.mjs' && path.basename(path.dirname(file)) === 'scripts'
        ? 'run'
        : undefined;
  if (!kind) return undefined;
  try {
    const pkg = JSON.parse(
      readFileSync(path.join(path.dirname(path.dirname(file)), 'package.json'), 'utf8'),
    ) as {
      name?: unknown;
    };
    return pkg.name === 'shipbatch' ? kind : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Does this command line run a shipbatch process that writes dev.json? `shipbatch dev` (bin/shipbatch.js,
 * however node is started: `npx`, a global link, node options before it), `shipbatch demo --keep`, and
 * `npm start -- --keep` (scripts/run.mjs start). Paths are resolved from the process's directory.
 */
export function isDevCommandLine(argv: readonly string[], cwd: string): boolean {
  for (let i = 1; i < argv.length; i++) {
    let file = path.resolve(cwd, argv[i]!);
    try {
      file = realpathSync(file);
    } catch {
      continue; // not a file: a node option or its value
    }
    const entry = shipbatchEntry(file);
    if (!entry) continue;
    const rest = argv.slice(i + 1);
    const command = rest.find((a) => !a.startsWith('-'));
    if (entry === 'bin') return command === 'dev' || (command === 'demo' && rest.includes('--keep'));
    return command === 'start' && rest.includes('--keep');
  }
  return false;
}

const HAS_PROC = existsSync('/proc/self/cmdline');

/**
 * Owner, command line and directory of a live process: from /proc on Linux, else from `ps` (whose command
 * line is split on spaces, and the directory is taken to be ours). Undefined when there is no such process.
 */
function processInfo(pid: number): { uid: number; argv: string[]; cwd: string } | undefined {
  if (!HAS_PROC) {
    try {
      const line = execFileSync('ps', ['-o', 'uid=', '-o', 'command=', '-p', String(pid)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const [uid, ...argv] = line.trim().split(/\s+/);
      return uid ? { uid: Number(uid), argv, cwd: process.cwd() } : undefined;
    } catch {
      return undefined; // ps exits 1 when there is no such process
    }
  }
  let uid: number;
  try {
    uid = statSync(`/proc/${pid}`).uid;
  } catch {
    return undefined;
  }
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (argv.at(-1) === '') argv.pop();
    return { uid, argv, cwd: readlinkSync(`/proc/${pid}/cwd`) };
  } catch {
    // Another user's process: its command line may be readable, its directory is not.
    return { uid, argv: [], cwd: '/' };
  }
}

/**
 * Read `<dataDir>/dev.json` when it is trustworthy: a regular file (not a link) owned by this user and
 * writable by no one else, in a data dir writable by no one else, naming a live `shipbatch dev` of this
 * user. Otherwise throws {@link Untrusted} saying why; undefined when there is no file.
 */
function readTrustedDevState(dataDir: string): DevState | undefined {
  const file = path.join(dataDir, DEV_STATE_FILE);
  let fd: number;
  try {
    // O_NOFOLLOW: a link is refused by the open itself, so what is checked below is what is read.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'ELOOP') throw new Untrusted('it is a symbolic link');
    throw new Untrusted(`it cannot be read (${code ?? String(err)})`);
  }
  const uid = process.getuid?.();
  if (uid === undefined) {
    closeSync(fd);
    throw new Untrusted('this platform cannot tell who wrote it');
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Untrusted('it is not a regular file');
    checkOwnership('it', st, uid, false);
    checkOwnership(`its directory ${dataDir}`, statSync(dataDir), uid, true);
    text = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  let state: DevState;
  try {
    state = JSON.parse(text) as DevState;
  } catch {
    throw new Untrusted('it is not a valid state file (not JSON)');
  }
  const valid =
    typeof state === 'object' &&
    state !== null &&
    Number.isSafeInteger(state.pid) &&
    state.pid > 0 &&
    typeof state.temporalAddress === 'string' &&
    typeof state.databaseUrl === 'string';
  if (!valid) throw new Untrusted('it is not a valid state file (no process id or services)');
  const proc = processInfo(state.pid);
  if (!proc)
    throw new Untrusted(
      `its process ${state.pid} is not running (a shipbatch dev that did not stop cleanly)`,
    );
  if (proc.uid !== uid)
    throw new Untrusted(`its process ${state.pid} belongs to another user (uid ${proc.uid})`);
  if (!isDevCommandLine(proc.argv, proc.cwd))
    throw new Untrusted(`its process ${state.pid} is not a \`shipbatch dev\``);
  return state;
}

/** Files already warned about: a command reads the state more than once, the user hears it once. */
const warned = new Set<string>();

/**
 * The running `shipbatch dev` of this project directory, if any. A state file that is not trustworthy
 * (see readTrustedDevState: another owner, writable by others, a link, a pid that is not a live
 * `shipbatch dev` of this user) is ignored with one warning on stderr naming the file and the reason.
 */
export function readDevState(env: NodeJS.ProcessEnv = process.env): DevState | undefined {
  const dataDir = dataDirOf(env);
  try {
    return readTrustedDevState(dataDir);
  } catch (err) {
    if (!(err instanceof Untrusted)) throw err;
    const file = path.join(dataDir, DEV_STATE_FILE);
    if (!warned.has(file)) {
      warned.add(file);
      process.stderr.write(`shipbatch: warning: ignoring ${file}: ${err.message}; not using its services\n`);
    }
    return undefined;
  }
}

/**
 * Record this process as the project's `shipbatch dev`: mode 600 (the file holds the database URL),
 * written beside and renamed over whatever is at that path, so a link there is replaced, never followed.
 */
export async function writeDevState(state: DevState): Promise<string> {
  const file = path.join(state.dataDir, DEV_STATE_FILE);
  await writeFileReplacing(file, JSON.stringify(state, null, 2), { mode: 0o600 });
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
  // Both services named: nothing to take from a `shipbatch dev` (nor any reason to read its file).
  if (env.TEMPORAL_ADDRESS && env.DATABASE_URL) return env;
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
