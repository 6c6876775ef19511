/**
 * Cross-check of the ASC/ASCQ strings with the installed sg3_utils: every pair in the table,
 * two codes from each range and a set of unassigned codes are decoded by `sg_decode_sense`
 * and by decodeSense(); the "Additional sense" texts must agree. Skipped (with the reason in
 * the test name) when sg_decode_sense is not installed; scripts/test installs sg3-utils on CI.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ASC_ASCQ_TABLE } from '../../src/sense/asc-ascq.gen.js';
import { ASC_ASCQ_RANGES, decodeSense } from '../../src/sense/index.js';

function installed(): boolean {
  try {
    execFileSync('sg_decode_sense', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function fixedSense(asc: number, ascq: number): Uint8Array {
  return Uint8Array.of(0x70, 0, 0x03, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, asc, ascq, 0, 0, 0, 0);
}

/** The line sg_decode_sense prints for the ASC/ASCQ, without its "Additional sense: " prefix. */
function sg3Text(bytes: Uint8Array): string {
  const args = Array.from(bytes, (b) => b.toString(16).padStart(2, '0'));
  const out = execFileSync('sg_decode_sense', args, { encoding: 'utf8' });
  const line = out.split('\n')[1] ?? '';
  return line.replace(/^Additional sense: /, '').trimEnd();
}

const hasSg3 = installed();

describe.skipIf(!hasSg3)(
  `ASC/ASCQ strings agree with sg_decode_sense${hasSg3 ? '' : ' (SKIPPED: sg_decode_sense not installed)'}`,
  () => {
    it('agrees on every table pair, range samples and unassigned codes', { timeout: 60_000 }, () => {
      const pairs: [number, number][] = ASC_ASCQ_TABLE.map(([a, q]) => [a, q]);
      for (const [asc, min, max] of ASC_ASCQ_RANGES) pairs.push([asc, min], [asc, max]);
      pairs.push([0x24, 0x33], [0x24, 0x85], [0x99, 0x85], [0x80, 0x00], [0x7f, 0x7f], [0x11, 0xff]);
      const disagreements: string[] = [];
      for (const [asc, ascq] of pairs) {
        const bytes = fixedSense(asc, ascq);
        const ours = decodeSense(bytes).ascText;
        const theirs = sg3Text(bytes);
        if (ours !== theirs)
          disagreements.push(`${asc.toString(16)}/${ascq.toString(16)}: '${ours}' vs '${theirs}'`);
      }
      expect(disagreements).toEqual([]);
      expect(pairs.length).toBe(761 + 12 + 6);
    });
  },
);
