/**
 * Transfer-plan building per second for 1-, 16- and 256-iovec requests, one suite
 * per size, each against the floor of the same size: a loop that only sums the
 * iovec lengths. Plans are built on the scsi-debug preset queue (one segment per
 * page) through block SG_IO (zero-copy, 4-aligned iovecs) and through sg without
 * direct IO (copy into the reserve or an indirect buffer).
 */
import { planTransfer, queueLimitsPreset, totalIovecLength, type UserIovec } from '@sgv4/core';
import type { BenchSuite } from '../runner.js';

const limits = queueLimitsPreset('scsi-debug').limits;
let sink = 0;

/** `count` iovecs of 2 KiB + 4 bytes each, 4-aligned, one per 64 KiB region. */
function iovecs(count: number): UserIovec[] {
  return Array.from({ length: count }, (_, i) => ({
    address: 0x10_0000 + i * 0x1_0000 + 4 * (i % 7),
    length: 2052,
  }));
}

function floorLoop(list: readonly UserIovec[]): number {
  let total = 0;
  for (let i = 0; i < list.length; i++) total += list[i]!.length;
  return total;
}

function suiteFor(count: number): BenchSuite {
  const list = iovecs(count);
  const floor = `sum ${count} iovec lengths (floor)`;
  const vector = count > 1;
  return {
    name: `scatterlist-${count}`,
    description: `plan building for a ${count}-iovec request (${totalIovecLength(list)} bytes) vs summing its lengths`,
    baseline: floor,
    cases: [
      {
        name: floor,
        fn: () => {
          sink ^= floorLoop(list);
        },
      },
      {
        name: `block SG_IO plan, ${count} iovecs (zero-copy)`,
        fn: () => {
          const plan = planTransfer({
            limits,
            iface: 'block',
            direction: 'from-device',
            iovecs: list,
            vector,
          });
          sink ^= plan.segments.length;
        },
      },
      {
        name: `sg plan, ${count} iovecs (copy)`,
        fn: () => {
          const plan = planTransfer({ limits, iface: 'sg', direction: 'from-device', iovecs: list, vector });
          sink ^= plan.segments.length;
        },
      },
    ],
  };
}

/** The three plan-building suites (1, 16 and 256 iovecs). */
export const scatterlistSuites: readonly BenchSuite[] = [suiteFor(1), suiteFor(16), suiteFor(256)];

/** Keeps `sink` observable so the measured work is not optimised away. */
export function scatterlistBenchSink(): number {
  return sink;
}
