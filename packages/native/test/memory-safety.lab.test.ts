/**
 * The kernel never writes into memory JavaScript gave away: buffers of a request in flight
 * that are transferred (structuredClone, postMessage) are never written, through a bounce
 * buffer on the sg queue and on the addon's SG_IO threads; iovec arrays are read once;
 * memory that cannot go away (allocateBuffer, SharedArrayBuffer) is used in place; the
 * mmap-ed reserve cannot be moved and is unreachable after munmap. Against the real sg and
 * bsg drivers in the lab guest.
 */
import { createHook } from 'node:async_hooks';
import { writeFileSync } from 'node:fs';
import { MessageChannel } from 'node:worker_threads';
import { createSgIoV4Header, decodeSgIoV4, encodeSgIoV4, SG_FLAG_MMAP_IO } from '@sgv4/core';
import { allocateBuffer, openScsiHandle, type ScsiHandle } from '@sgv4/native';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFdCount } from './fd-count.js';
import { type Latency, labNodes, latency, setLatency, setScsiDebugParam } from './lab-nodes.js';
import {
  dataInRequest,
  dataOutRequest,
  encodedHeader,
  pattern,
  read10Cdb,
  write10Cdb,
} from './scsi-commands.js';

const BLOCK = 512;
const LBA0 = 40_000;
const SG_FLAG_DIRECT_IO = 1;
const SG_INFO_DIRECT_IO = 2;
const ALLOW_DIO = '/sys/module/sg/parameters/allow_dio';

/** Moves a buffer's memory to a new owner, as a worker's postMessage would. */
function transferAway(buffer: ArrayBufferLike): Uint8Array {
  const moved = new Uint8Array(structuredClone(buffer as ArrayBuffer, { transfer: [buffer as ArrayBuffer] }));
  moved.fill(0x5a);
  return moved;
}

function untouched(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0x5a);
}

const fdsAtStart = openFdCount();
let saved: Latency;
let sg: ScsiHandle;
let bsg: ScsiHandle;
beforeAll(async () => {
  sg = openScsiHandle(labNodes.sg, { readWrite: true });
  bsg = openScsiHandle(labNodes.bsg, { readWrite: true });
  for (let i = 0; i < 8; i++) sg.sgIoSync(dataOutRequest(write10Cdb(LBA0 + i * 8, 8), pattern(8 * BLOCK, i)));
  saved = latency();
  await setLatency({ delay: 25 }); // jiffies (100 ms at HZ=250): requests stay in flight while the test moves their memory
});
afterAll(async () => {
  await sg.close();
  await bsg.close();
  await setLatency(saved); // the guest is shared by every lab file
  expect(openFdCount()).toBe(fdsAtStart);
});

describe('a buffer transferred away while its request is in flight is never written', () => {
  it('data-in on the sg queue: the new owner keeps its bytes; the request rejects naming dataIn', async () => {
    const request = dataInRequest(read10Cdb(LBA0, 8), 8 * BLOCK);
    const pending = sg.sgIo(request).catch((e: unknown) => e);
    const moved = transferAway(request.dataIn.buffer);
    expect(request.dataIn.byteLength).toBe(0);
    const error = await pending;
    expect(error).toMatchObject({ name: 'InvalidFieldError', field: 'dataIn' });
    expect(untouched(moved)).toBe(true);
  });

  it('data-in on an SG_IO thread (bsg): the new owner keeps its bytes', async () => {
    const request = dataInRequest(read10Cdb(LBA0 + 8, 8), 8 * BLOCK);
    const pending = bsg.sgIo(request).catch((e: unknown) => e);
    const channel = new MessageChannel();
    const received = new Promise<ArrayBuffer>((resolve) => channel.port2.once('message', resolve));
    channel.port1.postMessage(request.dataIn.buffer, [request.dataIn.buffer as ArrayBuffer]);
    const moved = new Uint8Array(await received);
    moved.fill(0x5a);
    channel.port1.close();
    expect(await pending).toMatchObject({ field: 'dataIn' });
    expect(untouched(moved)).toBe(true);
  });

  it('the encoded header: its results are not written into the new owner', async () => {
    const header = encodedHeader({ requestLen: 10, dinXferLen: 4096 });
    const dataIn = new Uint8Array(4096);
    const pending = sg
      .sgIoEncoded(header, read10Cdb(LBA0, 8), new Uint8Array(32), null, dataIn)
      .catch((e: unknown) => e);
    const moved = transferAway(header.buffer);
    expect(await pending).toMatchObject({ field: 'header' });
    expect(untouched(moved)).toBe(true);
    expect(dataIn).toEqual(pattern(8 * BLOCK, 0)); // what could be delivered was
  });

  it('the sense buffer of a CHECK CONDITION', async () => {
    // scsi_debug opts=2: MEDIUM ERROR for READs of LBA 0x1234..; answered after the delay
    // (errors found by the response function go through schedule_resp with the delay).
    setScsiDebugParam('opts', 2);
    try {
      const request = dataInRequest(read10Cdb(0x1234, 8), 8 * BLOCK);
      const pending = sg.sgIo(request).catch((e: unknown) => e);
      const moved = transferAway(request.sense.buffer);
      expect(await pending).toMatchObject({ field: 'sense' });
      expect(untouched(moved)).toBe(true);
    } finally {
      setScsiDebugParam('opts', 0);
    }
  });

  it('data-out is copied at submission: moving it afterwards changes nothing', async () => {
    const data = pattern(8 * BLOCK, 99);
    const copy = data.slice();
    const pending = bsg.sgIo(dataOutRequest(write10Cdb(LBA0 + 100, 8), data));
    transferAway(data.buffer);
    await expect(pending).resolves.toMatchObject({ deviceStatus: 0 });
    const back = dataInRequest(read10Cdb(LBA0 + 100, 8), 8 * BLOCK);
    sg.sgIoSync(back);
    expect(back.dataIn).toEqual(copy);
  });
});

