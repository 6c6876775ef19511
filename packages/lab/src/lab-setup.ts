/**
 * `sgv4 lab setup`: make the host ready (install missing Debian packages as root, or name
 * the command) and build or reuse the cached initramfs.
 * @module
 */
import type { Initramfs } from './host/initramfs.js';
import { ensureLabInitramfs } from './host/lab-initramfs.js';
import { ensureLabHost, type LabHost } from './host/requirements.js';
import type { LabProgress } from './progress.js';

/** Options of {@link setupLab}. */
export interface LabSetupOptions {
  /** Install missing packages when root (default true). */
  readonly install?: boolean;
  /** initramfs cache directory (default {@link defaultLabCacheDir}). */
  readonly cacheDir?: string;
  /** Progress display. */
  readonly progress?: LabProgress;
}

/** A ready lab. */
export interface LabSetupResult {
  /** The host tools found. */
  readonly host: LabHost;
  /** Debian packages this call installed. */
  readonly installed: readonly string[];
  /** The initramfs. */
  readonly initramfs: Initramfs;
}

/** Checks (and as root installs) the host tools, then builds or reuses the initramfs. */
export async function setupLab(options: LabSetupOptions = {}): Promise<LabSetupResult> {
  const { installed, ...host } = await ensureLabHost({
    ...(options.install === undefined ? {} : { install: options.install }),
    ...(options.progress ? { progress: options.progress } : {}),
  });
  const initramfs = await ensureLabInitramfs(host, options.cacheDir, options.progress);
  return { host, installed, initramfs };
}
