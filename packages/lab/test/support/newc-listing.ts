/** Test helper: reads the member names, modes and sizes back from a newc (cpio) archive. */
import { expect } from 'vitest';

/** Reads the member names and sizes back from a newc archive. */
export function listNewc(archive: Buffer): { name: string; mode: number; size: number }[] {
  const out: { name: string; mode: number; size: number }[] = [];
  let at = 0;
  const align = (n: number) => (n + 3) & ~3;
  for (;;) {
    expect(archive.toString('ascii', at, at + 6)).toBe('070701');
    const field = (i: number) =>
      Number.parseInt(archive.toString('ascii', at + 6 + i * 8, at + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const name = archive.toString('utf8', at + 110, at + 110 + nameSize - 1);
    at = align(at + 110 + nameSize);
    at = align(at + size);
    if (name === 'TRAILER!!!') return out;
    out.push({ name, mode, size });
  }
}
