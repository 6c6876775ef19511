/**
 * I_T nexuses as the target keeps them: the initiator and target port names, a key, and the
 * relative target port identifier (SPC-6 7.7.6.x) of the port.
 * @module
 */
import { InvalidFieldError } from '@sgv4/core';
import type { ITNexus } from './api/types.js';

/** A resolved I_T nexus. */
export interface NexusInfo {
  /** Initiator port name. */
  readonly initiator: string;
  /** Target port name. */
  readonly targetPort: string;
  /** `initiator|targetPort`: the identity every per-nexus state is keyed by. */
  readonly key: string;
  /** RELATIVE TARGET PORT IDENTIFIER of the target port (1-based). */
  readonly relativePort: number;
  /** The public form (both names). */
  readonly public: Required<ITNexus>;
}

/** Resolves `ITNexus` values against a target's ports, caching one {@link NexusInfo} per nexus. */
export class NexusRegistry {
  readonly #ports: readonly string[];
  readonly #known = new Map<string, NexusInfo>();
  /** The same ITNexus object is usually passed with every command: resolve it without building a key. */
  readonly #byObject = new WeakMap<ITNexus, NexusInfo>();

  /** `ports`: the target port names in relative-port order. */
  constructor(ports: readonly string[]) {
    this.#ports = ports;
  }

  /** The target port names. */
  get ports(): readonly string[] {
    return this.#ports;
  }

  /** Every nexus seen so far. */
  get all(): IterableIterator<NexusInfo> {
    return this.#known.values();
  }

  /** The NexusInfo for `nexus`; InvalidFieldError for an empty initiator or an unknown target port. */
  resolve(nexus: ITNexus): NexusInfo {
    if (nexus === null || typeof nexus !== 'object')
      throw new InvalidFieldError('nexus', 'must be an object { initiator, targetPort? }', nexus);
    const cached = this.#byObject.get(nexus);
    if (
      cached !== undefined &&
      cached.initiator === nexus.initiator &&
      cached.targetPort === (nexus.targetPort ?? cached.targetPort)
    )
      return cached;
    const info = this.#resolve(nexus);
    this.#byObject.set(nexus, info);
    return info;
  }

  #resolve(nexus: ITNexus): NexusInfo {
    const initiator = nexus.initiator;
    const targetPort = nexus.targetPort ?? (this.#ports[0] as string);
    const key = `${initiator}|${targetPort}`;
    const known = this.#known.get(key);
    if (known !== undefined) return known;
    if (typeof initiator !== 'string' || initiator.length === 0)
      throw new InvalidFieldError('nexus.initiator', 'must be a non-empty string', initiator);
    const index = this.#ports.indexOf(targetPort);
    if (index < 0)
      throw new InvalidFieldError('nexus.targetPort', `must be one of ${this.#ports.join(', ')}`, targetPort);
    const info: NexusInfo = {
      initiator,
      targetPort,
      key,
      relativePort: index + 1,
      public: Object.freeze({ initiator, targetPort }),
    };
    this.#known.set(key, info);
    return info;
  }

  /** Forgets a nexus (after `nexusLost`). */
  forget(key: string): void {
    this.#known.delete(key);
  }
}
