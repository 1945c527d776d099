/**
 * `list` (batches from visibility) and `list --attention` (those that need someone, with the commands that
 * would move them on).
 */
import type { AttentionItem } from '../attention';
import type { BatchSummary } from '../visibility';
import { printJson, say, type Io } from './io';
import { clean, outageLines, table } from './output';
import { withClient } from './sessions';

function printList(io: Io, items: BatchSummary[]): void {
  if (items.length === 0) {
    say(io, 'no batches');
    return;
  }
  say(
    io,
    table(
      ['Batch', 'Phase', 'Mode', 'Rows', 'Temporal', 'Started'],
      items.map((b) => [b.batchId, b.phase ?? '', b.mode ?? '', b.rows ?? '', b.status, b.startTime]),
      [3],
    ),
  );
}

export function printAttention(io: Io, items: AttentionItem[]): void {
  if (items.length === 0) {
    say(io, 'nothing needs attention');
    return;
  }
  const why = {
    awaiting_approval: 'waiting for approval',
    awaiting_action: 'rows failed or need review',
    waiting_for_ups: 'waiting for UPS',
    retrying: 'an activity keeps failing (retrying)',
    no_worker: 'no worker polls the task queue',
  } as const;
  for (const b of items) {
    say(io, `${b.batchId}  ${b.phase ?? ''}: ${why[b.reason]}`);
    say(
      io,
      `  rows      ${b.done} done, ${b.remaining} remaining (shipped ${b.counts.shipped}, failed ${b.counts.failed}, review ${b.counts.needsReview})`,
    );
    if (b.upsOutage) {
      // The outage's reason is the last error; say what happens next instead of repeating it.
      for (const line of outageLines(b.upsOutage, b.batchId)) say(io, line);
    } else if (b.lastError) say(io, `  last error ${clean(b.lastError)}`);
    if (b.reason === 'waiting_for_ups' && !b.upsOutage) {
      // The status did not answer: both ways on.
      say(
        io,
        `  next      resumes by itself when UPS answers; if UPS refused the credentials, fix them, then \`shipbatch resume ${b.batchId}\``,
      );
    }
    say(io, `  choices   ${b.choices.join('\n            ')}`);
    say(io);
  }
}

export async function listCommand(
  f: { phase?: string; attention?: boolean; json?: boolean },
  io: Io,
): Promise<number> {
  return withClient(async (c) => {
    if (f.attention) {
      let items = await c.attentionBatches();
      if (f.phase) items = items.filter((i) => i.phase === f.phase);
      if (f.json) printJson(io, items);
      else printAttention(io, items);
      return 0;
    }
    const items = await c.listBatches({ phase: f.phase });
    if (f.json) printJson(io, items);
    else printList(io, items);
    return 0;
  });
}
