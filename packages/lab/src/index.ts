/**
 * `@sgv4/lab`: real Linux sg and bsg devices on any machine (QEMU + Linux 6.1 + scsi_debug).
 *
 * Host side: {@link setupLab} checks and installs what the lab needs and builds the cached
 * initramfs; {@link runInLab} boots a guest, runs a command against real `/dev/sg*` and
 * `/dev/bsg/*` nodes and returns its exact exit status and output; {@link runLabTests}
 * runs the vitest `lab` project in one guest.
 *
 * Guest side (inside `*.lab.test.ts` files): {@link isInLab}, {@link labDeviceNodes},
 * {@link setScsiDebugParam} / {@link getScsiDebugParam}, {@link setSgAllowDio},
 * {@link setSgDefReservedSize} and {@link runUnprivileged}.
 * @module
 */
export * from './conformance/index.js';
export * from './errors.js';
export * from './guest/device-nodes.js';
export * from './guest/device-removal.js';
export * from './guest/in-lab.js';
export * from './guest/kernel-attribute.js';
export * from './guest/probes.js';
export * from './guest/run-unprivileged.js';
export * from './guest/scsi-debug-sysfs.js';
export * from './guest/sg-settings.js';
export * from './guest-config.js';
export type { Initramfs } from './host/initramfs.js';
export { defaultLabCacheDir } from './host/initramfs.js';
export type { LabKernel } from './host/kernel.js';
export * from './host/requirements.js';
export * from './lab-setup.js';
export * from './lab-test-run.js';
export * from './progress.js';
export type { LabUser } from './run/command-script.js';
export * from './run/lab-run.js';
export * from './scsi-debug-params.js';
