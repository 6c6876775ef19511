/**
 * Field tables of the response data sgv4 parses (SPC-6, SBC-5).
 * @module
 */
import type { FieldSpec, FieldTable, IntFieldSpec } from './field-table.js';

// The helpers keep each field's name and width as literal types, so DecodedFields<typeof X>
// types what decodeTable returns for table X.
const int = <const N extends string, const W extends number>(
  name: N,
  byte: number,
  width: W,
  bit = 0,
): IntFieldSpec & { readonly name: N; readonly width: W } => ({
  name,
  kind: 'int',
  byte,
  bit,
  width,
  description: '',
});
const flag = <const N extends string>(name: N, byte: number, bit: number) => int(name, byte, 1, bit);
const table = <const F extends readonly FieldSpec[]>(
  name: string,
  length: number,
  fields: F,
): FieldTable & { readonly fields: F } => Object.freeze({ name, length, fields: Object.freeze(fields) });

/** Standard INQUIRY data, the 36 bytes every device returns (SPC-6 6.7.2). */
export const STANDARD_INQUIRY = table('standard INQUIRY data', 36, [
  int('peripheralQualifier', 0, 3, 5),
  int('peripheralDeviceType', 0, 5),
  flag('rmb', 1, 7),
  flag('lucong', 1, 6),
  int('version', 2, 8),
  flag('normaca', 3, 5),
  flag('hisup', 3, 4),
  int('responseDataFormat', 3, 4),
  int('additionalLength', 4, 8),
  flag('sccs', 5, 7),
  flag('acc', 5, 6),
  int('tpgs', 5, 2, 4),
  flag('thirdPartyCopy', 5, 3),
  flag('protect', 5, 0),
  flag('encserv', 6, 6),
  flag('multip', 6, 4),
  flag('cmdque', 7, 1),
  { name: 'vendor', kind: 'ascii', byte: 8, length: 8 },
  { name: 'product', kind: 'ascii', byte: 16, length: 16 },
  { name: 'revision', kind: 'ascii', byte: 32, length: 4 },
]);

/** The 4-byte header of every VPD page (SPC-6 7.7.1). */
export const VPD_HEADER = table('VPD page header', 4, [
  int('peripheralQualifier', 0, 3, 5),
  int('peripheralDeviceType', 0, 5),
  int('pageCode', 1, 8),
  int('pageLength', 2, 16),
]);

/** One designation descriptor of the Device Identification VPD page 0x83 (SPC-6 7.7.6), header only. */
export const DESIGNATION_DESCRIPTOR = table('designation descriptor', 4, [
  int('protocolIdentifier', 0, 4, 4),
  int('codeSet', 0, 4),
  flag('piv', 1, 7),
  int('association', 1, 2, 4),
  int('designatorType', 1, 4),
  int('designatorLength', 3, 8),
]);

/** Block Limits VPD page 0xb0 (SBC-5 6.6.4), 64 bytes. Older devices return a shorter page. */
export const BLOCK_LIMITS_VPD = table('Block Limits VPD page', 64, [
  flag('wsnz', 4, 0),
  int('maximumCompareAndWriteLength', 5, 8),
  int('optimalTransferLengthGranularity', 6, 16),
  int('maximumTransferLength', 8, 32),
  int('optimalTransferLength', 12, 32),
  int('maximumPrefetchLength', 16, 32),
  int('maximumUnmapLbaCount', 20, 32),
  int('maximumUnmapBlockDescriptorCount', 24, 32),
  int('optimalUnmapGranularity', 28, 32),
  flag('ugavalid', 32, 7),
  int('unmapGranularityAlignment', 32, 31),
  int('maximumWriteSameLength', 36, 64),
  int('maximumAtomicTransferLength', 44, 32),
  int('atomicAlignment', 48, 32),
  int('atomicTransferLengthGranularity', 52, 32),
  int('maximumAtomicTransferLengthWithAtomicBoundary', 56, 32),
  int('maximumAtomicBoundarySize', 60, 32),
]);

