/**
 * {@link openRing} / {@link attachRing} / {@link ScsiRing}: SCSI commands through a
 * submission/completion ring in memory shared by JavaScript and the addon, like io_uring
 * but in user space: JS claims and fills fixed-size entries and rings one doorbell per
 * batch; the addon's consumer threads move them into the kernel (sg: write()/writev() +
 * readv() on a pool of fds; bsg: blocking SG_IO on N threads) and post completions, waking
 * each JS thread once per batch. Data lives in registered buffers that belong to the ring.
 * See docs/guides/ring.md for the design and the memory-ordering argument.
 * @module
 */
import { AbortedError, InvalidFieldError, OsError } from '@sgv4/core';
import type { NativeRing } from './binding.js';
import { loadAddon } from './load-addon.js';
import { CQE_CANCELLED, cqOffset, RING, RING_DIRECTION, RING_FLAG, RING_STAT_NAMES } from './ring-layout.js';

/** How a ring is sized. Every field is optional. */
export interface RingOptions {
  /**
   * Commands the consumer keeps in the kernel at once (default 16). sg: up to 256, spread
   * over ceil(depth / 16) fds of the same node (16 = SG_MAX_QUEUE per fd); bsg: up to 128,
   * one blocking thread each. More submissions wait in the SQ.
   */
  queueDepth?: number;
  /**
   * Submission entries = requests that may exist between submit and completion (a power
   * of two, 4..4096; default: the smallest power of two >= 2 x queueDepth). When all are
   * taken, `submit()` returns a promise that waits for one (back-pressure, never an error).
   */
  entries?: number;
  /** Registered buffers (default queueDepth); `buffer(i)` gives their views. */
  bufferCount?: number;
  /** Bytes per registered buffer, rounded up to the page size (default 65536). */
  bufferSize?: number;
  /** JS threads that may attach (this one included), 1..32 (default 8). */
  producers?: number;
  /**
   * sg only: extra registered buffers (indices bufferCount..bufferCount+mmapSlots-1) that are
   * the mmap-ed reserved buffers of as many extra fds, each `bufferSize` bytes (SG_SET_RESERVED_SIZE
   * then mmap, drivers/scsi/sg.c sg_mmap): SG_FLAG_MMAP_IO moves data between the device and these
   * pages with no copy and no pinning. One command at a time per slot (one reserve per fd); a
   * transfer starts at offset 0. Default 0, at most 64. A slot's mapping holds its sg file
   * (the vma's reference, drivers/scsi/sg.c sg_mmap) until the last view of the ring's memory is
   * collected, after close() too: until then an O_EXCL open of the node waits, or gets EBUSY
   * with O_NONBLOCK (sg_open).
   */
  mmapSlots?: number;
  /**
   * sg only: microseconds the consumer thread polls the SQ before it sleeps (default 0).
   * Spinning saves the doorbell's wake-up at QD1 at the price of a busy core.
   */
  spinMicros?: number;
  /**
   * sg only: with at most this many commands in the kernel, all from one JS thread, that
   * thread's own event loop reaps them (a uv_poll on the sg fds) instead of the consumer
   * thread, so a completion costs no cross-thread wake-up — the plain promise path's cost.
   * Above it (or with several threads' commands in the kernel) the consumer thread reaps,
   * in batches. 0 = always the consumer thread; default: queueDepth (always, for one thread).
   */
  loopReapDepth?: number;
  /**
   * Whether the consumer times each batch with the monotonic clock for `durationUs` (default
   * true): two clock reads per batch. With false, `durationUs` is the kernel's own duration
   * in whole milliseconds (sg_io_hdr.duration, sg_io_v4.duration) — cheaper where a clock read
   * is a system call (an hpet or acpi_pm clocksource: emulated guests, some VMs).
   */
  timing?: boolean;
  /**
   * sg only: the consumer is `queueDepth` threads (at most 128), each running blocking SG_IO
   * with an sg_io_hdr on an sg fd of its own whose reserved buffer is sized to `bufferSize`
   * (SG_SET_RESERVED_SIZE, as sg_dd sets it), instead of one thread writing entries and
   * draining replies with readv() (default false). One system call per command, the one
   * sg_dd makes, and every command served from its fd's reserve (sg_start_req in
   * drivers/scsi/sg.c: otherwise a transfer larger than the default reserve gets pages
   * allocated per command); the price is a thread per command in flight, so it pays at a
   * small queue depth or with large transfers. No mmap-ed slots, no loop reaping.
   */
  sgThreads?: boolean;
  /**
   * bsg, and sg with `sgThreads`: while the consumer has more entries ready to run, it tells
   * a JS thread about completions once per this many (default 1: once per completion), like
   * a NIC's interrupt coalescing. A streaming caller that keeps the SQ full (`sgv4 dd`) then
   * pays one event-loop wake-up per batch; the last completions before the SQ runs dry are
   * always announced at once, so nothing waits longer than the command that follows it.
   * 1..entries.
   */
  completionBatch?: number;
}

/** Where a command's data is: a range of a registered buffer. */
export interface RingData {
  /** Registered buffer index (0..bufferCount-1). */
  buffer: number;
  /** Byte offset in the buffer (default 0). */
  offset?: number;
  /** Bytes to transfer (1..bufferSize - offset). */
  length: number;
}

