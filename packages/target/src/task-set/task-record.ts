/**
 * One task in a logical unit's task set: the request, its place in the ordering rules, its
 * state in the core's task state machine, and how it ends.
 * @module
 */
import type { FieldValues, Task, TaskAttribute } from '@sgv4/core';
import type { AbortedTaskResponse, TaskReference, TaskRequest, TaskResponse } from '../api/types.js';
import type { CommandDescriptor, LbaRange } from '../commands/command-context.js';
import type { NexusInfo } from '../nexus.js';
import type { CheckCondition } from '../sense/check-condition.js';

/**
 * Where a task is in the SAM-6 8.x task set model: `dormant` (waiting for the ordering rules),
 * `enabled` (being processed), `ended` (completed or aborted; its promise has resolved).
 * While `enabled`, `stopping` is set when an abort arrived during an I/O that must finish.
 */
export type TaskPhase = 'dormant' | 'enabled' | 'ended';

/** A task record. */
export class TaskRecord {
  /** The I_T nexus. */
  readonly nexus: NexusInfo;
  /** LUN. */
  readonly lun: bigint;
  /** Tag. */
  readonly tag: bigint;
  /** Task attribute. */
  readonly attribute: TaskAttribute;
  /** Priority rank: 1 (highest) .. 15; priority 0 (vendor specific) ranks 15. */
  readonly rank: number;
  /** Arrival order within the logical unit. */
  readonly sequence: number;
  /** The request. */
  readonly request: TaskRequest;
  /** The command, when the opcode is implemented. */
  readonly descriptor: CommandDescriptor | undefined;
  /** The decoded CDB, when it decoded. */
  readonly fields: FieldValues | undefined;
  /** LBA range, for restricted reordering. */
  readonly range: LbaRange | undefined;
  /** Entry in the core's task set (tags, state machine, TMF scope). */
  core!: Task;
  /** Phase. */
  phase: TaskPhase = 'dormant';
  /** A fault chosen for it at arrival (every-nth). */
  fault: 'timeout' | 'aborted-command' | undefined;
  /** Cancels a pending latency timer. */
  cancelTimer: (() => void) | undefined;
  /** I/O in progress (file backing); an abort waits for it. */
  inflight: Promise<void> | undefined;
  /** Why the CDB could not be decoded (reported when the task is processed). */
  decodeError: CheckCondition | undefined;
  /** Set when the task was aborted. */
  aborted: Omit<AbortedTaskResponse, 'outcome'> | undefined;
  /** Resolves `execute()`. */
  readonly resolve: (response: TaskResponse) => void;
  #reference: TaskReference | undefined;

  /** See the fields. */
  constructor(init: {
    nexus: NexusInfo;
    lun: bigint;
    tag: bigint;
    attribute: TaskAttribute;
    rank: number;
    sequence: number;
    request: TaskRequest;
    descriptor: CommandDescriptor | undefined;
    fields: FieldValues | undefined;
    range: LbaRange | undefined;
    resolve: (response: TaskResponse) => void;
  }) {
    this.nexus = init.nexus;
    this.lun = init.lun;
    this.tag = init.tag;
    this.attribute = init.attribute;
    this.rank = init.rank;
    this.sequence = init.sequence;
    this.request = init.request;
    this.descriptor = init.descriptor;
    this.fields = init.fields;
    this.range = init.range;
    this.resolve = init.resolve;
    this.fault = undefined;
    this.cancelTimer = undefined;
    this.inflight = undefined;
    this.aborted = undefined;
    this.decodeError = undefined;
  }

  /** The public reference (nexus, LUN, tag). */
  get reference(): TaskReference {
    this.#reference ??= Object.freeze({ nexus: this.nexus.public, lun: this.lun, tag: this.tag });
    return this.#reference;
  }
}
