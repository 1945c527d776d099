/**
 * `npm start`: the demo, the project's main job (`shipbatch demo`): embedded stack up, examples/orders.csv
 * imported, a confirm-mode batch previewed, approved (asked on a TTY; automatic with CI=true, no TTY or
 * --yes), shipped, labels PDF + results CSV under .data/out/. Exits 0 and leaves nothing running unless
 * --keep. It runs only against the UPS sandbox: with SHIPBATCH_UPS_TRANSPORT naming another UPS server it
 * stops before starting anything (exit 2). For the stack alone in the foreground: `npx shipbatch dev`.
 */
import { runCli } from '../client/cli/main';

const code = await runCli(['demo', ...process.argv.slice(2)]);
process.exit(code);
