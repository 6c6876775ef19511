/**
 * The one file that talks to @sgv4/native: an open kernel node and the calls the sg, bsg and
 * block transports make on it. When the native layer changes (a ring for bsg, prepared
 * commands on the hot path), this file and the transports change, nothing above them.
 * @module
 */
import { debuglog } from 'node:util';
import {
  allocateBuffer,
  type NodeKind,
  openScsiHandle,
  type PreparedCommand,
  type ScsiHandle,
  SgScsiReset,
} from '@sgv4/native';

const log = debuglog('sgv4');

/** Data as the native layer takes it: none, one buffer, or iovecs. */
export type NodeData = Uint8Array | readonly Uint8Array[] | null;

/** The native command behind each {@link NodeCommand}. */
const natives = new WeakMap<NodeCommand, PreparedCommand>();

/** A request prepared on a node ({@link KernelNode.prepare}); it runs once at a time. */
export class NodeCommand {
  constructor(command: PreparedCommand) {
    natives.set(this, command);
  }

  /** Runs it once more; results land in the header it was prepared with. */
  run(): Promise<void> {
    return (natives.get(this) as PreparedCommand).run();
  }

  /** Unpins its buffers (a run in flight keeps them until it completes). */
  release(): void {
    natives.get(this)?.release();
  }
}

/** An open sg, bsg or block node. */
export class KernelNode {
  readonly #handle: ScsiHandle;
  /** The path opened. */
  readonly path: string;
  /** Opened O_RDWR. */
  readonly readWrite: boolean;

  private constructor(handle: ScsiHandle, readWrite: boolean) {
    this.#handle = handle;
    this.path = handle.path;
    this.readWrite = readWrite;
  }

  /** Opens `path` (O_RDWR unless `readOnly`, O_EXCL with `exclusive`); OsError on failure. */
  static open(path: string, options: { readOnly: boolean; exclusive: boolean }): KernelNode {
    const handle = openScsiHandle(path, { readWrite: !options.readOnly, exclusive: options.exclusive });
    return new KernelNode(handle, !options.readOnly);
  }

  /** sg, bsg, block or other (fstat). */
  get kind(): NodeKind {
    return this.#handle.kind;
  }

  /**
   * The node runs requests through sg's write()/read() queue (the addon's choice for sg
   * fds); otherwise through SG_IO on the addon's own threads.
   */
  get asyncQueue(): boolean {
    return this.#handle.capabilities.asyncQueue;
  }

  /**
   * Requests the kernel takes at once through this node: 16 on sg (SG_MAX_QUEUE, per fd),
   * the addon's thread cap for SG_IO elsewhere. More wait in the addon's queue.
   */
  get kernelQueueDepth(): number {
    return this.#handle.capabilities.kernelQueueDepth;
  }

  /**
   * One request (v4 header on bsg, converted to sg_io_hdr v3 on sg and block by the addon);
   * the encoded header is updated in place. sg: write()/read() queue; other nodes: SG_IO on
   * the addon's threads.
   */
  sgIo(
    header: Uint8Array,
    cdb: Uint8Array,
    sense: Uint8Array,
    dataOut: NodeData,
    dataIn: NodeData,
  ): Promise<void> {
    return this.#handle.sgIoEncoded(header, cdb, sense, dataOut, dataIn);
  }

  /**
   * Validates and pins a request once for many runs (one write() on sg, one thread hop
   * elsewhere): the header's input fields are read now, the CDB bytes at every run, results
   * land in `header`. Throws what validation refuses.
   */
  prepare(
    header: Uint8Array,
    cdb: Uint8Array,
    sense: Uint8Array,
    dataOut: NodeData,
    dataIn: NodeData,
  ): NodeCommand {
    return new NodeCommand(
      this.#handle.prepare({
        header,
        cdb,
        sense,
        ...(dataOut !== null ? { dataOut } : {}),
        ...(dataIn !== null ? { dataIn } : {}),
      }),
    );
  }

  /**
   * Runs prepared commands of this node as one batch: one writev() on sg (sg_write once per
   * element, fs/read_write.c do_loop_readv_writev), one thread hop each elsewhere. One promise
   * per command, in order.
   */
  runMany(commands: readonly NodeCommand[]): Promise<void>[] {
    return this.#handle.runMany(commands.map((c) => natives.get(c) as PreparedCommand));
  }

  /**
   * Page-aligned native memory every path uses in place (the sg queue, SG_IO on the addon's
   * threads, direct IO); other buffers are bounced through native memory.
   */
  static allocateBuffer(length: number): Uint8Array {
    return allocateBuffer(length);
  }

  /** SG_GET_SCSI_ID (sg only). */
  scsiId(): { host: number; channel: number; target: number; lun: number; type: number; queueDepth: number } {
    const id = this.#handle.getScsiId();
    return {
      host: id.hostNo,
      channel: id.channel,
      target: id.scsiId,
      lun: id.lun,
      type: id.scsiType,
      queueDepth: id.dQueueDepth,
    };
  }

  /** SG_GET_SG_TABLESIZE: the queue's max_segments (sg). */
  sgTablesize(): number {
    return this.#handle.getSgTablesize();
  }

  /** BLKSECTGET on sg: the queue's max_sectors in bytes (sg_ioctl_common). */
  maxTransferBytes(): number {
    return this.#handle.blkSectGet();
  }

  /** SG_SET_RESERVED_SIZE then SG_GET_RESERVED_SIZE: the size the driver really kept. */
  setReservedSize(bytes: number): number {
    this.#handle.setReservedSize(bytes);
    return this.#handle.getReservedSize();
  }

  /** mmap of the sg reserved buffer (MAP_SHARED, offset 0). */
  mapReserve(length: number): ArrayBuffer {
    return this.#handle.mapReservedBuffer(length);
  }

  /**
   * SG_SCSI_RESET of the logical unit, not escalated (CAP_SYS_ADMIN and CAP_SYS_RAWIO, else
   * EACCES), off the event loop: the kernel returns only when the device answered the reset
   * (libiscsi: the target's TMF response, up to lu_reset_timeout), and a target this process
   * serves must be able to answer meanwhile.
   */
  resetLogicalUnit(): Promise<void> {
    return this.#handle.scsiResetAsync(SgScsiReset.DEVICE | SgScsiReset.NO_ESCALATE);
  }

  /**
   * Closes: requests waiting in the addon reject (AbortedError, never sent), requests in the
   * kernel settle with their results, then the fd is closed and the promise resolves.
   */
  close(): Promise<void> {
    // NODE_DEBUG=sgv4: what the addon counted for this fd (syscalls, wakeups, bounced bytes).
    if (log.enabled && !this.#handle.closed) log('close %s stats %j', this.path, this.#handle.stats());
    return this.#handle.close();
  }

  /** In-flight requests keep the event loop alive. */
  ref(): void {
    this.#handle.ref();
  }

  /** In-flight requests do not keep the event loop alive. */
  unref(): void {
    this.#handle.unref();
  }
}
