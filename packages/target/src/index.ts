/**
 * `@sgv4/target`: an embedded userspace SCSI disk (SBC-5 direct-access logical units behind
 * SAM-6 task sets), the default device when no real one exists. It honours task tags, task
 * attributes and task management functions end to end, which the mainline Linux pass-through
 * paths cannot show. See the guide `docs/guides/target.md`.
 * @module
 */
export type {
  AbortedTaskResponse,
  Backing,
  CompletedTaskResponse,
  DataLayout,
  EveryNthFault,
  FaultSpec,
  FileBacking,
  ITNexus,
  LatencySpec,
  LogicalUnitKnobs,
  LogicalUnitOptions,
  MediumErrorRange,
  MemoryBacking,
  RejectedTaskResponse,
  TargetEvents,
  TargetOptions,
  TaskEvent,
  TaskReference,
  TaskRequest,
  TaskResponse,
  TmfRequest,
  TmfResult,
} from './api/types.js';
export { decodeLun, encodeLun } from './commands/unit.js';
export { createTarget, type LogicalUnitInfo, ScsiTarget } from './target.js';
