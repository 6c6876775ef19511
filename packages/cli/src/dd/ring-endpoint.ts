/**
 * A kernel SCSI node (sg or bsg) as one end of `sgv4 dd`, with the data moving through the sgv4
 * ring (@sgv4/native `openRing`, docs/guides/ring.md) instead of one promise per command.
 *
 * Why: at `--qd N` the device must hold N commands and, the moment one completes, get the next.
 * Through the promise path the next READ is only sent after JavaScript has seen the completion,
 * so the device waits for the event loop between commands, which is most of the time at small
 * transfers. The ring's consumer thread takes the next entry from the shared submission queue as
 * soon as the kernel has room: the ring's `queueDepth` is the number of commands in the kernel
 * (the `--qd` asked for) and the copy loop keeps more transfers queued behind them in the
 * submission queue (see {@link ringSlots}), so JavaScript works in parallel with the device
 * instead of in series. On sg the consumer writes sg_io_hdr entries and drains replies with
 * readv() (sg_write/sg_read in drivers/scsi/sg.c), like `sg_dd`'s indirect IO through the fd's
 * reserve buffer; on bsg, `queueDepth` threads each run blocking SG_IO (bsg_ioctl in
 * block/bsg.c), which maps the registered buffer into the bio (blk_rq_map_user) without a copy.
 *
 * The buffers the copy loop reads into and writes from are the ring's registered buffers: no
 * copy in user space. A buffer this end did not hand out (a device-to-device copy whose other
 * end handed it out) is staged through a registered buffer of its own.
 */
import { type Device, readWriteCdb } from '@sgv4/bsg';
import { ResultCategory, responseError, SG_INFO_DIRECT_IO_MASK, scsiResponse } from '@sgv4/core';
import { openRing, type RingCompletion, type RingData, type RingRequest, type ScsiRing } from '@sgv4/native';
import type { DdEndpoint } from './endpoint.js';

/**
 * Commands in the kernel at once the ring allows (its `queueDepth` limit): sg's queue consumer
 * 256 (16 fds of 16), one thread per command otherwise 128. A deeper `--qd` waits in the SQ.
 */
const RING_DEPTH_MAX = { sg: 256, bsg: 128 } as const;
/** Entries the ring's submission queue can have at most. */
const RING_ENTRIES_MAX = 4096;
/** Memory the copy loop's registered buffers may take at most (per end); at least one per command in flight. */
const PIPELINE_BYTES_MAX = 32 * 1024 * 1024;
/**
 * Transfers below this size are small: the device finishes one in tens of microseconds, so the
 * submission queue holds many (see {@link ringSlots}) and JavaScript hears of them in large
 * batches.
 */
const SMALL_TRANSFER_BYTES = 64 * 1024;
/**
 * Transfers at or above this size are large: each one keeps the device busy for hundreds of
 * microseconds, so the queue's length is bounded by memory ({@link PIPELINE_BYTES_MAX}) more
 * than by count.
 */
const LARGE_TRANSFER_BYTES = 256 * 1024;
/**
 * sg's default reserved buffer (sg_big_buff, SG_DEF_RESERVED_SIZE = 32 KiB in
 * drivers/scsi/sg.c): a larger transfer that does not get a reserve has pages allocated and
 * freed per command (sg_build_indirect).
 */
const SG_DEFAULT_RESERVE_BYTES = 32 * 1024;
/** Queue depths up to this go through blocking SG_IO threads on sg (one fd and reserve each, like sgp_dd). */
const SG_THREADS_DEPTH_MAX = 4;

