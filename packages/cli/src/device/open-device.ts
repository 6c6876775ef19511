/**
 * How the device commands open what the user names: any kernel node path or a registered
 * transport URL, read-write unless `--readonly`, through @sgv4/bsg.
 */
import { type Device, open } from '@sgv4/bsg';
import type { OptionSpec } from '../framework/command.js';
import type { Invocation } from '../framework/invocation.js';

/** `--readonly`, shared by the device commands. */
export const READONLY_OPTION: OptionSpec = {
  type: 'boolean',
  description: 'open the device read-only (O_RDONLY): the kernel then filters commands (see sgv4 perm)',
};

/** `--timeout MS`, shared by the device commands. */
export const TIMEOUT_OPTION: OptionSpec = {
  type: 'string',
  valueName: 'MS',
  description: 'command timeout in milliseconds (default 60000, as sg3_utils)',
};

/** The `--timeout` value, when given. */
export function timeoutOf(invocation: Invocation): number | undefined {
  return invocation.integer('timeout', { min: 1, max: 0xffff_ffff });
}

/** Opens `location` for a command (read-write unless `--readonly`). */
export function openDevice(
  location: string,
  invocation: Invocation,
  options: { identify?: boolean; permissionCheck?: boolean } = {},
): Promise<Device> {
  return open(location, {
    readOnly: invocation.flag('readonly'),
    identify: options.identify ?? true,
    permissionCheck: options.permissionCheck ?? true,
  });
}

/** True when an argument names a device rather than data: a path, or a `scheme:` URL (`emu:`, `iscsi://`). */
export function looksLikeDevice(arg: string): boolean {
  return arg.startsWith('/') || arg.startsWith('./') || /^[a-z][a-z0-9+.-]+:/i.test(arg);
}
