/**
 * Debian's Chromium, the browser of the Web UI tests (test/browser/). The machine cannot download a browser
 * build of its own, so it comes from apt: `npm test` (when it runs browser tests) and `npm run setup` install
 * it when it is missing and they run as root; otherwise the error says how.
 */
import { spawn } from 'node:child_process';
import { StartupError } from './errors';
import { onPath } from './temporal-cli';

const NAMES = ['chromium', 'chromium-browser'];

/** Chromium on PATH, if any. */
export async function findChromium(): Promise<string | undefined> {
  for (const name of NAMES) {
    const found = await onPath(name);
    if (found) return found;
  }
  return undefined;
}

function run(command: string, args: string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    let tail = '';
    const keep = (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-2000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve();
      else {
        log(tail.trim());
        reject(new Error(`${command} ${args.join(' ')} exited with ${code}`));
      }
    });
  });
}

/** Chromium's path; installed with apt-get first when it is missing and this process is root. */
export async function ensureChromium(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {
  const found = await findChromium();
  if (found) return found;
  const aptGet = await onPath('apt-get');
  if (!aptGet || process.getuid?.() !== 0) {
    throw new StartupError(
      "Debian's Chromium (for the Web UI tests) is not installed",
      'install it: sudo apt-get install -y chromium',
    );
  }
  log('installing Chromium with apt-get (once; for the Web UI tests)…');
  try {
    await run(aptGet, ['update', '-qq'], log);
    await run(aptGet, ['install', '-y', '-qq', 'chromium'], log);
  } catch (err) {
    throw new StartupError(
      `apt-get could not install Chromium (${(err as Error).message})`,
      'install it by hand: apt-get install -y chromium',
      { cause: err },
    );
  }
  const installed = await findChromium();
  if (!installed) {
    throw new StartupError('apt-get installed chromium but it is not on PATH', 'check PATH (/usr/bin)');
  }
  return installed;
}
