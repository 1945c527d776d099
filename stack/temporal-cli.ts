import { spawn } from 'node:child_process';
import { access, constants, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { StartupError, briefly } from './errors';

const MODULE = 'github.com/temporalio/cli/cmd/temporal';

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` in PATH, if any. */
export async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && (await isExecutable(path.join(dir, name)))) return path.join(dir, name);
  }
  return undefined;
}

/**
 * Find the Temporal CLI: `temporal` on PATH if there is one, else the build cached under
 * `<cacheDir>/temporal-cli/<version>/bin`, else build it there once with `go install` (the only route
 * that needs no download site: the Go module proxy serves it). The first build takes minutes.
 */
export async function ensureTemporalCli(opts: {
  cacheDir: string;
  version: string;
  log?: (line: string) => void;
}): Promise<string> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const fromPath = await onPath('temporal');
  if (fromPath) return fromPath;
  const binDir = path.join(opts.cacheDir, 'temporal-cli', opts.version, 'bin');
  const cached = path.join(binDir, 'temporal');
  if (await isExecutable(cached)) return cached;

  const go = await onPath('go');
  if (!go) {
    throw new StartupError(
      'the Temporal CLI is not on PATH and Go is not installed to build it',
      'install Go ≥ 1.25 (then npm run setup), put a `temporal` binary on PATH, or set TEMPORAL_ADDRESS to use an existing Temporal server',
    );
  }
  try {
    await mkdir(binDir, { recursive: true });
  } catch (err) {
    throw new StartupError(
      `cannot create the Temporal CLI cache ${binDir} (${briefly(err)})`,
      'set SHIPBATCH_CACHE_DIR to a writable directory, or put a `temporal` binary on PATH',
      { cause: err },
    );
  }
  log(
    `building the Temporal CLI ${opts.version} with go install into ${binDir} (once; takes a few minutes)…`,
  );
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(go, ['install', `${MODULE}@${opts.version}`], {
      env: { ...process.env, CGO_ENABLED: '0', GOBIN: binDir, GOFLAGS: '-trimpath' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', (err) =>
      reject(
        new StartupError(
          `could not run ${go} to build the Temporal CLI (${briefly(err)})`,
          'check the Go installation, or put a `temporal` binary on PATH',
          { cause: err },
        ),
      ),
    );
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(
            new StartupError(
              `building the Temporal CLI failed (go install ${MODULE}@${opts.version} exited with ${code}; its output is above)`,
              'check that the Go module proxy is reachable (GOPROXY) and Go is ≥ 1.25, or put a `temporal` binary on PATH',
            ),
          ),
    );
  });
  log(`built the Temporal CLI in ${Math.round((Date.now() - started) / 1000)} s`);
  return cached;
}
