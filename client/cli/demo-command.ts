/**
 * `shipbatch demo` (what `npm start` runs): the whole tour, unattended when not on a TTY or with CI=true.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { ShipbatchConfig } from '../../temporal.config';
import { describeStartupError } from '../../stack/errors';
import { FINAL_PHASES, type BatchStatus } from '../../domain/batch';
import { ShipbatchClient } from '../batches';
import { batchPageUrl } from '../web-ui';
import { removeDevState } from '../config';
import { pickupStatusText } from './after-label';
import { printPreview } from './batch-commands';
import type { Io } from './io';
import { writeRowsCsv } from './ledger-commands';
import { formatMoney } from './output';
import {
  bringUp,
  recordDevState,
  reportStartupFailure,
  ROOT,
  StartupFailed,
  startupConfig,
  waitForSignal,
  type Services,
} from './stack-services';
import { watchBatch } from './watch';

const DEMO_TABLE = 'shipbatch_demo_orders';

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

async function askApproval(io: Io, question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/**
 * The demo ships every example order, approving by itself when unattended: it runs only with the UPS
 * sandbox, never with a UPS server that could be the real one. Any other transport (the only setting
 * that selects the UPS server the worker calls) is refused before anything starts (exit 2).
 */
function sandboxOnly(config: ShipbatchConfig): ShipbatchConfig {
  if (config.ups.transport === 'sandbox') return config;
  throw new StartupFailed(
    `the demo runs only against the UPS sandbox (it ships all the example orders), but SHIPBATCH_UPS_TRANSPORT=${config.ups.transport} selects another UPS server; nothing was started. ` +
      'Fix: unset SHIPBATCH_UPS_TRANSPORT to run the demo (the sandbox is the default); ship your own orders with `shipbatch dev` and `shipbatch start`',
    2,
  );
}

/**
 * `shipbatch demo` (= `npm start`): embedded stack up, examples/orders.csv imported, a confirm-mode
 * batch started, its preview printed, approved (asked on a TTY; automatic with --yes, CI=true or no TTY),
 * followed to the end, then labels PDF + results CSV under <data dir>/out/ and the Web UI link. Stops
 * everything it started unless --keep. Only with the UPS sandbox: see {@link sandboxOnly}.
 */
