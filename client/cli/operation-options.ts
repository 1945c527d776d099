/**
 * The definitions of the operator commands (`approve`, `reject`, `mode`, `cancel`, `restart`, `resolve`,
 * `finish`, `resume`): flags, help and examples. What they send is operation-commands.ts's.
 */
import { BatchInputError } from '../errors';
import type { CommandKit } from './command-kit';
import { intArg, rowsListArg, scopeArg } from './inputs';
import {
  approveCommand,
  cancelCommand,
  finishCommand,
  modeCommand,
  rejectCommand,
  resolveCommand,
  restartCommand,
  resumeCommand,
} from './operation-commands';

export function addOperationCommands({ program, io, act, json, example }: CommandKit): void {
  example(
    json(
      program
        .command('approve <id>')
        .description('approve the preview and ship (refused if the preview changed: exit 2)')
        .option('--preview-hash <hash>', 'the previewHash you reviewed (a stale one is refused)')
        .option('--by <name>', 'who approves (default: your user name)'),
    ).action(
      act((id: string, f: { previewHash?: string; by?: string; json?: boolean }) =>
        approveCommand(id, f, io),
      ),
    ),
    'shipbatch approve batch-spring --preview-hash 3f2a… --by alice',
  );
  example(
    json(
      program
        .command('reject <id>')
        .description('reject the preview; nothing ships')
        .option('--reason <text>', 'why'),
    ).action(act((id: string, f: { reason?: string; json?: boolean }) => rejectCommand(id, f, io))),
    'shipbatch reject batch-spring --reason "wrong template"',
  );
  example(
    json(
      program.command('mode <id> <mode>').description('switch confirm/auto until execution starts'),
    ).action(
      act((id: string, mode: string, f: { json?: boolean }) => {
        // A bad mode → exit 2 before anything is sent.
        if (!/^(confirm|auto)$/i.test(mode.trim())) {
          throw new BatchInputError(`mode must be "confirm" or "auto", got ${JSON.stringify(mode)}`);
        }
        return modeCommand(id, mode, f, io);
      }),
    ),
    'shipbatch mode batch-spring auto',
  );
  example(
    json(
      program
        .command('cancel <id>')
        .description('stop the batch: no new shipments, in-flight rows settle')
        .option('--void', 'also void the rows already shipped (UPS void_shipment)')
        .option('--reason <text>', 'why'),
    ).action(
      act((id: string, f: { void?: boolean; reason?: string; json?: boolean }) => cancelCommand(id, f, io)),
    ),
    'shipbatch cancel batch-spring --reason "duplicate upload"',
    'shipbatch cancel batch-spring --void',
  );
  example(
    json(
      program
        .command('restart <id>')
        .description('ship again rows that failed or need review (never a shipped one)')
        .option('--scope <scope>', 'failed | needs_review | all_unshipped', scopeArg, 'failed')
        .option('--rows <list>', 'only these row numbers, e.g. 3,7,12', rowsListArg),
    ).action(
      act((id: string, f: { scope?: 'failed'; rows?: number[]; json?: boolean }) =>
        restartCommand(id, f, io),
      ),
    ),
    'shipbatch restart batch-spring',
    'shipbatch restart batch-spring --scope needs_review --rows 4,9',
  );
  example(
    json(
      program
        .command('resolve <id>')
        .description('settle a row that needs review: it shipped (--tracking) or ship it again (--retry)')
        .requiredOption('--row <n>', 'row number', intArg('--row', 1, 1_000_000_000))
        .option('--tracking <number>', 'the tracking number UPS has for it (1Z…)')
        .option('--retry', 'ship it again'),
    ).action(
      act((id: string, f: { row: number; tracking?: string; retry?: boolean; json?: boolean }) =>
        resolveCommand(id, f, io),
      ),
    ),
    'shipbatch resolve batch-spring --row 12 --tracking 1Z999AA10123456784',
    'shipbatch resolve batch-spring --row 12 --retry',
  );
  example(
    json(
      program
        .command('finish <id>')
        .description('close a batch waiting for action, leaving failed rows as they are'),
    ).action(act((id: string, f: { json?: boolean }) => finishCommand(id, f, io))),
    'shipbatch finish batch-spring',
  );
  example(
    json(
      program
        .command('resume <id>')
        .description(
          'resume a batch waiting for UPS (waiting_for_ups), e.g. after fixing refused credentials (refused in any other phase: exit 2)',
        )
        .option('--by <name>', 'who resumes (default: your user name)'),
    ).action(act((id: string, f: { by?: string; json?: boolean }) => resumeCommand(id, f, io))),
    'shipbatch resume batch-spring --by alice',
  );
}
