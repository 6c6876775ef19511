/**
 * SCSI command permission tables: Linux 6.1 `scsi_cmd_allowed()`, the historic
 * `blk_set_cmd_filter_defaults()` bitmaps, the sgv4 service-action-aware proposal, ATA
 * PASS-THROUGH classification, the permission decision for sg / bsg / block SG_IO, its
 * explanation, the cmdfilter text format and a registry attaching tables to devices,
 * queues and disks.
 * @module
 */
export {
  ATA_COMMAND_TABLE,
  type AtaClassification,
  type AtaCommandEntry,
  classifyAtaCommand,
} from './ata-command-table.js';
export {
  ATA_PASS_THROUGH_32_SERVICE_ACTION,
  ATA_PASS_THROUGH_LENGTH,
  ATA_PROTOCOL_NAMES,
  type AtaPassThroughCommand,
  type AtaPassThroughForm,
  ataPassThroughForm,
  decodeAtaPassThrough,
} from './ata-pass-through.js';
export { formatCmdFilterDocument, parseCmdFilterDocument } from './cmdfilter-document.js';
export { type CmdFilterAttribute, showCmdFilter, storeCmdFilter } from './cmdfilter-format.js';
export {
  PERMISSION_COMMAND_CLASSES,
  type PermissionCommandClass,
  type PermissionCommandEntry,
} from './command-class.js';
export {
  decidePermission,
  PERMISSION_RULE_SOURCES,
  type PermissionAtaDetail,
  type PermissionDecision,
  type PermissionInterface,
  type PermissionOpenMode,
  type PermissionPolicy,
  type PermissionRequest,
  type PermissionRule,
  type PermissionSubmission,
  TYPE_SCANNER,
} from './decision.js';
export { explainPermission } from './explain.js';
export { type SgFileOperation, sgFileAccessRefused } from './file-access.js';
export { permissionDeniedErrorFor } from './permission-denied.js';
export { CmdFilterSyntaxError } from './permission-errors.js';
export {
  type PermissionLookup,
  type PermissionMatch,
  PermissionTable,
  type PermissionTableSpec,
} from './permission-table.js';
export {
  permissionServiceAction,
  SERVICE_ACTION_OPCODES,
  type ServiceActionField,
  SHORT_SERVICE_ACTION_OPCODES,
  VARIABLE_LENGTH_OPCODE,
} from './service-action.js';
export {
  PERMISSION_ATTACH_LEVELS,
  type PermissionAttachLevel,
  PermissionTableRegistry,
  type PermissionTarget,
  type ResolvedPermissionTable,
} from './table-registry.js';
export { BUILT_IN_PERMISSION_TABLES, builtInPermissionTable } from './tables/built-in.js';
export { BLK_FILTER_5_14_TABLE, BLK_FILTER_EARLY_TABLE } from './tables/historic.js';
export { LINUX_6_1_READ_CLASS, LINUX_6_1_TABLE, LINUX_6_1_WRITE_CLASS } from './tables/linux-6-1.js';
export { SGV4_PROPOSAL_TABLE } from './tables/sgv4-proposal.js';