/** Block Device Characteristics VPD page 0xb1 (SBC-5 6.6.2). */
export const BLOCK_DEVICE_CHARACTERISTICS_VPD = table('Block Device Characteristics VPD page', 64, [
  int('mediumRotationRate', 4, 16),
  int('productType', 6, 8),
  int('wabereq', 7, 2, 6),
  int('wacereq', 7, 2, 4),
  int('nominalFormFactor', 7, 4),
  flag('fuab', 8, 1),
  flag('vbuls', 8, 0),
]);

/** Logical Block Provisioning VPD page 0xb2 (SBC-5 6.6.6). */
export const LOGICAL_BLOCK_PROVISIONING_VPD = table('Logical Block Provisioning VPD page', 8, [
  int('thresholdExponent', 4, 8),
  flag('lbpu', 5, 7),
  flag('lbpws', 5, 6),
  flag('lbpws10', 5, 5),
  int('lbprz', 5, 3, 2),
  flag('ancSup', 5, 1),
  flag('dp', 5, 0),
  int('minimumPercentage', 6, 5, 3),
  int('provisioningType', 6, 3),
  int('thresholdPercentage', 7, 8),
]);

/** READ CAPACITY(10) parameter data (SBC-5 5.20.2). */
export const READ_CAPACITY10_DATA = table('READ CAPACITY(10) data', 8, [
  int('returnedLba', 0, 32),
  int('blockLength', 4, 32),
]);

/** READ CAPACITY(16) parameter data (SBC-5 5.21.2): 32 bytes, the first 12 mandatory. */
export const READ_CAPACITY16_DATA = table('READ CAPACITY(16) data', 32, [
  int('returnedLba', 0, 64),
  int('blockLength', 8, 32),
  int('rcBasis', 12, 2, 4),
  int('pType', 12, 3, 1),
  flag('protEn', 12, 0),
  int('pIExponent', 13, 4, 4),
  int('logicalBlocksPerPhysicalBlockExponent', 13, 4),
  flag('lbpme', 14, 7),
  flag('lbprz', 14, 6),
  int('lowestAlignedLba', 14, 14),
]);

/** MODE SENSE(6) / MODE SELECT(6) parameter header (SPC-6 7.5.6). */
export const MODE_HEADER6 = table('mode parameter header(6)', 4, [
  int('modeDataLength', 0, 8),
  int('mediumType', 1, 8),
  flag('wp', 2, 7),
  flag('dpofua', 2, 4),
  int('blockDescriptorLength', 3, 8),
]);

/** MODE SENSE(10) / MODE SELECT(10) parameter header (SPC-6 7.5.6). */
export const MODE_HEADER10 = table('mode parameter header(10)', 8, [
  int('modeDataLength', 0, 16),
  int('mediumType', 2, 8),
  flag('wp', 3, 7),
  flag('dpofua', 3, 4),
  flag('longLba', 4, 0),
  int('blockDescriptorLength', 6, 16),
]);

/** Short LBA mode parameter block descriptor (SBC-5 6.5.2), 8 bytes. */
export const SHORT_BLOCK_DESCRIPTOR = table('short block descriptor', 8, [
  int('numberOfBlocks', 0, 32),
  int('blockLength', 5, 24),
]);

/** Long LBA mode parameter block descriptor (SBC-5 6.5.3), 16 bytes. */
export const LONG_BLOCK_DESCRIPTOR = table('long block descriptor', 16, [
  int('numberOfBlocks', 0, 64),
  int('blockLength', 12, 32),
]);

/** Caching mode page 0x08 (SBC-5 6.5.6), page length 0x12. */
export const CACHING_MODE_PAGE = table('Caching mode page', 20, [
  flag('ps', 0, 7),
  flag('spf', 0, 6),
  int('pageCode', 0, 6),
  int('pageLength', 1, 8),
  flag('ic', 2, 7),
  flag('abpf', 2, 6),
  flag('cap', 2, 5),
  flag('disc', 2, 4),
  flag('size', 2, 3),
  flag('wce', 2, 2),
  flag('mf', 2, 1),
  flag('rcd', 2, 0),
  int('demandReadRetentionPriority', 3, 4, 4),
  int('writeRetentionPriority', 3, 4),
  int('disablePrefetchTransferLength', 4, 16),
  int('minimumPrefetch', 6, 16),
  int('maximumPrefetch', 8, 16),
  int('maximumPrefetchCeiling', 10, 16),
  flag('fsw', 12, 7),
  flag('lbcss', 12, 6),
  flag('dra', 12, 5),
  flag('nvDis', 12, 0),
  int('numberOfCacheSegments', 13, 8),
  int('cacheSegmentSize', 14, 16),
]);

