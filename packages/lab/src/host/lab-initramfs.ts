/**
 * The lab's one initramfs recipe, shared by `sgv4 lab setup` and every guest boot: the host
 * kernel's modules ({@link LAB_MODULES}), busybox, modprobe and the guest init script.
 * @module
 */
import { GUEST_INIT_SCRIPT } from '../guest-init-script.js';
import { type LabProgress, SILENT_PROGRESS } from '../progress.js';
import { defaultLabCacheDir, ensureInitramfs, type Initramfs, LAB_MODULES } from './initramfs.js';
import type { LabHost } from './requirements.js';

/** Builds (or reuses from `cacheDir`) the lab's initramfs for `host`, reported as one progress step. */
export async function ensureLabInitramfs(
  host: LabHost,
  cacheDir: string = defaultLabCacheDir(),
  progress: LabProgress = SILENT_PROGRESS,
): Promise<Initramfs> {
  return progress.step('building the guest initramfs', async () =>
    ensureInitramfs({
      kernel: host.kernel,
      modules: LAB_MODULES,
      busybox: host.busybox,
      modprobe: host.modprobe,
      initScript: GUEST_INIT_SCRIPT,
      cacheDir,
    }),
  );
}
