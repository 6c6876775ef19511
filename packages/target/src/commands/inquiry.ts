/**
 * INQUIRY (SPC-6 6.7): standard data and the VPD pages 0x00 (Supported VPD Pages), 0x80 (Unit
 * Serial Number), 0x83 (Device Identification), 0xb0 (Block Limits, from the LU's QueueLimits),
 * 0xb1 (Block Device Characteristics) and 0xb2 (Logical Block Provisioning). Built with the
 * core's response tables.
 * @module
 */
import {
  BLOCK_DEVICE_CHARACTERISTICS_VPD,
  BLOCK_LIMITS_VPD,
  DESIGNATION_DESCRIPTOR,
  encodeTable,
  LOGICAL_BLOCK_PROVISIONING_VPD,
  STANDARD_INQUIRY,
  VPD_HEADER,
} from '@sgv4/core';
import type { LogicalUnit } from '../logical-unit/logical-unit.js';
import { invalidFieldInCdb } from '../sense/check-condition.js';
import type { CommandContext, CommandResult, TargetView } from './command-context.js';
import { allocate, num } from './helpers.js';

/** VERSION 07h: the target claims SPC-5 (SPC-6 6.7.2 VERSION field). */
const VERSION_SPC5 = 0x07;

/**
 * Version descriptors (SPC-6 6.7.2, table of version descriptor values): SAM-5, SPC-4, SPC-5,
 * SBC-3, SBC-4, and iSCSI when served over iSCSI. SPC-4 and SBC-3 are listed because
 * initiators that predate SPC-5 (libiscsi's `Inquiry.VersionDescriptors`) look for them.
 */
function versionDescriptors(target: TargetView): number[] {
  return [0x00a0, 0x0460, 0x05c0, 0x04c0, 0x0600, ...(target.protocol === 'iscsi' ? [0x0960] : [])];
}

/** Largest MAXIMUM UNMAP LBA COUNT reported (SBC-5 6.6.4; libiscsi checks <= 1 Mi blocks). */
export const MAX_UNMAP_LBA_COUNT = 0x10_0000;
/** MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT. */
export const MAX_UNMAP_DESCRIPTORS = 256;
/** MAXIMUM WRITE SAME LENGTH in blocks. */
export const MAX_WRITE_SAME_BLOCKS = 0x1_0000;
/** MAXIMUM COMPARE AND WRITE LENGTH in blocks (the field is one byte). */
export const MAX_COMPARE_AND_WRITE_BLOCKS = 255;

/** Standard INQUIRY data, 96 bytes (SPC-6 6.7.2). `present` false: peripheral qualifier 011b, type 1Fh. */
export function standardInquiry(target: TargetView, present: boolean): Uint8Array {
  const data = new Uint8Array(96);
  encodeTable(
    STANDARD_INQUIRY,
    {
      peripheralQualifier: present ? 0 : 3,
      peripheralDeviceType: present ? 0 : 0x1f,
      version: VERSION_SPC5,
      normaca: 0,
      hisup: 1,
      responseDataFormat: 2,
      additionalLength: data.length - 5,
      multip: target.ports.length > 1 ? 1 : 0,
      cmdque: 1,
      vendor: target.vendor,
      product: target.product,
      revision: target.revision,
    },
    data,
    0,
  );
  versionDescriptors(target).forEach((v, i) => {
    data[58 + 2 * i] = v >> 8;
    data[59 + 2 * i] = v & 0xff;
  });
  return data;
}

function vpd(pageCode: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  encodeTable(VPD_HEADER, { pageCode, pageLength: body.length }, out, 0);
  out.set(body, 4);
  return out;
}

/** A designation descriptor (SPC-6 7.7.6.1): header + designator. */
function designator(
  fields: {
    codeSet: number;
    association: number;
    designatorType: number;
    piv?: number;
    protocolIdentifier?: number;
  },
  value: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(4 + value.length);
  encodeTable(DESIGNATION_DESCRIPTOR, { ...fields, designatorLength: value.length }, out, 0);
  out.set(value, 4);
  return out;
}

