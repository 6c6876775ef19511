/**
 * `open()`: a Device for a kernel node path or a registered URL scheme.
 * @module
 */
import { AbortedError, InvalidFieldError } from '@sgv4/core';
import { KernelTransport } from '../linux/kernel-transport.js';
import type { SysfsRoots } from '../linux/sysfs.js';
import { locationScheme, transportFactory } from '../transport/registry.js';
import type { Transport, TransportOpenOptions } from '../transport/transport.js';
import { Device, type DeviceOptions } from './device.js';

/** Options of {@link open}. */
export interface OpenOptions extends DeviceOptions {
  /**
   * Open without write access (O_RDONLY). Default false (O_RDWR): a read-only sg fd is
   * filtered by the kernel's command table, a read-write one is not (drivers/scsi/sg.c).
   */
  readonly readOnly?: boolean;
  /** O_EXCL. */
  readonly exclusive?: boolean;
  /**
   * The caller's CAP_SYS_RAWIO for the permission pre-check. Default: the process's effective
   * capability (`emu:` models a bsg node opened by this process).
   */
  readonly capSysRawio?: boolean;
  /** Where sysfs and /dev are, for kernel nodes (tests). */
  readonly roots?: SysfsRoots;
}

/**
 * Opens a logical unit: `/dev/sgN`, `/dev/bsg/H:C:T:L`, `/dev/sdX` (or any path to such a
 * node: the kind comes from fstat), or a URL whose scheme a package registered (`emu:`,
 * `iscsi://`). Resolves once the identity is read (unless `identify: false`).
 */
export async function open(location: string, options: OpenOptions = {}): Promise<Device> {
  if (typeof location !== 'string' || location === '') {
    throw new InvalidFieldError('location', 'must be a device path or a transport URL', location);
  }
  if (options.signal?.aborted) throw new AbortedError(`open ${location}`, options.signal.reason);
  const transportOptions: TransportOpenOptions = {
    readOnly: options.readOnly ?? false,
    exclusive: options.exclusive ?? false,
    ...(options.capSysRawio !== undefined ? { capSysRawio: options.capSysRawio } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  };
  const scheme = locationScheme(location);
  let transport: Transport;
  if (scheme === undefined) {
    transport = KernelTransport.open(location, transportOptions, options.roots ?? {});
  } else {
    transport = await transportFactory(scheme).open(location, transportOptions);
  }
  return Device.attach(transport, options);
}
