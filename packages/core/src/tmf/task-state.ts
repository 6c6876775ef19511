/**
 * The one task state machine every transport shares:
 * queued -> issued -> completed | aborted | timed-out, plus queued -> aborted (aborted before
 * it reached the device) and timed-out -> aborted (the recovery that frees its tag).
 * @module
 */

import { ExitStatus } from '../errors/exit-status.js';
import { Sgv4Error } from '../errors/sgv4-error.js';

/** Where a task is. */
export type TaskState = 'queued' | 'issued' | 'completed' | 'aborted' | 'timed-out';

/** The allowed transitions. Completed and aborted are terminal. */
export const TASK_TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  queued: ['issued', 'aborted'],
  issued: ['completed', 'aborted', 'timed-out'],
  'timed-out': ['aborted'],
  completed: [],
  aborted: [],
};

/** A transition the state machine does not allow (a logic error in the caller). Exit status LOGIC_ERROR (32). */
export class TaskStateError extends Sgv4Error {
  /** The state the task was in. */
  readonly from: TaskState;
  /** The state asked for. */
  readonly to: TaskState;

  /** See the class description. */
  constructor(what: string, from: TaskState, to: TaskState) {
    const allowed = TASK_TRANSITIONS[from];
    super(
      `${what}: cannot go from ${from} to ${to} (allowed: ${allowed.length > 0 ? allowed.join(', ') : 'none, terminal'})`,
      ExitStatus.LOGIC_ERROR,
    );
    this.from = from;
    this.to = to;
  }
}

/** True when `state` is terminal (the task's tag may be reused). */
export function isTerminalTaskState(state: TaskState): boolean {
  return state === 'completed' || state === 'aborted';
}

/** Returns `to` when the transition is allowed, else throws {@link TaskStateError}. */
export function nextTaskState(what: string, from: TaskState, to: TaskState): TaskState {
  if (!TASK_TRANSITIONS[from].includes(to)) throw new TaskStateError(what, from, to);
  return to;
}
