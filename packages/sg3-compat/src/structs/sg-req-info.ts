/**
 * `struct sg_req_info` (include/scsi/sg.h), one entry of SG_GET_REQUEST_TABLE: 24 bytes on
 * LP64, 20 bytes as `struct compat_sg_req_info` (drivers/scsi/sg.c), which sg fills entry by
 * entry in `put_compat_request_table()` for a compat caller.
 * @module
 */
import { SG_MAX_QUEUE } from '@sgv4/core';
import type { SgAbi } from '../abi/c-abi.js';
import { StructCodec } from '../abi/struct-codec.js';

/** One request slot as SG_GET_REQUEST_TABLE reports it (`sg_fill_request_table()`). */
export interface SgReqInfo {
  /** 0: unused slot; 1: written, in flight; 2: done, ready to read (`done + 1`). */
  reqState: number;
  /** 1: an interrupted SG_IO's request. */
  orphan: number;
  /** 1: owned by SG_IO (read() never returns it). */
  sgIoOwned: number;
  /** 1: masked_status, host_status or driver_status is non-zero. */
  problem: number;
  /** The request's pack_id. */
  packId: number;
  /** The request's usr_ptr. */
  usrPtr: bigint;
  /** ms since it was written (in flight) or the request's duration (done). */
  duration: number;
  /** Unused (0). */
  unused: number;
}

/** The members of struct sg_req_info. */
export const SG_REQ_INFO = new StructCodec<SgReqInfo>('sg_req_info', [
  { name: 'reqState', cName: 'req_state', type: 's8' },
  { name: 'orphan', cName: 'orphan', type: 's8' },
  { name: 'sgIoOwned', cName: 'sg_io_owned', type: 's8' },
  { name: 'problem', cName: 'problem', type: 's8' },
  { name: 'packId', cName: 'pack_id', type: 's32' },
  { name: 'usrPtr', cName: 'usr_ptr', type: 'ptr' },
  { name: 'duration', cName: 'duration', type: 'u32' },
  { name: 'unused', cName: 'unused', type: 's32' },
]);

/** An all-zero entry: what the table holds past the fd's requests (the kernel kcalloc()s it). */
export function emptySgReqInfo(): SgReqInfo {
  return { reqState: 0, orphan: 0, sgIoOwned: 0, problem: 0, packId: 0, usrPtr: 0n, duration: 0, unused: 0 };
}

/** Bytes SG_GET_REQUEST_TABLE writes on `abi`: SG_MAX_QUEUE entries (384 on LP64, 320 on ILP32). */
export function sgRequestTableSize(abi: SgAbi): number {
  return SG_REQ_INFO.size(abi) * SG_MAX_QUEUE;
}

/** Encodes a request table: exactly SG_MAX_QUEUE entries (fewer are padded with empty ones). */
export function encodeSgRequestTable(
  entries: readonly SgReqInfo[],
  abi: SgAbi,
  target?: Uint8Array,
  offset = 0,
): Uint8Array {
  const full = [...entries.slice(0, SG_MAX_QUEUE)];
  while (full.length < SG_MAX_QUEUE) full.push(emptySgReqInfo());
  return SG_REQ_INFO.encodeArray(full, abi, target, offset);
}

/** Decodes the SG_MAX_QUEUE entries of a request table. */
export function decodeSgRequestTable(bytes: Uint8Array, abi: SgAbi, offset = 0): SgReqInfo[] {
  return SG_REQ_INFO.decodeArray(bytes, abi, SG_MAX_QUEUE, offset);
}
