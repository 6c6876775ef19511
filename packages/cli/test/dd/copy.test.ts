/**
 * The `sgv4 dd` copy loop against in-memory ends whose transfers complete out of order: every
 * byte lands in its place, the records are counted, a failure stops every slot before the copy
 * rejects with it, a discarding output gets no writes, and a short input ends the copy. The real ends run in the
 * lab (test/commands/device-commands.lab.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { type CopyPlan, type CopyProgress, runCopy } from '../../src/dd/copy.js';
import type { DdEndpoint } from '../../src/dd/endpoint.js';

const BS = 512;

/** Transfers started so far (all ends): each waits a different number of turns. */
let started = 0;

/** Completes after 0..4 event-loop turns, varying from one transfer to the next, so transfers finish out of order. */
function later(fn: () => void): void {
  let turns = (started++ * 7919) % 5;
  const tick = (): void => {
    if (turns-- <= 0) fn();
    else setImmediate(tick);
  };
  setImmediate(tick);
}

interface MemoryEnd extends DdEndpoint {
  commands: number;
  readonly data: Uint8Array;
  /** Block addresses of the transfers, in the order they completed. */
  readonly completed: number[];
  inFlight: number;
  maxInFlight: number;
}

/** An in-memory end of `blocks` blocks; `failAt` fails the transfer of that block. */
function memoryEnd(blocks: number, options: { failAt?: number; fill?: boolean }): MemoryEnd {
  const data = new Uint8Array(blocks * BS);
  if (options.fill === true) for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 9)) & 0xff;
  const begin = (): void => {
    end.inFlight++;
    end.maxInFlight = Math.max(end.maxInFlight, end.inFlight);
  };
  const failing = (at: number, count: number): boolean =>
    options.failAt !== undefined && at <= options.failAt && options.failAt < at + count;
  const end: MemoryEnd = {
    name: 'memory',
    kind: 'device',
    sequential: false,
    mmap: false,
    dioIncomplete: 0,
    commands: 0,
    data,
    completed: [],
    inFlight: 0,
    maxInFlight: 0,
    close: async () => {},
    read: (at, count, bs, buffer) =>
      new Promise((resolve, reject) => {
        begin();
        later(() => {
          end.inFlight--;
          end.commands++;
          end.completed.push(at);
          if (failing(at, count)) return reject(new Error(`medium error at ${options.failAt}`));
          const got = Math.max(0, Math.min(count * bs, data.length - at * bs));
          buffer.set(data.subarray(at * bs, at * bs + got));
          resolve(got);
        });
      }),
    write: (at, count, bs, buffer) =>
      new Promise((resolve, reject) => {
        begin();
        later(() => {
          end.inFlight--;
          end.commands++;
          end.completed.push(at);
          if (failing(at, count)) return reject(new Error(`write error at ${options.failAt}`));
          data.set(buffer.subarray(0, count * bs), at * bs);
          resolve();
        });
      }),
  };
  return end;
}

function progressFor(plan: CopyPlan): CopyProgress {
  return {
    recordsIn: 0,
    partialIn: 0,
    recordsOut: 0,
    bytes: 0,
    total: plan.blocks * plan.bs,
    transfers: 0,
    shortInput: false,
  };
}

describe('runCopy', () => {
  it('copies every block to its place with the transfers finishing out of order', async () => {
    const input = memoryEnd(1000, { fill: true });
    const output = memoryEnd(1200, {});
    // 1000 blocks in transfers of 16 (the last one 8): skip 40, seek 100.
    const plan: CopyPlan = { bs: BS, bpt: 16, blocks: 952, skip: 40, seek: 100, qd: 4, slots: 8 };
    const progress = progressFor(plan);
    await runCopy(input, output, plan, progress);
    expect(
      Buffer.compare(output.data.subarray(100 * BS, 1052 * BS), input.data.subarray(40 * BS, 992 * BS)),
    ).toBe(0);
    expect(output.data.subarray(0, 100 * BS).every((b) => b === 0)).toBe(true);
    expect(output.data.subarray(1052 * BS).every((b) => b === 0)).toBe(true);
    expect(progress).toMatchObject({
      recordsIn: 952,
      recordsOut: 952,
      partialIn: 0,
      bytes: 952 * BS,
      transfers: 60,
    });
    expect(progress.shortInput).toBe(false);
    expect(input.maxInFlight).toBe(8);
    // They did finish out of order, and each exactly once.
    const submitted = Array.from({ length: 60 }, (_, i) => 40 + 16 * i);
    expect(input.completed).not.toEqual(submitted);
    expect([...input.completed].sort((a, b) => a - b)).toEqual(submitted);
    expect(input.commands).toBe(60);
    expect(output.commands).toBe(60);
  });

  it('a discarding output gets no writes', async () => {
    const input = memoryEnd(256, { fill: true });
    const output = { ...memoryEnd(1, {}), discards: true };
    const plan: CopyPlan = { bs: BS, bpt: 8, blocks: 256, skip: 0, seek: 0, qd: 1, slots: 32 };
    const progress = progressFor(plan);
    await runCopy(input, output, plan, progress);
    expect(output.commands).toBe(0);
    expect(progress).toMatchObject({ recordsIn: 256, recordsOut: 256, transfers: 32 });
  });

  it('a failed read stops every slot: the copy rejects with it once nothing is in flight', async () => {
    const input = memoryEnd(1000, { fill: true, failAt: 333 });
    const output = memoryEnd(1000, {});
    const plan: CopyPlan = { bs: BS, bpt: 8, blocks: 1000, skip: 0, seek: 0, qd: 4, slots: 4 };
    const progress = progressFor(plan);
    await expect(runCopy(input, output, plan, progress)).rejects.toThrow('medium error at 333');
    expect(input.inFlight).toBe(0);
    expect(output.inFlight).toBe(0);
    // The failing transfer is the 42nd of 125 (blocks 328..335): the slots stopped soon after it.
    expect(input.commands).toBeLessThan(60);
    expect(progress.recordsOut).toBe(progress.transfers * 8);
    expect(progress.transfers).toBeLessThan(60);
  });

  it('a failed write rejects the copy the same way', async () => {
    const input = memoryEnd(400, { fill: true });
    const output = memoryEnd(400, { failAt: 100 });
    const plan: CopyPlan = { bs: BS, bpt: 8, blocks: 400, skip: 0, seek: 0, qd: 2, slots: 2 };
    await expect(runCopy(input, output, plan, progressFor(plan))).rejects.toThrow('write error at 100');
    expect(output.inFlight).toBe(0);
  });

  it('an input shorter than count ends the copy', async () => {
    const input = memoryEnd(100, { fill: true });
    const plan: CopyPlan = { bs: BS, bpt: 8, blocks: 200, skip: 0, seek: 0, qd: 1, slots: 1 };
    const output = memoryEnd(200, {});
    const progress = progressFor(plan);
    await runCopy(input, output, plan, progress);
    expect(progress.shortInput).toBe(true);
    expect(progress.recordsIn).toBe(100);
    expect(progress.recordsOut).toBe(100);
    expect(Buffer.compare(output.data.subarray(0, 100 * BS), input.data)).toBe(0);
  });
});
