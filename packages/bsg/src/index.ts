/**
 * `@sgv4/bsg`: the device API for Node apps. `open()` a logical unit through a kernel node
 * (`/dev/sgN`, `/dev/bsg/H:C:T:L`, `/dev/sdX`) or a registered transport (`emu:`, `iscsi://`),
 * and drive it with tagged, promise-based SCSI requests: raw `submit()` (never rejects on CHECK
 * CONDITION), command helpers that throw `DeviceError` with decoded sense, queue depth, task
 * attributes, timeouts, AbortSignal, abort by tag, task management, a permission pre-check,
 * `list()` of every device, and tracing through `node:diagnostics_channel`.
 * @module
 */
// The vocabulary a device program needs, from the core, so one import does: the error family and
// its exit statuses, result categories, task attributes and task management functions.
export {
  AbortedError,
  DeviceError,
  ExitStatus,
  InvalidFieldError,
  MalformedDataError,
  NotSupportedError,
  OsError,
  PermissionDeniedError,
  ResultCategory,
  Sgv4Error,
  TagCollisionError,
  TaskAttribute,
  TaskManagementFunction,
  TimeoutError,
  TransportError,
} from '@sgv4/core';
export * from './commands/block-io.js';
export * from './commands/capacity.js';
export type { ScsiCommand } from './commands/command.js';
export * from './commands/inquiry.js';
export * from './commands/mode.js';
export { peripheralTypeName } from './commands/peripheral-types.js';
export * from './commands/persistent-reserve.js';
export * from './commands/report-luns.js';
export * from './commands/start-stop.js';
export * from './commands/supported-opcodes.js';
export * from './commands/unit-status.js';
export { DEFAULT_TIMEOUT_MS, Device, type DeviceOptions, MAX_OUTSTANDING } from './device/device.js';
export type { DeviceIdentity } from './device/identity.js';
export type { DeviceLimits } from './device/limits.js';
export { type OpenOptions, open } from './device/open.js';
export { CommandPermissionError, type PermissionCheckOptions } from './device/permission-gate.js';
export type { DeviceRequest, DeviceResponse, RequestOptions, SubmittedRequest } from './device/request.js';
export { type EmuLocation, parseEmuLocation } from './emu/emu-location.js';
export { EmuTransport, type EmuTransportOptions, emuTransportFactory } from './emu/emu-transport.js';
export { IscsiTransport, iscsiTransportFactory } from './iscsi/iscsi-transport.js';
export type { SysfsRoots } from './linux/sysfs.js';
export { type ListedDevice, list } from './list.js';
export { TRACE_CHANNELS, type TraceEvent } from './tracing.js';
export {
  locationScheme,
  registeredTransports,
  registerTransport,
  transportFactory,
  unregisterTransport,
} from './transport/registry.js';
export type * from './transport/transport.js';

import { emuTransportFactory } from './emu/emu-transport.js';
import { iscsiTransportFactory } from './iscsi/iscsi-transport.js';
import { registerTransport } from './transport/registry.js';

// Built in: `emu:` (the embedded target: no device, no root, no guest) and `iscsi://`.
registerTransport(emuTransportFactory);
registerTransport(iscsiTransportFactory);