/** One SCSI command for the ring (an sg_io_v4-shaped request). */
export interface RingRequest {
  /** The CDB, 6..32 bytes. */
  cdb: Uint8Array;
  /** Data from the device (READ-like commands) into a registered buffer. */
  dataIn?: RingData;
  /** Data to the device (WRITE-like commands) from a registered buffer. */
  dataOut?: RingData;
  /** Milliseconds (default 60000; 1..2^32-1). */
  timeout?: number;
  /** Sense bytes wanted, 0..96 (default 96, SCSI_SENSE_BUFFERSIZE). */
  senseLength?: number;
  /**
   * Task tag, echoed in the completion. Linux 6.1 does not transmit it: bsg ignores
   * `request_tag` (scsi_bsg_sg_io_fn in drivers/scsi/scsi_bsg.c) and sg v3 has no such field.
   */
  tag?: bigint;
  /** Task attribute (sg_io_v4.request_attr, 0..255); ignored by Linux 6.1 like `tag`. */
  attribute?: number;
  /** Queue at the tail of the block queue (sg queues at the head by default; bsg at the tail). */
  queueAtTail?: boolean;
  /** sg: ask for direct IO (SG_FLAG_DIRECT_IO); the kernel uses it only if /proc/scsi/sg/allow_dio is 1. */
  directIo?: boolean;
  /**
   * Abort: while the request is still in the SQ it is removed and rejects with
   * AbortedError (never sent); once in the kernel it rejects at once as abandoned
   * (Linux 6.1 sg and bsg have no abort), and its buffer range stays the kernel's until
   * its completion arrives (counted in `inFlight`).
   */
  signal?: AbortSignal;
}

/** What the device and the transport answered (a SCSI CHECK CONDITION resolves too: see `status`). */
export interface RingCompletion {
  /** SAM status (0 GOOD, 2 CHECK CONDITION, 8 BUSY...). */
  status: number;
  /** Host (transport) status (DID_*). */
  hostStatus: number;
  /** Driver status (DRIVER_*). */
  driverStatus: number;
  /** Bytes not transferred from the device. */
  dinResid: number;
  /** Bytes not transferred to the device. */
  doutResid: number;
  /** Sense data (a copy; empty when none). */
  sense: Uint8Array;
  /**
   * Microseconds between the consumer's submission and its completion (with the ring's
   * `timing` off: the kernel's duration, whole milliseconds).
   */
  durationUs: number;
  /** SG_INFO_* bits (sg: SG_INFO_DIRECT_IO tells whether direct IO was used). */
  info: number;
  /** The task tag as submitted. */
  tag: bigint;
}

/**
 * Takes the outcome of a {@link ScsiRing.post}: the completion (whatever the SCSI status), or
 * the error submit() would have rejected with (OsError, AbortedError).
 */
export type RingCallback = (outcome: RingCompletion | Error) => void;

/** Counters of a ring (all threads together), from the shared control block. */
export interface RingStats {
  /** Commands handed to the kernel. */
  readonly submitted: number;
  /** Completion entries posted (cancelled ones included). */
  readonly completed: number;
  /** Entries removed from the SQ by an abort (never sent). */
  readonly cancelled: number;
  /** sg: write() calls (single submissions, and re-sends after a failed writev element). */
  readonly writeCalls: number;
  /** sg: writev() calls (batches). */
  readonly writevCalls: number;
  /** sg: readv() calls (EAGAIN answers included). */
  readonly readvCalls: number;
  /** sg: poll() calls of the consumer thread. */
  readonly pollCalls: number;
  /** bsg: SG_IO calls. */
  readonly ioctlCalls: number;
  /** Doorbells that found a consumer asleep and woke it (JS skips the native call otherwise). */
  readonly doorbells: number;
  /** Consumer thread wake-ups (poll() returns, condition-variable wakes). */
  readonly consumerWakeups: number;
  /** uv_async_send() calls towards JS threads (libuv coalesces them). */
  readonly completionWakes: number;
  /** Completion callbacks run on JS threads. */
  readonly jsWakeups: number;
  /** Consumer passes that posted at least one completion. */
  readonly batches: number;
  /** sg: doorbells that found the consumer asleep and submitted inline, in the calling JS thread. */
  readonly inlineDoorbells: number;
  /** sg: replies reaped on a JS thread's own event loop (its uv_poll on the sg fds fired). */
  readonly loopReaps: number;
}

/** What another thread needs to attach (plain data: send it with postMessage). */
export interface RingShare {
  /** The ring's process-wide id. */
  readonly id: number;
}

/**
 * A request between submit and reap. Its promise is made only when the outcome is not known
 * before submit() returns: a command the device answers inside the inline doorbell's write()
 * (scsi_debug delay=0) settles first and submit() returns an already settled promise.
 */
class Pending {
  /** post(): the callback that takes the outcome (no promise is ever made). */
  callback: RingCallback | undefined = undefined;
  resolve: ((c: RingCompletion) => void) | undefined = undefined;
  reject: ((e: Error) => void) | undefined = undefined;
  /** The outcome when it came before the promise was made. */
  value: RingCompletion | undefined = undefined;
  error: Error | undefined = undefined;
  /** SQ position once claimed, else -1. */
  pos = -1;
  /** Settled (an abort settles early: the completion then only frees the slot). */
  done = false;
  onAbort: (() => void) | undefined = undefined;
  readonly signal: AbortSignal | undefined;
  /** First CDB byte, for messages (built only when one is needed). */
  readonly cdb0: number;

