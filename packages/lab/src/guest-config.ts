/**
 * What the guest looks like: the scsi_debug and sg module parameters, memory, CPUs and
 * the accelerator. Every value is validated here, before anything boots, so a bad
 * setting is a {@link LabConfigError} naming the field rather than a guest that fails
 * to load a module.
 * @module
 */
import { LabConfigError } from './errors.js';
import { type ScsiDebugParams, validateScsiDebugParams } from './scsi-debug-params.js';

/** How QEMU executes the guest. */
export type LabAccel = 'tcg' | 'kvm' | 'auto';

/** The sg driver's module parameters (drivers/scsi/sg.c). */
export interface SgModuleParams {
  /** `allow_dio`: let SG_FLAG_DIRECT_IO really map user pages (sg.c `sg_allow_dio`, default 0). */
  readonly allowDio: boolean;
  /** `def_reserved_size` in bytes (sg.c `def_reserved_size`, default SG_DEF_RESERVED_SIZE = 32768). */
  readonly defReservedSize?: number;
}

/** A complete guest description. */
export interface LabGuestConfig {
  /** scsi_debug module parameters, passed to `modprobe scsi_debug`. */
  readonly scsiDebug: ScsiDebugParams;
  /** sg module parameters. */
  readonly sg: SgModuleParams;
  /** Guest RAM in MiB. */
  readonly memoryMb: number;
  /** Virtual CPUs. */
  readonly cpus: number;
  /**
   * `tcg` (default: software emulation, works everywhere), `kvm` (hardware virtualisation,
   * fails if it does not boot) or `auto` (KVM when it boots in time, else TCG).
   */
  readonly accel: LabAccel;
}

/**
 * The lab's default scsi_debug devices: one host, one target, one LUN of 64 MiB
 * (`dev_size_mb=64 num_tgts=1 max_luns=1`). Everything else stays at the 6.1 module's
 * defaults (512-byte sectors, `delay=1` jiffy, `max_queue=192`), so tests meet the
 * kernel's own behaviour unless they ask otherwise.
 */
export const DEFAULT_SCSI_DEBUG_PARAMS: ScsiDebugParams = { dev_size_mb: 64, num_tgts: 1, max_luns: 1 };

/** Default guest: the scsi_debug defaults above, sg with allow_dio=0, 2048 MiB, 2 CPUs, TCG. */
export const DEFAULT_GUEST_CONFIG: LabGuestConfig = {
  scsiDebug: DEFAULT_SCSI_DEBUG_PARAMS,
  sg: { allowDio: false },
  memoryMb: 2048,
  cpus: 2,
  accel: 'tcg',
};

/** A partial guest description; `scsiDebug` entries are merged over the defaults. */
export interface LabGuestOptions {
  /** scsi_debug parameters merged over {@link DEFAULT_SCSI_DEBUG_PARAMS}. */
  readonly scsiDebug?: ScsiDebugParams;
  /** sg `allow_dio` (default false). */
  readonly sgAllowDio?: boolean;
  /** sg `def_reserved_size` in bytes (default: the module's 32768). */
  readonly sgDefReservedSize?: number;
  /** Guest RAM in MiB, 256..65536 (default 2048). */
  readonly memoryMb?: number;
  /** Virtual CPUs, 1..64 (default 2). */
  readonly cpus?: number;
  /** Accelerator (default `tcg`). */
  readonly accel?: LabAccel;
}

/** Validates `options` and fills in the defaults. */
export function resolveGuestConfig(options: LabGuestOptions = {}): LabGuestConfig {
  const scsiDebug = validateScsiDebugParams({ ...DEFAULT_SCSI_DEBUG_PARAMS, ...options.scsiDebug });
  const memoryMb = checkInteger('memoryMb', options.memoryMb ?? DEFAULT_GUEST_CONFIG.memoryMb, 256, 65536);
  const cpus = checkInteger('cpus', options.cpus ?? DEFAULT_GUEST_CONFIG.cpus, 1, 64);
  const accel = options.accel ?? DEFAULT_GUEST_CONFIG.accel;
  if (accel !== 'tcg' && accel !== 'kvm' && accel !== 'auto') {
    throw new LabConfigError('accel', "one of 'tcg', 'kvm', 'auto'", accel);
  }
  const sg: SgModuleParams =
    options.sgDefReservedSize === undefined
      ? { allowDio: options.sgAllowDio ?? false }
      : {
          allowDio: options.sgAllowDio ?? false,
          // sg.c stores def_reserved_size in an int; sg_build_reserve halves on failure down to PAGE_SIZE.
          defReservedSize: checkInteger('sgDefReservedSize', options.sgDefReservedSize, 0, 0x7fffffff),
        };
  return { scsiDebug, sg, memoryMb, cpus, accel };
}

function checkInteger(field: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new LabConfigError(field, `an integer in ${min}..${max}`, value);
  }
  return value;
}

/** The `sg` module arguments for `modprobe sg ...`. */
export function sgModuleArguments(sg: SgModuleParams): string[] {
  const args = [`allow_dio=${sg.allowDio ? 1 : 0}`];
  if (sg.defReservedSize !== undefined) args.push(`def_reserved_size=${sg.defReservedSize}`);
  return args;
}
