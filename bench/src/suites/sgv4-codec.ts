/**
 * struct sg_io_v4 encode + decode per second, against the floor: a raw DataView fill of the
 * same 160 bytes (33 fields written, then read back into an object) with no validation.
 * The codec adds range checks on every field, so a ratio near 1 means validation is cheap.
 */
import { createSgIoV4Header, decodeSgIoV4, encodeSgIoV4 } from '@sgv4/core';
import type { BenchSuite } from '../runner.js';

const header = createSgIoV4Header({
  requestLen: 10,
  request: 0x7f00_0000_1000n,
  maxResponseLen: 96,
  response: 0x7f00_0000_2000n,
  dinXferLen: 4096,
  dinXferp: 0x7f00_0000_3000n,
  timeout: 60_000,
  flags: 0x10,
  usrPtr: 42n,
});
const target = new Uint8Array(160);
let sink = 0;

function rawFill(): void {
  const v = new DataView(target.buffer, target.byteOffset, 160);
  const h = header;
  v.setInt32(0, h.guard, true);
  v.setUint32(4, h.protocol, true);
  v.setUint32(8, h.subprotocol, true);
  v.setUint32(12, h.requestLen, true);
  v.setBigUint64(16, h.request, true);
  v.setBigUint64(24, h.requestTag, true);
  v.setUint32(32, h.requestAttr, true);
  v.setUint32(36, h.requestPriority, true);
  v.setUint32(40, h.requestExtra, true);
  v.setUint32(44, h.maxResponseLen, true);
  v.setBigUint64(48, h.response, true);
  v.setUint32(56, h.doutIovecCount, true);
  v.setUint32(60, h.doutXferLen, true);
  v.setUint32(64, h.dinIovecCount, true);
  v.setUint32(68, h.dinXferLen, true);
  v.setBigUint64(72, h.doutXferp, true);
  v.setBigUint64(80, h.dinXferp, true);
  v.setUint32(88, h.timeout, true);
  v.setUint32(92, h.flags, true);
  v.setBigUint64(96, h.usrPtr, true);
  v.setUint32(104, h.spareIn, true);
  for (let off = 108; off < 144; off += 4) v.setUint32(off, 0, true);
  v.setBigUint64(144, 0n, true);
  v.setUint32(152, 0, true);
  v.setUint32(156, 0, true);
  // Read back the output half, as a decode would.
  const out = {
    driverStatus: v.getUint32(108, true),
    transportStatus: v.getUint32(112, true),
    deviceStatus: v.getUint32(116, true),
    info: v.getUint32(124, true),
    duration: v.getUint32(128, true),
    responseLen: v.getUint32(132, true),
    dinResid: v.getInt32(136, true),
    generatedTag: v.getBigUint64(144, true),
    usrPtr: v.getBigUint64(96, true),
  };
  sink ^= out.dinResid ^ out.responseLen;
}

export const sgv4CodecSuite: BenchSuite = {
  name: 'sgv4-codec',
  description:
    'sg_io_v4 encode (validated) + full decode per second vs a raw unvalidated DataView fill of the same 160 bytes',
  baseline: 'raw DataView fill + partial read',
  cases: [
    { name: 'raw DataView fill + partial read', fn: rawFill },
    {
      name: 'encodeSgIoV4 + decodeSgIoV4',
      fn: () => {
        encodeSgIoV4(header, target);
        sink ^= decodeSgIoV4(target).dinResid;
      },
    },
    { name: 'encodeSgIoV4 only', fn: () => void encodeSgIoV4(header, target) },
    {
      name: 'decodeSgIoV4 only',
      fn: () => {
        sink ^= decodeSgIoV4(target).timeout;
      },
    },
  ],
  goals: { 'encodeSgIoV4 + decodeSgIoV4': 0.3 },
};

/** Keeps the results observable so the JIT cannot drop the work. */
export function sgv4CodecSink(): number {
  return sink;
}
