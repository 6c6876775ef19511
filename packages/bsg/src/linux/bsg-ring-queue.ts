/**
 * Queue depth on bsg through the sgv4 ring (@sgv4/native's ScsiRing): Linux 6.1 bsg has only
 * blocking SG_IO (bsg_ioctl -> scsi_bsg_sg_io_fn -> blk_execute_rq), so N commands in flight need
 * N blocked threads. The addon's one-shot path hands every command to a pool thread and wakes
 * JavaScript once per completion; the ring keeps its own threads on a shared submission queue,
 * rings one doorbell per batch of submissions and wakes JavaScript once per batch of
 * completions, which measured faster as soon as commands overlap (docs/guides/ring.md). A
 * lone command is no faster through the ring (the same hand-off each way), so the transport
 * sends a command here only while another one is already in flight.
 *
 * The ring moves data through its registered buffers: one buffer per command (the Device never
 * has more than its queue depth in flight), data-out copied in before the command and data-in
 * copied out after it. Requests the ring cannot carry (iovecs, data larger than a registered
 * buffer, CDBs outside 6..32 bytes, more than 96 bytes of sense) take the one-shot path.
 * @module
 */
import { openRing, type RingCompletion, type RingRequest, type ScsiRing } from '@sgv4/native';
import type { TransportRequest, TransportResult } from '../transport/transport.js';

/** Largest data transfer one ring command carries; larger ones are bandwidth-bound and mapped in place by the one-shot path. */
export const RING_BUFFER_BYTES = 128 * 1024;
/** Sense bytes a ring completion can hold (SCSI_SENSE_BUFFERSIZE). */
const RING_SENSE_BYTES = 96;
/** Blocking SG_IO threads at most (each one command in the kernel); deeper queues wait in the SQ. */
const RING_THREADS_MAX = 32;

const EMPTY = new Uint8Array(0);

/** The ring of one bsg node, opened at the first command that overlaps another. */
export class BsgRingQueue {
  readonly #path: string;
  readonly #depth: number;
  #ring: ScsiRing | undefined;
  /** Registered buffer indices not carrying a command. */
  readonly #free: number[] = [];
  #referenced = true;
  #closed = false;
  #carried = 0;

  /** `depth`: the most commands the Device keeps in flight (one registered buffer each). */
  constructor(path: string, depth: number) {
    this.#path = path;
    this.#depth = Math.max(1, depth);
  }

  /** Commands the ring has carried since the transport opened. */
  get carried(): number {
    return this.#carried;
  }

  /** Commands in the ring (queued or in the kernel). */
  get inFlight(): number {
    return this.#ring === undefined ? 0 : this.#depth - this.#free.length;
  }

  /** The ring can carry `request` (its data, CDB and sense fit, and a buffer is free). */
  accepts(request: TransportRequest): boolean {
    if (this.#closed) return false;
    const cdb = request.cdb.length;
    if (cdb < 6 || cdb > 32 || request.maxSenseLength > RING_SENSE_BYTES) return false;
    if (request.transfer === 'mmap') return false;
    const data = request.dataIn ?? request.dataOut;
    if (data !== undefined && !(data instanceof Uint8Array && data.length <= RING_BUFFER_BYTES)) return false;
    return this.#ring === undefined || this.#free.length > 0;
  }

  #open(): ScsiRing {
    const ring = openRing(this.#path, {
      queueDepth: Math.min(this.#depth, RING_THREADS_MAX),
      bufferCount: this.#depth,
      bufferSize: RING_BUFFER_BYTES,
      // Every command of the Device fits in the SQ: it is the Device's queue that waits, not the ring.
      entries: Math.max(4, 2 ** Math.ceil(Math.log2(this.#depth))),
      producers: 1,
      // The kernel's own duration, in whole milliseconds as the one-shot path reports it: no clock
      // read per batch in the consumer (costly where the clocksource has no vDSO, e.g. hpet).
      timing: false,
    });
    if (!this.#referenced) ring.unref();
    for (let i = this.#depth - 1; i >= 0; i--) this.#free.push(i);
    this.#ring = ring;
    return ring;
  }

  /** Sends `request` (which {@link accepts} approved). Resolves whatever the SCSI status. */
  async submit(request: TransportRequest): Promise<TransportResult> {
    const ring = this.#ring ?? this.#open();
    const index = this.#free.pop() as number;
    this.#carried++;
    try {
      const dataIn = request.dataIn as Uint8Array | undefined;
      const dataOut = request.dataOut as Uint8Array | undefined;
      const r: RingRequest = {
        cdb: request.cdb,
        timeout: request.timeoutMs,
        senseLength: request.maxSenseLength,
        tag: request.tag,
        queueAtTail: request.queueAt === 'tail',
      };
      if (dataOut !== undefined && dataOut.length > 0) {
        ring.buffer(index).set(dataOut);
        r.dataOut = { buffer: index, length: dataOut.length };
      } else if (dataIn !== undefined && dataIn.length > 0) {
        r.dataIn = { buffer: index, length: dataIn.length };
      }
      const c = await ring.submit(r);
      if (dataIn !== undefined && dataIn.length > 0) {
        // Bytes past the residual were not written by the device: they stay as the caller left them.
        const got = Math.max(0, Math.min(dataIn.length, dataIn.length - c.dinResid));
        if (got > 0) dataIn.set(ring.buffer(index).subarray(0, got));
      }
      return resultOf(c);
    } finally {
      this.#free.push(index);
    }
  }

  ref(): void {
    this.#referenced = true;
    this.#ring?.ref();
  }

  unref(): void {
    this.#referenced = false;
    this.#ring?.unref();
  }

  /** Settles what is in flight and frees the ring (its buffers go last, with the last completion). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#ring?.close();
  }
}

function resultOf(c: RingCompletion): TransportResult {
  return {
    status: c.status,
    hostStatus: c.hostStatus,
    driverStatus: c.driverStatus,
    sense: c.sense.length === 0 ? EMPTY : c.sense,
    dinResid: c.dinResid,
    doutResid: c.doutResid,
    durationMs: c.durationUs / 1000,
    info: c.info,
  };
}
