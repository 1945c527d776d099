/**
 * The `shipbatch` program (commander): every command with its flags, help and examples, each calling its
 * command function with the parsed flags. Flag values are checked here (exit 2 before anything is sent).
 * The `start` command's definition is start-options.ts's, the operator commands' operation-options.ts's.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { BATCH_PHASES, ROW_STATUSES } from '../../domain/row-status';
import { TRACKING_STATUSES } from '../../domain/tracking';
import { previewCommand, statusCommand, watchCommand } from './batch-commands';
import { commandKit } from './command-kit';
import { importCommand, type ImportFlags } from './import-command';
import { choiceArg, intArg } from './inputs';
import type { Io } from './io';
import { labelsCommand, rowsCommand } from './ledger-commands';
import { listCommand } from './list-commands';
import { addOperationCommands } from './operation-options';
import { addStartCommand } from './start-options';
import { trackCommand, type TrackFlags } from './track-command';

function typeArg(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const m = /^([A-Za-z_][A-Za-z0-9_ ]{0,62})=(text|integer|numeric|boolean|date)$/.exec(value);
  if (!m)
    throw new InvalidArgumentError(
      `--type takes COLUMN=text|integer|numeric|boolean|date, got ${JSON.stringify(value)}`,
    );
  return { ...previous, [m[1]!]: m[2]! };
}

const EXAMPLES = `
Examples:
  $ shipbatch demo                                      # the whole tour: stack, import, batch, approve, labels
  $ shipbatch dev                                       # embedded Temporal + PostgreSQL in the foreground
  $ shipbatch worker                                    # a worker (in another terminal)
  $ shipbatch import examples/orders.csv --table orders
  $ shipbatch start --table orders --template examples/template.njk --shipper examples/shipper.json --name "spring sale"
  $ shipbatch preview batch-spring-sale
  $ shipbatch approve batch-spring-sale --preview-hash <hash from preview>
  $ shipbatch watch batch-spring-sale
  $ shipbatch rows batch-spring-sale --csv > results.csv
  $ shipbatch labels batch-spring-sale --out labels.pdf
  $ shipbatch track batch-spring-sale --status exception   # after the label: where the packages are

Exit codes: 0 ok, 1 failure, 2 bad input (the message names it and the fix).
Services: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, DATABASE_URL, SHIPBATCH_TASK_QUEUE;
with none set, commands use the \`shipbatch dev\` running in this directory.`;

/** Build the program; `run` receives each action's exit code. */
export function buildProgram(io: Io, setCode: (code: number) => void): Command {
  const program = new Command('shipbatch')
    .description('Durable batch UPS shipping on Temporal: rows of orders → UPS shipments, exactly once.')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .addHelpText('after', EXAMPLES);

  const kit = commandKit(program, io, setCode);
  const { act, json, example } = kit;

  addStartCommand(kit);
  example(
    json(
      program
        .command('status <id>')
        .description(
          'phase, mode, row counts, cost, approval, pre-flight progress (address check, rate shopping), refused messages',
        ),
    ).action(act((id: string, f: { json?: boolean }) => statusCommand(id, f, io))),
    'shipbatch status batch-spring',
  );
  example(
    json(
      program
        .command('preview <id>')
        .description(
          'the cost preview: rated rows, address check and rate shopping outcomes, invalid rows, total estimate',
        ),
    ).action(act((id: string, f: { json?: boolean }) => previewCommand(id, f, io))),
    'shipbatch preview batch-spring',
  );
  addOperationCommands(kit);
  example(
    json(
      program
        .command('list')
        .description('batches (Temporal visibility), newest first')
        .option('--phase <phase>', `one of ${BATCH_PHASES.join(', ')}`, choiceArg('--phase', BATCH_PHASES))
        .option(
          '--attention',
          'only batches waiting for someone, waiting for UPS or stalled, with the choices',
        ),
    ).action(act((f: { phase?: string; attention?: boolean; json?: boolean }) => listCommand(f, io))),
    'shipbatch list --phase awaiting_approval',
    'shipbatch list --attention',
  );
  example(
    json(
      program
        .command('rows <id>')
        .description('rows of a batch from the ledger: status, tracking number, cost, error')
        .option('--status <status>', `one of ${ROW_STATUSES.join(', ')}`, choiceArg('--status', ROW_STATUSES))
        .option('--csv', 'CSV: row,status,tracking_number,cost,currency,error')
        .addOption(
          new Option(
            '--ndjson',
            'one JSON object per line (same fields as --json), for large batches',
          ).conflicts(['csv', 'json']),
        ),
    ).action(
      act((id: string, f: { status?: string; csv?: boolean; json?: boolean; ndjson?: boolean }) =>
        rowsCommand(id, f, io),
      ),
    ),
    'shipbatch rows batch-spring --status failed',
    'shipbatch rows batch-spring --csv > results.csv',
    'shipbatch rows batch-spring --ndjson | jq -c \'select(.status == "failed")\'',
  );
  example(
    json(
      program
        .command('track <id>')
        .description(
          "where the packages are (after the label): the tracking phase, exceptions, next look, deadline and packages per status; with --status, those packages with UPS's words",
        )
        .option(
          '--status <status>',
          `list the packages of one status (${TRACKING_STATUSES.join(', ')})`,
          choiceArg('--status', TRACKING_STATUSES),
        )
        .addOption(
          new Option(
            '--csv',
            'CSV of the packages (all, or those of --status): row,tracking_number,status,description,location,status_at,delivered_on',
          ).conflicts('json'),
        ),
    )
      .addHelpText(
        'after',
        '\n--json prints {"tracking": {...}, "packages": [...]}; packages only with --status (--csv lists them all).\nExit 2 for an unknown batch or one without tracking (not closed yet, nothing shipped, trackFor 0s).',
      )
      .action(act((id: string, f: TrackFlags) => trackCommand(id, f, io))),
    'shipbatch track batch-spring',
    'shipbatch track batch-spring --status exception',
    'shipbatch track batch-spring --csv > packages.csv',
    "shipbatch track batch-spring --status delivered --json | jq '.packages[].deliveredOn'",
  );
  example(
    json(
      program
        .command('labels <id>')
        .description('labels of the shipped rows: one PDF of 4×6 pages in row order, or concatenated ZPL')
        .requiredOption('--out <file>', 'output file (with --split: <file>-001.pdf, …)')
        .addOption(new Option('--format <format>', 'pdf or zpl').choices(['pdf', 'zpl']).default('pdf'))
        .option('--split <n>', 'files of at most N labels', intArg('--split', 1, 100_000))
        .option(
          '--force',
          'replace an existing output file (without it: refused, exit 2); a symbolic link there is replaced, never followed',
        ),
    ).action(
      act(
        (
          id: string,
          f: { out: string; format?: 'pdf' | 'zpl'; split?: number; force?: boolean; json?: boolean },
        ) => labelsCommand(id, f, io),
      ),
    ),
    'shipbatch labels batch-spring --out labels.pdf',
    "shipbatch labels batch-spring --out labels.pdf --force   # replace last run's file",
    'shipbatch labels batch-spring --out labels.zpl --format zpl --split 100',
  );
  example(
    json(
      program
        .command('import <file>')
        .description('a CSV/TSV/XLSX file into a PostgreSQL table (types inferred, atomic)')
        .requiredOption('--table <table>', 'table to create')
        .option('--replace', 'replace the table if it exists')
        .option('--key-column <column>', 'key column: taken from the file, or added (1…n) when absent', 'id')
        .option(
          '--type <column=type>',
          'override an inferred type (text|integer|numeric|boolean|date); repeatable',
          typeArg,
        )
        .option('--sheet <name>', 'XLSX worksheet (default: the first)'),
    ).action(act((file: string, f: ImportFlags) => importCommand(file, f, io))),
    'shipbatch import examples/orders.csv --table orders',
    'shipbatch import orders.xlsx --table orders --replace --type zip=text',
  );
  example(
    json(
      program
        .command('watch <id>')
        .description('follow a batch until it closes: live progress bar (plain lines when not a TTY)'),
    ).action(act((id: string, f: { json?: boolean }) => watchCommand(id, f, io))),
    'shipbatch watch batch-spring',
  );
  example(
    json(
      program.command('worker').description('run a worker against the configured services (Ctrl-C stops it)'),
    ).action(act(async () => (await import('./dev-commands')).workerCommand(io))),
    'shipbatch worker',
    'SHIPBATCH_TASK_QUEUE=shipbatch-eu TEMPORAL_ADDRESS=temporal:7233 DATABASE_URL=postgres://… shipbatch worker',
  );
  example(
    json(
      program
        .command('dev')
        .description(
          'start the embedded stack (Temporal dev server + PostgreSQL + a worker) in the foreground',
        ),
    )
      .option('--no-worker', 'do not start a worker')
      .action(
        act(async (f: { worker?: boolean; json?: boolean }) =>
          (await import('./dev-commands')).devCommand(f, io),
        ),
      ),
    'shipbatch dev',
  );
  example(
    json(
      program
        .command('demo')
        .description(
          'the tour: stack up, examples/orders.csv imported, a batch previewed, approved, shipped; labels + CSV',
        )
        .option('--yes', 'approve without asking (also with CI=true or no TTY)')
        .option('--keep', 'leave the stack running afterwards (Ctrl-C stops it)'),
    ).action(
      act(async (f: { yes?: boolean; keep?: boolean; json?: boolean }) =>
        (await import('./demo-command')).demoCommand(f, io),
      ),
    ),
    'shipbatch demo',
    'CI=true shipbatch demo',
    'shipbatch demo --keep   # then open the Web UI and try the commands',
  );
  return program;
}
