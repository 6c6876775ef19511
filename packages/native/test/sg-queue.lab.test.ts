/**
 * The sg write()/poll/read() queue against the real sg driver: addon pack_ids in 16 slots
 * and a library queue beyond them, batches with one writev, prepared commands, the drain
 * right after submission, AbortSignal, and close() settling every request.
 */
import { AbortedError, createSgIoV4Header } from '@sgv4/core';
import { allocateBuffer, openScsiHandle, type ScsiHandle } from '@sgv4/native';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFdCount } from './fd-count.js';
import { type Latency, labNodes, latency, setLatency } from './lab-nodes.js';
import {
  dataInRequest,
  dataOutRequest,
  encodedHeader,
  pattern,
  read10Cdb,
  write10Cdb,
} from './scsi-commands.js';

const BLOCK = 512;
const LBA0 = 20_000;

function readAt(i: number) {
  return dataInRequest(read10Cdb(LBA0 + i * 8, 8), 8 * BLOCK);
}

/** Blocks the main thread (the poll callback cannot drain meanwhile). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const fdsAtStart = openFdCount();
let saved: Latency;
beforeAll(() => {
  const h = openScsiHandle(labNodes.sg, { readWrite: true });
  for (let i = 0; i < 64; i++) h.sgIoSync(dataOutRequest(write10Cdb(LBA0 + i * 8, 8), pattern(8 * BLOCK, i)));
  void h.close();
  saved = latency();
});
afterAll(async () => {
  await setLatency(saved); // the guest is shared by every lab file
  expect(openFdCount()).toBe(fdsAtStart);
});

describe('with a 100 ms device (requests stay in flight)', () => {
  let h: ScsiHandle;
  beforeAll(async () => {
    await setLatency({ delay: 25 }); // jiffies, HZ=250
    h = openScsiHandle(labNodes.sg, { readWrite: true });
  });
  afterAll(async () => {
    await h.close();
  });

  it('more than 16 in flight: 16 slots in the kernel (pack_id 0..15), the rest queued in the library, no EDOM', async () => {
    const before = h.stats();
    const requests = Array.from({ length: 40 }, (_, i) => readAt(i));
    const promises = requests.map((r) => h.sgIo(r));
    expect(h.inFlight).toBe(40);
    const table = h.getRequestTable();
    expect(
      table
        .filter((r) => r.reqState !== 0)
        .map((r) => r.packId)
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 16 }, (_, i) => i));
    const results = await Promise.all(promises);
    results.forEach((result, i) => {
      expect(result.deviceStatus).toBe(0);
      expect(requests[i]!.dataIn).toEqual(pattern(8 * BLOCK, i));
    });
    const after = h.stats();
    expect(after.libraryQueued - before.libraryQueued).toBe(24);
    expect(after.submitted - before.submitted).toBe(40);
    expect(h.inFlight).toBe(0);
  });

  it('submitMany sends a batch with one writev; requestExtra comes back as passed', async () => {
    const before = h.stats();
    const requests = Array.from({ length: 8 }, (_, i) =>
      dataInRequest(read10Cdb(LBA0 + i * 8, 8), 8 * BLOCK, { requestExtra: 7 }),
    );
    const results = await Promise.all(h.submitMany(requests));
    const after = h.stats();
    expect(after.writevCalls - before.writevCalls).toBe(1);
    expect(after.writeCalls - before.writeCalls).toBe(0);
    for (const [i, result] of results.entries()) {
      expect(result.requestExtra).toBe(7);
      expect(requests[i]!.dataIn).toEqual(pattern(8 * BLOCK, i));
    }
  });

  it('SG_GET_NUM_WAITING and SG_GET_PACK_ID see a completed, unread request (its slot number)', async () => {
    const done = h.sgIo(readAt(3));
    sleepSync(600); // the poll callback cannot run: the request completes but stays unread
    expect(h.getNumWaiting()).toBe(1);
    expect(h.getPackId()).toBe(0);
    await expect(done).resolves.toMatchObject({ deviceStatus: 0 });
    expect(h.getNumWaiting()).toBe(0);
  });

  it('synchronous calls and promises share the fd: pending promises settle while a sync call waits', async () => {
    const pending = Array.from({ length: 10 }, (_, i) => h.sgIo(readAt(i)));
    const sync = readAt(20);
    expect(h.sgIoSync(sync).deviceStatus).toBe(0);
    expect(sync.dataIn).toEqual(pattern(8 * BLOCK, 20));
    await Promise.all(pending);
  });

  it('AbortSignal: queued in the library -> rejected at once, never sent; in the kernel -> abandoned, buffer held', async () => {
    const before = h.stats();
    const controllers = Array.from({ length: 20 }, () => new AbortController());
    const buffers = Array.from({ length: 20 }, () => allocateBuffer(8 * BLOCK));
    // One call submits all 20 (16 to the kernel, 4 to the library queue) with no JS in between.
    const promises = h
      .submitMany(buffers.map((dataIn, i) => ({ ...readAt(i), dataIn, signal: controllers[i]!.signal })))
      .map((p) =>
        p.then(
          () => 'done',
          (e: unknown) => e,
        ),
      );
    controllers[18]!.abort('queued');
    controllers[2]!.abort('in the kernel');
    const queued = await promises[18];
    expect(queued).toBeInstanceOf(AbortedError);
    expect((queued as AbortedError).message).toMatch(/never|before it was sent/);
    const abandoned = await promises[2];
    expect(abandoned).toBeInstanceOf(AbortedError);
    expect((abandoned as AbortedError).message).toMatch(/abandoned/);
    expect(h.inFlight).toBeGreaterThan(0); // the abandoned one is still the kernel's
    const rest = await Promise.all(promises);
    expect(rest.filter((r) => r === 'done')).toHaveLength(18);
    while (h.inFlight > 0) await new Promise((r) => setTimeout(r, 20));
    const after = h.stats();
    expect(after.submitted - before.submitted).toBe(19);
    expect(after.completed - before.completed).toBe(19);
    expect(buffers[2]).toEqual(pattern(8 * BLOCK, 2)); // the kernel wrote into memory that stayed alive
  });

  it('close(): completed and in-kernel requests resolve with their results, queued ones reject, then the fd closes', async () => {
    const fds = openFdCount();
    const c = openScsiHandle(labNodes.sg, { readWrite: true });
    await expect(c.sgIo(readAt(0))).resolves.toMatchObject({ deviceStatus: 0 }); // completed before close()
    // One call: 16 go to the kernel, 4 wait in the library queue, with no JS in between.
    const late = c.submitMany(Array.from({ length: 20 }, (_, i) => readAt(i))).map((p) =>
      p.then(
        () => 'done',
        (e: unknown) => e,
      ),
    );
    const closing = c.close();
    expect(c.close()).toBe(closing);
    const settled = await Promise.all(late);
    expect(settled.filter((r) => r === 'done')).toHaveLength(16);
    expect(settled.filter((r) => r instanceof AbortedError)).toHaveLength(4);
    await closing;
    expect(openFdCount()).toBe(fds);
  });

  it('close({ abandon: true }): in-kernel requests reject at once; the fd closes once the kernel is done', async () => {
    const fds = openFdCount();
    const c = openScsiHandle(labNodes.sg, { readWrite: true });
    const pending = Array.from({ length: 4 }, (_, i) => c.sgIo(readAt(i)).catch((e: unknown) => e));
    const closing = c.close({ abandon: true });
    for (const error of await Promise.all(pending)) {
      expect(error).toBeInstanceOf(AbortedError);
      expect((error as Error).message).toMatch(/abandoned by close/);
    }
    expect(c.inFlight).toBe(4);
    await closing;
    expect(c.inFlight).toBe(0);
    expect(openFdCount()).toBe(fds);
  });
});

describe('with an instant device (scsi_debug delay=0)', () => {
  let h: ScsiHandle;
  beforeAll(async () => {
    await setLatency({ delay: 0 });
    h = openScsiHandle(labNodes.sg, { readWrite: true });
  });
  afterAll(() => h.close());

  it('a command answered inside write() resolves from the drain right after it, without an event-loop turn', async () => {
    const request = readAt(5);
    const header = encodedHeader({ requestLen: 10, dinXferLen: 8 * BLOCK });
    const before = h.stats();
    for (let i = 0; i < 50; i++)
      await h.sgIoEncoded(header, request.cdb, request.sense, null, request.dataIn);
    const after = h.stats();
    expect(after.writeCalls - before.writeCalls).toBe(50);
    // scsi_debug answers in the submitting thread; the block layer may still finish the
    // completion in a softirq a moment later, so a few can miss the drain and take a loop turn.
    const immediate = after.immediateCompletions - before.immediateCompletions;
    const misses = 50 - immediate;
    expect(immediate).toBeGreaterThanOrEqual(40);
    expect(after.loopWakeups - before.loopWakeups).toBe(misses);
    expect(after.readCalls - before.readCalls).toBe(50 + misses); // a miss: one EAGAIN read, one read when woken
    expect(request.dataIn).toEqual(pattern(8 * BLOCK, 5));
  });

  it('a prepared command re-reads its CDB at every run: one write() and one read() each', async () => {
    const cdb = read10Cdb(LBA0, 8);
    const dataIn = allocateBuffer(8 * BLOCK);
    const command = h.prepare({
      header: createSgIoV4Header({ requestLen: 10, dinXferLen: 8 * BLOCK }),
      cdb,
      dataIn,
    });
    const before = h.stats();
    for (let i = 0; i < 10; i++) {
      new DataView(cdb.buffer).setUint32(2, LBA0 + i * 8);
      await command.run();
      expect(command.result().deviceStatus).toBe(0);
      expect(dataIn).toEqual(pattern(8 * BLOCK, i));
    }
    command.runSync();
    const after = h.stats();
    expect(after.writeCalls - before.writeCalls).toBe(11);
    // As above, a completion the block layer finishes a moment after write() misses the
    // drain: one more read() each (EAGAIN, then the read after the loop wake-up or poll()).
    // Each miss costs one wake-up (a loop turn, or poll() in the sync wait) and one read().
    const immediate = after.immediateCompletions - before.immediateCompletions;
    expect(immediate).toBeGreaterThanOrEqual(7);
    const wakeups = after.loopWakeups - before.loopWakeups + (after.pollCalls - before.pollCalls);
    const reads = after.readCalls - before.readCalls;
    expect(reads).toBeGreaterThanOrEqual(11);
    expect(reads).toBeLessThanOrEqual(11 + wakeups);
    expect(after.bouncedBytes - before.bouncedBytes).toBe(0);
    command.release();
  });
});
