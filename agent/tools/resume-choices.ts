/**
 * Which of `batch_resume`'s choices (resume, restart, cancel) a batch needing attention has, read off the
 * attention triage of domain/attention.ts: the agent and `list --attention` follow one rule. What each choice
 * does, in the agent's words, is resume-prompt.ts.
 */
import { attentionChoices, type AttentionChoice, type AttentionReason } from '../../domain/attention';
import type { RowCounts, UpsOutage } from '../../domain/batch';
import type { BatchPhase } from '../../domain/row-status';

/** The `choice` argument of `batch_resume`, in the order choices are offered. */
export const RESUME_CHOICES = ['resume', 'restart', 'cancel'] as const;

/** One of `batch_resume`'s choices. */
export type ResumeChoice = (typeof RESUME_CHOICES)[number];

/** The rows `restart` ships again: the failed ones, else those needing review. */
export type RestartScope = 'failed' | 'needs_review';

/**
 * The agent's choice that stands for each action of the triage:
 * - resume: the batch goes on and no row changes: `resume`, `status` (it goes on by itself), `preview` and
 *   `approve` (batch_preview, then batch_execute), `finish`, `start_worker`;
 * - restart: `restart` (the failed rows) and `resolve` (the agent retries all the rows needing review at once);
 * - cancel: `cancel`, and `terminate` when no worker polls (the agent records a cancel signal instead).
 * `reject` has none: the agent does not offer it.
 */
const AGENT_CHOICE: Readonly<Record<AttentionChoice['action'], ResumeChoice | undefined>> = {
  preview: 'resume',
  approve: 'resume',
  reject: undefined,
  finish: 'resume',
  resume: 'resume',
  status: 'resume',
  start_worker: 'resume',
  restart: 'restart',
  resolve: 'restart',
  cancel: 'cancel',
  terminate: 'cancel',
};

/** The scope of the restart a triage offers: failed rows, else rows needing review; undefined: none. */
function restartScopeIn(triage: readonly AttentionChoice[]): RestartScope | undefined {
  if (triage.some((c) => c.action === 'restart')) return 'failed';
  if (triage.some((c) => c.action === 'resolve')) return 'needs_review';
  return undefined;
}

/** The scope `restart` takes on a batch with these rows (as the triage of a batch awaiting action says). */
export function restartScope(counts: RowCounts): RestartScope | undefined {
  return restartScopeIn(attentionChoices('awaiting_action', counts));
}

/** Phases a batch waits in for someone, each the attention reason of the same name. */
function waitingPhase(phase: BatchPhase | undefined): phase is AttentionReason & BatchPhase {
  return phase === 'awaiting_approval' || phase === 'awaiting_action' || phase === 'waiting_for_ups';
}

/** A choice offered for a batch needing attention; a restart with its scope. */
export type OfferedChoice = { choice: 'resume' | 'cancel' } | { choice: 'restart'; scope: RestartScope };

/**
 * The choices of a batch needing attention for `reason`, in the order of {@link RESUME_CHOICES}. With no
 * worker polling, the restart and cancel the batch's phase would offer count too: they can be recorded now,
 * as signals, and apply once a worker runs.
 */
export function offeredChoices(item: {
  reason: AttentionReason;
  phase?: BatchPhase;
  counts: RowCounts;
  upsOutage?: UpsOutage;
}): OfferedChoice[] {
  const triage = attentionChoices(item.reason, item.counts, item.upsOutage);
  if (item.reason === 'no_worker' && waitingPhase(item.phase)) {
    const signals = attentionChoices(item.phase, item.counts).filter((c) => {
      const choice = AGENT_CHOICE[c.action];
      return choice === 'restart' || choice === 'cancel';
    });
    triage.push(...signals);
  }
  const offered = new Set(triage.map((c) => AGENT_CHOICE[c.action]));
  const scope = restartScopeIn(triage);
  return [
    ...(offered.has('resume') ? [{ choice: 'resume' as const }] : []),
    ...(scope ? [{ choice: 'restart' as const, scope }] : []),
    ...(offered.has('cancel') ? [{ choice: 'cancel' as const }] : []),
  ];
}