  constructor(signal: AbortSignal | undefined, cdb0: number) {
    this.signal = signal;
    this.cdb0 = cdb0;
  }

  /** The promise of the outcome: settled already, or settled by a later reap or abort. */
  promise(): Promise<RingCompletion> {
    if (this.done)
      return this.error !== undefined
        ? Promise.reject(this.error)
        : Promise.resolve(this.value as RingCompletion);
    return new Promise<RingCompletion>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  fulfil(value: RingCompletion): void {
    this.done = true;
    if (this.callback !== undefined) deliver(this.callback, value);
    else if (this.resolve !== undefined) this.resolve(value);
    else this.value = value;
  }

  fail(error: Error): void {
    this.done = true;
    if (this.callback !== undefined) deliver(this.callback, error);
    else if (this.reject !== undefined) this.reject(error);
    else this.error = error;
  }
}

/**
 * Hands an outcome to a post() callback. A callback that throws must neither stop the reap
 * (the other completions of the batch are still owed) nor vanish: it becomes an uncaught
 * exception, as an exception in an event listener does.
 */
function deliver(callback: RingCallback, outcome: RingCompletion | Error): void {
  try {
    callback(outcome);
  } catch (error) {
    process.nextTick(() => {
      throw error;
    });
  }
}

/** Settled: a microtask doorbell is one reaction on it (queueMicrotask costs an AsyncResource and a bind). */
const SETTLED = Promise.resolve();

interface Waiter {
  encoded: Encoded;
  pending: Pending;
}

interface Encoded {
  /** The CDB as read once from the request (a getter is not read twice). */
  cdb: Uint8Array;
  direction: number;
  buffer: number;
  offset: number;
  length: number;
  timeout: number;
  sense: number;
  tag: bigint;
  /** tag is not 0 (0 is written without a BigInt conversion). */
  tagged: boolean;
  attribute: number;
  flags: number;
}

/** The sense of every completion without sense data: zero-length, so nothing in it can change. */
const NO_SENSE = Object.freeze(new Uint8Array(0)) as Uint8Array;

/** Field names of the data range, built once (not per command). */
const DATA_IN_FIELDS = { buffer: 'dataIn.buffer', offset: 'dataIn.offset', length: 'dataIn.length' } as const;
const DATA_OUT_FIELDS = {
  buffer: 'dataOut.buffer',
  offset: 'dataOut.offset',
  length: 'dataOut.length',
} as const;

function opcodeName(cdb: Uint8Array): string {
  return `SCSI command 0x${(cdb[0] ?? 0).toString(16).padStart(2, '0')}`;
}

function nextPowerOfTwo(n: number): number {
  let p = 4;
  while (p < n) p *= 2;
  return p;
}

function integer(
  field: string,
  value: number | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new InvalidFieldError(field, `must be an integer in ${min}..${max}`, v);
  return v;
}

/**
 * A SCSI ring on an sg or bsg node, as seen from one JS thread: the thread that opened it
 * ({@link openRing}) or a worker_thread that attached ({@link attachRing}). Many threads
 * submit to one ring concurrently; each gets its own completions.
 */
export class ScsiRing implements AsyncDisposable {
  /** The device node. */
  readonly path: string;
  /** sg (write/readv consumer) or bsg (blocking SG_IO threads). */
  readonly kind: 'sg' | 'bsg';
  /** Submission entries (requests that may exist between submit and completion). */
  readonly entries: number;
  /** Commands the consumer keeps in the kernel at once. */
  readonly queueDepth: number;
  /** Registered buffers. */
  readonly bufferCount: number;
  /** Bytes per registered buffer (a multiple of the page size). */
  readonly bufferSize: number;
  /** Whether this thread opened the ring (close() then stops it for every thread). */
  readonly owner: boolean;
  /** sg: mmap-ed reserve slots, registered after the ordinary buffers. */
  readonly mmapSlots: number;
  /** sg: the consumer is blocking SG_IO threads ({@link RingOptions.sgThreads}). */
  readonly sgThreads: boolean;
  /**
   * sg: bytes of the reserved buffer on each of the consumer's fds (the smallest, as
   * SG_GET_RESERVED_SIZE reports it), sized to {@link bufferSize} at open. A command up to
   * this size moves through it without a buffer built for that command alone (sg_start_req
   * in drivers/scsi/sg.c: one command per fd at a time; sg caps the size at the queue's
   * max_sectors_kb). 0 on bsg.
   */
  readonly reservedBytes: number;
  readonly #syscall: 'write' | 'SG_IO';

