/**
 * The guest options shared by `sgv4 lab run` and `sgv4 lab shell`, and their conversion
 * to the lab API's {@link LabGuestOptions}.
 */
import { type LabAccel, type LabGuestOptions, parseScsiDebugParams } from '@sgv4/lab';
import type { OptionSpec } from '../framework/command.js';
import type { Invocation } from '../framework/invocation.js';

/** `--accel`: the QEMU accelerator (shared by every command that boots a guest). */
export const LAB_ACCEL_OPTION: OptionSpec = {
  type: 'string',
  valueName: 'tcg|kvm|auto',
  description: 'tcg (default), kvm, or auto: KVM if it boots within 30 s, else TCG',
};

/** `--timeout`: the hard timeout of a guest run (shared by every command that boots a guest). */
export const LAB_TIMEOUT_OPTION: OptionSpec = {
  type: 'string',
  valueName: 'SECONDS',
  description: 'hard timeout: QEMU is killed after this long (default 600)',
};

/** `--scsi-debug`, `--sg-allow-dio`, `--sg-def-reserved-size`, `--memory`, `--cpus`, `--accel`, `--timeout`, `--user`. */
export const labGuestOptionSpecs: Readonly<Record<string, OptionSpec>> = {
  'scsi-debug': {
    type: 'string',
    valueName: "'K=V ...'",
    description:
      "scsi_debug module parameters, merged over the defaults dev_size_mb=64 num_tgts=1 max_luns=1 (e.g. 'sector_size=4096 delay=0 opts=0x10 every_nth=5')",
  },
  'sg-allow-dio': { type: 'boolean', description: 'load sg with allow_dio=1 (default 0)' },
  'sg-def-reserved-size': {
    type: 'string',
    valueName: 'BYTES',
    description: "load sg with def_reserved_size=BYTES (default: the module's 32768)",
  },
  memory: { type: 'string', valueName: 'MIB', description: 'guest RAM in MiB, 256..65536 (default 2048)' },
  cpus: { type: 'string', valueName: 'N', description: 'virtual CPUs, 1..64 (default 2)' },
  accel: LAB_ACCEL_OPTION,
  timeout: LAB_TIMEOUT_OPTION,
  user: {
    type: 'string',
    valueName: 'root|nobody',
    description:
      'run as root (default) or as nobody (uid/gid 65534, no capabilities, sg/bsg nodes made 0666)',
  },
};

/** Guest settings from the parsed options; bad values throw errors naming the option. */
export function labGuestOptionsFrom(invocation: Invocation): LabGuestOptions & {
  timeoutMs: number;
  user: 'root' | 'nobody';
} {
  const scsiDebugText = invocation.string('scsi-debug');
  const reserved = invocation.integer('sg-def-reserved-size', { min: 0, max: 0x7fffffff });
  const accel: LabAccel = invocation.choice('accel', ['tcg', 'kvm', 'auto'] as const, 'tcg') ?? 'tcg';
  return {
    ...(scsiDebugText === undefined ? {} : { scsiDebug: parseScsiDebugParams(scsiDebugText) }),
    sgAllowDio: invocation.flag('sg-allow-dio'),
    ...(reserved === undefined ? {} : { sgDefReservedSize: reserved }),
    memoryMb: invocation.integer('memory', { min: 256, max: 65536 }, 2048) ?? 2048,
    cpus: invocation.integer('cpus', { min: 1, max: 64 }, 2) ?? 2,
    accel,
    timeoutMs: (invocation.integer('timeout', { min: 1, max: 86400 }, 600) ?? 600) * 1000,
    user: invocation.choice('user', ['root', 'nobody'] as const, 'root') ?? 'root',
  };
}
