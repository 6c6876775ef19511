/**
 * The target's typed event emitter. Payload objects are only built when someone listens
 * (`listening`), so events cost nothing on the benchmarked path.
 * @module
 */
import { EventEmitter } from 'node:events';
import type { TargetEvents } from './api/types.js';

/** Name of a target event. */
export type TargetEventName = keyof TargetEvents;

/** A node:events EventEmitter whose events and payloads are typed by {@link TargetEvents}. */
export class TargetEventEmitter extends EventEmitter {
  #listening = false;

  /** An emitter with no listeners. */
  constructor() {
    super();
    const update = (): void => {
      // newListener fires before the listener is added, removeListener after it is removed.
      queueMicrotask(() => {
        this.#listening = this.eventNames().some((n) => n !== 'newListener' && n !== 'removeListener');
      });
      this.#listening = true;
    };
    super.on('newListener', update);
    super.on('removeListener', update);
  }

  /** True when at least one listener is attached (then payloads are built). */
  get listening(): boolean {
    return this.#listening;
  }

  /** Adds a listener. */
  override on<E extends TargetEventName>(event: E, listener: (payload: TargetEvents[E]) => void): this {
    return super.on(event, listener);
  }

  /** Adds a one-time listener. */
  override once<E extends TargetEventName>(event: E, listener: (payload: TargetEvents[E]) => void): this {
    return super.once(event, listener);
  }

  /** Removes a listener. */
  override off<E extends TargetEventName>(event: E, listener: (payload: TargetEvents[E]) => void): this {
    return super.off(event, listener);
  }

  /** Emits an event (used by the target). */
  override emit<E extends TargetEventName>(event: E, payload: TargetEvents[E]): boolean {
    return super.emit(event, payload);
  }
}
