/**
 * The two ends of a `sgv4 dd` copy: a SCSI device (through @sgv4/bsg: READ/WRITE commands,
 * with the transfer mode asked for) or a plain file (positional read/write; stdin/stdout
 * sequential).
 */
import { closeSync, fstatSync, openSync, readlinkSync, readSync, statSync, writeSync } from 'node:fs';
import { type Device, type DeviceResponse, open, readWriteCdb, type TransferMode } from '@sgv4/bsg';
import { OsError, responseError, SG_INFO_DIRECT_IO_MASK } from '@sgv4/core';
import { UsageError } from '../framework/usage-error.js';
import { openRingEndpoint } from './ring-endpoint.js';

/** One end of the copy. */
export interface DdEndpoint {
  /** The name given. */
  readonly name: string;
  /** `device` (SCSI commands) or `file`. */
  readonly kind: 'device' | 'file';
  /** Block size the end imposes (devices), if any. */
  readonly blockSize?: number;
  /** Blocks available from the start (devices and regular files), if known. */
  readonly blocks?: (bs: number) => bigint | undefined;
  /** Reads `count` blocks of `bs` at block `at` into `buffer`; resolves the bytes read (short at end of file). */
  read(at: number, count: number, bs: number, buffer: Uint8Array): Promise<number>;
  /** Writes `buffer` (`count` blocks) at block `at`. */
  write(at: number, count: number, bs: number, buffer: Uint8Array): Promise<void>;
  /** Writes must happen in order (pipes, stdout). */
  readonly sequential: boolean;
  /** Writes are dropped (/dev/null as the output): the copy loop does not call write() at all. */
  readonly discards?: boolean;
  /** The end can hand out mmap-ed buffers (an sg node opened read-write). */
  readonly mmap: boolean;
  /** mmap-ed sg reserve buffers for this end (mmap mode), when {@link DdEndpoint.mmap}. */
  mapReservedBuffer?(length: number): Uint8Array;
  /** A buffer this end moves without a copy (the device's own memory), for a device end. */
  allocateBuffer?(length: number): Uint8Array;
  /** Direct IO requested but done indirectly (sg: SG_INFO_DIRECT_IO not set), so far. */
  readonly dioIncomplete: number;
  /** SCSI commands sent, so far. */
  readonly commands: number;
  /** Transfers the copy loop should keep going for this end (the ring's pipeline), when it has a preference. */
  readonly slots?: number;
  /** Releases the end. */
  close(): Promise<void>;
}

/** What a dd operand names: a SCSI node kind, a transport URL, or a plain file. */
export type DdTarget = 'sg' | 'bsg' | 'block' | 'url' | 'file';

/**
 * What `name` is: a `scheme:` location, a block device, an sg or bsg character device (the
 * sysfs `subsystem` of its /sys/dev/char entry), or a file (/dev/null, /dev/zero, regular files).
 */
export function ddTarget(name: string): DdTarget {
  if (/^[a-z][a-z0-9+.-]+:/i.test(name)) return 'url';
  if (name === '-') return 'file';
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(name);
  } catch {
    return 'file';
  }
  if (st.isBlockDevice()) return 'block';
  if (!st.isCharacterDevice()) return 'file';
  // new_decode_dev() (include/linux/kdev_t.h)
  const major = (st.rdev >> 8) & 0xfff;
  const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
  try {
    const subsystem = readlinkSync(`/sys/dev/char/${major}:${minor}/subsystem`);
    return subsystem.endsWith('/scsi_generic') ? 'sg' : subsystem.endsWith('/bsg') ? 'bsg' : 'file';
  } catch {
    return 'file';
  }
}

/** How a device end moves data. */
export interface DeviceEndpointOptions {
  /** Transfer mode asked for. */
  readonly mode: TransferMode;
  /** Open without write access (the permission pre-check knows). */
  readonly readOnly: boolean;
  /** What the operand names (sg and bsg nodes can go through the ring). */
  readonly target: DdTarget;
  /** Commands in flight at once (`--qd`). */
  readonly qd: number;
  /** Blocks per transfer (`bpt=`). */
  readonly bpt: number;
}

/**
 * A device end: READ/WRITE (10 or 16). sg and bsg nodes in indirect or direct mode go through
 * the sgv4 ring (./ring-endpoint.ts says why); mmap mode, block nodes, transport URLs and nodes
 * the ring cannot open go through the Device's queue.
 */
export async function openDeviceEndpoint(name: string, options: DeviceEndpointOptions): Promise<DdEndpoint> {
  const { mode, readOnly, target } = options;
  const device: Device = await open(name, { readOnly, identify: false });
  try {
    if (mode === 'direct' && device.capabilities.directIo === 'none') {
      throw new UsageError(`--mode dio: ${device.capabilities.name} has no direct IO`);
    }
    const capacity = await device.readCapacity();
    if ((target === 'sg' || target === 'bsg') && mode !== 'mmap') {
      const ring = openRingEndpoint({
        path: name,
        kind: target,
        device,
        blockSize: capacity.blockSize,
        blocks: capacity.blocks,
        qd: options.qd,
        transferBytes: options.bpt * capacity.blockSize,
        directIo: mode === 'direct',
      });
      if (ring !== undefined) return ring;
    }
    return new DeviceEndpoint(name, device, capacity.blockSize, capacity.blocks, mode);
  } catch (error) {
    await device.close();
    throw error;
  }
}

