import {
  copyTargetPhysicalAddress,
  identityPageFrames,
  maxSafeRequestBytes,
  type PageFrameMapping,
  planTransfer,
  QUEUE_LIMITS_PRESET_NAMES,
  queueLimitsPreset,
  sameWindow,
  scatteredPageFrames,
  splitLargeTransfer,
  type TransferPlan,
  type UserIovec,
} from '@sgv4/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const PAGE = 4096;

/** Iovecs with random addresses and lengths (mostly 4-aligned so zero-copy happens too), each backed by bytes. */
const iovecsArb = fc
  .array(
    fc.record({
      page: fc.integer({ min: 1, max: 1 << 20 }),
      offset: fc.oneof(
        fc.integer({ min: 0, max: 1023 }).map((n) => n * 4),
        fc.integer({ min: 0, max: 4095 }),
      ),
      length: fc.oneof(
        fc.integer({ min: 1, max: 4096 }).map((n) => n * 4),
        fc.integer({ min: 1, max: 70000 }),
      ),
    }),
    { minLength: 1, maxLength: 6 },
  )
  .map((specs) => {
    // Keep iovecs apart: each starts in its own 1 MiB region so none overlap.
    return specs.map((s, i): UserIovec => {
      const address = (i * (1 << 20) + s.page) * PAGE + s.offset;
      const data = new Uint8Array(s.length);
      for (let k = 0; k < data.length; k++) data[k] = (i * 31 + k * 7) & 0xff;
      return { address, length: s.length, data };
    });
  });

const setup = fc.record({
  preset: fc.constantFrom(...QUEUE_LIMITS_PRESET_NAMES),
  iface: fc.constantFrom('block' as const, 'sg' as const),
  mapping: fc.constantFrom(identityPageFrames, scatteredPageFrames),
  dio: fc.boolean(),
  iovecs: iovecsArb,
});

/** The byte the device sees at a segment's physical address, read back through the model's memory. */
function byteAt(
  plan: TransferPlan,
  iovecs: readonly UserIovec[],
  mapping: PageFrameMapping,
  phys: number,
): number {
  if (plan.mode === 'zero-copy') {
    const frame = Math.floor(phys / PAGE);
    const page = mapping.toVirtual(frame);
    if (page === undefined) throw new Error('segment points outside user memory');
    const virt = page * PAGE + (phys % PAGE);
    for (const iov of iovecs) {
      if (virt >= iov.address && virt < iov.address + iov.length) return iov.data![virt - iov.address]!;
    }
    throw new Error(`virtual ${virt} is in no iovec`);
  }
  throw new Error('copy plans are checked through their copy target');
}

function streamByte(iovecs: readonly UserIovec[], offset: number): number {
  let left = offset;
  for (const iov of iovecs) {
    if (left < iov.length) return iov.data![left]!;
    left -= iov.length;
  }
  throw new Error('offset past the data');
}

describe('scatterlist properties', () => {
  it('segments respect every limit, never cross a boundary, and carry every byte once, in order', () => {
    fc.assert(
      fc.property(setup, ({ preset, iface, mapping, dio, iovecs }) => {
        const limits = queueLimitsPreset(preset).limits;
        const plan = planTransfer({
          limits,
          iface,
          direction: 'from-device',
          iovecs,
          vector: iovecs.length > 1,
          pageFrames: mapping,
          sg: { allowDio: dio, directIo: dio },
        });
        if (plan.outcome !== 'mapped') return;
        expect(plan.nrPhysSegments).toBeLessThanOrEqual(limits.maxSegments);
        expect(plan.segments.length).toBeLessThanOrEqual(plan.nrPhysSegments);
        expect(Math.floor(plan.length / 512)).toBeLessThanOrEqual(limits.maxHwSectors);
        let offset = 0;
        plan.segments.forEach((s, i) => {
          const isLast = i === plan.segments.length - 1;
          const dataLength = isLast ? s.length - plan.padLength : s.length;
          expect(s.length).toBeLessThanOrEqual(limits.maxSegmentSize);
          expect(s.pageOffset).toBeLessThan(PAGE);
          expect(
            sameWindow(s.physicalAddress, s.physicalAddress + dataLength - 1, limits.segBoundaryMask),
          ).toBe(true);
          expect(s.requestOffset).toBe(offset);
          // Byte preservation: first and last byte of each segment resolve to the right stream byte.
          for (const k of [0, dataLength - 1]) {
            const phys = s.physicalAddress + k;
            const expected = streamByte(iovecs, offset + k);
            if (plan.mode === 'zero-copy') expect(byteAt(plan, iovecs, mapping, phys)).toBe(expected);
          }
          offset += dataLength;
        });
        expect(offset).toBe(plan.length);
        if (plan.mode === 'copy' && plan.buffer === 'bounce-pages') {
          // Copy target byte i holds stream byte i: each segment starts at its own offset's page slot.
          for (const s of plan.segments) {
            expect(s.physicalAddress).toBe(
              copyTargetPhysicalAddress({ kind: 'bounce-pages' }, s.requestOffset, PAGE),
            );
          }
        }
      }),
      { numRuns: 300, seed: 5 },
    );
  });

  it('merges never cross a seg_boundary window and stay physically contiguous', () => {
    fc.assert(
      fc.property(setup, ({ preset, mapping, iovecs }) => {
        const limits = queueLimitsPreset(preset).limits;
        const plan = planTransfer({
          limits,
          iface: 'block',
          direction: 'to-device',
          iovecs,
          pageFrames: mapping,
        });
        for (const bio of plan.bios) {
          for (const bvec of bio) {
            expect(
              sameWindow(
                bvec.physicalAddress,
                bvec.physicalAddress + bvec.length - 1,
                limits.segBoundaryMask,
              ),
            ).toBe(true);
            expect(bvec.length).toBeLessThanOrEqual(limits.maxSegmentSize);
            if (plan.mode === 'zero-copy' && bvec.length > PAGE - (bvec.physicalAddress % PAGE)) {
              // A multi-page bvec exists only where frames are adjacent.
              expect(mapping).toBe(identityPageFrames);
            }
          }
        }
      }),
      { numRuns: 200, seed: 9 },
    );
  });

  it('splitting is lossless and minimal', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...QUEUE_LIMITS_PRESET_NAMES),
        fc.bigInt({ min: 0n, max: 1n << 40n }),
        fc.bigInt({ min: 0n, max: 200_000n }),
        fc.constantFrom(512, 4096),
        fc.constantFrom(0xffff, 0xffffffff, 64),
        (preset, lba, blocks, blockSize, perCommand) => {
          const limits = queueLimitsPreset(preset).limits;
          const chunks = splitLargeTransfer(limits, {
            lba,
            blocks,
            blockSize,
            maxBlocksPerCommand: perCommand,
          });
          const maxBlocks = Math.floor(
            Math.min(maxSafeRequestBytes(limits), perCommand * blockSize) / blockSize,
          );
          let next = lba;
          let sum = 0n;
          let wellFormed = true;
          chunks.forEach((c, i) => {
            const full = i === chunks.length - 1 || c.blocks === maxBlocks;
            if (
              c.lba !== next ||
              c.blocks <= 0 ||
              c.blocks > maxBlocks ||
              c.bytes !== c.blocks * blockSize ||
              !full
            ) {
              wellFormed = false;
            }
            next += BigInt(c.blocks);
            sum += BigInt(c.blocks);
          });
          expect(wellFormed).toBe(true);
          expect(sum).toBe(blocks);
          expect(BigInt(chunks.length)).toBe((blocks + BigInt(maxBlocks) - 1n) / BigInt(maxBlocks));
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });
});