/**
 * Transfers the copy loop keeps going at `qd` commands in flight of `bytes` each, so that the
 * consumer thread always finds the next command queued and JavaScript runs once per quarter
 * of them (the ring's `completionBatch`), not once per command: 16 per command in flight and
 * at least 128 for small transfers, twice the queue depth and at least 32 for medium ones,
 * one more than the queue depth and at least 64 for large ones; within
 * {@link PIPELINE_BYTES_MAX} of buffers and the ring's entry limit. Measured in lab boots
 * (30 Nov, reading /dev/sg0, medians of 3-4 runs per setting in one boot): at 4 KiB QD1, 128
 * beat 32 by 5-15%; at 4 KiB QD16, 256 beat 32 by 10-18%; at 512 KiB QD1 (delay=0) 8, 16,
 * 32 and 64 gave 981, 1028, 1060 and 1075 MB/s (sg_dd 1177), and 64 beat 8 by 11% under
 * ndelay=100000 and 64 beat 17 by 13% at QD16. Every waking of
 * the JavaScript thread is CPU time the other virtual CPU, the one running the consumer
 * thread, does not get under QEMU's emulation (measured: the consumer thread's CPU time per
 * command was 10% above sg_dd's with JavaScript active on the other CPU).
 */
export function ringSlots(qd: number, bytes: number): number {
  const wanted =
    bytes < SMALL_TRANSFER_BYTES
      ? Math.max(128, 16 * qd)
      : bytes < LARGE_TRANSFER_BYTES
        ? Math.max(32, 2 * qd)
        : Math.max(64, qd + 1);
  const byMemory = Math.max(qd, Math.floor(PIPELINE_BYTES_MAX / Math.max(1, bytes)));
  return Math.max(1, Math.min(wanted, byMemory, RING_ENTRIES_MAX));
}

/**
 * Whether an sg end uses the ring's blocking SG_IO threads (`sgThreads`) rather than its
 * write()/readv() consumer: at a small queue depth (one system call per command, the one
 * sg_dd makes) and for transfers larger than sg's default reserve (each thread's fd has a
 * reserve of the transfer size, so no command allocates pages; the queue consumer shares one
 * reserve among up to 16 commands per fd). Measured in one lab boot (29 Nov): 4 KiB QD1 1.2x
 * faster with threads, 512 KiB QD16 1.55x; 4 KiB QD16 1.15x slower (16 threads on two CPUs).
 */
export function useSgThreads(qd: number, bytes: number): boolean {
  return qd <= SG_THREADS_DEPTH_MAX || bytes > SG_DEFAULT_RESERVE_BYTES;
}

/** What a ring end needs to know about its device. */
export interface RingEndpointOptions {
  /** The node (an sg or bsg character device). */
  readonly path: string;
  /** Its kind. */
  readonly kind: 'sg' | 'bsg';
  /** The device, already open (capacity read): closed with this end. */
  readonly device: Device;
  /** Logical block size. */
  readonly blockSize: number;
  /** Capacity in blocks. */
  readonly blocks: bigint;
  /** Commands in the kernel at once (`--qd`). */
  readonly qd: number;
  /** Bytes of one transfer (bpt x bs). */
  readonly transferBytes: number;
  /** Ask for direct IO (sg: SG_FLAG_DIRECT_IO; bsg maps the buffer anyway). */
  readonly directIo: boolean;
}

/**
 * Opens the ring for a device end. Returns undefined when the ring cannot be opened on this node
 * (for example sg without write permission: the ring's consumer needs O_RDWR for write()); the
 * caller then keeps the promise path.
 */
export function openRingEndpoint(options: RingEndpointOptions): DdEndpoint | undefined {
  const sgThreads = options.kind === 'sg' && useSgThreads(options.qd, options.transferBytes);
  const qd = Math.min(options.qd, RING_DEPTH_MAX[sgThreads ? 'bsg' : options.kind]);
  const slots = ringSlots(options.qd, options.transferBytes);
  let ring: ScsiRing;
  try {
    ring = openRing(options.path, {
      queueDepth: qd,
      entries: Math.min(RING_ENTRIES_MAX, 2 ** Math.ceil(Math.log2(Math.max(4, slots, qd)))),
      // One buffer per copy slot, as many again for staging buffers another end handed out.
      bufferCount: 2 * slots,
      bufferSize: options.transferBytes,
      producers: 1,
      // The consumer thread reaps, so the next queued entry reaches the kernel without waiting
      // for this thread's event loop.
      loopReapDepth: 0,
      // The kernel's own duration: no clock read per batch (a system call on an hpet clock).
      timing: false,
      sgThreads,
      // One event-loop wake-up per quarter of the pipeline while the SQ stays full (the
      // threads consumers; measured at 4 KiB QD1 with 100 µs latency: 1.1x over one per command).
      completionBatch: Math.max(1, Math.floor(slots / 4)),
    });
  } catch {
    return undefined;
  }
  return new RingEndpoint(options, ring, slots);
}

