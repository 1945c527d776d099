/**
 * The attention triage (domain/attention.ts) and its commands (client/attention.ts): for each reason, the
 * commands `list --attention` prints and its `--json` carries, in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attentionChoices, type AttentionReason } from '../../domain/attention';
import { emptyCounts, type RowCounts, type UpsOutage } from '../../domain/batch';
import { choiceCommand } from '../../client/attention';

const commands = (reason: AttentionReason, counts: Partial<RowCounts> = {}, outage?: Partial<UpsOutage>) =>
  attentionChoices(
    reason,
    { ...emptyCounts(), ...counts },
    outage && {
      kind: 'unreachable',
      reason: 'UPS unreachable',
      since: '2025-06-01T10:00:00.000Z',
      probes: 1,
      needsOperator: false,
      ...outage,
    },
  ).map((c) => choiceCommand(c, 'batch-x'));

test('attention: awaiting approval → preview, approve, reject, cancel', () => {
  assert.deepEqual(commands('awaiting_approval'), [
    'shipbatch preview batch-x',
    'shipbatch approve batch-x',
    'shipbatch reject batch-x',
    'shipbatch cancel batch-x',
  ]);
});

test('attention: awaiting action → restart failed rows, resolve rows in review, finish, cancel', () => {
  assert.deepEqual(commands('awaiting_action', { failed: 2, needsReview: 1 }), [
    'shipbatch restart batch-x --scope failed',
    'shipbatch resolve batch-x --row N --tracking 1Z…',
    'shipbatch resolve batch-x --row N --retry',
    'shipbatch finish batch-x',
    'shipbatch cancel batch-x',
  ]);
  assert.deepEqual(commands('awaiting_action', { failed: 1 }), [
    'shipbatch restart batch-x --scope failed',
    'shipbatch finish batch-x',
    'shipbatch cancel batch-x',
  ]);
  assert.deepEqual(commands('awaiting_action', { needsReview: 1 }), [
    'shipbatch resolve batch-x --row N --tracking 1Z…',
    'shipbatch resolve batch-x --row N --retry',
    'shipbatch finish batch-x',
    'shipbatch cancel batch-x',
  ]);
});

test('attention: waiting for UPS → resume first unless it resumes by itself', () => {
  assert.deepEqual(commands('waiting_for_ups', {}, { needsOperator: false }), [
    'shipbatch status batch-x',
    'shipbatch cancel batch-x',
  ]);
  assert.deepEqual(commands('waiting_for_ups', {}, { kind: 'auth', needsOperator: true }), [
    'shipbatch resume batch-x',
    'shipbatch status batch-x',
    'shipbatch cancel batch-x',
  ]);
  // The status did not answer: the outage is unknown, so resume is offered.
  assert.deepEqual(commands('waiting_for_ups'), [
    'shipbatch resume batch-x',
    'shipbatch status batch-x',
    'shipbatch cancel batch-x',
  ]);
});

test('attention: retrying → status, cancel; no worker → start one, or terminate', () => {
  assert.deepEqual(commands('retrying'), ['shipbatch status batch-x', 'shipbatch cancel batch-x']);
  assert.deepEqual(commands('no_worker', { failed: 3 }), [
    'start a worker on its task queue: shipbatch worker (or shipbatch dev)',
    'temporal workflow terminate --workflow-id batch-x',
  ]);
});