/** Control mode page 0x0a (SPC-6 7.5.10), page length 0x0a. */
export const CONTROL_MODE_PAGE = table('Control mode page', 12, [
  flag('ps', 0, 7),
  flag('spf', 0, 6),
  int('pageCode', 0, 6),
  int('pageLength', 1, 8),
  int('tst', 2, 3, 5),
  flag('tmfOnly', 2, 4),
  flag('dpicz', 2, 3),
  flag('dSense', 2, 2),
  flag('gltsd', 2, 1),
  flag('rlec', 2, 0),
  int('queueAlgorithmModifier', 3, 4, 4),
  flag('nuar', 3, 3),
  int('qerr', 3, 2, 1),
  flag('vs', 4, 7),
  flag('rac', 4, 6),
  int('uaIntlckCtrl', 4, 2, 4),
  flag('swp', 4, 3),
  flag('ato', 5, 7),
  flag('tas', 5, 6),
  flag('atmpe', 5, 5),
  flag('rwwp', 5, 4),
  flag('sblp', 5, 3),
  int('autoloadMode', 5, 3),
  int('busyTimeoutPeriod', 8, 16),
  int('extendedSelfTestCompletionTime', 10, 16),
]);

/** One command descriptor of REPORT SUPPORTED OPERATION CODES, all-commands format (SPC-6 6.35.3). */
export const COMMAND_DESCRIPTOR = table('command descriptor', 8, [
  int('operationCode', 0, 8),
  int('serviceAction', 2, 16),
  flag('ctdp', 5, 1),
  flag('servactv', 5, 0),
  int('cdbLength', 6, 16),
]);

/** One-command format header of REPORT SUPPORTED OPERATION CODES (SPC-6 6.35.4). */
export const ONE_COMMAND_HEADER = table('one-command parameter data', 4, [
  flag('ctdp', 1, 7),
  int('support', 1, 3),
  int('cdbSize', 2, 16),
]);

/** UNMAP block descriptor (SBC-5 5.32.2), 16 bytes. */
export const UNMAP_BLOCK_DESCRIPTOR = table('UNMAP block descriptor', 16, [
  int('lba', 0, 64),
  int('numberOfBlocks', 8, 32),
]);

/** Read-Write Error Recovery mode page 0x01 (SBC-5 6.5.9), page length 0x0a. */
export const READ_WRITE_ERROR_RECOVERY_MODE_PAGE = table('Read-Write Error Recovery mode page', 12, [
  flag('ps', 0, 7),
  flag('spf', 0, 6),
  int('pageCode', 0, 6),
  int('pageLength', 1, 8),
  flag('awre', 2, 7),
  flag('arre', 2, 6),
  flag('tb', 2, 5),
  flag('rc', 2, 4),
  flag('eer', 2, 3),
  flag('per', 2, 2),
  flag('dte', 2, 1),
  flag('dcr', 2, 0),
  int('readRetryCount', 3, 8),
  int('writeRetryCount', 8, 8),
  int('recoveryTimeLimit', 10, 16),
]);

/** Informational Exceptions Control mode page 0x1c (SPC-6 7.5.13), page length 0x0a. */
export const INFORMATIONAL_EXCEPTIONS_CONTROL_MODE_PAGE = table(
  'Informational Exceptions Control mode page',
  12,
  [
    flag('ps', 0, 7),
    flag('spf', 0, 6),
    int('pageCode', 0, 6),
    int('pageLength', 1, 8),
    flag('perf', 2, 7),
    flag('ebf', 2, 5),
    flag('ewasc', 2, 4),
    flag('dexcpt', 2, 3),
    flag('test', 2, 2),
    flag('ebackerr', 2, 1),
    flag('logerr', 2, 0),
    int('mrie', 3, 4),
    int('intervalTimer', 4, 32),
    int('reportCount', 8, 32),
  ],
);

