/**
 * What `batch_resume` says of a batch that needs attention: the choices the agent can make (resume, restart,
 * cancel), each with its effect in words, and one prompt to relay to the user.
 */
import type { AttentionItem, RowCounts, TrackingExceptions, UpsOutage } from '../../client/index';
import { probesText } from './next-step';
import { offeredChoices, type RestartScope, type ResumeChoice } from './resume-choices';

/** A choice offered for a batch, with what it does. */
export interface Choice {
  choice: ResumeChoice;
  effect: string;
}

/**
 * The choices offered for a batch needing attention, in order, each with its effect. Which ones is the
 * triage's (resume-choices.ts); the words are the agent's.
 */
export function choicesFor(item: AttentionItem): Choice[] {
  // With no worker, restart and cancel are signals: recorded in the history now, applied when a worker runs.
  const queued = item.reason === 'no_worker' ? ' Recorded now, applied once a worker runs.' : '';
  return offeredChoices(item).map((offered) => {
    switch (offered.choice) {
      case 'resume':
        return { choice: 'resume', effect: resumeEffect(item) };
      case 'restart':
        return { choice: 'restart', effect: restartEffect(offered.scope, item.counts) + queued };
      case 'cancel':
        return {
          choice: 'cancel',
          effect:
            'Stop the batch: nothing new ships, rows in flight settle, pending and failed rows become cancelled; shipped rows stay shipped.' +
            queued,
        };
    }
  });
}

/** What `resume` does for a batch, by why it needs attention. */
function resumeEffect(item: AttentionItem): string {
  switch (item.reason) {
    case 'no_worker':
      return `Start a worker on task queue ${item.taskQueue} (\`shipbatch worker\` or \`shipbatch dev\`): the batch continues where it stopped (${phaseText(item.phase)}); shipped rows are never shipped again.`;
    case 'awaiting_approval':
      return 'Nothing runs by itself: the batch waits for approval. Review it with batch_preview, then batch_execute with approved: true.';
    case 'awaiting_action':
      return 'Nothing runs by itself: the batch waits for restart or cancel (or `shipbatch finish` to close it leaving failed rows as they are).';
    case 'waiting_for_ups':
      return item.upsOutage?.needsOperator === false
        ? `Nothing to do: the batch probes UPS (${probesText(item.upsOutage)}) and resumes by itself when UPS answers; resume sends nothing.`
        : 'UPS refused the credentials: once the user has fixed them (the UPS credentials of the shipbatch worker), resume sends `resume` and shipping starts again at once; rows not yet sent stay pending, none ships twice.';
    case 'retrying':
      return 'Let it be: Temporal retries the failing call with backoff and the batch goes on when it succeeds.';
  }
}

function restartEffect(scope: RestartScope, c: RowCounts): string {
  return scope === 'failed'
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

/** Packages in exception listed per batch; beyond them, "and N more". */
export const TRACKING_EXCEPTIONS_LISTED = 20;

/** What to do about one package in exception, read off UPS's words. */
export function exceptionNextStep(description: string | null): string {
  const words = (description ?? '').toUpperCase();
  if (/ADDRESS|RECEIVER|CONSIGNEE|NOT AVAILABLE|REFUSED/.test(words)) {
    return 'Contact the recipient for a correct or complete address, then UPS (address correction) with the tracking number.';
  }
  if (/DAMAGE/.test(words)) {
    return 'Contact UPS about the damage (a claim) with the tracking number, and the recipient about a replacement.';
  }
  if (/WEATHER|DELAY|EMERGENCY|MECHANICAL/.test(words)) {
    return 'Nothing to do yet: UPS delivers late; the tracking goes on looking at it.';
  }
  return "Contact UPS with the tracking number about UPS's message (and the recipient if it concerns them).";
}

/** One package in exception as `batch_resume` lists it. */
function exceptionPackage(p: TrackingExceptions['packages'][number]) {
  return {
    row: p.rowNo,
    tracking_number: p.trackingNumber,
    ups_description: p.description,
    location: p.location,
    status_at: p.statusAt,
    next_step: exceptionNextStep(p.description),
  };
}

/**
 * A batch whose packages are in exception, as `batch_resume` lists it: the packages (at most
 * {@link TRACKING_EXCEPTIONS_LISTED}, then how many more) with UPS's words and the next step, and a prompt.
 */
export function trackingExceptionsAnswer(t: TrackingExceptions) {
  const listed = t.packages.slice(0, TRACKING_EXCEPTIONS_LISTED);
  const more = t.exceptions - listed.length;
  const list = listed.map(
    (p) => `row ${p.rowNo} (${p.trackingNumber}): ${p.description ?? 'no description from UPS'}`,
  );
  const next_step =
    `Contact the recipient (a wrong or incomplete address, refused) or UPS (damage, a package held) for each package, with its tracking number; UPS's words say which. ` +
    `The tracking goes on looking at these packages; one leaves this list once UPS moves it on. \`shipbatch track ${t.batchId} --status exception\` lists them all.`;
  return {
    job_id: t.batchId,
    tracking: t.tracking,
    exceptions: t.exceptions,
    packages: listed.map(exceptionPackage),
    ...(more > 0 ? { more } : {}),
    next_step,
    prompt:
      `Batch ${t.batchId} has ${t.exceptions} package(s) in exception after shipping: ${list.join('; ')}` +
      `${more > 0 ? `; and ${more} more` : ''}. ${next_step}`,
  };
}
