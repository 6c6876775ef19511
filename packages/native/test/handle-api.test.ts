/**
 * The handle API on nodes every machine has (/dev/null, a regular file: SG_IO answers
 * ENOTTY on an addon thread): batches, prepared commands, AbortSignal, allocateBuffer,
 * capabilities, statistics. Their behaviour against the real drivers is in native.lab.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortedError, createSgIoV4Header, encodeSgIoV4, InvalidFieldError, OsError } from '@sgv4/core';
import { allocateBuffer, openScsiHandle, PreparedCommand, type ScsiHandle } from '@sgv4/native';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const INQUIRY = Uint8Array.of(0x12, 0, 0, 0, 96, 0);

function inquiry(dataIn: Uint8Array = new Uint8Array(96)) {
  return {
    header: encodeSgIoV4(createSgIoV4Header({ requestLen: 6, dinXferLen: 96, maxResponseLen: 32 })),
    cdb: INQUIRY,
    sense: new Uint8Array(32),
    dataIn,
  };
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

const dir = mkdtempSync(join(tmpdir(), 'sgv4-native-api-'));
const regularFile = join(dir, 'plain');
writeFileSync(regularFile, 'not a device');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('allocateBuffer', () => {
  it('gives zeroed native memory of exactly the length asked for', () => {
    const buffer = allocateBuffer(5000);
    expect(buffer).toBeInstanceOf(Uint8Array);
    expect(buffer.length).toBe(5000);
    expect(buffer.every((b) => b === 0)).toBe(true);
    buffer.fill(7);
    expect(buffer[4999]).toBe(7);
  });

  it('refuses lengths outside 1..2^31-1 with an InvalidFieldError naming length', () => {
    for (const length of [0, -1, 1.5, 2 ** 31]) {
      expect(thrown(() => allocateBuffer(length))).toMatchObject({ field: 'length' });
    }
    expect(thrown(() => allocateBuffer(Number.NaN))).toBeInstanceOf(InvalidFieldError);
  });

  it('cannot be moved to another owner: a transfer copies it (Node 20) or is refused (Node 21+)', () => {
    const buffer = allocateBuffer(4096);
    buffer[0] = 42;
    let clone: ArrayBuffer | undefined;
    try {
      const backing = buffer.buffer as ArrayBuffer;
      clone = structuredClone(backing, { transfer: [backing] });
    } catch (error) {
      expect((error as Error).name).toBe('DataCloneError');
    }
    expect(buffer.length).toBe(4096);
    expect(buffer[0]).toBe(42);
    if (clone !== undefined) {
      new Uint8Array(clone)[0] = 1;
      expect(buffer[0]).toBe(42);
    }
  });
});

describe('requests on an addon thread (a node that is not sg)', () => {
  let handle: ScsiHandle;
  beforeAll(() => {
    handle = openScsiHandle('/dev/null', { readWrite: true });
  });
  afterAll(() => handle.close());

  it('reports what the node can do', () => {
    expect(handle.capabilities).toEqual({
      abi: 'v3',
      asyncQueue: false,
      kernelQueueDepth: 128,
      iovec: true,
      mmapReserve: false,
      batchedSubmit: false,
    });
    expect(handle.failure).toBeUndefined();
  });

  it('counts SG_IO calls and loop wake-ups', async () => {
    const before = handle.stats();
    await expect(handle.sgIo(inquiry())).rejects.toMatchObject({ code: 'ENOTTY' });
    expect(() => handle.sgIoSync(inquiry())).toThrow(OsError);
    const after = handle.stats();
    expect(after.ioctlCalls - before.ioctlCalls).toBe(2);
    expect(after.submitted - before.submitted).toBe(2);
    expect(after.completed - before.completed).toBe(2);
    expect(after.loopWakeups - before.loopWakeups).toBe(1);
    expect(after.writeCalls + after.readCalls).toBe(0);
  });

  it('submitMany: one promise per request, a refused request rejects alone', async () => {
    const bad = { ...inquiry(), dataIn: new Uint8Array(95) };
    const results = await Promise.allSettled(handle.submitMany([inquiry(), bad, inquiry()]));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'ENOTTY' });
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ field: 'din_xfer_len' });
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'ENOTTY' });
  });

  it('an AbortSignal aborted before submission rejects at once and sends nothing', async () => {
    const controller = new AbortController();
    controller.abort('not wanted');
    const before = handle.stats().submitted;
    const error = await handle.sgIo({ ...inquiry(), signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).reason).toBe('not wanted');
    const many = handle.submitMany([{ ...inquiry(), signal: controller.signal }]);
    await expect(many[0]).rejects.toBeInstanceOf(AbortedError);
    expect(handle.stats().submitted).toBe(before);
  });

  it('prepared commands run again and again, once at a time, until released', async () => {
    const command = handle.prepare(inquiry());
    expect(command).toBeInstanceOf(PreparedCommand);
    for (let i = 0; i < 3; i++) {
      const run = command.run();
      expect(command.running).toBe(true);
      await expect(command.run()).rejects.toMatchObject({ field: 'command' });
      await expect(run).rejects.toMatchObject({ code: 'ENOTTY' });
      expect(command.running).toBe(false);
    }
    expect(() => command.runSync()).toThrow(OsError);
    const batch = handle.runMany([command, command, {} as PreparedCommand]);
    const settled = await Promise.allSettled(batch);
    expect((settled[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'ENOTTY' });
    expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ field: 'command' });
    expect((settled[2] as PromiseRejectedResult).reason).toBeInstanceOf(TypeError);
    command.release();
    await expect(command.run()).rejects.toMatchObject({ field: 'command' });
  });

  it('prepare() validates once, like every other call', () => {
    expect(thrown(() => handle.prepare({ ...inquiry(), dataIn: new Uint8Array(10) }))).toMatchObject({
      field: 'din_xfer_len',
    });
  });
});

describe('close', () => {
  it('is a promise, also through Symbol.asyncDispose; later calls are EBADF', async () => {
    const handle = openScsiHandle(regularFile);
    await handle[Symbol.asyncDispose]();
    expect(handle.closed).toBe(true);
    await handle.close(); // no-op
    expect(thrown(() => handle.prepare(inquiry()))).toMatchObject({ code: 'EBADF' });
    await expect(handle.sgIo(inquiry())).rejects.toMatchObject({ code: 'EBADF' });
    const [late] = handle.submitMany([inquiry()]);
    await expect(late).rejects.toMatchObject({ code: 'EBADF' });
  });
});
