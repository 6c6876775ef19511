import { describe, expect, it } from 'vitest';
import { runCaptured } from '../support/capture-io.js';

describe('sgv4 demo: the device step on emu: (no guest)', () => {
  it('shows identity, a verified tagged queue, ORDERED, aborts and a permission decision', async () => {
    const r = await runCaptured(['demo', '--only', 'device']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/SGV4 EMBEDDED DISK 0001, serial \S+, \d+ identifiers/);
    expect(r.stdout).toMatch(/131072 blocks of 512 bytes = 64 MiB/);
    expect(r.stdout).toMatch(/Queued 16 WRITE\(10\)s at once .* on the wire: true/);
    expect(r.stdout).toContain('every block matches what was written');
    expect(r.stdout).toMatch(/simple-\d -> simple-\d -> ORDERED -> simple-\d -> simple-\d/);
    expect(r.stdout).toMatch(/of a task still in the Device's queue -> true/);
    expect(r.stdout).toMatch(/of a task in flight \(ABORT TASK to the target\) -> true/);
    expect(r.stdout).toMatch(/WRITE\(10\): denied \(EPERM\)/);
    expect(r.stdout).toContain("run 'sgv4 demo --lab' for it");
  });
});
