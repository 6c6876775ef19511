/**
 * How `sgv4 dd` sizes its ring pipeline and picks the sg consumer (the measured choices are in
 * src/dd/ring-endpoint.ts); the data path itself runs against the real drivers in the lab
 * (test/commands/device-commands.lab.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { ringSlots, useSgThreads } from '../../src/dd/ring-endpoint.js';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('ringSlots: transfers kept going for a queue depth', () => {
  it.each([
    // Small: 16 per command in flight, at least 128.
    [1, 4 * KiB, 128],
    [16, 4 * KiB, 256],
    [64, 4 * KiB, 1024],
    [1, 63 * KiB, 128],
    // Medium: twice the queue depth, at least 32.
    [1, 64 * KiB, 32],
    [32, 128 * KiB, 64],
    // Large: one more than the queue depth, at least 64.
    [1, 256 * KiB, 64],
    [1, 512 * KiB, 64],
    [16, 512 * KiB, 64],
    [64, 256 * KiB, 65],
    // Within 32 MiB of buffers, but never fewer than the queue depth (one buffer per command).
    [1, 1 * MiB, 32],
    [1, 64 * MiB, 1],
    [4, 32 * MiB, 4],
    [1, 16 * MiB, 2],
    [128, 512 * KiB, 128],
    [256, 4 * KiB, 4096],
  ])('qd %i, %i bytes each -> %i', (qd, bytes, slots) => {
    expect(ringSlots(qd, bytes)).toBe(slots);
  });

  it('never more than the ring has entries (4096)', () => {
    expect(ringSlots(4096, 512)).toBe(4096);
    expect(ringSlots(64, 512)).toBe(1024);
  });
});

describe('useSgThreads: blocking SG_IO threads on sg', () => {
  it.each([
    [1, 4 * KiB, true],
    [4, 4 * KiB, true],
    [16, 4 * KiB, false],
    [16, 32 * KiB, false],
    [16, 64 * KiB, true],
    [16, 512 * KiB, true],
  ])('qd %i, %i bytes -> %s', (qd, bytes, threads) => {
    expect(useSgThreads(qd, bytes)).toBe(threads);
  });
});
