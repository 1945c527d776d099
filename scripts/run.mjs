#!/usr/bin/env node
// Entry of `npm start`, `npm test` and `npm run bench` on a fresh clone: installs the npm packages
// when node_modules is missing or older than package-lock.json, then runs scripts/<name>.ts in this
// process through tsx. Plain JavaScript with no dependencies, since it runs before any are installed.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');
const [name, ...args] = process.argv.slice(2);
if (!name) {
  process.stderr.write('usage: node scripts/run.mjs <script> [args…]\n');
  process.exit(2);
}

const mtime = (file) => {
  try {
    return statSync(path.join(root, file)).mtimeMs;
  } catch {
    return undefined;
  }
};
const installed = mtime('node_modules/.package-lock.json');
if (installed === undefined || installed < (mtime('package-lock.json') ?? 0)) {
  process.stderr.write('shipbatch: installing npm packages (npm ci)…\n');
  const res = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (res.status !== 0) process.exit(res.status ?? 1);
}

// isolated-vm (the template engine's isolates) needs Node ≥ 20 started with --no-node-snapshot. Set it in
// NODE_OPTIONS so every process started from here (test runner, workers, sandboxes) has it too, and run
// again under it. SIGTERM is passed on; so is SIGINT when there is no terminal (a terminal's Ctrl-C already
// reaches the whole process group, and a second SIGINT would cut the child's clean shutdown short).
if (!(process.env.NODE_OPTIONS ?? '').includes('--no-node-snapshot')) {
  const { spawn } = await import('node:child_process');
  const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --no-node-snapshot`.trim() };
  const child = spawn(process.execPath, process.argv.slice(1), { stdio: 'inherit', env });
  const fromTerminal = process.stdin.isTTY === true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (signal === 'SIGTERM' || !fromTerminal) child.kill(signal);
    });
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 2 : 1)));
} else {
  await runScript();
}

async function runScript() {
  const { register } = await import('tsx/esm/api');
  register();
  process.argv = [process.argv[0], path.join(root, 'scripts', `${name}.ts`), ...args];
  await import(pathToFileURL(path.join(root, 'scripts', `${name}.ts`)).href);
}
