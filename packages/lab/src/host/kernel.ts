/**
 * Finding a guest kernel: a Debian `/boot/vmlinuz-<version>` whose `/lib/modules/<version>`
 * holds the sg and scsi_debug modules.
 * @module
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** A kernel image and its module tree. */
export interface LabKernel {
  /** `uname -r` of the guest, e.g. `6.1.0-56-amd64`. */
  readonly version: string;
  /** The bootable image, `/boot/vmlinuz-<version>`. */
  readonly image: string;
  /** `/lib/modules/<version>`. */
  readonly modulesDir: string;
}

/** Where Debian puts kernels and modules; tests point these elsewhere. */
export interface KernelLocations {
  /** Default `/boot`. */
  readonly bootDir?: string;
  /** Default `/lib/modules`. */
  readonly modulesRoot?: string;
}

/**
 * Every usable kernel, best first: 6.1 kernels (the version the project models) before
 * others, then newest first. Only uncompressed `.ko` modules are accepted, as Debian 12
 * ships them; busybox's modprobe in the initramfs loads them without a decompressor.
 */
export function findLabKernels(locations: KernelLocations = {}): LabKernel[] {
  const bootDir = locations.bootDir ?? '/boot';
  const modulesRoot = locations.modulesRoot ?? '/lib/modules';
  let names: string[];
  try {
    names = readdirSync(bootDir);
  } catch {
    return [];
  }
  const kernels = names
    .filter((n) => n.startsWith('vmlinuz-'))
    .map((n) => n.slice('vmlinuz-'.length))
    .filter((version) => {
      const scsi = join(modulesRoot, version, 'kernel/drivers/scsi');
      return existsSync(join(scsi, 'sg.ko')) && existsSync(join(scsi, 'scsi_debug.ko'));
    })
    .map((version) => ({
      version,
      image: join(bootDir, `vmlinuz-${version}`),
      modulesDir: join(modulesRoot, version),
    }));
  const rank = (k: LabKernel) => (k.version.startsWith('6.1.') ? 0 : 1);
  return kernels.sort(
    (a, b) => rank(a) - rank(b) || b.version.localeCompare(a.version, 'en', { numeric: true }),
  );
}

/** The kernel to boot: `SGV4_LAB_KERNEL` (a version) when set and usable, else the best found. */
export function findLabKernel(locations: KernelLocations = {}): LabKernel | undefined {
  const kernels = findLabKernels(locations);
  const wanted = process.env.SGV4_LAB_KERNEL;
  if (wanted) return kernels.find((k) => k.version === wanted);
  return kernels[0];
}
