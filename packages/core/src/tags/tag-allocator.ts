/**
 * Task tags for one I_T_L nexus: who assigns them (the caller or the library), collision
 * detection, a queue-depth bound, and reuse only after the task completed or was aborted.
 *
 * SAM-6 5.4 requires a tag to be unique among the tasks of an I_T_L nexus that the device
 * server has not finished (an overlapped tag is an OVERLAPPED COMMANDS ATTEMPTED error or
 * the TMF response OVERLAPPED TAG), which is why a tag whose task timed out stays taken until
 * the task is aborted: the device may still be working on it (this is also why Linux SCSI EH
 * sends ABORT TASK for a timed-out command before the tag is reused).
 * @module
 */

import { ExitStatus } from '../errors/exit-status.js';
import { InvalidFieldError } from '../errors/invalid-field-error.js';
import { NotSupportedError } from '../errors/request-errors.js';
import { Sgv4Error } from '../errors/sgv4-error.js';
import type { TransportCapabilities } from './capabilities.js';

/** An I_T_L nexus: initiator port, target port and logical unit (as Linux H:C:T:L plus an initiator name). */
export interface Nexus {
  /** Initiator identifier (e.g. the host number or an initiator port name). */
  readonly initiator: string;
  /** Target identifier (e.g. `0:0:0` for host:channel:target). */
  readonly target: string;
  /** Logical unit number. */
  readonly lun: bigint;
}

/** `initiator->target/lun`, the key of a nexus. */
export function nexusKey(n: Nexus): string {
  return `${n.initiator}->${n.target}/${n.lun}`;
}

/** The caller asked for a tag already in use on the nexus (SAM: overlapped tag). Exit status OTHER (99). */
export class TagCollisionError extends Sgv4Error {
  /** The tag asked for. */
  readonly tag: bigint;
  /** The nexus, as {@link nexusKey}. */
  readonly nexus: string;

  /** See the class description. */
  constructor(tag: bigint, nexus: string) {
    super(`tag ${tag} is already in use on ${nexus} (overlapped tag)`, ExitStatus.OTHER);
    this.tag = tag;
    this.nexus = nexus;
  }
}

/** The nexus already has `queueDepth` outstanding tasks. Exit status TASK_SET_FULL (27), as the device would report. */
export class TaskSetFullError extends Sgv4Error {
  /** The queue depth reached. */
  readonly queueDepth: number;
  /** The nexus, as {@link nexusKey}. */
  readonly nexus: string;

  /** See the class description. */
  constructor(queueDepth: number, nexus: string) {
    super(`${nexus}: ${queueDepth} tasks outstanding (queue depth)`, ExitStatus.TASK_SET_FULL);
    this.queueDepth = queueDepth;
    this.nexus = nexus;
  }
}

/** Who assigns tags: the caller passes one with every request, or the library picks one. */
export type TagPolicy = 'caller' | 'library';

/** What to do on a transport that cannot carry tags (`canTag: false`). */
export type UntaggedPolicy = 'reject' | 'software';

/** Options of a {@link TagAllocator}. */
export interface TagAllocatorOptions {
  /** The nexus the tags belong to. */
  readonly nexus: Nexus;
  /** Most tasks outstanding at once (e.g. the device's queue_depth; 192 for scsi_debug). */
  readonly queueDepth: number;
  /** Who assigns tags (default `library`). */
  readonly policy?: TagPolicy;
  /** The transport's abilities. */
  readonly transport: TransportCapabilities;
  /**
   * On a transport that cannot tag: `reject` throws NotSupportedError for any tag request;
   * `software` (default) still hands out tags, marked `onWire: false`, so the library can
   * track and abort its own requests even though the device never sees the tag.
   */
  readonly untagged?: UntaggedPolicy;
}

/** A tag handed out. */
export interface AllocatedTag {
  /** The tag. */
  readonly tag: bigint;
  /** False when the transport cannot carry it (a software tag known only to the library). */
  readonly onWire: boolean;
}

