/**
 * The newc (cpio) writer the initramfs is built with: pure, no kernel needed. The
 * initramfs cache itself needs the Debian kernel, busybox and modprobe: initramfs.host.test.ts.
 */

import { describe, expect, it } from 'vitest';
import { writeNewcArchive } from '../../src/host/newc-archive.js';
import { listNewc } from '../support/newc-listing.js';

describe('newc archive writer', () => {
  it('writes headers, names and data padded to 4 bytes, ending with the trailer', () => {
    const archive = writeNewcArchive([
      { kind: 'dir', path: 'bin', mode: 0o755 },
      { kind: 'file', path: 'bin/x', mode: 0o755, data: Buffer.from('hello') },
    ]);
    expect(archive.length % 4).toBe(0);
    expect(listNewc(archive)).toEqual([
      { name: 'bin', mode: 0o040755, size: 0 },
      { name: 'bin/x', mode: 0o100755, size: 5 },
    ]);
    expect(archive.includes(Buffer.from('hello'))).toBe(true);
  });
});
