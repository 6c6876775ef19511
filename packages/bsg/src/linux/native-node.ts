/**
 * The one file that talks to @sgv4/native: an open kernel node and the calls the sg, bsg and
 * block transports make on it. When the native layer changes (zero-copy buffers, prepared
 * commands, a promise close), this file and the transports change, nothing above them.
 * @module
 */
import { type NodeKind, openScsiHandle, type ScsiHandle, SgScsiReset } from '@sgv4/native';

/** Data as the native layer takes it: none, one buffer, or iovecs. */
export type NodeData = Uint8Array | readonly Uint8Array[] | null;

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

  /** Requests the kernel still holds. */
  get inFlight(): number {
    return this.#handle.inFlight;
  }

  /** SG_IO on the threadpool (v4 on bsg, v3 on sg and block); the header is updated in place. */
  sgIo(
    header: Uint8Array,
    cdb: Uint8Array,
    sense: Uint8Array,
    dataOut: NodeData,
    dataIn: NodeData,
  ): Promise<void> {
    return this.#handle.sgIoEncoded(header, cdb, sense, dataOut, dataIn);
  }

  /** sg's write()/read() queue (sg nodes only; at most 16 outstanding per fd in 6.1). */
  queue(
    header: Uint8Array,
    cdb: Uint8Array,
    sense: Uint8Array,
    dataOut: NodeData,
    dataIn: NodeData,
  ): Promise<void> {
    return this.#handle.submitEncoded(header, cdb, sense, dataOut, dataIn);
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

  /** SG_SCSI_RESET of the logical unit, not escalated (CAP_SYS_ADMIN and CAP_SYS_RAWIO, else EACCES). */
  resetLogicalUnit(): void {
    this.#handle.scsiReset(SgScsiReset.DEVICE | SgScsiReset.NO_ESCALATE);
  }

  /** Closes; requests in flight settle when the kernel returns them. */
  close(): void {
    if (!this.#handle.closed) this.#handle.close();
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
