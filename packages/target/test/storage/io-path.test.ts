/**
 * The file store's I/O path: synchronous while calls are fast, the thread pool for a period
 * after a slow one, then synchronous again; the data is the same either way.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileBlockStore } from '../../src/storage/file-store.js';
import { IoPathChooser } from '../../src/storage/io-path.js';

const dir = mkdtempSync(join(tmpdir(), 'sgv4-target-io-path-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('IoPathChooser', () => {
  let now = 0n;
  const call = (ns: number) => () => {
    now += BigInt(ns);
    return ns;
  };

  it('an occasional slow call (a preemption) keeps the synchronous path', () => {
    const chooser = new IoPathChooser({ slowNanoseconds: 1000, threadPoolMilliseconds: 5, now: () => now });
    expect(chooser.synchronous).toBe(true);
    expect(chooser.timed(call(1000))).toBe(1000); // exactly the limit: fast
    for (let round = 0; round < 20; round++) {
      chooser.timed(call(50_000)); // one slow call in 16
      for (let i = 0; i < 15; i++) chooser.timed(call(500));
    }
    expect(chooser.slowCalls).toBe(20);
    expect(chooser.moves).toBe(0);
    expect(chooser.synchronous).toBe(true);
  });

  it('slow calls becoming common move I/O to the thread pool for the period, then it is tried again', () => {
    const chooser = new IoPathChooser({ slowNanoseconds: 1000, threadPoolMilliseconds: 5, now: () => now });
    let calls = 0;
    while (chooser.synchronous) {
      chooser.timed(call(1001));
      calls++;
    }
    // The moving average over ~16 calls passes 0.25 after a handful of slow calls.
    expect(calls).toBe(5);
    expect(chooser.moves).toBe(1);
    now += 4_999_999n;
    expect(chooser.synchronous).toBe(false);
    now += 1n;
    expect(chooser.synchronous).toBe(true);
  });

  it('transfers above maxSynchronousBytes always use the thread pool', () => {
    const chooser = new IoPathChooser({ maxSynchronousBytes: 4096, now: () => now });
    expect(chooser.synchronousFor(4096)).toBe(true);
    expect(chooser.synchronousFor(4097)).toBe(false);
    expect(new IoPathChooser({ now: () => now }).synchronousFor(65536)).toBe(true);
    expect(new IoPathChooser({ now: () => now }).synchronousFor(65537)).toBe(false);
  });

  it('times a call that throws, and rethrows', () => {
    const chooser = new IoPathChooser({ slowNanoseconds: 10, slowShare: 0, now: () => now });
    expect(() =>
      chooser.timed(() => {
        now += 100n;
        throw new Error('EIO');
      }),
    ).toThrow('EIO');
    expect(chooser.slowCalls).toBe(1);
    expect(chooser.synchronous).toBe(false);
  });
});

describe('FileBlockStore on both paths', () => {
  for (const [name, slowNanoseconds] of [
    ['synchronous', 1e12],
    ['thread pool', -1],
  ] as const) {
    it(`${name}: writes land in the image and read back, past-the-end reads are zeros`, async () => {
      const path = join(dir, `${name.replace(' ', '-')}.img`);
      const store = await FileBlockStore.open(path, 512, 64, { slowNanoseconds, slowShare: 0 });
      try {
        const data = Uint8Array.from({ length: 4 * 512 }, (_, i) => (i * 7 + 3) & 0xff);
        await store.write(10, data, false);
        await store.write(20, data.subarray(0, 512), true);
        expect(Buffer.compare(await store.read(10, 4), data)).toBe(0);
        expect(Buffer.compare(await store.read(20, 1), data.subarray(0, 512))).toBe(0);
        expect(Buffer.compare(readFileSync(path).subarray(10 * 512, 14 * 512), data)).toBe(0);
        await store.resize(256); // the image grows sparse: the new blocks read as zeros
        expect((await store.read(100, 2)).every((b) => b === 0)).toBe(true);
        // 80 KiB: above the synchronous limit, through the thread pool on either store.
        const big = Uint8Array.from({ length: 160 * 512 }, (_, i) => (i * 13 + 1) & 0xff);
        await store.write(64, big, false);
        expect(Buffer.compare(await store.read(64, 160), big)).toBe(0);
        expect(Buffer.compare(readFileSync(path).subarray(64 * 512, 224 * 512), big)).toBe(0);
        expect(store.ioPath.moves).toBe(slowNanoseconds < 0 ? 1 : 0);
        expect(store.ioPath.synchronous).toBe(slowNanoseconds > 0);
      } finally {
        await store.close();
      }
    });
  }
});
