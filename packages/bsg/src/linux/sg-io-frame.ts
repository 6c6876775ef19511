/**
 * One request's `struct sg_io_v4` (include/uapi/linux/bsg.h) for the kernel paths: written
 * straight into 160 bytes from a transport request, and the outputs read back from them. The
 * native layer fills the pointer fields from the buffers and down-converts to sg_io_hdr (v3)
 * for sg and block nodes; offsets come from the core's layout table.
 * @module
 */
import {
  BSG_FLAG_Q_AT_HEAD,
  BSG_FLAG_Q_AT_TAIL,
  SG_FLAG_DIRECT_IO,
  SG_FLAG_MMAP_IO,
  SG_IO_V4_GUARD,
  SG_IO_V4_LAYOUT,
  SG_IO_V4_SIZE,
  type SgIoV4Header,
} from '@sgv4/core';
import type { TransportRequest, TransportResult } from '../transport/transport.js';

function offset(name: keyof SgIoV4Header): number {
  const f = SG_IO_V4_LAYOUT.find((l) => l.name === name);
  if (f === undefined) throw new Error(`sg_io_v4 has no field ${name}`);
  return f.offset;
}

const AT = {
  guard: offset('guard'),
  requestLen: offset('requestLen'),
  requestTag: offset('requestTag'),
  requestAttr: offset('requestAttr'),
  requestPriority: offset('requestPriority'),
  maxResponseLen: offset('maxResponseLen'),
  doutIovecCount: offset('doutIovecCount'),
  doutXferLen: offset('doutXferLen'),
  dinIovecCount: offset('dinIovecCount'),
  dinXferLen: offset('dinXferLen'),
  timeout: offset('timeout'),
  flags: offset('flags'),
  driverStatus: offset('driverStatus'),
  transportStatus: offset('transportStatus'),
  deviceStatus: offset('deviceStatus'),
  info: offset('info'),
  duration: offset('duration'),
  responseLen: offset('responseLen'),
  dinResid: offset('dinResid'),
  doutResid: offset('doutResid'),
} as const;

function byteLength(data: TransportRequest['dataIn']): { length: number; iovecs: number } {
  if (data === undefined) return { length: 0, iovecs: 0 };
  if (data instanceof Uint8Array) return { length: data.length, iovecs: 0 };
  let length = 0;
  for (const b of data) length += b.length;
  return { length, iovecs: data.length };
}

/** What the encoder needs beyond the request. */
export interface FrameOptions {
  /** Put the task tag in request_tag (paths that read it; 6.1 bsg returns it untouched). */
  readonly tagInHeader: boolean;
  /** Data length for an mmap-ed request (no data buffer: the data is in the sg reserve). */
  readonly mmapLength?: number;
}

/** Bytes of sense a frame can take: sg_io_hdr.mx_sb_len is a u8. */
const FRAME_SENSE = 255;

/**
 * A request's header and sense buffer, cut from one allocation and reused from request to
 * request ({@link FramePool}): a frame belongs to one request from submission until its result
 * is decoded (the native layer writes into it until then).
 */
export interface Frame {
  /** The 160-byte sg_io_v4. */
  readonly header: Uint8Array;
  /** A view of the header. */
  readonly view: DataView;
  /** The sense buffer (up to 255 bytes; max_response_len says how many the kernel may write). */
  readonly sense: Uint8Array;
}

/** Bytes one frame takes: the header, then the sense buffer. */
export const FRAME_BYTES = SG_IO_V4_SIZE + FRAME_SENSE;

/** A frame over `memory` (at least {@link FRAME_BYTES} bytes from `offset`). */
export function frameIn(memory: Uint8Array, offset = 0): Frame {
  const header = memory.subarray(offset, offset + SG_IO_V4_SIZE);
  return {
    header,
    view: new DataView(header.buffer, header.byteOffset, SG_IO_V4_SIZE),
    sense: memory.subarray(offset + SG_IO_V4_SIZE, offset + FRAME_BYTES),
  };
}

