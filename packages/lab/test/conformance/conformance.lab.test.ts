/**
 * Lab: the conformance registry against the real Linux 6.1 kernel, one test per area, the
 * same cases `sgv4 lab conformance` reports. Every case must agree, and every rule the lab
 * can reach must have a case it decides and a case it passes.
 */
import {
  CONFORMANCE_AREA_NAMES,
  conformanceArea,
  conformanceCoverageGaps,
  conformanceRows,
  expectedLabDevice,
  labConformanceDevice,
  runConformanceArea,
} from '@sgv4/lab';
import { describe, expect, it } from 'vitest';

describe('conformance: model against the real kernel', () => {
  it('the device has the limits the model assumes for scsi_debug', () => {
    const { limits } = labConformanceDevice();
    const expected = expectedLabDevice().limits;
    for (const field of [
      'maxSegments',
      'dmaAlignment',
      'dmaPadMask',
      'virtBoundaryMask',
      'maxSectors',
    ] as const) {
      expect(limits[field], field).toBe(expected[field]);
    }
    expect(limits.dmaAlignment).toBe(3);
    expect(limits.maxSegments).toBe(2048);
  });

  for (const name of CONFORMANCE_AREA_NAMES) {
    it(`${name}: every case agrees and every reachable rule fires and passes`, async () => {
      const result = await runConformanceArea(conformanceArea(name));
      const agreeing = result.cases.filter((c) => c.agrees).length;
      console.log(`conformance ${name}: ${agreeing}/${result.cases.length} cases agree (${result.ms} ms)`);
      const disagreements = result.cases
        .filter((c) => !c.agrees)
        .map((c) => `${c.input}: model ${c.predicted}, kernel ${c.observed}`);
      expect(disagreements).toEqual([]);
      expect(conformanceCoverageGaps(conformanceRows([result]))).toEqual([]);
    });
  }
});
