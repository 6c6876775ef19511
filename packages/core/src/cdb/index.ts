/**
 * CDB builders and response parsers, declared as field tables with one generic codec.
 * @module
 */
export {
  buildCdb,
  cdbLengthForOpcode,
  cdbSpec,
  cdbUsageData,
  type DecodedCdb,
  decodeCdb,
} from './cdb-codec.js';
export { CDB_SPECS, type CdbSpec, type DataDirection } from './commands.js';
export {
  type BlobFieldSpec,
  decodeTable,
  decodeTableStrict,
  encodeTable,
  type FieldInput,
  type FieldSpec,
  type FieldTable,
  type FieldValue,
  type FieldValues,
  fieldFits,
  type IntFieldSpec,
  isBlobField,
  readField,
  writeField,
} from './field-table.js';
export * from './response-tables.js';
export {
  buildModeSelectParameterList,
  buildUnmapParameterList,
  type Designator,
  type ModePage,
  type ModeParameters,
  type ModeSelectPages,
  parseModeParameters,
  parseOneCommandSupport,
  parseReadCapacity10,
  parseReadCapacity16,
  parseReportLuns,
  parseStandardInquiry,
  parseSupportedOperationCodes,
  parseVpdPage,
  type ReportedLun,
  SUPPORTED_VPD_PAGES,
  type UnmapRange,
  type VpdPage,
} from './responses.js';