/** Frames per block a {@link FramePool} asks its allocator for. */
const FRAMES_PER_BLOCK = 8;

/**
 * Frames of finished requests, ready for the next ones (no allocation in steady state). New
 * frames are cut from blocks of `memory(length)`: with the native layer's memory the kernel
 * results land in the header without a copy.
 */
export class FramePool {
  readonly #free: Frame[] = [];
  readonly #memory: (length: number) => Uint8Array;

  constructor(memory: (length: number) => Uint8Array = (length) => new Uint8Array(length)) {
    this.#memory = memory;
  }

  /** A zeroed frame. */
  acquire(): Frame {
    const frame = this.#free.pop();
    if (frame !== undefined) {
      frame.header.fill(0);
      return frame;
    }
    const block = this.#memory(FRAME_BYTES * FRAMES_PER_BLOCK);
    for (let i = 1; i < FRAMES_PER_BLOCK; i++) this.#free.push(frameIn(block, i * FRAME_BYTES));
    return frameIn(block, 0);
  }

  /** Gives a frame back once its result is decoded (or its request failed). */
  release(frame: Frame): void {
    if (this.#free.length < 64) this.#free.push(frame);
  }
}

/**
 * Writes the header for `request` into `frame`: protocol SCSI, subprotocol command; queue
 * position as BSG_FLAG_Q_AT_* (the same bits as SG_FLAG_Q_AT_*); SG_FLAG_DIRECT_IO for `direct`,
 * SG_FLAG_MMAP_IO for `mmap` (sg's sg_io_hdr flags, passed through by the v3 down-conversion).
 */
export function encodeFrame(frame: Frame, request: TransportRequest, options: FrameOptions): void {
  const view = frame.view;
  view.setInt32(AT.guard, SG_IO_V4_GUARD, true);
  view.setUint32(AT.requestLen, request.cdb.length, true);
  if (options.tagInHeader) view.setBigUint64(AT.requestTag, request.tag, true);
  view.setUint32(AT.requestPriority, request.priority, true);
  view.setUint32(AT.maxResponseLen, Math.min(request.maxSenseLength, FRAME_SENSE), true);
  if (options.mmapLength !== undefined) {
    view.setUint32(request.dataOut !== undefined ? AT.doutXferLen : AT.dinXferLen, options.mmapLength, true);
  } else {
    const out = byteLength(request.dataOut);
    const din = byteLength(request.dataIn);
    view.setUint32(AT.doutIovecCount, out.iovecs, true);
    view.setUint32(AT.doutXferLen, out.length, true);
    view.setUint32(AT.dinIovecCount, din.iovecs, true);
    view.setUint32(AT.dinXferLen, din.length, true);
  }
  view.setUint32(AT.timeout, request.timeoutMs, true);
  let flags = 0;
  if (request.queueAt === 'head') flags |= BSG_FLAG_Q_AT_HEAD;
  else if (request.queueAt === 'tail') flags |= BSG_FLAG_Q_AT_TAIL;
  if (request.transfer === 'direct') flags |= SG_FLAG_DIRECT_IO;
  else if (request.transfer === 'mmap') flags |= SG_FLAG_MMAP_IO;
  view.setUint32(AT.flags, flags, true);
}

/** The outputs of a completed frame; the sense bytes are copied out, so the frame can be reused. */
export function decodeFrameResult(frame: Frame): TransportResult {
  const view = frame.view;
  const senseLength = Math.min(view.getUint32(AT.responseLen, true), frame.sense.length);
  return {
    status: view.getUint32(AT.deviceStatus, true),
    hostStatus: view.getUint32(AT.transportStatus, true),
    driverStatus: view.getUint32(AT.driverStatus, true),
    sense: senseLength === 0 ? EMPTY : frame.sense.slice(0, senseLength),
    dinResid: view.getInt32(AT.dinResid, true),
    doutResid: view.getInt32(AT.doutResid, true),
    durationMs: view.getUint32(AT.duration, true),
    info: view.getUint32(AT.info, true),
  };
}

const EMPTY = new Uint8Array(0);
