/**
 * `list()`: every SCSI logical unit the kernel knows, with its sg, bsg and block nodes paired
 * by H:C:T:L and its identity from sysfs (no device is opened, so it works for any user).
 * @module
 */
import { parseVpdPage } from '@sgv4/core';
import { type DeviceIdentifier, toDeviceIdentifier } from './commands/inquiry.js';
import { peripheralTypeName } from './commands/peripheral-types.js';
import { deviceNodes, listScsiDevices, type SysfsRoots } from './linux/sysfs.js';
import type { DeviceNodes, Hctl } from './transport/transport.js';

/** One logical unit found in sysfs. */
export interface ListedDevice {
  /** `H:C:T:L`. */
  readonly address: string;
  /** Parsed address. */
  readonly hctl: Hctl;
  /** Its nodes that exist under /dev. */
  readonly nodes: DeviceNodes;
  /** Peripheral device type (sysfs `type`). */
  readonly peripheralType: number;
  /** Its name (`disk`). */
  readonly peripheralTypeName: string;
  /** sysfs `vendor`. */
  readonly vendor: string;
  /** sysfs `model`. */
  readonly product: string;
  /** sysfs `rev`. */
  readonly revision: string;
  /** Unit serial number, from the VPD page 0x80 the kernel cached (sysfs `vpd_pg80`). */
  readonly serial?: string;
  /** Device identification designators, from sysfs `vpd_pg83`. */
  readonly identifiers: readonly DeviceIdentifier[];
  /** sysfs `queue_depth`. */
  readonly queueDepth?: number;
  /** sysfs `state` (`running`, `offline`...). */
  readonly state?: string;
}

/** Lists the SCSI logical units, in H:C:T:L order. */
export async function list(roots: SysfsRoots = {}): Promise<ListedDevice[]> {
  return listScsiDevices(roots).map((a) => {
    let serial: string | undefined;
    let identifiers: DeviceIdentifier[] = [];
    try {
      if (a.vpdPage80) {
        const p = parseVpdPage(0x80, a.vpdPage80);
        if (p.pageCode === 0x80 && p.serialNumber !== '') serial = p.serialNumber;
      }
    } catch {
      serial = undefined; // a malformed cached page: leave the serial out
    }
    try {
      if (a.vpdPage83) {
        const p = parseVpdPage(0x83, a.vpdPage83);
        if (p.pageCode === 0x83) identifiers = p.designators.map(toDeviceIdentifier);
      }
    } catch {
      identifiers = [];
    }
    return {
      address: a.address,
      hctl: a.hctl,
      nodes: deviceNodes(a, roots),
      peripheralType: a.peripheralType,
      peripheralTypeName: peripheralTypeName(a.peripheralType),
      vendor: a.vendor,
      product: a.product,
      revision: a.revision,
      ...(serial !== undefined ? { serial } : {}),
      identifiers,
      ...(a.queueDepth !== undefined ? { queueDepth: a.queueDepth } : {}),
      ...(a.state !== undefined ? { state: a.state } : {}),
    };
  });
}