class RingEndpoint implements DdEndpoint {
  readonly kind = 'device';
  readonly sequential = false;
  readonly mmap = false;
  readonly blockSize: number;
  readonly name: string;
  readonly slots: number;
  dioIncomplete = 0;
  commands = 0;
  readonly #device: Device;
  readonly #ring: ScsiRing;
  readonly #total: bigint;
  readonly #directIo: boolean;
  readonly #checkDio: boolean;
  /** Registered buffer index of each buffer handed out to the copy loop. */
  readonly #handedOut = new Map<Uint8Array, number>();
  /** Indices still to hand out (the first `slots`) and staging buffers free (the rest). */
  #nextHandout = 0;
  readonly #staging: number[] = [];
  /** Reusable READ and WRITE requests by registered buffer index. */
  readonly #reads: RingRequest[] = [];
  readonly #writes: RingRequest[] = [];

  constructor(options: RingEndpointOptions, ring: ScsiRing, slots: number) {
    this.name = options.path;
    this.blockSize = options.blockSize;
    this.slots = slots;
    this.#device = options.device;
    this.#ring = ring;
    this.#total = options.blocks;
    this.#directIo = options.directIo;
    this.#checkDio = options.directIo && options.kind === 'sg';
    for (let i = 2 * slots - 1; i >= slots; i--) this.#staging.push(i);
  }

  blocks = (): bigint => this.#total;

