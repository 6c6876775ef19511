/**
 * MODE SENSE(6/10) and MODE SELECT(6/10) (SPC-6 6.13, 6.14, 6.11, 6.12; parameter data SPC-6
 * 7.5.6, block descriptors SBC-5 6.5.2/6.5.3), over the LU's {@link ModePages}.
 * @module
 */
import {
  encodeTable,
  type FieldValues,
  LONG_BLOCK_DESCRIPTOR,
  MODE_HEADER6,
  MODE_HEADER10,
  SHORT_BLOCK_DESCRIPTOR,
} from '@sgv4/core';
import type { PageControl } from '../logical-unit/mode-pages.js';
import { Asc } from '../sense/additional-sense.js';
import {
  invalidFieldInCdb,
  invalidFieldInParameterList,
  parameterListLengthError,
} from '../sense/check-condition.js';
import type { CommandContext, CommandResult } from './command-context.js';
import { allocate, num } from './helpers.js';

const PAGE_CONTROLS: readonly PageControl[] = ['current', 'changeable', 'default', 'saved'];

/**
 * MODE SENSE: header, a block descriptor unless DBD (long with LLBAA in MODE SENSE(10)), then
 * the page asked for or all pages (0x3f, subpage 00h or FFh). An unknown page is INVALID
 * FIELD IN CDB at byte 2, a subpage the page does not have at byte 3. The header's
 * DEVICE-SPECIFIC PARAMETER carries WP (write protected, hardware or SWP) and DPOFUA
 * (SBC-5 6.5.1).
 */
export function modeSense(ctx: CommandContext): CommandResult {
  const { lu, fields } = ctx;
  const ten = ctx.cdb[0] === 0x5a;
  const pc = PAGE_CONTROLS[num(fields.pc)] as PageControl;
  const pageCode = num(fields.pageCode);
  const subpage = num(fields.subpageCode);
  let codes: readonly number[];
  if (pageCode === 0x3f) {
    if (subpage !== 0 && subpage !== 0xff) throw invalidFieldInCdb(3);
    codes = lu.modePages.codes;
  } else {
    if (!lu.modePages.has(pageCode)) throw invalidFieldInCdb(2, 5);
    if (subpage !== 0) throw invalidFieldInCdb(3);
    codes = [pageCode];
  }
  const long = ten && fields.llbaa === 1;
  const descriptor =
    fields.dbd === 1
      ? new Uint8Array(0)
      : long
        ? encodeTable(LONG_BLOCK_DESCRIPTOR, {
            numberOfBlocks: BigInt(lu.capacity),
            blockLength: lu.blockSize,
          })
        : encodeTable(SHORT_BLOCK_DESCRIPTOR, {
            numberOfBlocks: Math.min(lu.capacity, 0xffff_ffff),
            blockLength: lu.blockSize,
          });
  const pages = codes.map((c) => lu.modePages.read(c, pc));
  const headerLength = ten ? 8 : 4;
  const total = headerLength + descriptor.length + pages.reduce((n, p) => n + p.length, 0);
  const data = new Uint8Array(total);
  const wp = lu.writeProtected ? 1 : 0;
  if (ten) {
    encodeTable(
      MODE_HEADER10,
      {
        modeDataLength: total - 2,
        wp,
        dpofua: 1,
        longLba: long ? 1 : 0,
        blockDescriptorLength: descriptor.length,
      },
      data,
      0,
    );
  } else {
    encodeTable(
      MODE_HEADER6,
      { modeDataLength: Math.min(255, total - 1), wp, dpofua: 1, blockDescriptorLength: descriptor.length },
      data,
      0,
    );
  }
  data.set(descriptor, headerLength);
  let off = headerLength + descriptor.length;
  for (const p of pages) {
    data.set(p, off);
    off += p.length;
  }
  return { dataIn: allocate(data, num(fields.allocationLength)) };
}

/** Data-out of MODE SELECT: the PARAMETER LIST LENGTH. */
export function modeSelectDataOut(fields: FieldValues): number {
  return num(fields.parameterListLength);
}

/**
 * MODE SELECT: validates the whole parameter list before changing anything (SPC-6 6.11):
 * a short header is PARAMETER LIST LENGTH ERROR; a block descriptor must keep the block length
 * and capacity; each page must be implemented, have its PAGE LENGTH, fit the list, and change
 * only changeable fields (INVALID FIELD IN PARAMETER LIST pointing at the offending byte).
 * SP = 1 saves the pages. A change establishes MODE PARAMETERS CHANGED for every other I_T
 * nexus (SPC-6 7.5.x, "changes to mode parameters shared by I_T nexuses").
 */
export function modeSelect(ctx: CommandContext): CommandResult | undefined {
  const { lu, fields, dataOut } = ctx;
  const ten = ctx.cdb[0] === 0x55;
  const length = num(fields.parameterListLength);
  if (length === 0) return undefined;
  const headerLength = ten ? 8 : 4;
  if (length < headerLength) throw parameterListLengthError(ten ? 7 : 4);
  const bdLength = ten ? ((dataOut[6] ?? 0) << 8) | (dataOut[7] ?? 0) : (dataOut[3] ?? 0);
  const longLba = ten && ((dataOut[4] ?? 0) & 0x01) === 1;
  const bdSize = longLba ? 16 : 8;
  if (bdLength % bdSize !== 0) throw invalidFieldInParameterList(ten ? 6 : 3);
  if (headerLength + bdLength > length) throw parameterListLengthError(ten ? 7 : 4);
  for (let off = headerLength; off < headerLength + bdLength; off += bdSize) {
    const view = new DataView(dataOut.buffer, dataOut.byteOffset + off, bdSize);
    const blocks = longLba ? Number(view.getBigUint64(0)) : view.getUint32(0);
    const blockLength = longLba ? view.getUint32(12) : view.getUint32(4) & 0xff_ffff;
    if (blockLength !== lu.blockSize) throw invalidFieldInParameterList(off + (longLba ? 12 : 5));
    if (blocks !== 0 && blocks !== lu.capacity && !(blocks === 0xffff_ffff && lu.capacity > 0xffff_ffff))
      throw invalidFieldInParameterList(off);
  }
  const pages: { code: number; bytes: Uint8Array }[] = [];
  for (let off = headerLength + bdLength; off < length; ) {
    if (off + 2 > length) throw parameterListLengthError(ten ? 7 : 4);
    const b0 = dataOut[off] ?? 0;
    if ((b0 & 0x40) !== 0) throw invalidFieldInParameterList(off, 6);
    const code = b0 & 0x3f;
    const pageLength = 2 + (dataOut[off + 1] ?? 0);
    if (off + pageLength > length) throw parameterListLengthError(ten ? 7 : 4);
    const bytes = dataOut.subarray(off, off + pageLength);
    const refusal = lu.modePages.check(code, bytes);
    if (refusal !== undefined) throw invalidFieldInParameterList(off + refusal.byte, refusal.bit);
    pages.push({ code, bytes });
    off += pageLength;
  }
  let changed = false;
  for (const p of pages) changed = lu.modePages.apply(p.code, p.bytes, fields.sp === 1) || changed;
  if (changed) lu.establishForOthers(ctx.nexus.key, Asc.MODE_PARAMETERS_CHANGED);
  return undefined;
}
