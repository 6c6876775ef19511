/**
 * QEMU's command line for one guest.
 * @module
 */

/** What a boot needs. */
export interface QemuBootSpec {
  /** `tcg` or `kvm`. */
  readonly accel: 'tcg' | 'kvm';
  /** Guest RAM in MiB. */
  readonly memoryMb: number;
  /** Virtual CPUs. */
  readonly cpus: number;
  /** Kernel image. */
  readonly kernelImage: string;
  /** initramfs image. */
  readonly initramfs: string;
  /** Host directory shared writable as `lab_ctl`. */
  readonly controlDir: string;
  /** Host directory shared writable as `lab_results`. */
  readonly resultsDir: string;
  /** A file for the serial console, or `stdio` for an interactive console. */
  readonly console: { readonly file: string } | 'stdio';
}

/** Kernel command line: serial console, quiet, reboot (hence QEMU exit) on panic, synchronous SCSI scan. */
export const GUEST_KERNEL_COMMAND_LINE = 'console=ttyS0 quiet panic=-1 scsi_mod.scan=sync';

/** QEMU's option parser splits on commas; a literal comma in a value is written twice. */
function optionValue(text: string): string {
  return text.replaceAll(',', ',,');
}

function virtfs(path: string, tag: string, readonly: boolean): string {
  const ro = readonly ? ',readonly=on' : '';
  return `local,path=${optionValue(path)},mount_tag=${tag},security_model=none${ro},multidevs=remap`;
}

/**
 * The arguments: no default devices, no display, `-no-reboot` so power-off and panic end
 * QEMU, the host root read-only as `host_root` and the two writable shares.
 */
export function qemuArguments(spec: QemuBootSpec): string[] {
  const args = [
    '-accel',
    spec.accel,
    '-m',
    String(spec.memoryMb),
    '-smp',
    String(spec.cpus),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-kernel',
    spec.kernelImage,
    '-initrd',
    spec.initramfs,
    '-append',
    GUEST_KERNEL_COMMAND_LINE,
    '-virtfs',
    virtfs('/', 'host_root', true),
    '-virtfs',
    virtfs(spec.controlDir, 'lab_ctl', false),
    '-virtfs',
    virtfs(spec.resultsDir, 'lab_results', false),
  ];
  if (spec.accel === 'kvm') args.push('-cpu', 'host');
  if (spec.console === 'stdio') args.push('-serial', 'mon:stdio');
  else args.push('-serial', `file:${spec.console.file}`, '-monitor', 'none');
  return args;
}