/** A SCSI name string designator value: UTF-8, NUL-terminated, padded to a multiple of 4 (SPC-6 7.7.6.11). */
function scsiNameString(name: string): Uint8Array {
  const bytes = new TextEncoder().encode(name);
  const out = new Uint8Array((bytes.length + 4) & ~3);
  out.set(bytes);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** The pages the target returns, ascending (SPC-6 7.7.4: the list shall be in ascending order). */
export const VPD_PAGES = [0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2] as const;

/**
 * Device Identification (SPC-6 7.7.6): the LU's NAA locally assigned designator
 * (NAA 3h, SPC-6 7.7.6.6.x), a T10 vendor ID designator, and for the target port it was
 * asked through, its relative target port identifier and its SCSI name string.
 */
function deviceIdentification(ctx: CommandContext): Uint8Array {
  const { lu, target, nexus } = ctx;
  const iscsi = target.protocol === 'iscsi';
  const portFields = iscsi ? { piv: 1, protocolIdentifier: 5 } : {};
  const rtpi = new Uint8Array(4);
  rtpi[2] = nexus.relativePort >> 8;
  rtpi[3] = nexus.relativePort & 0xff;
  const t10 = new TextEncoder().encode(`${target.vendor.padEnd(8, ' ')}${target.product} ${lu.serialNumber}`);
  return concat([
    designator({ codeSet: 1, association: 0, designatorType: 3 }, lu.naaIdentifier),
    designator({ codeSet: 2, association: 0, designatorType: 1 }, t10),
    designator({ codeSet: 1, association: 1, designatorType: 4, ...portFields }, rtpi),
    designator(
      { codeSet: 3, association: 1, designatorType: 8, ...portFields },
      scsiNameString(nexus.targetPort),
    ),
  ]);
}

/**
 * Block Limits (SBC-5 6.6.4), consistent with the LU's QueueLimits the way Linux's sd reads
 * it (drivers/scsi/sd.c `sd_read_block_limits`, `sd_revalidate_disk`): MAXIMUM TRANSFER LENGTH
 * is `max_dev_sectors` (0 = no limit reported), OPTIMAL TRANSFER LENGTH is `io_opt`, and the
 * granularity is the physical block size, all in logical blocks.
 */
export function blockLimits(lu: LogicalUnit): Uint8Array {
  const q = lu.queueLimits;
  const lbs = lu.blockSize;
  const perPhysical = Math.max(1, q.physicalBlockSize / lbs);
  const body = encodeTable(BLOCK_LIMITS_VPD, {
    wsnz: 0,
    maximumCompareAndWriteLength: MAX_COMPARE_AND_WRITE_BLOCKS,
    optimalTransferLengthGranularity: perPhysical,
    maximumTransferLength: lu.maximumTransferLength,
    optimalTransferLength: Math.min(0xffff_ffff, Math.floor(q.ioOpt / lbs)),
    maximumPrefetchLength: lu.maximumTransferLength,
    maximumUnmapLbaCount: lu.thin ? MAX_UNMAP_LBA_COUNT : 0,
    maximumUnmapBlockDescriptorCount: lu.thin ? MAX_UNMAP_DESCRIPTORS : 0,
    optimalUnmapGranularity: lu.thin ? perPhysical : 0,
    maximumWriteSameLength: BigInt(MAX_WRITE_SAME_BLOCKS),
  });
  return vpd(0xb0, body.subarray(4));
}

function vpdPage(ctx: CommandContext, page: number): Uint8Array {
  const { lu } = ctx;
  switch (page) {
    case 0x00:
      return vpd(0x00, Uint8Array.from(VPD_PAGES));
    case 0x80:
      return vpd(0x80, new TextEncoder().encode(lu.serialNumber));
    case 0x83:
      return vpd(0x83, deviceIdentification(ctx));
    case 0xb0:
      return blockLimits(lu);
    case 0xb1:
      // Non-rotating medium (MEDIUM ROTATION RATE 0001h), form factor not reported.
      return vpd(0xb1, encodeTable(BLOCK_DEVICE_CHARACTERISTICS_VPD, { mediumRotationRate: 1 }).subarray(4));
    case 0xb2:
      return vpd(
        0xb2,
        encodeTable(LOGICAL_BLOCK_PROVISIONING_VPD, {
          lbpu: lu.thin ? 1 : 0,
          lbpws: lu.thin ? 1 : 0,
          lbpws10: lu.thin ? 1 : 0,
          lbprz: lu.thin ? 1 : 0,
          provisioningType: lu.thin ? 2 : 0,
        }).subarray(4),
      );
    default:
      throw invalidFieldInCdb(2);
  }
}

/**
 * INQUIRY: EVPD 0 with a PAGE CODE is INVALID FIELD IN CDB (byte 2); the obsolete CMDDT bit
 * likewise (byte 1 bit 1); an unsupported VPD page is INVALID FIELD IN CDB at byte 2.
 */
export function inquiry(ctx: CommandContext): CommandResult {
  const f = ctx.fields;
  if (((ctx.cdb[1] ?? 0) & 0x02) !== 0) throw invalidFieldInCdb(1, 1);
  const allocationLength = num(f.allocationLength);
  if (f.evpd === 0) {
    if (num(f.pageCode) !== 0) throw invalidFieldInCdb(2);
    return { dataIn: allocate(standardInquiry(ctx.target, true), allocationLength) };
  }
  return { dataIn: allocate(vpdPage(ctx, num(f.pageCode)), allocationLength) };
}