/** How a tagged task ended, which is what frees its tag. */
export type TagRelease = 'completed' | 'aborted';

/** Tag allocator for one I_T_L nexus. Not shared between nexuses: tags are unique per nexus only. */
export class TagAllocator {
  /** The nexus. */
  readonly nexus: Nexus;
  /** Queue depth bound. */
  readonly queueDepth: number;
  /** Who assigns tags. */
  readonly policy: TagPolicy;
  /** The transport. */
  readonly transport: TransportCapabilities;
  readonly #untagged: UntaggedPolicy;
  readonly #inUse = new Set<bigint>();
  #next = 0n;

  /** See {@link TagAllocatorOptions}. */
  constructor(options: TagAllocatorOptions) {
    if (!Number.isInteger(options.queueDepth) || options.queueDepth < 1) {
      throw new InvalidFieldError('queueDepth', 'must be an integer >= 1', options.queueDepth);
    }
    if (BigInt(options.queueDepth) > options.transport.tagSpace) {
      throw new InvalidFieldError(
        'queueDepth',
        `must not exceed the tag space (${options.transport.tagSpace})`,
        options.queueDepth,
      );
    }
    this.nexus = options.nexus;
    this.queueDepth = options.queueDepth;
    this.policy = options.policy ?? 'library';
    this.transport = options.transport;
    this.#untagged = options.untagged ?? 'software';
  }

  /** Tags currently outstanding. */
  get outstanding(): number {
    return this.#inUse.size;
  }

  /** True while `tag` is outstanding. */
  isInUse(tag: bigint): boolean {
    return this.#inUse.has(tag);
  }

  /**
   * Takes a tag: `requested` under the `caller` policy (required there), a free one under
   * `library` (round-robin from the last one handed out, so a just-freed tag is not reused
   * at once). Throws TaskSetFullError at the queue depth, TagCollisionError for a tag in use,
   * InvalidFieldError for a tag outside the tag space or a policy violation, and
   * NotSupportedError on an untaggable transport under the `reject` policy.
   */
  allocate(requested?: bigint): AllocatedTag {
    if (!this.transport.canTag && this.#untagged === 'reject') {
      throw new NotSupportedError('task tags', `${this.transport.name}: ${this.transport.note}`);
    }
    if (this.policy === 'caller' && requested === undefined) {
      throw new InvalidFieldError('tag', 'is required: this nexus uses caller-assigned tags', requested);
    }
    if (this.policy === 'library' && requested !== undefined) {
      throw new InvalidFieldError('tag', 'must be omitted: this nexus uses library-assigned tags', requested);
    }
    if (this.#inUse.size >= this.queueDepth)
      throw new TaskSetFullError(this.queueDepth, nexusKey(this.nexus));
    let tag: bigint;
    if (requested !== undefined) {
      if (requested < 0n || requested >= this.transport.tagSpace) {
        throw new InvalidFieldError('tag', `must be in 0..${this.transport.tagSpace - 1n}`, requested);
      }
      if (this.#inUse.has(requested)) throw new TagCollisionError(requested, nexusKey(this.nexus));
      tag = requested;
    } else {
      tag = this.#next;
      while (this.#inUse.has(tag)) tag = (tag + 1n) % this.transport.tagSpace;
      this.#next = (tag + 1n) % this.transport.tagSpace;
    }
    this.#inUse.add(tag);
    return { tag, onWire: this.transport.canTag };
  }

  /** Frees a tag once its task completed or was aborted. InvalidFieldError for a tag not outstanding. */
  release(tag: bigint, how: TagRelease): void {
    if (!this.#inUse.delete(tag)) {
      throw new InvalidFieldError(
        'tag',
        `is not outstanding on ${nexusKey(this.nexus)} (cannot mark ${how})`,
        tag,
      );
    }
  }
}