  /** The next registered buffer (the copy loop asks once per slot); plain memory past them. */
  allocateBuffer(length: number): Uint8Array {
    if (this.#nextHandout >= this.slots || length > this.#ring.bufferSize) return new Uint8Array(length);
    const index = this.#nextHandout++;
    const buffer = this.#ring.buffer(index).subarray(0, length);
    this.#handedOut.set(buffer, index);
    return buffer;
  }

  read(at: number, count: number, _bs: number, buffer: Uint8Array): Promise<number> {
    const own = this.#ownIndex(buffer);
    if (own !== undefined) {
      // The common case, kept to one promise per command: the copy loop awaits it directly.
      return new Promise<number>((resolve, reject) => {
        this.#post(false, at, count, own, buffer.length, (c) =>
          c instanceof Error ? reject(c) : resolve(receivedBytes(buffer.length, c)),
        );
      });
    }
    const index = this.#takeStaging();
    return new Promise<number>((resolve, reject) => {
      this.#post(false, at, count, index, buffer.length, (c) => {
        if (c instanceof Error) {
          this.#staging.push(index);
          reject(c);
          return;
        }
        const got = receivedBytes(buffer.length, c);
        if (got > 0) buffer.set(this.#ring.buffer(index).subarray(0, got));
        this.#staging.push(index);
        resolve(got);
      });
    });
  }

  write(at: number, count: number, _bs: number, buffer: Uint8Array): Promise<void> {
    const own = this.#ownIndex(buffer);
    const index = own ?? this.#takeStaging();
    if (own === undefined) this.#ring.buffer(index).set(buffer);
    return new Promise<void>((resolve, reject) => {
      this.#post(true, at, count, index, buffer.length, (c) => {
        if (own === undefined) this.#staging.push(index);
        if (c instanceof Error) reject(c);
        else resolve();
      });
    });
  }

  /** The registered buffer `buffer` is (one this end handed out, or a prefix of one), if any. */
  #ownIndex(buffer: Uint8Array): number | undefined {
    const index = this.#handedOut.get(buffer);
    if (index !== undefined) return index;
    // A shorter view at the start of a handed-out buffer (the last, partial transfer).
    for (const [b, i] of this.#handedOut) {
      if (b.buffer === buffer.buffer && b.byteOffset === buffer.byteOffset) return i;
    }
    return undefined;
  }

  #takeStaging(): number {
    // The copy loop has at most `slots` transfers going, so a staging buffer is always free.
    return this.#staging.pop() as number;
  }

  /**
   * The request object of registered buffer `index` for this direction, made once: the ring
   * copies a request into its submission entry inside post(), so the object and its CDB
   * bytes can be rewritten for the buffer's next command (one transfer per buffer at a time).
   */
  #requestFor(write: boolean, index: number): RingRequest {
    const table = write ? this.#writes : this.#reads;
    let request = table[index];
    if (request === undefined) {
      const data = { buffer: index, length: 0 };
      request = {
        cdb: new Uint8Array(10),
        ...(write ? { dataOut: data } : { dataIn: data }),
        ...(this.#directIo ? { directIo: true } : {}),
      };
      table[index] = request;
    }
    return request;
  }

  /**
   * One READ or WRITE through the ring without a promise of its own (ScsiRing.post): `done`
   * takes the completion, or the error of one that is not a success. The copy loop never has
   * more transfers going than the ring has entries (slots <= entries), so post() always finds
   * one; were it full, the command waits through submit() instead.
   */
  #post(
    write: boolean,
    at: number,
    count: number,
    index: number,
    length: number,
    done: (outcome: RingCompletion | Error) => void,
  ): void {
    const request = this.#requestFor(write, index);
    (request.dataIn ?? (request.dataOut as RingData)).length = length;
    if (at <= 0xffff_ffff && count <= 0xffff && request.cdb.length === 10) {
      // READ(10)/WRITE(10) in place: the layout readWriteCdb writes (SBC-5 5.15, 5.40).
      const cdb = request.cdb;
      cdb[0] = write ? 0x2a : 0x28;
      cdb[2] = at >>> 24;
      cdb[3] = (at >>> 16) & 0xff;
      cdb[4] = (at >>> 8) & 0xff;
      cdb[5] = at & 0xff;
      cdb[7] = count >>> 8;
      cdb[8] = count & 0xff;
    } else {
      request.cdb = readWriteCdb(write, BigInt(at), count);
    }
    const settle = (c: RingCompletion | Error): void => {
      done(c instanceof Error ? c : this.#outcome(c));
    };
    try {
      if (!this.#ring.post(request, settle)) void this.#ring.submit(request).then(settle, settle);
    } catch (error) {
      // A bad request or a closed ring: the same outcome as a failed command, never a throw.
      queueMicrotask(() => done(error as Error));
    }
  }

  /** A completion as the copy loop sees it: counted, and its error when it is not a success. */
  #outcome(c: RingCompletion): RingCompletion | Error {
    this.commands++;
    if (c.status !== 0 || c.hostStatus !== 0 || (c.driverStatus & 0xf) !== 0 || c.sense.length > 0) {
      const error = completionError(c);
      if (error !== undefined) return error;
    }
    // sg reports whether it really did direct IO (SG_INFO_DIRECT_IO, sg_common_write): count the misses as sg_dd does.
    if (this.#checkDio && (c.info & SG_INFO_DIRECT_IO_MASK) === 0) this.dioIncomplete++;
    return c;
  }

  async close(): Promise<void> {
    try {
      await this.#ring.close();
    } finally {
      await this.#device.close();
    }
  }
}

/** Bytes a READ moved into a buffer of `length` (the residual taken off, within 0..length). */
function receivedBytes(length: number, c: RingCompletion): number {
  return Math.max(0, Math.min(length, length - c.dinResid));
}

/** The typed error of a ring completion that is not a success (the device API's categories). */
function completionError(c: RingCompletion): Error | undefined {
  const response = scsiResponse({
    status: c.status,
    hostStatus: c.hostStatus,
    driverStatus: c.driverStatus,
    sense: c.sense,
    dinResid: c.dinResid,
    doutResid: c.doutResid,
    durationMs: c.durationUs / 1000,
    info: c.info,
  });
  return response.category === ResultCategory.GOOD ? undefined : responseError(response);
}
