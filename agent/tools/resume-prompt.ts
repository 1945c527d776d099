/**
 * What `batch_resume` says of a batch that needs attention: the choices the agent can make (resume, restart,
 * cancel), each with its effect in words, and one prompt to relay to the user.
 */
import type { AttentionItem, RowCounts, UpsOutage } from '../../client/index';
import { probesText } from './next-step';

/** The `choice` argument of `batch_resume`. */
export const RESUME_CHOICES = ['resume', 'restart', 'cancel'] as const;

/** A choice offered for a batch, with what it does. */
export interface Choice {
  choice: (typeof RESUME_CHOICES)[number];
  effect: string;
}

/** The choices offered for a batch needing attention, in order, each with its effect. */
export function choicesFor(item: AttentionItem): Choice[] {
  const out: Choice[] = [];
  const restartable = item.counts.failed + item.counts.needsReview > 0;
  const cancel: Choice = {
    choice: 'cancel',
    effect:
      'Stop the batch: nothing new ships, rows in flight settle, pending and failed rows become cancelled; shipped rows stay shipped.' +
      (item.reason === 'no_worker' ? ' Recorded now, applied once a worker runs.' : ''),
  };
  switch (item.reason) {
    case 'no_worker':
      out.push({
        choice: 'resume',
        effect: `Start a worker on task queue ${item.taskQueue} (\`shipbatch worker\` or \`shipbatch dev\`): the batch continues where it stopped (${phaseText(item.phase)}); shipped rows are never shipped again.`,
      });
      if (restartable && item.phase === 'awaiting_action') {
        out.push({
          choice: 'restart',
          effect: restartEffect(item.counts) + ' Recorded now, applied once a worker runs.',
        });
      }
      break;
    case 'awaiting_approval':
      out.push({
        choice: 'resume',
        effect:
          'Nothing runs by itself: the batch waits for approval. Review it with batch_preview, then batch_execute with approved: true.',
      });
      break;
    case 'awaiting_action':
      out.push({
        choice: 'resume',
        effect:
          'Nothing runs by itself: the batch waits for restart or cancel (or `shipbatch finish` to close it leaving failed rows as they are).',
      });
      if (restartable) out.push({ choice: 'restart', effect: restartEffect(item.counts) });
      break;
    case 'waiting_for_ups':
      out.push({
        choice: 'resume',
        effect:
          item.upsOutage?.needsOperator === false
            ? `Nothing to do: the batch probes UPS (${probesText(item.upsOutage)}) and resumes by itself when UPS answers; resume sends nothing.`
            : 'UPS refused the credentials: once the user has fixed them (the UPS credentials of the shipbatch worker), resume sends `resume` and shipping starts again at once; rows not yet sent stay pending, none ships twice.',
      });
      break;
    case 'retrying':
      out.push({
        choice: 'resume',
        effect:
          'Let it be: Temporal retries the failing call with backoff and the batch goes on when it succeeds.',
      });
      break;
  }
  out.push(cancel);
  return out;
}

function restartEffect(c: RowCounts): string {
  return c.failed > 0
    ? `Ship again the ${c.failed} failed row(s) (scope failed); shipped rows are never shipped again.`
    : `Retry the ${c.needsReview} row(s) needing review (scope needs_review): each is looked up at UPS first, so none ships twice.`;
}

/** A batch no worker ever ran has no phase search attribute yet. */
function phaseText(phase: string | undefined): string {
  return phase ? `phase ${phase}` : 'not yet loaded by a worker';
}

const REASON_TEXT: Record<AttentionItem['reason'], string> = {
  no_worker: 'is interrupted: no worker polls its task queue',
  awaiting_approval: 'waits for approval of its preview',
  awaiting_action: 'waits for action: rows failed or need review',
  waiting_for_ups: 'waits for UPS: shipping is paused',
  retrying: 'is stalled: a call keeps failing and is being retried',
};

function outageText(o: UpsOutage): string {
  return (
    `UPS outage: ${o.reason} since ${o.since}, ${probesText(o)}; ` +
    (o.needsOperator
      ? 'the operator must fix the credentials, then resume.'
      : 'it resumes by itself when UPS answers.')
  );
}

/** The recovery prompt of a batch: why it needs attention, its rows, the last error and the choices. */
export function promptFor(item: AttentionItem, choices: Choice[]): string {
  return [
    `Batch ${item.batchId} (${phaseText(item.phase)}) ${REASON_TEXT[item.reason]}.`,
    ...(item.upsOutage ? [outageText(item.upsOutage)] : []),
    `${item.done} row(s) done (shipped ${item.counts.shipped}, failed ${item.counts.failed}, invalid ${item.counts.invalid}, cancelled ${item.counts.cancelled}), ${item.remaining} remaining (pending ${item.counts.pending}, in flight ${item.counts.inFlight}, needs review ${item.counts.needsReview}).`,
    `Last error: ${item.lastError ?? 'none'}.`,
    `Choices (batch_resume with job_id and choice): ${choices.map((c) => `${c.choice}: ${c.effect}`).join(' | ')}`,
  ].join(' ');
}
