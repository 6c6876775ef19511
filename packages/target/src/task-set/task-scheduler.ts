/**
 * The ordering rules of a task set (SAM-6 8.6 "Task attributes", SAM-6 8.x "Task set
 * management"): which dormant tasks may become enabled.
 *
 * - HEAD OF QUEUE: enabled at once (it goes ahead of every dormant task);
 * - ORDERED: enabled only when every older task has ended;
 * - SIMPLE: enabled when no older ORDERED or HEAD OF QUEUE task is still in the task set; with
 *   the Control mode page QUEUE ALGORITHM MODIFIER 0 (restricted reordering, SPC-6 7.5.10)
 *   it also waits for older tasks whose LBA range overlaps it where either writes, so data
 *   integrity is as if they ran in order; with QAM 1 it may overtake anything, except that an
 *   atomic task (COMPARE AND WRITE, SBC-5 5.3) never runs alongside a task it overlaps.
 * - ACA tasks never get here (NormACA = 0: refused at arrival).
 *
 * At most `concurrency` tasks are enabled at once; among eligible tasks HEAD OF QUEUE ones go
 * first, then by command priority (SAM-6 8.7), then by arrival.
 * @module
 */
import { TaskAttribute } from '@sgv4/core';
import type { TaskRecord } from './task-record.js';

/** What the scheduler needs from its logical unit. */
export interface SchedulerHost {
  /** Tasks that may run at once. */
  readonly concurrency: number;
  /** QUEUE ALGORITHM MODIFIER 1. */
  readonly unrestrictedReordering: boolean;
  /** Starts an enabled task. */
  start(task: TaskRecord): void;
}

/** True when two tasks' ranges overlap and the pair must keep its order. */
function conflicting(a: TaskRecord, b: TaskRecord, restricted: boolean): boolean {
  const x = a.range;
  const y = b.range;
  if (x === undefined || y === undefined) return false;
  const atomic = x.atomic === true || y.atomic === true;
  if (!atomic && (!restricted || (!x.writes && !y.writes))) return false;
  return x.lba < y.lba + y.blocks && y.lba < x.lba + x.blocks;
}

/** The task set order and the enabling rules of one logical unit. */
export class TaskScheduler {
  readonly #host: SchedulerHost;
  /** Tasks not yet ended, in arrival order. */
  readonly #tasks: TaskRecord[] = [];
  #enabled = 0;
  #pumpQueued = false;

  /** See {@link SchedulerHost}. */
  constructor(host: SchedulerHost) {
    this.#host = host;
  }

  /** Tasks in the task set (dormant or enabled). */
  get size(): number {
    return this.#tasks.length;
  }

  /** Tasks in the set, arrival order. */
  get tasks(): readonly TaskRecord[] {
    return this.#tasks;
  }

  /** A new task enters the task set (dormant); enabling happens in a microtask, so tasks
   * submitted together are ordered together (deterministic at zero latency). */
  admit(task: TaskRecord): void {
    this.#tasks.push(task);
    this.#schedulePump();
  }

  /** A task has ended (completed or aborted and stopped): it leaves the task set. */
  remove(task: TaskRecord, wasEnabled: boolean): void {
    const i = this.#tasks.indexOf(task);
    if (i >= 0) this.#tasks.splice(i, 1);
    if (wasEnabled) this.#enabled--;
    this.#schedulePump();
  }

  #schedulePump(): void {
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      this.pump();
    });
  }

  /** Enables every task the rules allow, up to the concurrency limit. */
  pump(): void {
    const limit = this.#host.concurrency;
    if (this.#enabled >= limit) return;
    const eligible = this.#eligible();
    if (eligible.length === 0) return;
    if (this.#enabled + eligible.length > limit && eligible.length > 1) {
      eligible.sort(
        (a, b) =>
          Number(b.attribute === TaskAttribute.HEAD_OF_QUEUE) -
            Number(a.attribute === TaskAttribute.HEAD_OF_QUEUE) ||
          a.rank - b.rank ||
          a.sequence - b.sequence,
      );
    }
    for (const task of eligible) {
      if (this.#enabled >= limit) break;
      if (task.phase !== 'dormant') continue;
      task.phase = 'enabled';
      this.#enabled++;
      this.#host.start(task);
    }
  }

  #eligible(): TaskRecord[] {
    const out: TaskRecord[] = [];
    const restricted = !this.#host.unrestrictedReordering;
    let barrier = false; // an older ORDERED or HEAD OF QUEUE task is still in the set
    for (let i = 0; i < this.#tasks.length; i++) {
      const t = this.#tasks[i] as TaskRecord;
      if (t.phase === 'dormant') {
        if (t.attribute === TaskAttribute.HEAD_OF_QUEUE) out.push(t);
        else if (t.attribute === TaskAttribute.ORDERED) {
          if (i === 0) out.push(t);
        } else if (!barrier && !this.#overlapsOlder(t, i, restricted)) out.push(t);
      }
      if (t.attribute !== TaskAttribute.SIMPLE) barrier = true;
    }
    return out;
  }

  #overlapsOlder(t: TaskRecord, index: number, restricted: boolean): boolean {
    if (t.range === undefined || index === 0) return false;
    for (let j = 0; j < index; j++) if (conflicting(t, this.#tasks[j] as TaskRecord, restricted)) return true;
    return false;
  }
}
