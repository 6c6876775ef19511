/**
 * What the conformance suite needs from the transport under test: a way to open a Device on
 * it, and a way to make the device behind it slow, deaf or failing (scsi_debug's knobs in the
 * lab, the embedded target's knobs on the host, tgt for iSCSI).
 */
import type { Device, OpenOptions } from '../../src/index.js';

/** Fault and latency knobs of the device behind the transport. */
export interface FaultInjector {
  /** Every command takes about `ms` milliseconds (0 = the device's normal speed). */
  latency(ms: number): Promise<void>;
  /**
   * The `n`-th command from now (n >= 2) is never answered by the device, so only a timeout
   * ends it; commands before and after it are unaffected once {@link FaultInjector.clear} ran.
   */
  dropNth(n: number): Promise<void>;
  /** Reads of the returned block range fail with MEDIUM ERROR (others are unaffected). */
  mediumErrors(): Promise<{ readonly lba: bigint; readonly count: number }>;
  /** Back to normal: no latency, no faults. */
  clear(): Promise<void>;
}

/** A transport under test. */
export interface ConformanceTarget {
  /** Shown in test names, e.g. `sg /dev/sg0`. */
  readonly name: string;
  /** Opens a Device on the transport (each call a new handle). */
  open(options?: OpenOptions): Promise<Device>;
  /** The device's knobs. */
  readonly faults: FaultInjector;
  /**
   * Checks this target cannot make meaningful, each with the reason (shown in the skipped
   * test's name): `timeout` when something other than the Device owns a lost command (the
   * kernel's SCSI error handler in front of an iSCSI LU), `lunReset` when the reset cannot
   * reach the device.
   */
  readonly cannot?: { readonly timeout?: string; readonly lunReset?: string };
}