class DeviceEndpoint implements DdEndpoint {
  readonly kind = 'device';
  readonly sequential = false;
  readonly mmap: boolean;
  dioIncomplete = 0;
  commands = 0;
  readonly #device: Device;
  readonly #mode: TransferMode;
  readonly #total: bigint;
  readonly #mapped = new WeakSet<ArrayBufferLike>();

  constructor(
    readonly name: string,
    device: Device,
    readonly blockSize: number,
    total: bigint,
    mode: TransferMode,
  ) {
    this.#device = device;
    this.#mode = mode;
    this.mmap = device.capabilities.mmap;
    this.#total = total;
  }

  blocks = (): bigint => this.#total;

  allocateBuffer(length: number): Uint8Array {
    return this.#device.allocateBuffer(length);
  }

  mapReservedBuffer(length: number): Uint8Array {
    const buffer = this.#device.mapReservedBuffer(length);
    this.#mapped.add(buffer.buffer);
    return buffer;
  }

  /** The transfer mode for a request with `buffer`: mmap only for this end's own mapped buffers. */
  #transfer(buffer: Uint8Array): TransferMode {
    if (this.#mode === 'mmap') return this.#mapped.has(buffer.buffer) ? 'mmap' : 'indirect';
    return this.#mode;
  }

  async read(at: number, count: number, _bs: number, buffer: Uint8Array): Promise<number> {
    return (await this.#transferBlocks(false, at, count, buffer)).transferred;
  }

  async write(at: number, count: number, _bs: number, buffer: Uint8Array): Promise<void> {
    await this.#transferBlocks(true, at, count, buffer);
  }

  /** One READ or WRITE of `count` blocks at `at`; a response that is not a success throws its error. */
  async #transferBlocks(
    write: boolean,
    at: number,
    count: number,
    buffer: Uint8Array,
  ): Promise<DeviceResponse> {
    const r = await this.#device.submit({
      cdb: readWriteCdb(write, BigInt(at), count),
      ...(write ? { dataOut: buffer } : { dataIn: buffer }),
      transfer: this.#transfer(buffer),
    });
    this.commands++;
    const error = responseError(r);
    if (error !== undefined) throw error;
    // sg reports whether it really did direct IO (SG_INFO_DIRECT_IO, sg_common_write): count the misses as sg_dd does.
    if (
      this.#mode === 'direct' &&
      this.#device.capabilities.directIo === 'flag' &&
      (r.info & SG_INFO_DIRECT_IO_MASK) === 0
    )
      this.dioIncomplete++;
    return r;
  }

  close(): Promise<void> {
    return this.#device.close();
  }
}

/** A file end: positional reads and writes (stdin/stdout and pipes in order). */
export function openFileEndpoint(name: string, forWrite: boolean): DdEndpoint {
  let fd: number;
  let owned = true;
  try {
    if (name === '-') {
      fd = forWrite ? 1 : 0;
      owned = false;
    } else {
      fd = openSync(name, forWrite ? 'w' : 'r');
    }
  } catch (error) {
    throw OsError.fromNodeError(error, 'open') ?? error;
  }
  const st = fstatSync(fd);
  const positional = st.isFile() || st.isBlockDevice();
  // /dev/null (char 1:3, new_encode_dev in include/linux/kdev_t.h) as the output: the data is
  // dropped without a write(2) per transfer, as sg_dd does (it does not even open it).
  const discard = forWrite && st.isCharacterDevice() && st.rdev === ((1 << 8) | 3);
  return {
    name,
    kind: 'file',
    mmap: false,
    sequential: !positional && !st.isCharacterDevice(),
    discards: discard,
    dioIncomplete: 0,
    commands: 0,
    ...(st.isFile() && !forWrite ? { blocks: (bs: number) => BigInt(Math.floor(st.size / bs)) } : {}),
    read(at, count, bs, buffer) {
      let done = 0;
      const want = count * bs;
      try {
        while (done < want) {
          const n = readSync(fd, buffer, done, want - done, positional ? at * bs + done : null);
          if (n === 0) break;
          done += n;
        }
      } catch (error) {
        return Promise.reject(OsError.fromNodeError(error, 'read') ?? error);
      }
      return Promise.resolve(done);
    },
    write(at, count, bs, buffer) {
      if (discard) return Promise.resolve();
      let done = 0;
      const want = count * bs;
      try {
        while (done < want)
          done += writeSync(fd, buffer, done, want - done, positional ? at * bs + done : null);
      } catch (error) {
        return Promise.reject(OsError.fromNodeError(error, 'write') ?? error);
      }
      return Promise.resolve();
    },
    close() {
      if (owned) closeSync(fd);
      return Promise.resolve();
    },
  };
}
