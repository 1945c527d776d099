/**
 * `npm test`: starts a throw-away stack (Temporal dev server in memory + embedded PostgreSQL, on free
 * ports) unless TEMPORAL_ADDRESS and DATABASE_URL point at running ones, then runs every
 * `test/**\/*.test.ts` (or the files given as arguments) with Node's test runner against it.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../temporal.config';
import { nodeTestArgs, summarise } from './test-report';
import { startStack, stackEnv } from '../stack/stack';
import { ensureChromium } from '../stack/chromium';

async function testFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const files = args.length > 0 ? args : await testFiles('test');
  const config = loadConfig();
  // The Web UI tests drive Debian's Chromium: installed here when missing, never skipped.
  if (files.some((f) => path.normalize(f).split(path.sep).includes('browser'))) await ensureChromium();
  const started = Date.now();
  const stack = await startStack(config, { ephemeral: true });
  const tapFile = path.join(stack.dataDir, 'report.tap');
  process.stderr.write(`test: stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  let stopping = false;
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, nodeTestArgs(files, tapFile), {
      stdio: 'inherit',
      // The dev server's Web UI, for the browser tests (absent when TEMPORAL_ADDRESS named another server).
      env: {
        ...process.env,
        ...stackEnv(stack),
        ...(stack.uiUrl ? { SHIPBATCH_TEST_WEB_UI: stack.uiUrl } : {}),
      },
    });
    const forward = (signal: NodeJS.Signals) => {
      stopping = true;
      child.kill(signal);
    };
    process.once('SIGINT', forward);
    process.once('SIGTERM', forward);
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
  const summary = await summarise(tapFile);
  await stack.stop();
  if (summary) process.stdout.write(`\n${summary}\n`);
  return stopping ? 130 : code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`test: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
