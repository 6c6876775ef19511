import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { addonPath, NATIVE_BUILD_COMMAND } from '@sgv4/native';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openFdCount } from './fd-count.js';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Worker body (plain JS: workers do not go through vitest's transform). It loads the
 * addon in its own environment, runs a request that the kernel answers (ENOTTY on
 * /dev/null), then leaves handles open and a request on the threadpool for the
 * environment's cleanup hook to tear down when the worker exits.
 */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = require(workerData.addonPath);
const h = new addon.NativeHandle('/dev/null', true, false, false);
const header = new Uint8Array(160); header[0] = 0x51; header[12] = 6;
h.sgIo(header, new Uint8Array(6), null, null, null).then(
  () => parentPort.postMessage({ ok: false }),
  (e) => {
    for (let i = 0; i < 20; i++) new addon.NativeHandle('/dev/null', false, false, false);
    const busy = new addon.NativeHandle('/dev/null', false, false, false);
    busy.sgIo(header, new Uint8Array(6), null, null, null).catch(() => {});
    parentPort.postMessage({ ok: true, errno: e.errno, kind: h.kind });
  },
);
`;

describe('per-environment state', () => {
  it('loads in worker threads, and their teardown closes every fd they left open', async () => {
    await import('@sgv4/native').then((m) => m.openScsiHandle('/dev/null').close());
    const before = openFdCount();
    for (let round = 0; round < 4; round++) {
      const worker = new Worker(workerSource, { eval: true, workerData: { addonPath: addonPath() } });
      const message = await new Promise<unknown>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(message).toEqual({ ok: true, errno: 25, kind: 'other' });
      await worker.terminate();
    }
    expect(openFdCount()).toBe(before);
  });

  it('an idle open handle does not keep the process alive', () => {
    const script = `const a = require(${JSON.stringify(addonPath())});
      globalThis.kept = new a.NativeHandle('/dev/null', false, false, false).unref();
      setTimeout(() => {}, 10);`;
    const run = spawnSync(process.execPath, ['-e', script], { timeout: 20_000 });
    expect(run.status).toBe(0);
    expect(run.signal).toBeNull();
  });
});

describe('loading', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('names the build command when the binary is missing', async () => {
    vi.stubEnv('SGV4_NATIVE_PATH', join(packageRoot, 'no-such-dir', 'sgv4_native.node'));
    vi.resetModules();
    const fresh = await import('@sgv4/native');
    let error: unknown;
    try {
      fresh.openScsiHandle('/dev/null');
    } catch (e) {
      error = e;
    }
    // Fresh module instances: compare against the reloaded classes.
    const core = await import('@sgv4/core');
    expect(error).toBeInstanceOf(fresh.NativeAddonMissingError);
    expect(error).toBeInstanceOf(core.NotSupportedError);
    expect((error as Error).message).toContain(NATIVE_BUILD_COMMAND);
  });

  it('reports an unsupported platform when loading off Linux', async () => {
    const platform = Object.getOwnPropertyDescriptor(process, 'platform');
    Object.defineProperty(process, 'platform', { value: 'darwin' });
    try {
      vi.resetModules();
      const fresh = await import('@sgv4/native');
      const core = await import('@sgv4/core');
      expect(() => fresh.loadAddon()).toThrow(/unsupported platform darwin/);
      expect(() => fresh.loadAddon()).toThrow(core.NotSupportedError);
    } finally {
      if (platform) Object.defineProperty(process, 'platform', platform);
    }
  });

  it('skips the addon build off Linux instead of failing the install', () => {
    const fakePlatform = 'data:text/javascript,Object.defineProperty(process,"platform",{value:"darwin"})';
    const run = spawnSync(
      process.execPath,
      ['--import', fakePlatform, join(packageRoot, 'scripts', 'build-addon.mjs')],
      {
        encoding: 'utf8',
      },
    );
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('unsupported platform darwin');
  });
});
