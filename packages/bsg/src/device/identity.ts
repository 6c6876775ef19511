/**
 * Who a logical unit is: its address and nodes (from the transport) and what it says about
 * itself (standard INQUIRY, VPD 0x00 / 0x80 / 0x83).
 * @module
 */
import type { DeviceIdentifier, StandardInquiry } from '../commands/inquiry.js';
import type { DeviceNodes, Hctl } from '../transport/transport.js';

/** The identity of an open device. */
export interface DeviceIdentity {
  /** `H:C:T:L`, `emu:<name>/<lun>`, an iSCSI URL... */
  readonly address: string;
  /** Linux SCSI address, for kernel nodes. */
  readonly hctl?: Hctl;
  /** The kernel nodes of the same logical unit (sg, bsg, block). */
  readonly nodes: DeviceNodes;
  /** PERIPHERAL DEVICE TYPE. */
  readonly peripheralType: number;
  /** Its name (`disk`). */
  readonly peripheralTypeName: string;
  /** T10 vendor identification. */
  readonly vendor: string;
  /** Product identification. */
  readonly product: string;
  /** Product revision level. */
  readonly revision: string;
  /** Unit serial number (VPD 0x80), when the device has one. */
  readonly serial?: string;
  /** Device identification designators (VPD 0x83). */
  readonly identifiers: readonly DeviceIdentifier[];
  /** Supported VPD pages (VPD 0x00); empty when the device has none or was not asked. */
  readonly vpdPages: readonly number[];
  /** The standard INQUIRY data, when it was read. */
  readonly inquiry?: StandardInquiry;
}
