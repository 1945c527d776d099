/**
 * `npm run setup`: everything the stack and its tests need that npm does not install — the Temporal CLI,
 * built once into the cache outside the repo (docs/design.md §2) unless `temporal` is on PATH, and Debian's
 * Chromium for the Web UI tests (apt-get, when missing). `npm start` and `npm test`
 * do this themselves when needed; CI runs it first so the build is not counted in the test run.
 * A failure is one line naming the cause and the fix (exit 1), never a stack trace.
 */
import { ConfigError, loadConfig } from '../temporal.config';
import { describeStartupError } from '../stack/errors';
import { ensureTemporalCli } from '../stack/temporal-cli';
import { ensureChromium } from '../stack/chromium';

try {
  const config = loadConfig();
  const cli = await ensureTemporalCli({
    cacheDir: config.temporal.devServer.cacheDir,
    version: config.temporal.devServer.cliVersion,
  });
  process.stdout.write(`Temporal CLI: ${cli}\n`);
  process.stdout.write(`Chromium (Web UI tests): ${await ensureChromium()}\n`);
} catch (err) {
  process.stderr.write(`setup: ${err instanceof ConfigError ? err.message : describeStartupError(err)}\n`);
  process.exitCode = err instanceof ConfigError ? 2 : 1;
}
