/**
 * A logical unit's task set: tasks from any number of I_T nexuses, each with a tag from its
 * nexus's {@link TagAllocator}, moved through the shared state machine, and the effect of
 * each task management function on them (SAM-6 7.x).
 * @module
 */
import { InvalidFieldError } from '../errors/invalid-field-error.js';
import { NotSupportedError } from '../errors/request-errors.js';
import type { TransportCapabilities } from '../tags/capabilities.js';
import {
  type Nexus,
  nexusKey,
  TagAllocator,
  type TagPolicy,
  type UntaggedPolicy,
} from '../tags/tag-allocator.js';
import { TaskAttribute } from '../tags/task-attribute.js';
import { TaskManagementFunction, TmfResponse } from './functions.js';
import { nextTaskState, type TaskState } from './task-state.js';

/** One task (command) in the set. */
export interface Task {
  /** Its nexus. */
  readonly nexus: Nexus;
  /** Its tag on that nexus. */
  readonly tag: bigint;
  /** False for a software tag the device never saw. */
  readonly tagOnWire: boolean;
  /** Task attribute. */
  readonly attribute: TaskAttribute;
  /** Current state. */
  readonly state: TaskState;
}

/** The outcome of a TMF on the task set. */
export interface TmfOutcome {
  /** The service response, as a SAS TMF response code. */
  readonly response: TmfResponse;
  /** Tasks the function aborted (state now `aborted`, tags freed). */
  readonly aborted: readonly Task[];
  /** For QUERY functions: the tasks that matched. */
  readonly matched: readonly Task[];
}

/** Options of a {@link TaskSet}. */
export interface TaskSetOptions {
  /** The logical unit's transport. */
  readonly transport: TransportCapabilities;
  /** Queue depth per nexus. */
  readonly queueDepth: number;
  /** Tag policy for every nexus (default `library`). */
  readonly policy?: TagPolicy;
  /** Policy on a transport that cannot tag (default `software`). */
  readonly untagged?: UntaggedPolicy;
}

interface MutableTask {
  nexus: Nexus;
  tag: bigint;
  tagOnWire: boolean;
  attribute: TaskAttribute;
  state: TaskState;
}

/** The task set of one logical unit. Tasks are identified by (nexus, tag). */
export class TaskSet {
  readonly #options: TaskSetOptions;
  readonly #allocators = new Map<string, TagAllocator>();
  readonly #byObject = new WeakMap<Nexus, TagAllocator>();
  /** Every task ever submitted here (membership test for the state-machine calls). */
  readonly #members = new WeakSet<MutableTask>();
  /** Tasks not yet completed or aborted, in submission order (a Set: O(1) add and delete). */
  readonly #active = new Set<MutableTask>();

  /** See {@link TaskSetOptions}. */
  constructor(options: TaskSetOptions) {
    this.#options = options;
  }

