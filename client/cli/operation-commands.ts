/**
 * The operations of the CLI: `approve`, `reject`, `mode`, `cancel`, `restart`, `resolve`, `finish` and
 * `resume`, each the Update of the same name; prints the outcome (the status right after it).
 */
import os from 'node:os';
import type { BatchStatus } from '../../domain/batch';
import { BatchInputError } from '../errors';
import { printJson, say, type Io } from './io';
import { clean } from './output';
import { withClient } from './sessions';

/** Print an operation's outcome (the status right after it). */
function done(io: Io, f: { json?: boolean }, s: BatchStatus, line: string): number {
  if (f.json) printJson(io, s);
  else say(io, `${s.batchId}: ${line} (phase ${s.phase})`);
  return 0;
}

export async function approveCommand(
  id: string,
  f: { previewHash?: string; by?: string; json?: boolean },
  io: Io,
): Promise<number> {
  return withClient(async (c) => {
    const by = f.by ?? os.userInfo().username;
    const s = await c.approveBatch(id, { previewHash: f.previewHash, by });
    return done(io, f, s, `approved by ${clean(by)}; shipping starts`);
  });
}

export async function rejectCommand(
  id: string,
  f: { reason?: string; json?: boolean },
  io: Io,
): Promise<number> {
  return withClient(async (c) => done(io, f, await c.rejectBatch(id, { reason: f.reason }), 'rejected'));
}

export async function modeCommand(id: string, mode: string, f: { json?: boolean }, io: Io): Promise<number> {
  return withClient(async (c) => {
    const s = await c.setBatchMode(id, mode);
    return done(io, f, s, `mode is now ${s.mode}`);
  });
}

export async function cancelCommand(
  id: string,
  f: { void?: boolean; reason?: string; json?: boolean },
  io: Io,
): Promise<number> {
  return withClient(async (c) => {
    const s = await c.cancelBatch(id, { reason: f.reason, voidShipped: f.void === true });
    return done(io, f, s, `cancel requested${f.void ? ' (shipped rows will be voided)' : ''}`);
  });
}

export async function restartCommand(
  id: string,
  f: { scope?: 'failed' | 'needs_review' | 'all_unshipped'; rows?: number[]; json?: boolean },
  io: Io,
): Promise<number> {
  return withClient(async (c) => {
    const s = await c.restartBatch(id, { scope: f.scope ?? 'failed', rows: f.rows });
    return done(
      io,
      f,
      s,
      `restart of ${f.rows ? `rows ${f.rows.join(',')}` : `${f.scope ?? 'failed'} rows`} queued`,
    );
  });
}

export async function resolveCommand(
  id: string,
  f: { row: number; tracking?: string; retry?: boolean; json?: boolean },
  io: Io,
): Promise<number> {
  if ((f.tracking === undefined) === (f.retry !== true)) {
    throw new BatchInputError(
      'resolve needs exactly one of --tracking 1Z… (it shipped) or --retry (ship it again)',
    );
  }
  return withClient(async (c) => {
    const s = f.retry
      ? await c.resolveRow(id, { row: f.row, outcome: 'retry' })
      : await c.resolveRow(id, {
          row: f.row,
          outcome: 'shipped',
          trackingNumber: f.tracking!.trim().toUpperCase(),
        });
    return done(io, f, s, `row ${f.row} resolved (${f.retry ? 'retry' : `shipped as ${f.tracking}`})`);
  });
}

export async function finishCommand(id: string, f: { json?: boolean }, io: Io): Promise<number> {
  return withClient(async (c) => done(io, f, await c.finishBatch(id), 'finish requested'));
}

export async function resumeCommand(id: string, f: { by?: string; json?: boolean }, io: Io): Promise<number> {
  return withClient(async (c) => {
    const by = f.by ?? os.userInfo().username;
    const s = await c.resumeBatch(id, { by });
    return done(io, f, s, `resumed by ${clean(by)}; shipping starts again`);
  });
}