  readonly #native: NativeRing;
  readonly #producer: number;
  readonly #i32: Int32Array;
  readonly #u8: Uint8Array;
  readonly #view: DataView;
  readonly #buffers: ArrayBuffer;
  readonly #mmapViews: Uint8Array[] = [];
  readonly #mask: number;
  readonly #cqBase: number;
  readonly #cqHeadIndex: number;
  readonly #cqTailIndex: number;
  #cqHead = 0;
  readonly #pending: (Pending | undefined)[];
  readonly #freeIds: number[];
  #inFlight = 0;
  /** The credit count this thread last saw (a guess: other threads take and return credits too). */
  #credits = 1;
  readonly #waiters: Waiter[] = [];
  #waiting = false;
  #unrung = 0;
  #doorbellQueued = false;
  /** Where submit() encodes a request that is published at once (copied only when it must wait). */
  readonly #scratch: Encoded = {
    cdb: NO_SENSE,
    direction: 0,
    buffer: 0,
    offset: 0,
    length: 0,
    timeout: 0,
    sense: 0,
    tag: 0n,
    tagged: false,
    attribute: 0,
    flags: 0,
  };
  /** The doorbell as a microtask, bound once (no closure per batch). */
  readonly #doorbellTask = (): void => this.#ringNow();
  /** Completions the last reap delivered: more than one means continuations that may submit a batch. */
  #lastReaped = 0;
  /** Inside submitMany(): one doorbell after the last request. */
  #batching = false;
  /** A submit rang at once in this tick: the next ones of the tick are a burst, rung as one batch. */
  #rangInTick = false;
  readonly #tickTask = (): void => {
    this.#rangInTick = false;
  };
  #refed = false;
  #unrefQueued = false;
  #userRef = true;
  #closing = false;
  /** post() callbacks and their outcomes, delivered once a reap has returned the batch's credits. */
  readonly #due: (RingCallback | RingCompletion | Error)[] = [];
  #closePromise: Promise<void> | undefined;
  #drained: (() => void) | undefined;
  #stopped: (() => void) | undefined;

  /** @internal Use {@link openRing} or {@link attachRing}. */
  constructor(native: NativeRing, owner: boolean) {
    this.#native = native;
    this.owner = owner;
    this.path = native.path;
    this.kind = native.kind;
    const control = native.control();
    this.#i32 = new Int32Array(control);
    this.#u8 = new Uint8Array(control);
    this.#view = new DataView(control);
    this.#buffers = native.buffers();
    this.entries = this.#view.getUint32(8, true);
    this.queueDepth = this.#view.getUint32(16, true);
    this.bufferCount = this.#view.getUint32(20, true);
    this.bufferSize = this.#view.getUint32(24, true);
    this.mmapSlots = this.#view.getUint32(32, true);
    this.sgThreads = this.#view.getUint32(36, true) !== 0;
    this.reservedBytes = this.#view.getUint32(40, true);
    // The system call a failed command's errno came from.
    this.#syscall = this.kind === 'sg' && !this.sgThreads ? 'write' : 'SG_IO';
    this.#mask = this.entries - 1;
    const producer = native.producer;
    this.#producer = producer;
    this.#cqBase = cqOffset(this.entries, producer);
    const record = RING.offProducerTable + producer * RING.producerRecord;
    this.#cqHeadIndex = (record + RING.prodCqHead) >> 2;
    this.#cqTailIndex = (record + RING.prodCqTail) >> 2;
    this.#pending = new Array(this.entries).fill(undefined);
    this.#freeIds = Array.from({ length: this.entries }, (_, i) => this.entries - 1 - i);
  }

  /** @internal The addon's completion callback (bound in openRing/attachRing); never throws. */
  onCompletions(stopped: boolean): void {
    try {
      this.#reap();
      if (this.#waiters.length > 0) this.#admitWaiters();
      if (stopped) this.#stopped?.();
    } catch (error) {
      // A bug here must not vanish inside the addon: surface it as an uncaught exception.
      process.nextTick(() => {
        throw error;
      });
    }
  }

  /**
   * A view of registered buffer `index` (bufferSize bytes owned by the ring): native memory for
   * 0..bufferCount-1, an mmap-ed sg reserve for bufferCount..bufferCount+mmapSlots-1.
   */
  buffer(index: number): Uint8Array {
    integer('index', index, 0, this.bufferCount + this.mmapSlots - 1, index);
    if (index >= this.bufferCount) {
      const slot = index - this.bufferCount;
      let view = this.#mmapViews[slot];
      if (view === undefined) {
        view = new Uint8Array(this.#native.mmapBuffer(slot));
        this.#mmapViews[slot] = view;
      }
      return view;
    }
    return new Uint8Array(this.#buffers, index * this.bufferSize, this.bufferSize);
  }

  /** Requests of this thread between submit and completion (waiting for a credit, queued, in the kernel, abandoned). */
  get inFlight(): number {
    return this.#inFlight + this.#waiters.length;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closing;
  }

  /** Attach data for {@link attachRing} in another thread (postMessage it). */
  share(): RingShare {
    return { id: this.#native.id };
  }

  /** The ring's counters (every thread's work together). */
  stats(): RingStats {
    const words = new BigUint64Array(this.#i32.buffer, RING.offStats, RING.statCount);
    const out: Record<string, number> = {};
    RING_STAT_NAMES.forEach((name, i) => {
      out[name] = Number(Atomics.load(words, i));
    });
    return out as unknown as RingStats;
  }

  /**
   * Submits one command. The promise resolves with the completion (whatever the SCSI
   * status), or rejects: InvalidFieldError (bad request, nothing sent), OsError (the
   * system call failed: errno, code, syscall `write`/`SG_IO`), AbortedError (signal).
   * When every entry is taken it waits for one (back-pressure), never an error.
   */
  submit(request: RingRequest): Promise<RingCompletion> {
    let encoded: Encoded;
    try {
      if (this.#closing) throw OsError.fromErrno(9, 'submit', this.path);
      encoded = this.#encode(request, this.#scratch);
    } catch (error) {
      return Promise.reject(error);
    }
    if (request.signal?.aborted === true) {
      return Promise.reject(
        new AbortedError(
          `${opcodeName(request.cdb)} on ${this.path} (aborted before it was sent)`,
          request.signal.reason,
        ),
      );
    }
    const credit = this.#waiters.length === 0 && this.#takeCredit();
    // The owner closed the ring (its credits are gone, so no credit was taken): refuse, not wait.
    if (!credit && Atomics.load(this.#i32, RING.offClosing >> 2) !== 0)
      return Promise.reject(OsError.fromErrno(9, 'submit', this.path));
    const pending = new Pending(request.signal, request.cdb[0] ?? 0);
    if (credit) {
      this.#publish(encoded, pending);
      // A lone command rings at once, not from a microtask: nothing else of this thread is in
      // flight, the last reap delivered at most one completion (no other continuation is about
      // to submit) and nothing rang at once earlier in this tick (a burst: the rest of it goes
      // in one batch). A device that answers inside write() settles it before this returns.
      if (this.#inFlight === 1 && this.#lastReaped <= 1 && !this.#rangInTick && !this.#batching) {
        this.#rangInTick = true;
        SETTLED.then(this.#tickTask);
        this.#ringNow();
      } else {
        this.#queueDoorbell();
      }
    } else {
      this.#wait({ encoded: { ...encoded }, pending });
    }
    const promise = pending.promise();
    if (request.signal !== undefined && !pending.done) {
      const signal = request.signal;
      pending.onAbort = () => this.#abort(pending, signal.reason);
      signal.addEventListener('abort', pending.onAbort, { once: true });
    }
    return promise;
  }

  /**
   * Submits one command without a promise, for loops that keep a pipeline full: `callback`
   * takes the outcome, always later (from the reap of a completion batch, never inside post()),
   * exactly once. Returns false, having done nothing, when every entry is taken: post again
   * from a callback (each completion frees one entry). Commands posted in one tick share one
   * doorbell. A bad request throws InvalidFieldError; a closed ring OsError EBADF.
   */
  post(request: RingRequest, callback: RingCallback): boolean {
    if (this.#closing) throw OsError.fromErrno(9, 'post', this.path);
    const encoded = this.#encode(request, this.#scratch);
    if (typeof callback !== 'function')
      throw new InvalidFieldError('callback', 'must be a function', callback);
    if (request.signal?.aborted === true)
      throw new AbortedError(
        `${opcodeName(request.cdb)} on ${this.path} (aborted before it was sent)`,
        request.signal.reason,
      );
    // Waiters (submit() callers) were first; a post never overtakes them.
    if (this.#waiters.length > 0 || !this.#takeCredit()) {
      if (Atomics.load(this.#i32, RING.offClosing >> 2) !== 0) throw OsError.fromErrno(9, 'post', this.path);
      return false;
    }
    const pending = new Pending(request.signal, encoded.cdb[0] ?? 0);
    pending.callback = callback;
    this.#publish(encoded, pending);
    this.#queueDoorbell();
    if (request.signal !== undefined) {
      const signal = request.signal;
      pending.onAbort = () => this.#abort(pending, signal.reason);
      signal.addEventListener('abort', pending.onAbort, { once: true });
    }
    return true;
  }

  /** Submits several commands; one doorbell for all of them (as every call in one tick). */
  submitMany(requests: readonly RingRequest[]): Promise<RingCompletion>[] {
    this.#batching = true;
    try {
      return requests.map((r) => this.submit(r));
    } finally {
      this.#batching = false;
    }
  }

  /** The ring keeps the event loop alive while this thread has requests in flight (the default). */
  ref(): this {
    this.#userRef = true;
    if (this.inFlight > 0) this.#setRef(true);
    return this;
  }

  /** Requests in flight no longer keep the event loop alive. */
  unref(): this {
    this.#userRef = false;
    this.#setRef(false);
    return this;
  }

  /**
   * Closes this thread's side: no new submissions (OsError EBADF), callers still waiting
   * for a credit reject (AbortedError, never sent), requests already claimed complete
   * normally. The owner's close then stops the ring: it resolves once every thread's
   * requests were completed and reaped and the consumer threads have exited; the memory
   * is freed after that, when the last view of it is gone. A second call returns the same
   * promise.
   */
  close(): Promise<void> {
    if (this.#closePromise !== undefined) return this.#closePromise;
    this.#closing = true;
    for (const w of this.#waiters.splice(0)) {
      this.#settleEarly(
        w.pending,
        new AbortedError(`${this.#what(w.pending)} (ring closed before it was sent)`),
      );
    }
    this.#setWaiting(false);
    this.#closePromise = (async () => {
      this.#setRef(true);
      if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
      if (this.owner) {
        const stopped = new Promise<void>((resolve) => (this.#stopped = resolve));
        this.#native.shutdown();
        if (!this.#native.stopped) await stopped;
      }
      this.#native.detach();
    })();
    return this.#closePromise;
  }

  /** close(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Validates `request` into `out` (the thread's scratch on the fast path: no allocation per command). */
  #encode(request: RingRequest, out: Encoded): Encoded {
    const { cdb } = request;
    if (!(cdb instanceof Uint8Array)) throw new InvalidFieldError('cdb', 'must be a Uint8Array', cdb);
    if (cdb.length < 6 || cdb.length > RING.maxCdb)
      throw new InvalidFieldError('cdb', `length must be 6..${RING.maxCdb}`, cdb.length);
    if (request.dataIn !== undefined && request.dataOut !== undefined)
      throw new InvalidFieldError(
        'dataOut',
        'dataIn and dataOut together (bidirectional) are not supported: sg refuses them and bsg in 6.1 too',
        request.dataOut,
      );
    const data = request.dataIn ?? request.dataOut;
    const field = request.dataIn !== undefined ? DATA_IN_FIELDS : DATA_OUT_FIELDS;
    let buffer = 0;
    let offset = 0;
    let length = 0;
    if (data !== undefined) {
      buffer = integer(field.buffer, data.buffer, 0, this.bufferCount + this.mmapSlots - 1, data.buffer);
      offset = integer(field.offset, data.offset, 0, this.bufferSize - 1, 0);
      if (buffer >= this.bufferCount && offset !== 0)
        throw new InvalidFieldError(
          field.offset,
          'must be 0 in an mmap-ed slot: mmap IO moves data through the reserve from its start (sg_mmap, sg_start_req)',
          offset,
        );
      length = integer(field.length, data.length, 1, this.bufferSize - offset, data.length);
    }
    const tag = request.tag;
    // No BigInt comparison for the common untagged command.
    if (tag !== undefined && (typeof tag !== 'bigint' || tag < 0n || tag > 0xffff_ffff_ffff_ffffn))
      throw new InvalidFieldError('tag', 'must be a bigint in 0..2^64-1', tag);
    out.cdb = cdb;
    out.direction =
      request.dataIn !== undefined
        ? RING_DIRECTION.in
        : request.dataOut !== undefined
          ? RING_DIRECTION.out
          : 0;
    out.buffer = buffer;
    out.offset = offset;
    out.length = length;
    out.timeout = integer('timeout', request.timeout, 1, 0xffff_ffff, 60_000);
    out.sense = integer('senseLength', request.senseLength, 0, RING.senseBytes, RING.senseBytes);
    out.tag = tag ?? 0n;
    out.tagged = tag !== undefined && tag !== 0n;
    out.attribute = integer('attribute', request.attribute, 0, 255, 0);
    out.flags =
      (request.directIo === true ? RING_FLAG.directIo : 0) |
      (request.queueAtTail === true ? RING_FLAG.queueAtTail : 0);
    return out;
  }

  #what(pending: Pending): string {
    return `SCSI command 0x${pending.cdb0.toString(16).padStart(2, '0')} on ${this.path}`;
  }

  /**
   * Takes one credit (compare-exchange, never below 1 -> 0). It starts from the value this
   * thread last saw, so a lone thread takes it with one atomic operation, not a load and a
   * compare-exchange; a stale guess costs one more round (the exchange returns the value).
   */
  #takeCredit(): boolean {
    const i32 = this.#i32;
    const index = RING.offCredits >> 2;
    let c = this.#credits;
    for (;;) {
      if (c <= 0) {
        c = Atomics.load(i32, index);
        if (c <= 0) {
          this.#credits = c;
          return false;
        }
      }
      const seen = Atomics.compareExchange(i32, index, c, c - 1);
      if (seen === c) {
        this.#credits = c - 1;
        return true;
      }
      c = seen;
    }
  }

  /**
   * Claims a position and publishes the entry. Between the claim (Atomics.add) and the
   * publishing store there is no loop and no JS function call, so no interrupt check at
   * which worker.terminate() could stop this thread with a claimed, unpublished slot
   * (which would stall the consumer at that position).
   */
  #publish(e: Encoded, pending: Pending): void {
    const id = this.#freeIds.pop() as number;
    this.#pending[id] = pending;
    if (this.#inFlight++ === 0) this.#setRef(true);
    const view = this.#view;
    const pos = Atomics.add(this.#i32, RING.offSqTail >> 2, 1);
    const base = RING.offSq + (pos & this.#mask) * RING.sqeSize;
    view.setUint32(base + RING.sqeUserData, id, true);
    view.setUint32(base + RING.sqeUserData + 4, this.#producer, true);
    view.setUint8(base + RING.sqeCdbLength, e.cdb.length);
    view.setUint8(base + RING.sqeDirection, e.direction);
    view.setUint8(base + RING.sqeAttribute, e.attribute);
    view.setUint8(base + RING.sqeProducer, this.#producer);
    view.setUint32(base + RING.sqeBufferIndex, e.buffer, true);
    view.setUint32(base + RING.sqeBufferOffset, e.offset, true);
    view.setUint32(base + RING.sqeLength, e.length, true);
    view.setUint32(base + RING.sqeTimeout, e.timeout, true);
    if (e.tagged) {
      view.setBigUint64(base + RING.sqeTag, e.tag, true);
    } else {
      view.setUint32(base + RING.sqeTag, 0, true);
      view.setUint32(base + RING.sqeTag + 4, 0, true);
    }
    view.setUint16(base + RING.sqeMaxSense, e.sense, true);
    view.setUint16(base + RING.sqeFlags, e.flags, true);
    this.#u8.set(e.cdb, base + RING.sqeCdb);
    Atomics.store(this.#i32, base >> 2, pos);
    pending.pos = pos;
    this.#unrung++;
  }

  /** The doorbell for what was published in this tick, rung from a microtask (once per batch). */
  #queueDoorbell(): void {
    if (this.#doorbellQueued) return;
    this.#doorbellQueued = true;
    SETTLED.then(this.#doorbellTask);
  }

  /** One doorbell per batch; no native call at all while the consumer is awake. Never throws. */
  #ringNow(): void {
    this.#doorbellQueued = false;
    const count = this.#unrung;
    if (count === 0) return;
    this.#unrung = 0;
    try {
      // sg: the doorbell submits inline (io_uring_enter-style) and reaps what the device already
      // answered; those completions are reaped here, without a wake-up.
      if (Atomics.load(this.#i32, RING.offSleeping >> 2) !== 0 && this.#native.doorbell(count)) this.#reap();
    } catch (error) {
      // A bug here must not become a rejection nobody awaits: surface it as an uncaught exception.
      process.nextTick(() => {
        throw error;
      });
    }
  }

  #wait(waiter: Waiter): void {
    this.#waiters.push(waiter);
    this.#setWaiting(true);
    // A credit may have come back between the failed take and the flag: retry once.
    this.#admitWaiters();
  }

  #setWaiting(on: boolean): void {
    if (on === this.#waiting) return;
    this.#waiting = on;
    Atomics.add(this.#i32, RING.offWaiters >> 2, on ? 1 : -1);
  }

  #admitWaiters(): void {
    if (Atomics.load(this.#i32, RING.offClosing >> 2) !== 0) {
      // The owner closed the ring: no credit will ever be handed out again.
      for (const w of this.#waiters.splice(0)) {
        this.#settleEarly(
          w.pending,
          new AbortedError(`${this.#what(w.pending)} (ring closed before it was sent)`),
        );
      }
    }
    while (this.#waiters.length > 0 && this.#takeCredit()) {
      const w = this.#waiters.shift() as Waiter;
      this.#publish(w.encoded, w.pending);
      this.#queueDoorbell();
    }
    if (this.#waiters.length === 0) this.#setWaiting(false);
  }

  #reap(): void {
    const due = this.#due;
    const i32 = this.#i32;
    const view = this.#view;
    const tail = Atomics.load(i32, this.#cqTailIndex);
    let head = this.#cqHead;
    let n = 0;
    while (head !== tail) {
      const base = this.#cqBase + (head & this.#mask) * RING.cqeSize;
      const id = view.getUint32(base + RING.cqeUserData, true);
      const pending = this.#pending[id];
      head = (head + 1) | 0;
      n++;
      if (pending === undefined) continue;
      this.#pending[id] = undefined;
      this.#freeIds.push(id);
      this.#inFlight--;
      if (pending.onAbort !== undefined) pending.signal?.removeEventListener('abort', pending.onAbort);
      if (pending.done) continue;
      const errno = view.getInt32(base + RING.cqeErrno, true);
      let outcome: RingCompletion | Error;
      if ((view.getUint32(base + RING.cqeFlags, true) & CQE_CANCELLED) !== 0) {
        outcome = new AbortedError(`${this.#what(pending)} (removed from the ring before it was sent)`);
      } else if (errno !== 0) {
        outcome = OsError.fromErrno(errno, this.#syscall, this.path);
      } else {
        const senseLength = Math.min(view.getUint32(base + RING.cqeSenseLength, true), RING.senseBytes);
        const tagLow = view.getUint32(base + RING.cqeTag, true);
        const tagHigh = view.getUint32(base + RING.cqeTag + 4, true);
        outcome = {
          status: view.getUint32(base + RING.cqeDeviceStatus, true),
          hostStatus: view.getUint32(base + RING.cqeTransport, true),
          driverStatus: view.getUint32(base + RING.cqeDriver, true),
          dinResid: view.getInt32(base + RING.cqeDinResid, true),
          doutResid: view.getInt32(base + RING.cqeDoutResid, true),
          sense:
            senseLength === 0
              ? NO_SENSE
              : this.#u8.slice(base + RING.cqeSense, base + RING.cqeSense + senseLength),
          durationUs: view.getUint32(base + RING.cqeDurationUs, true),
          info: view.getUint32(base + RING.cqeInfo, true),
          // No BigInt arithmetic for the common untagged command.
          tag: tagLow === 0 && tagHigh === 0 ? 0n : view.getBigUint64(base + RING.cqeTag, true),
        };
      }
      if (pending.callback !== undefined) {
        // After the batch's credits are back (below): a callback that posts again finds an entry.
        pending.done = true;
        due.push(pending.callback, outcome);
      } else if (outcome instanceof Error) pending.fail(outcome);
      else pending.fulfil(outcome);
    }
    if (n === 0) return;
    this.#lastReaped = n;
    this.#cqHead = head;
    Atomics.store(i32, this.#cqHeadIndex, head);
    const credits = Atomics.add(i32, RING.offCredits >> 2, n) + n;
    this.#credits = credits;
    if (this.#waiters.length > 0) this.#admitWaiters();
    // Other threads may wait for credits; a closing ring's consumer waits for the last one.
    if (Atomics.load(i32, RING.offWaiters >> 2) > 0) this.#native.kick();
    // Credits are negative once the owner closed the ring (shutdown takes RING.closedCredits
    // away after raising the closing flag, then wakes the consumer, which then counts these).
    if (credits < 0 && this.#native.doorbell(1)) this.#reap();
    if (due.length > 0) {
      // Taken out first: a callback that submits may reap again, inside this loop.
      const list = due.slice();
      due.length = 0;
      for (let i = 0; i < list.length; i += 2)
        deliver(list[i] as RingCallback, list[i + 1] as RingCompletion | Error);
    }
    if (this.#inFlight === 0) {
      this.#drained?.();
      this.#queueUnref();
    }
  }

  #abort(pending: Pending, reason: unknown): void {
    if (pending.done) return;
    if (pending.pos < 0) {
      // Still waiting for a credit: never claimed, never sent.
      const index = this.#waiters.findIndex((w) => w.pending === pending);
      if (index >= 0) this.#waiters.splice(index, 1);
      if (this.#waiters.length === 0) this.#setWaiting(false);
      this.#settleEarly(
        pending,
        new AbortedError(`${this.#what(pending)} (aborted before it was sent)`, reason),
      );
      return;
    }
    const base = RING.offSq + (pending.pos & this.#mask) * RING.sqeSize;
    // published -> cancelled, only for this entry's generation (ring_layout.h explains why no ABA).
    const removed =
      Atomics.compareExchange(this.#i32, base >> 2, pending.pos, (pending.pos + 1) | 0) === pending.pos;
    pending.fail(
      new AbortedError(
        removed
          ? `${this.#what(pending)} (removed from the ring's submission queue, never sent)`
          : `${this.#what(pending)} (abandoned in the kernel: Linux 6.1 sg and bsg cannot abort it; its buffer stays in use until it completes)`,
        reason,
      ),
    );
  }

  #settleEarly(pending: Pending, error: Error): void {
    if (pending.onAbort !== undefined) pending.signal?.removeEventListener('abort', pending.onAbort);
    pending.fail(error);
  }

  #setRef(on: boolean): void {
    const want = on && this.#userRef;
    if (want === this.#refed) return;
    this.#refed = want;
    this.#native.setRef(want);
  }

  /** Unref once the thread stays idle past this turn (a QD1 loop resubmits at once: no native call). */
  #queueUnref(): void {
    if (this.#unrefQueued || this.#closing) return;
    this.#unrefQueued = true;
    setImmediate(() => {
      this.#unrefQueued = false;
      // Not once close() began: it holds the loop until the consumer has stopped (unref'd here,
      // a process whose last work is the close would exit with the close never settled).
      if (this.#inFlight === 0 && this.#waiters.length === 0 && !this.#closing) this.#setRef(false);
    }).unref();
  }
}

function flag(field: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidFieldError(field, 'must be a boolean', value);
  return value;
}

function sizing(options: RingOptions) {
  const queueDepth = integer('options.queueDepth', options.queueDepth, 1, 256, 16);
  return {
    queueDepth,
    entries: integer(
      'options.entries',
      options.entries,
      4,
      4096,
      Math.min(4096, nextPowerOfTwo(2 * queueDepth)),
    ),
    bufferCount: integer('options.bufferCount', options.bufferCount, 0, 65536, queueDepth),
    bufferSize: integer('options.bufferSize', options.bufferSize, 0, 1 << 28, 65536),
    producers: integer('options.producers', options.producers, 1, RING.maxProducers, 8),
    spinMicros: integer('options.spinMicros', options.spinMicros, 0, 10_000, 0),
    mmapSlots: integer('options.mmapSlots', options.mmapSlots, 0, 64, 0),
    loopReapDepth: integer('options.loopReapDepth', options.loopReapDepth, 0, 256, queueDepth),
    timing: flag('options.timing', options.timing, true),
    sgThreads: flag('options.sgThreads', options.sgThreads, false),
    completionBatch: integer('options.completionBatch', options.completionBatch, 1, 4096, 1),
  };
}

/**
 * Opens a ring on an sg (`/dev/sgN`, opened O_RDWR) or bsg (`/dev/bsg/H:C:T:L`) node and
 * starts its consumer. Throws InvalidFieldError for bad options (entries not a power of
 * two, queueDepth above entries or the node kind's limit) and OsError when the node
 * cannot be opened.
 */
export function openRing(path: string, options: RingOptions = {}): ScsiRing {
  const addon = loadAddon();
  const s = sizing(options);
  if ((s.entries & (s.entries - 1)) !== 0)
    throw new InvalidFieldError('options.entries', 'must be a power of two', s.entries);
  if (s.queueDepth > s.entries)
    throw new InvalidFieldError('options.queueDepth', `must be <= entries (${s.entries})`, s.queueDepth);
  let ring: ScsiRing | undefined;
  const native = new addon.NativeRing({ path, ...s }, (stopped: boolean) => ring?.onCompletions(stopped));
  ring = new ScsiRing(native, true);
  return ring;
}

/**
 * Attaches this thread (typically a worker_thread) to a ring opened elsewhere in the
 * process, from its {@link ScsiRing.share} data. One attachment per thread per ring;
 * OsError EBADF when the ring is closing or gone.
 */
export function attachRing(share: RingShare): ScsiRing {
  const addon = loadAddon();
  let ring: ScsiRing | undefined;
  const native = new addon.NativeRing({ id: share.id }, (stopped: boolean) => ring?.onCompletions(stopped));
  ring = new ScsiRing(native, false);
  return ring;
}
