/**
 * The initramfs cache (host tier): builds real images from the installed Debian kernel's
 * modules, busybox-static and modprobe, so it needs what `sgv4 lab setup` installs.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { GUEST_INIT_SCRIPT } from '../../src/guest-init-script.js';
import { ensureInitramfs, LAB_MODULES } from '../../src/host/initramfs.js';
import { requireLabHost } from '../../src/host/requirements.js';
import { listNewc } from '../support/newc-listing.js';

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