/** Command timeouts descriptor of REPORT SUPPORTED OPERATION CODES with RCTD (SPC-6 6.35.5), 12 bytes. */
export const COMMAND_TIMEOUTS_DESCRIPTOR = table('command timeouts descriptor', 12, [
  int('descriptorLength', 0, 16),
  int('commandSpecific', 3, 8),
  int('nominalCommandProcessingTimeout', 4, 32),
  int('recommendedCommandTimeout', 8, 32),
]);

/** REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS parameter data (SPC-6 6.37.2), basic 4 bytes. */
export const SUPPORTED_TMF_DATA = table('supported task management functions data', 4, [
  flag('ats', 0, 7),
  flag('atss', 0, 6),
  flag('cacas', 0, 5),
  flag('ctss', 0, 4),
  flag('lurs', 0, 3),
  flag('qts', 0, 2),
  flag('quas', 1, 2),
  flag('qtss', 1, 1),
  flag('itnrs', 1, 0),
  int('additionalDataLength', 3, 8),
]);

/** PERSISTENT RESERVE IN parameter data header: PRGENERATION and ADDITIONAL LENGTH (SPC-6 6.16.2, 6.16.3). */
export const PR_IN_HEADER = table('PERSISTENT RESERVE IN header', 8, [
  int('prGeneration', 0, 32),
  int('additionalLength', 4, 32),
]);

/** The reservation of READ RESERVATION, after the header (SPC-6 6.16.3), 16 bytes. */
export const PR_RESERVATION_DESCRIPTOR = table('PERSISTENT RESERVE IN reservation', 16, [
  int('reservationKey', 0, 64),
  int('scope', 13, 4, 4),
  int('type', 13, 4),
]);

/** REPORT CAPABILITIES parameter data (SPC-6 6.16.4), 8 bytes. */
export const PR_CAPABILITIES = table('PERSISTENT RESERVE IN capabilities', 8, [
  int('length', 0, 16),
  flag('rlrC', 2, 7),
  flag('crh', 2, 4),
  flag('sipC', 2, 3),
  flag('atpC', 2, 2),
  flag('ptplC', 2, 0),
  flag('tmv', 3, 7),
  int('allowCommands', 3, 3, 4),
  flag('ptplA', 3, 0),
  flag('wrExAr', 4, 7),
  flag('exAcRo', 4, 6),
  flag('wrExRo', 4, 5),
  flag('exAc', 4, 3),
  flag('wrEx', 4, 1),
  flag('exAcAr', 5, 0),
]);

/** One full status descriptor of READ FULL STATUS (SPC-6 6.16.5), 24 bytes then the TransportID. */
export const PR_FULL_STATUS_DESCRIPTOR = table('PERSISTENT RESERVE IN full status descriptor', 24, [
  int('reservationKey', 0, 64),
  flag('allTgPt', 12, 1),
  flag('rHolder', 12, 0),
  int('scope', 13, 4, 4),
  int('type', 13, 4),
  int('relativeTargetPortIdentifier', 18, 16),
  int('additionalDescriptorLength', 20, 32),
]);

/** PERSISTENT RESERVE OUT parameter list, basic 24 bytes (SPC-6 6.17.3). */
export const PR_OUT_PARAMETER_LIST = table('PERSISTENT RESERVE OUT parameter list', 24, [
  int('reservationKey', 0, 64),
  int('serviceActionReservationKey', 8, 64),
  flag('specIPt', 20, 3),
  flag('allTgPt', 20, 2),
  flag('aptpl', 20, 0),
]);

/** GET LBA STATUS parameter data header (SBC-5 5.8.2), 8 bytes. */
export const LBA_STATUS_HEADER = table('GET LBA STATUS header', 8, [int('parameterDataLength', 0, 32)]);

/** One LBA status descriptor (SBC-5 5.8.3), 16 bytes. */
export const LBA_STATUS_DESCRIPTOR = table('LBA status descriptor', 16, [
  int('lba', 0, 64),
  int('numberOfBlocks', 8, 32),
  int('provisioningStatus', 12, 4),
]);