export async function demoCommand(
  f: { yes?: boolean; keep?: boolean; json?: boolean },
  io: Io,
): Promise<number> {
  const say = (line = '') => io.out(`${line}\n`);
  const step = (line: string) => say(`\n== ${line}`);
  let demoConfig: ShipbatchConfig;
  try {
    demoConfig = sandboxOnly(startupConfig());
  } catch (err) {
    return reportStartupFailure(io, err);
  }
  const interactive = io.tty && process.stdin.isTTY && !f.yes && !/^(1|true)$/i.test(process.env.CI ?? '');
  let interrupted = false;
  let services: Services | undefined;
  const onSignal = () => {
    interrupted = true;
    io.err('\nshipbatch: interrupted; stopping…\n');
    // The batch itself is durable: it resumes when a worker runs again (`shipbatch dev`).
    void services?.stop().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  step('Starting the embedded stack (Temporal dev server, PostgreSQL, a worker)');
  try {
    services = await bringUp(io, { worker: true, log: (l) => say(`   ${l}`), config: demoConfig });
  } catch (err) {
    return reportStartupFailure(io, err);
  }
  const { stack, config } = services;
  let client: ShipbatchClient | undefined;
  try {
    client = await ShipbatchClient.connect({ config });
    const pool = await client.pool();

    step(`Importing examples/orders.csv into table ${DEMO_TABLE}`);
    const { importFile } = await import('./import/import');
    const imported = await importFile(pool, {
      file: path.join(ROOT, 'examples', 'orders.csv'),
      table: DEMO_TABLE,
      replace: true,
    });
    say(
      `   ${imported.rows} rows, ${imported.columns.length} columns (key column ${imported.keyColumn}${imported.addedKey ? ', added' : ''})`,
    );

    step('Starting a batch in confirm mode');
    const { readFile } = await import('node:fs/promises');
    const template = await readFile(path.join(ROOT, 'examples', 'template.njk'), 'utf8');
    const shipper = JSON.parse(await readFile(path.join(ROOT, 'examples', 'shipper.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const name = `demo ${stamp()}`;
    const started = await client.startBatch({
      name,
      source: { table: DEMO_TABLE },
      template,
      shipper: shipper as never,
      mode: 'confirm',
      // As `shipbatch start` does by default: every address checked with UPS before the preview; and one UPS
      // pickup for the packages (its charge in the preview, its PRN at the end).
      options: { addressCheck: 'warn', pickup: { readyTime: '09:00', closeTime: '17:00' } },
    });
    const id = started.batchId;
    const webUi = stack.uiUrl ? batchPageUrl(stack.uiUrl, stack.namespace, id) : client.webUiUrl(id);
    say(`   ${id} started; follow it in the Web UI: ${webUi}`);

    const ready = await watchBatch(client, id, {
      show: true,
      tty: io.tty,
      write: io.out,
      until: (s) => s.phase === 'awaiting_approval' || s.phase === 'executing',
    });
    if (FINAL_PHASES.has(ready.phase))
      throw new Error(`the batch closed before approval: ${ready.phase} ${ready.error ?? ''}`);

    step('Preview');
    const preview = await client.getPreview(id);
    if (!preview) throw new Error('the batch has no preview');
    const invalid = (await client.batchRows(id, { status: 'invalid', limit: 10 })).map((r) => ({
      rowNo: r.rowNo,
      errors: r.errors,
    }));
    printPreview(io, id, preview, invalid);

    step('Approval');
    const question = `   Ship ${preview.validRows} rows for about ${formatMoney(preview.totalEstimatedCostCents, preview.currency)}? [y/N] `;
    const yes = interactive ? await askApproval(io, question) : true;
    if (!yes) {
      await client.rejectBatch(id, { reason: 'declined in the demo' });
      say(`   rejected: nothing ships. The batch stays visible in the Web UI: ${webUi}`);
      return 0;
    } else {
      const approved = await client.approveBatch(id, {
        previewHash: preview.previewHash,
        by: interactive ? 'demo (you)' : 'demo (auto-approved)',
      });
      say(
        `   approved by ${approved.approval?.by ?? 'demo'}${interactive ? '' : ' (no TTY, CI=true or --yes)'}`,
      );
    }

    step('Shipping');
    let final: BatchStatus = await watchBatch(client, id, {
      show: true,
      tty: io.tty,
      write: io.out,
      until: (s) => s.phase === 'awaiting_action',
    });
    if (final.phase === 'awaiting_action') {
      say(
        `   ${final.counts.failed} rows failed and ${final.counts.needsReview} need review; the demo finishes the batch (leaving them as they are)`,
      );
      await client.finishBatch(id);
      final = await watchBatch(client, id, { show: false, tty: false });
    }
    say(
      `   ${final.phase}: ${final.counts.shipped} shipped, ${final.counts.failed} failed, ${final.counts.invalid} invalid; ` +
        `cost ${formatMoney(final.actualCostCents, final.currency)}`,
    );

    if (final.pickup) say(`   pickup   ${pickupStatusText(final.pickup, final.currency)}`);

    step('Results');
    const outDir = path.join(config.dataDir, 'out');
    await mkdir(outDir, { recursive: true });
    const { writeLabels } = await import('../labels');
    const labels = await writeLabels(client.batchLabels(id), { out: path.join(outDir, `${id}-labels.pdf`) });
    const csvFile = path.join(outDir, `${id}-results.csv`);
    const rows = await writeRowsCsv(client, id, csvFile);
    say(`   labels   ${labels.files[0] ?? '(none: nothing shipped)'} (${labels.labels} pages, 4×6 in)`);
    say(`   results  ${csvFile} (${rows} rows)`);
    say(`   Web UI   ${webUi}`);
    say('');
    say(
      'Next: the same steps by hand — see "Tour" in README.md (shipbatch dev, import, start, preview, approve, watch, labels).',
    );

    if (f.keep && !interrupted) {
      say('');
      say(`shipbatch: the stack keeps running (Web UI ${stack.uiUrl ?? '-'}); Ctrl-C to stop.`);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      await recordDevState(stack);
      await waitForSignal();
      removeDevState(stack.dataDir);
    }
    return 0;
  } catch (err) {
    io.err(
      `shipbatch: demo failed: ${describeStartupError(err)}${services.worker ? ` (worker log: ${services.worker.logFile})` : ''}\n`,
    );
    return 1;
  } finally {
    await client?.close();
    say('shipbatch: stopping the worker, PostgreSQL and Temporal…');
    await services.stop();
    say('shipbatch: stopped');
  }
}
