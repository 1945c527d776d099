/**
 * The batch workflow's queries and operations (docs/design.md §3, "Messages"). Each operation is a Signal
 * and an Update of the same name; BatchState holds the rules, these handlers apply them.
 */
import {
  ApplicationFailure,
  currentUpdateInfo,
  setHandler,
  type SignalDefinition,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { BatchStatus } from '../domain/batch';
import * as msg from '../domain/messages';
import type { BatchState } from './batch-state';

type Check<T> = (raw: unknown) => { ok: true; value: T } | { ok: false; reason: string };

/** One operation as a Signal (a refusal is recorded) and an Update (refused in its validator, no history). */
function registerOperation<A, T>(
  state: BatchState,
  signal: SignalDefinition<[A]>,
  update: UpdateDefinition<BatchStatus, [A]>,
  check: Check<T>,
  apply: (args: T) => void,
): void {
  const name = signal.name as keyof typeof msg.MESSAGE_DESCRIPTIONS;
  const description = msg.MESSAGE_DESCRIPTIONS[name];
  setHandler(
    signal,
    (raw: unknown) => {
      const c = check(raw);
      if (c.ok) apply(c.value);
      else state.refuse(name, c.reason);
    },
    { description },
  );
  setHandler(
    update,
    (raw: unknown) => {
      // An Update applied by the previous run and delivered again after continue-as-new: already done.
      const id = currentUpdateInfo()?.id;
      if (id !== undefined && state.seenUpdateIds.includes(id)) return state.status();
      const c = check(raw);
      // The validator passed, but the state may have moved on before the handler ran.
      if (!c.ok)
        throw ApplicationFailure.create({ type: 'MessageRefused', message: c.reason, nonRetryable: true });
      apply(c.value);
      if (id !== undefined) state.rememberUpdate(id);
      state.updatesThisRun++;
      return state.status();
    },
    {
      description,
      validator: (raw: unknown) => {
        const id = currentUpdateInfo()?.id;
        if (id !== undefined && state.seenUpdateIds.includes(id)) return;
        const c = check(raw);
        if (!c.ok) throw new Error(c.reason);
      },
    },
  );
}

/** Every query and operation of a batch, on `state`: registered before the workflow first waits. */
export function registerHandlers(state: BatchState): void {
  const d = msg.MESSAGE_DESCRIPTIONS;
  setHandler(msg.statusQuery, () => state.status(), { description: d.status });
  setHandler(msg.previewQuery, () => state.preview, { description: d.preview });
  registerOperation(
    state,
    msg.approveSignal,
    msg.approveUpdate,
    (r) => state.checkApprove(r),
    (a) => state.applyApprove(a),
  );
  registerOperation(
    state,
    msg.rejectSignal,
    msg.rejectUpdate,
    (r) => state.checkReject(r),
    (a) => state.applyReject(a),
  );
  registerOperation(
    state,
    msg.setModeSignal,
    msg.setModeUpdate,
    (r) => state.checkSetMode(r),
    (a) => state.applySetMode(a),
  );
  registerOperation(
    state,
    msg.cancelSignal,
    msg.cancelUpdate,
    (r) => state.checkCancel(r),
    (a) => state.applyCancel(a),
  );
  registerOperation(
    state,
    msg.restartSignal,
    msg.restartUpdate,
    (r) => state.checkRestart(r),
    (a) => state.applyRestart(a),
  );
  registerOperation(
    state,
    msg.resolveSignal,
    msg.resolveUpdate,
    (r) => state.checkResolve(r),
    (a) => state.applyResolve(a),
  );
  registerOperation(
    state,
    msg.finishSignal,
    msg.finishUpdate,
    (r) => state.checkFinish(r),
    () => state.applyFinish(),
  );
  registerOperation(
    state,
    msg.resumeSignal,
    msg.resumeUpdate,
    (r) => state.checkResume(r),
    () => state.applyResume(),
  );
}