  #allocator(nexus: Nexus): TagAllocator {
    // Fast path: callers usually pass the same Nexus object for a nexus (no key string per call).
    const known = this.#byObject.get(nexus);
    if (known !== undefined) return known;
    const key = nexusKey(nexus);
    let a = this.#allocators.get(key);
    if (a === undefined) {
      a = new TagAllocator({
        nexus,
        queueDepth: this.#options.queueDepth,
        transport: this.#options.transport,
        ...(this.#options.policy ? { policy: this.#options.policy } : {}),
        ...(this.#options.untagged ? { untagged: this.#options.untagged } : {}),
      });
      this.#allocators.set(key, a);
    }
    this.#byObject.set(nexus, a);
    return a;
  }

  /** Tasks not yet completed or aborted (timed-out tasks included: they still hold their tags). */
  get active(): readonly Task[] {
    return [...this.#active];
  }

  /** Queues a task with a tag (`tag` under the caller policy, else library-assigned). */
  submit(nexus: Nexus, options: { tag?: bigint; attribute?: TaskAttribute } = {}): Task {
    const { tag, onWire } = this.#allocator(nexus).allocate(options.tag);
    const task: MutableTask = {
      nexus,
      tag,
      tagOnWire: onWire,
      attribute: options.attribute ?? TaskAttribute.SIMPLE,
      state: 'queued',
    };
    this.#members.add(task);
    this.#active.add(task);
    return task;
  }

  #find(task: Task): MutableTask {
    const t = task as MutableTask;
    if (!this.#members.has(t)) throw new InvalidFieldError('task', 'is not in this task set', task.tag);
    return t;
  }

  #move(task: Task, to: TaskState): Task {
    const t = this.#find(task);
    t.state = nextTaskState(`task ${t.tag} on ${nexusKey(t.nexus)}`, t.state, to);
    if (to === 'completed' || to === 'aborted') {
      this.#allocator(t.nexus).release(t.tag, to);
      this.#active.delete(t);
    }
    return t;
  }

  /** queued -> issued: sent to the device. */
  issue(task: Task): Task {
    return this.#move(task, 'issued');
  }

  /** issued -> completed: the device answered; frees the tag. */
  complete(task: Task): Task {
    return this.#move(task, 'completed');
  }

  /** issued -> timed-out: the tag stays taken until an abort. */
  timeOut(task: Task): Task {
    return this.#move(task, 'timed-out');
  }

  /**
   * Applies a task management function received on `nexus`:
   * - ABORT TASK: aborts the task with `tag` on that nexus; FUNCTION COMPLETE whether or not
   *   it existed (SAM-6 7.2);
   * - ABORT TASK SET: every task of that I_T_L nexus; CLEAR TASK SET and LOGICAL UNIT RESET:
   *   every task in the set, all nexuses (SAM-6 7.3, 7.4, 7.7);
   * - I_T NEXUS RESET: every task of that initiator/target pair (all LUNs of this set);
   * - CLEAR ACA: aborts nothing in this model (no ACA condition is modelled);
   * - QUERY TASK / QUERY TASK SET: FUNCTION SUCCEEDED when the task / any task of the nexus is
   *   still active, else FUNCTION COMPLETE; QUERY ASYNCHRONOUS EVENT: FUNCTION COMPLETE
   *   (no pending unit attention is modelled).
   * Throws NotSupportedError when the transport cannot send TMFs (6.1 bsg: EINVAL for subprotocol 1).
   */
  applyTmf(tmf: TaskManagementFunction, nexus: Nexus, tag?: bigint): TmfOutcome {
    if (!this.#options.transport.canSendTmf) {
      throw new NotSupportedError(
        tmf.replace(/_/g, ' '),
        `${this.#options.transport.name}: ${this.#options.transport.note}`,
      );
    }
    const needsTag = tmf === TaskManagementFunction.ABORT_TASK || tmf === TaskManagementFunction.QUERY_TASK;
    if (needsTag && tag === undefined) throw new InvalidFieldError('tag', `is required for ${tmf}`, tag);
    const key = nexusKey(nexus);
    const sameNexus = (t: MutableTask): boolean => nexusKey(t.nexus) === key;
    const sameIT = (t: MutableTask): boolean =>
      t.nexus.initiator === nexus.initiator && t.nexus.target === nexus.target;
    const active = [...this.#active];
    const abort = (pick: (t: MutableTask) => boolean): TmfOutcome => {
      const victims = active.filter(pick);
      for (const v of victims) this.#move(v, 'aborted');
      return { response: TmfResponse.FUNCTION_COMPLETE, aborted: victims, matched: victims };
    };
    const query = (pick: (t: MutableTask) => boolean): TmfOutcome => {
      const matched = active.filter(pick);
      return {
        response: matched.length > 0 ? TmfResponse.FUNCTION_SUCCEEDED : TmfResponse.FUNCTION_COMPLETE,
        aborted: [],
        matched,
      };
    };
    switch (tmf) {
      case TaskManagementFunction.ABORT_TASK:
        return abort((t) => sameNexus(t) && t.tag === tag);
      case TaskManagementFunction.ABORT_TASK_SET:
        return abort(sameNexus);
      case TaskManagementFunction.CLEAR_TASK_SET:
      case TaskManagementFunction.LOGICAL_UNIT_RESET:
        return abort(() => true);
      case TaskManagementFunction.I_T_NEXUS_RESET:
        return abort(sameIT);
      case TaskManagementFunction.CLEAR_ACA:
        return { response: TmfResponse.FUNCTION_COMPLETE, aborted: [], matched: [] };
      case TaskManagementFunction.QUERY_TASK:
        return query((t) => sameNexus(t) && t.tag === tag);
      case TaskManagementFunction.QUERY_TASK_SET:
        return query(sameNexus);
      case TaskManagementFunction.QUERY_ASYNCHRONOUS_EVENT:
        return { response: TmfResponse.FUNCTION_COMPLETE, aborted: [], matched: [] };
      default:
        throw new InvalidFieldError(
          'tmf',
          `must be one of ${Object.keys(TaskManagementFunction).join(', ')}`,
          tmf,
        );
    }
  }
}