describe('memory that cannot go away is used in place', () => {
  const cases = [
    ['allocateBuffer', () => allocateBuffer(8 * BLOCK)],
    ['SharedArrayBuffer', () => new Uint8Array(new SharedArrayBuffer(8 * BLOCK))],
  ] as const;

  it.each(cases)('%s on the sg queue: no bounce copy', async (_name, make) => {
    const dataIn = make();
    const before = sg.stats().bouncedBytes;
    await sg.sgIo({ ...dataInRequest(read10Cdb(LBA0 + 16, 8), 8 * BLOCK), dataIn });
    expect(dataIn).toEqual(pattern(8 * BLOCK, 2));
    expect(sg.stats().bouncedBytes).toBe(before);
  });

  it('allocateBuffer on an SG_IO thread (bsg): no bounce copy; a SharedArrayBuffer is bounced there', async () => {
    const native = allocateBuffer(8 * BLOCK);
    const before = bsg.stats().bouncedBytes;
    await bsg.sgIo({ ...dataInRequest(read10Cdb(LBA0 + 24, 8), 8 * BLOCK), dataIn: native });
    expect(native).toEqual(pattern(8 * BLOCK, 3));
    expect(bsg.stats().bouncedBytes).toBe(before);
    // A worker's SharedArrayBuffer is freed with its environment, which does not wait for SG_IO.
    const shared = new Uint8Array(new SharedArrayBuffer(8 * BLOCK));
    await bsg.sgIo({ ...dataInRequest(read10Cdb(LBA0 + 24, 8), 8 * BLOCK), dataIn: shared });
    expect(shared).toEqual(pattern(8 * BLOCK, 3));
    expect(bsg.stats().bouncedBytes).toBe(before + 8 * BLOCK);
  });

  it('direct IO only ever sees native memory: in place for allocateBuffer, a page-aligned bounce otherwise', async () => {
    writeFileSync(ALLOW_DIO, '1');
    try {
      const dio = (dataIn: Uint8Array) => ({
        ...dataInRequest(read10Cdb(LBA0 + 32, 8), 8 * BLOCK, { flags: SG_FLAG_DIRECT_IO }),
        dataIn,
      });
      const native = allocateBuffer(8 * BLOCK);
      const before = sg.stats().bouncedBytes;
      const inPlace = await sg.sgIo(dio(native));
      expect(inPlace.info & SG_INFO_DIRECT_IO).toBe(SG_INFO_DIRECT_IO);
      expect(native).toEqual(pattern(8 * BLOCK, 4));
      expect(sg.stats().bouncedBytes).toBe(before);
      const plain = new Uint8Array(8 * BLOCK);
      const bounced = await sg.sgIo(dio(plain));
      // The bounce is native memory keeping the view's offset within its page, so the kernel's
      // alignment test (blk_rq_aligned) sees what it would have seen with the JS memory.
      expect(bounced.info & SG_INFO_DIRECT_IO).toBe(SG_INFO_DIRECT_IO);
      expect(plain).toEqual(pattern(8 * BLOCK, 4));
      expect(sg.stats().bouncedBytes).toBe(before + 8 * BLOCK);
    } finally {
      writeFileSync(ALLOW_DIO, '0');
    }
  });
});

