import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ensureInitramfs, GUEST_INIT_SCRIPT, LAB_MODULES, requireLabHost, writeNewcArchive } from '@sgv4/lab';
import { afterAll, describe, expect, it } from 'vitest';

/** Reads the member names and sizes back from a newc archive. */
function listNewc(archive: Buffer): { name: string; mode: number; size: number }[] {
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

describe('initramfs cache', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'sgv4-lab-cache-test-'));
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));
  const host = requireLabHost();
  const inputs = {
    kernel: host.kernel,
    modules: LAB_MODULES,
    busybox: host.busybox,
    modprobe: host.modprobe,
    initScript: GUEST_INIT_SCRIPT,
    cacheDir,
  };

  it('builds once, then reuses the image while the inputs are unchanged', () => {
    const first = ensureInitramfs(inputs);
    expect(first.built).toBe(true);
    const second = ensureInitramfs(inputs);
    expect(second).toMatchObject({ built: false, path: first.path, key: first.key });
  }, 60_000);

  it('holds /init, busybox, every resolved module (the crc-t10dif chain too) and the modules.* indexes', () => {
    const image = ensureInitramfs(inputs);
    const names = listNewc(gunzipSync(readFileSync(image.path))).map((e) => e.name);
    expect(names).toContain('init');
    expect(names).toContain('bin/busybox');
    const modulesDir = host.kernel.modulesDir.replace(/^\//, '');
    expect(names).toContain(`${modulesDir}/modules.dep`);
    for (const module of [
      'sg',
      'scsi_debug',
      'sd_mod',
      'crc-t10dif',
      't10-pi',
      '9p',
      '9pnet_virtio',
      'virtio_pci',
    ]) {
      expect(names.some((n) => n.endsWith(`/${module}.ko`))).toBe(true);
    }
    expect(image.moduleFiles.length).toBe(names.filter((n) => n.endsWith('.ko')).length);
  }, 60_000);

  it('rebuilds under a new key when the init script or module set changes, deleting the stale image', () => {
    const current = ensureInitramfs(inputs);
    const changed = ensureInitramfs({ ...inputs, initScript: `${GUEST_INIT_SCRIPT}# changed\n` });
    expect(changed.built).toBe(true);
    expect(changed.key).not.toBe(current.key);
    expect(readdirSync(cacheDir)).toEqual([changed.path.split('/').pop()]);
    const fewer = ensureInitramfs({ ...inputs, modules: LAB_MODULES.filter((m) => m !== 'sd_mod') });
    expect(fewer.built).toBe(true);
    expect(fewer.key).not.toBe(changed.key);
    expect(fewer.moduleFiles.some((f) => f.endsWith('/sd_mod.ko'))).toBe(false);
  }, 60_000);
});
