/**
 * Task management: the nine SAM functions with each transport's codes and the TMF response
 * codes, the shared task state machine, and a task set that applies TMFs to tasks.
 * @module
 */
export {
  TaskManagementFunction,
  TmfResponse,
  tmfCode,
  tmfFromCode,
  tmfResponseName,
  transportsSupportingTmf,
} from './functions.js';
export { type Task, TaskSet, type TaskSetOptions, type TmfOutcome } from './task-set.js';
export {
  isTerminalTaskState,
  nextTaskState,
  TASK_TRANSITIONS,
  type TaskState,
  TaskStateError,
} from './task-state.js';