describe('iovec arrays are read once', () => {
  it.each([
    ['the sg queue', 'async'],
    ['a synchronous call', 'sync'],
  ] as const)('on %s: the segment validated is the segment used and pinned', async (_name, mode) => {
    let reads = 0;
    const first = new Uint8Array(4 * BLOCK);
    const segments: Uint8Array[] = [new Uint8Array(4 * BLOCK)];
    // A getter that answers a different (and shorter) buffer from its second read on.
    Object.defineProperty(segments, 1, {
      enumerable: true,
      get() {
        reads += 1;
        return reads === 1 ? first : new Uint8Array(BLOCK);
      },
    });
    const header = createSgIoV4Header({
      requestLen: 10,
      dinXferLen: 8 * BLOCK,
      dinIovecCount: 2,
      timeout: 20_000,
    });
    const request = { header, cdb: read10Cdb(LBA0 + 40, 8), dataIn: segments };
    if (mode === 'sync') sg.sgIoSync(request);
    else await sg.sgIo(request);
    expect(reads).toBe(1);
    const whole = pattern(8 * BLOCK, 5);
    expect(segments[0]).toEqual(whole.subarray(0, 4 * BLOCK));
    expect(first).toEqual(whole.subarray(4 * BLOCK));
  });
});

describe('JavaScript run while a request is read cannot move memory the kernel will use', () => {
  // An accessor on an iovec element runs JavaScript in the middle of the addon reading a
  // request. Every value of a request (of every request of a batch) is read before any
  // pointer into a JS buffer is taken, so a buffer moved by such an accessor is seen as
  // moved (a typed error naming it), and the memory it moved to is never touched.
  function withMovingAccessor(first: Uint8Array, move: () => ArrayBufferLike): Uint8Array[] {
    const segments: Uint8Array[] = [first];
    Object.defineProperty(segments, 1, {
      enumerable: true,
      get() {
        moved.push(transferAway(move()));
        return new Uint8Array(4 * BLOCK);
      },
    });
    return segments;
  }
  let moved: Uint8Array[] = [];

  it.each([
    ['the first data-in segment', 'dataIn[0]'],
    ['the encoded header', 'header'],
  ] as const)(
    'a synchronous call whose accessor moves %s: a typed error, nothing written',
    (_name, target) => {
      moved = [];
      const header = encodeSgIoV4(
        createSgIoV4Header({ requestLen: 10, dinXferLen: 8 * BLOCK, dinIovecCount: 2, timeout: 20_000 }),
      );
      const first = new Uint8Array(4 * BLOCK);
      const dataIn = withMovingAccessor(first, () => (target === 'header' ? header.buffer : first.buffer));
      let error: unknown;
      try {
        sg.sgIoSyncEncoded(header, read10Cdb(LBA0 + 48, 8), null, null, dataIn);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({
        name: 'InvalidFieldError',
        field: target === 'header' ? 'header' : 'din_xfer_len',
      });
      expect(moved).toHaveLength(1);
      expect(untouched(moved[0] as Uint8Array)).toBe(true);
    },
  );

  it("a batch: an accessor in one request moving another request's data-out refuses that request; the device never sees the moved bytes", async () => {
    moved = [];
    const original = pattern(8 * BLOCK, 6);
    sg.sgIoSync(dataOutRequest(write10Cdb(LBA0 + 56, 8), original));
    const victimData = pattern(8 * BLOCK, 7);
    const victim = dataOutRequest(write10Cdb(LBA0 + 56, 8), victimData);
    const header = createSgIoV4Header({
      requestLen: 10,
      doutXferLen: 8 * BLOCK,
      doutIovecCount: 2,
      timeout: 20_000,
    });
    const mover = {
      header,
      cdb: write10Cdb(LBA0 + 64, 8),
      dataOut: withMovingAccessor(new Uint8Array(4 * BLOCK), () => victimData.buffer),
    };
    const [first, second] = sg.submitMany([victim, mover]);
    await expect(first).rejects.toMatchObject({ name: 'InvalidFieldError' });
    await second;
    expect(moved).toHaveLength(1);
    const back = dataInRequest(read10Cdb(LBA0 + 56, 8), 8 * BLOCK);
    sg.sgIoSync(back);
    expect(back.dataIn).toEqual(original);
  });

  it('a write that waits for a free slot sends the bytes it was submitted with, even if its buffer moves meanwhile', async () => {
    // 16 commands fill the fd's slots (SG_MAX_QUEUE) for 100 ms (delay=25 jiffies): the 17th waits.
    const fillers = Array.from({ length: 16 }, (_, i) =>
      sg.sgIo(dataInRequest(read10Cdb(LBA0 + i * 8, 8), 8 * BLOCK)),
    );
    const data = pattern(8 * BLOCK, 8);
    const copy = data.slice();
    const waiting = sg.sgIo(dataOutRequest(write10Cdb(LBA0 + 72, 8), data));
    const away = transferAway(data.buffer); // fills the moved memory with 0x5a
    await Promise.all(fillers);
    await expect(waiting).resolves.toMatchObject({ deviceStatus: 0 });
    expect(untouched(away)).toBe(true);
    const back = dataInRequest(read10Cdb(LBA0 + 72, 8), 8 * BLOCK);
    sg.sgIoSync(back);
    expect(back.dataIn).toEqual(copy);
  });
});

describe('a synchronous call on the sg queue runs no JavaScript before its request is delivered', () => {
  it('other requests completing meanwhile settle after its data arrived: a promise hook moving its buffer finds the data there', async () => {
    const others = Array.from({ length: 4 }, (_, i) =>
      sg.sgIo(dataInRequest(read10Cdb(LBA0 + i * 8, 8), 8 * BLOCK)),
    );
    const request = dataInRequest(read10Cdb(LBA0 + 8, 8), 8 * BLOCK);
    const dataIn: Uint8Array = request.dataIn;
    let inside = false;
    let seen: Uint8Array | undefined;
    let away: Uint8Array | undefined;
    const hook = createHook({
      promiseResolve() {
        if (!inside || away !== undefined) return;
        // The first JavaScript to run during the call: what the buffer holds, then move it.
        seen = dataIn.slice();
        away = transferAway(dataIn.buffer);
      },
    }).enable();
    try {
      inside = true;
      sg.sgIoSync(request); // waits 100 ms (delay=25 jiffies) while the four complete
    } finally {
      inside = false;
      hook.disable();
    }
    await Promise.all(others);
    expect(away).toBeDefined();
    expect(seen).toEqual(pattern(8 * BLOCK, 1));
    expect(untouched(away as Uint8Array)).toBe(true);
  });
});

describe('the mmap-ed reserved buffer', () => {
  it('cannot be moved away (Node 20 copies it, later Node refuses), and is unreachable after munmap', async () => {
    const h = openScsiHandle(labNodes.sg, { readWrite: true });
    h.setReservedSize(8 * BLOCK);
    const mapped = h.mapReservedBuffer(8 * BLOCK);
    const view = new Uint8Array(mapped);
    let copy: ArrayBuffer | undefined;
    try {
      copy = structuredClone(mapped, { transfer: [mapped] });
    } catch (error) {
      expect((error as Error).name).toBe('DataCloneError');
    }
    expect(mapped.byteLength).toBe(8 * BLOCK); // still attached: nobody else owns the pages
    const header = encodeSgIoV4(
      createSgIoV4Header({ requestLen: 10, dinXferLen: 8 * BLOCK, flags: SG_FLAG_MMAP_IO, timeout: 20_000 }),
    );
    await h.sgIoEncoded(header, read10Cdb(LBA0 + 48, 8), null, null, null);
    expect(decodeSgIoV4(header).deviceStatus).toBe(0);
    expect(view).toEqual(pattern(8 * BLOCK, 6));
    if (copy !== undefined) expect(new Uint8Array(copy).every((b) => b === 0)).toBe(true); // a snapshot from before
    expect(h.unmapReservedBuffer()).toBe(true);
    expect(mapped.byteLength).toBe(0);
    expect(view.length).toBe(0);
    expect(view[0]).toBeUndefined(); // no access reaches the unmapped pages
    await h.close();
  });
});
