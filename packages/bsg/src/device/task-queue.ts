/**
 * The Device's own queue: which waiting task goes to the transport next. With attributes on
 * the wire it is a FIFO (HEAD OF QUEUE first) bounded by the queue depth. When the path drops
 * attributes (6.1 sg, bsg and block SG_IO) it gives them their SAM-6 meaning (8.6, task
 * attributes) among this queue's own tasks:
 * - ORDERED: enabled only when every task issued before it has completed, and no task queued
 *   after it (other than HEAD OF QUEUE) is issued until it completes;
 * - HEAD OF QUEUE: placed ahead of every waiting task and issued as soon as there is room,
 *   even while an ORDERED task runs (SAM: HEAD OF QUEUE tasks are not held by ORDERED ones);
 * - SIMPLE: issued in priority order (SAM-6 COMMAND PRIORITY: 1 highest .. 15 lowest, 0 no
 *   priority, after all others), first come first served within one priority, never moved
 *   across an ORDERED or HEAD OF QUEUE task.
 * @module
 */
import { TaskAttribute } from '@sgv4/core';

/** What the queue needs to know about a task. */
export interface QueueableTask {
  /** Its attribute. */
  readonly attribute: TaskAttribute;
  /** Its priority 0..15. */
  readonly priority: number;
}

/** Urgency for ordering: priority 1 first, 15 last, 0 (none) after 15. */
function rank(priority: number): number {
  return priority === 0 ? 16 : priority;
}

/** A bounded issue queue for one Device. */
export class TaskQueue<T extends QueueableTask> {
  readonly #pending: T[] = [];
  readonly #initiatorOrdering: boolean;
  #depth: number;
  #inFlight = 0;
  #orderedInFlight = 0;

  /** `initiatorOrdering`: the Device orders by attribute itself (the path drops attributes). */
  constructor(depth: number, initiatorOrdering: boolean) {
    this.#depth = depth;
    this.#initiatorOrdering = initiatorOrdering;
  }

  /** Tasks waiting to be issued. */
  get waiting(): number {
    return this.#pending.length;
  }

  /** Tasks issued and not yet done. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Most tasks in flight at once. */
  get depth(): number {
    return this.#depth;
  }

  /** Adds a waiting task at the place its attribute and priority give it. */
  enqueue(task: T): void {
    const pending = this.#pending;
    if (task.attribute === TaskAttribute.HEAD_OF_QUEUE) {
      let at = 0;
      while (at < pending.length && pending[at]?.attribute === TaskAttribute.HEAD_OF_QUEUE) at++;
      pending.splice(at, 0, task);
      return;
    }
    if (!this.#initiatorOrdering || task.attribute !== TaskAttribute.SIMPLE || task.priority === 0) {
      pending.push(task);
      return;
    }
    // Move ahead of SIMPLE tasks of lower urgency, stopping at any ORDERED or HEAD OF QUEUE task.
    let at = pending.length;
    const r = rank(task.priority);
    while (at > 0) {
      const before = pending[at - 1];
      if (before === undefined || before.attribute !== TaskAttribute.SIMPLE || rank(before.priority) <= r)
        break;
      at--;
    }
    pending.splice(at, 0, task);
  }

  /** Removes a waiting task (abort while queued); false when it is not waiting. */
  remove(task: T): boolean {
    const at = this.#pending.indexOf(task);
    if (at < 0) return false;
    this.#pending.splice(at, 1);
    return true;
  }

  /** Removes and returns every waiting task (close). */
  drain(): T[] {
    return this.#pending.splice(0, this.#pending.length);
  }

  /** The next task to issue now (counted in flight from here on), or undefined. */
  next(): T | undefined {
    if (this.#inFlight >= this.#depth) return undefined;
    const head = this.#pending[0];
    if (head === undefined) return undefined;
    if (this.#initiatorOrdering && head.attribute !== TaskAttribute.HEAD_OF_QUEUE) {
      if (this.#orderedInFlight > 0) return undefined;
      if (head.attribute === TaskAttribute.ORDERED && this.#inFlight > 0) return undefined;
    }
    this.#pending.shift();
    this.#inFlight++;
    if (this.#initiatorOrdering && head.attribute === TaskAttribute.ORDERED) this.#orderedInFlight++;
    return head;
  }

  /** An issued task finished (completed, failed or was abandoned by the transport). */
  done(task: T): void {
    this.#inFlight--;
    if (this.#initiatorOrdering && task.attribute === TaskAttribute.ORDERED) this.#orderedInFlight--;
  }
}
