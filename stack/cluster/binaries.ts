/**
 * The Temporal server and its SQL schema tool, built once with `go install` into
 * `<cacheDir>/temporal-server/<version>/bin` (like the Temporal CLI of the dev stack: the Go module proxy
 * is the only download site these machines reach), plus the PostgreSQL schema files of that version.
 */
import { execFile, spawn } from 'node:child_process';
import { access, chmod, constants, cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { StartupError, briefly } from '../errors';

const execFileAsync = promisify(execFile);
const SERVER_MODULE = 'go.temporal.io/server';

/** Paths of a built Temporal server release. */
export interface TemporalServerBinaries {
  version: string;
  /** `temporal-server`: `start --service history|matching|frontend|worker`. */
  server: string;
  /** `temporal-sql-tool`: `setup-schema`, `update-schema`. */
  sqlTool: string;
  /** `schema/postgresql/v12` of the release: `temporal/versioned`, `visibility/versioned`. */
  schemaDir: string;
}

async function exists(file: string, mode = constants.F_OK): Promise<boolean> {
  try {
    await access(file, mode);
    return true;
  } catch {
    return false;
  }
}

async function findGo(): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && (await exists(path.join(dir, 'go'), constants.X_OK))) return path.join(dir, 'go');
  }
  throw new StartupError(
    'Go is not installed, and the Temporal server is built from source with it',
    'install Go ≥ 1.25 and run again (the build is cached under SHIPBATCH_CACHE_DIR), or use a Temporal cluster you already run (TEMPORAL_ADDRESS)',
  );
}

function goInstall(go: string, pkg: string, binDir: string, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  log(`building ${pkg} with go install into ${binDir} (once; the server takes a few minutes)…`);
  return new Promise((resolve, reject) => {
    const child = spawn(go, ['install', pkg], {
      env: { ...process.env, CGO_ENABLED: '0', GOBIN: binDir, GOFLAGS: '-trimpath' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', (err) =>
      reject(
        new StartupError(
          `could not run ${go} to build ${pkg} (${briefly(err)})`,
          'check the Go installation',
          {
            cause: err,
          },
        ),
      ),
    );
    child.on('exit', (code) => {
      if (code === 0) {
        log(`built ${pkg} in ${Math.round((Date.now() - started) / 1000)} s`);
        resolve();
      } else {
        reject(
          new StartupError(
            `building ${pkg} failed (go install exited with ${code}; its output is above)`,
            'check that the Go module proxy is reachable (GOPROXY) and Go is ≥ 1.25',
          ),
        );
      }
    });
  });
}

/**
 * The server, sql tool and schema of `version` under `<cacheDir>/temporal-server/<version>`, built on
 * first use (skipped when present). The schema is copied out of the Go module cache so a later
 * `go clean -modcache` does not break the cluster.
 */
export async function ensureTemporalServer(opts: {
  cacheDir: string;
  version: string;
  log?: (line: string) => void;
}): Promise<TemporalServerBinaries> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!/^v\d+\.\d+\.\d+$/.test(opts.version)) {
    throw new StartupError(
      `the Temporal server version ${JSON.stringify(opts.version)} is not of the form vX.Y.Z`,
      'pass a release tag such as v1.29.1',
    );
  }
  const root = path.join(opts.cacheDir, 'temporal-server', opts.version);
  const binDir = path.join(root, 'bin');
  const found: TemporalServerBinaries = {
    version: opts.version,
    server: path.join(binDir, 'server'),
    sqlTool: path.join(binDir, 'sql'),
    schemaDir: path.join(root, 'schema', 'postgresql', 'v12'),
  };
  const missing = async () => ({
    server: !(await exists(found.server, constants.X_OK)),
    sqlTool: !(await exists(found.sqlTool, constants.X_OK)),
    schema: !(await exists(path.join(found.schemaDir, 'temporal', 'versioned'))),
  });
  const need = await missing();
  if (!need.server && !need.sqlTool && !need.schema) return found;

  const go = await findGo();
  try {
    await mkdir(binDir, { recursive: true });
  } catch (err) {
    throw new StartupError(
      `cannot create the Temporal server cache ${binDir} (${briefly(err)})`,
      'set SHIPBATCH_CACHE_DIR to a writable directory',
      { cause: err },
    );
  }
  if (need.server) await goInstall(go, `${SERVER_MODULE}/cmd/server@${opts.version}`, binDir, log);
  if (need.sqlTool) await goInstall(go, `${SERVER_MODULE}/cmd/tools/sql@${opts.version}`, binDir, log);
  if (need.schema) {
    let moduleDir: string;
    try {
      const { stdout } = await execFileAsync(
        go,
        ['mod', 'download', '-json', `${SERVER_MODULE}@${opts.version}`],
        {
          encoding: 'utf8',
          maxBuffer: 1 << 20,
        },
      );
      moduleDir = (JSON.parse(stdout) as { Dir?: string }).Dir ?? '';
      await stat(path.join(moduleDir, 'schema', 'postgresql', 'v12'));
    } catch (err) {
      throw new StartupError(
        `the PostgreSQL schema of Temporal ${opts.version} could not be found in the Go module cache (${briefly(err)})`,
        'check that the Go module proxy is reachable (GOPROXY), then run again',
        { cause: err },
      );
    }
    // Copied aside then renamed: a concurrent start never sees half a schema.
    const staging = `${found.schemaDir}.tmp-${process.pid}`;
    await mkdir(path.dirname(found.schemaDir), { recursive: true });
    await cp(path.join(moduleDir, 'schema', 'postgresql', 'v12'), staging, { recursive: true });
    // The module cache is read-only (0555/0444): make the copy ours to replace or remove later.
    for (const entry of await readdir(staging, { recursive: true, withFileTypes: true })) {
      await chmod(path.join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
    }
    await chmod(staging, 0o755);
    await rename(staging, found.schemaDir).catch((err: { code?: unknown }) => {
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
    await rm(staging, { recursive: true, force: true });
  }
  const still = await missing();
  if (still.server || still.sqlTool || still.schema) {
    throw new StartupError(
      `the Temporal server build in ${root} is incomplete after go install`,
      `remove ${root} and run again`,
    );
  }
  return found;
}
