/**
 * The permission decision: would Linux (or the sgv4 proposal) let this CDB through this
 * interface, opened this way, by a caller with these capabilities?
 * @module
 */
import { InvalidFieldError } from '../errors/index.js';
import { type AtaClassification, classifyAtaCommand } from './ata-command-table.js';
import { type AtaPassThroughCommand, ataPassThroughForm, decodeAtaPassThrough } from './ata-pass-through.js';
import type { PermissionCommandClass, PermissionCommandEntry } from './command-class.js';
import type { PermissionMatch, PermissionTable } from './permission-table.js';
import { LINUX_6_1_TABLE } from './tables/linux-6-1.js';
import { SGV4_PROPOSAL_TABLE } from './tables/sgv4-proposal.js';

/** How the node was opened (O_ACCMODE). */
export type PermissionOpenMode = 'read-only' | 'write-only' | 'read-write';

/** The pass-through interface: /dev/sgN, /dev/bsg/H:C:T:L, or SG_IO on a block device (/dev/sdX). */
export type PermissionInterface = 'sg' | 'bsg' | 'block';

/**
 * `kernel`: exactly Linux 6.1 (byte 0 only, no service action, device type or ATA
 * decoding). `ata-aware`: the sgv4 proposal (service actions, device type and the
 * embedded ATA command decide).
 */
export type PermissionPolicy = 'kernel' | 'ata-aware';

/** How the command is submitted on an sg fd: the SG_IO ioctl, or the asynchronous write(). */
export type PermissionSubmission = 'ioctl' | 'write';

/** Everything the decision depends on. */
export interface PermissionRequest {
  /** The CDB (at least 1 byte). */
  readonly cdb: Uint8Array;
  /** How the node was opened. */
  readonly openMode: PermissionOpenMode;
  /** The caller has CAP_SYS_RAWIO. */
  readonly capSysRawio: boolean;
  /** Which node. */
  readonly iface: PermissionInterface;
  /** Peripheral device type (0 disk, 5 CD/DVD, 6 scanner...); default 0. */
  readonly deviceType?: number;
  /** sg only: `ioctl` (SG_IO, default) or `write` (v3 header through write(2)). */
  readonly submission?: PermissionSubmission;
  /** block only: the node is a partition (/dev/sda1), not the whole disk. */
  readonly partition?: boolean;
  /** Default `kernel`. */
  readonly policy?: PermissionPolicy;
  /** Default: linux-6.1 for `kernel`, sgv4-proposal for `ata-aware`. */
  readonly table?: PermissionTable;
}

/** The rule that decided. */
export type PermissionRule =
  /** sg write() path: `sg_write()` calls `sg_common_write` without `sg_allow_access()`. */
  | 'sg-write-unfiltered'
  /** write(2) on a read-only fd: the VFS refuses with EBADF before sg sees it. */
  | 'write-needs-writable-fd'
  /** sg fd opened O_RDWR: `read_only` is false, the filter is skipped. */
  | 'sg-read-write-unfiltered'
  /** sg on a scanner (TYPE_SCANNER 6): `sg_allow_access()` returns 0 first. */
  | 'sg-scanner-unfiltered'
  /** SG_IO on a partition without CAP_SYS_RAWIO: sd_ioctl returns -ENOIOCTLCMD (ENOTTY). */
  | 'block-partition-needs-rawio'
  /** CAP_SYS_RAWIO: `scsi_cmd_allowed()` returns true first. */
  | 'cap-sys-rawio'
  /** The command is read-safe. */
  | 'read-safe'
  /** The command is write-safe and the node is open for writing. */
  | 'write-safe-writable'
  /** The command is write-safe but the node is not open for writing. */
  | 'write-safe-not-writable'
  /** The command is privileged (not in the table, or classed so). */
  | 'privileged';

/** The embedded ATA command of an ATA PASS-THROUGH CDB, when there is one. */
export interface PermissionAtaDetail {
  /** The decoded taskfile. */
  readonly command: AtaPassThroughCommand;
  /** Its class in the ATA table, and why. */
  readonly classification: AtaClassification;
  /** The ATA class decided (ata-aware policy) or was only reported (kernel policy). */
  readonly decisive: boolean;
}

/** The outcome. */
export interface PermissionDecision {
  /** The kernel (or proposal) lets the command through. */
  readonly allowed: boolean;
  /** errno the caller sees when refused: EPERM, ENOTTY (partition) or EBADF (write() on O_RDONLY). */
  readonly errno?: 'EPERM' | 'ENOTTY' | 'EBADF';
  /** The rule that decided. */
  readonly rule: PermissionRule;
  /** The interface consulted the table at all. */
  readonly filtered: boolean;
  /** Table used for the class (also reported when the filter was bypassed). */
  readonly table: string;
  /** Policy applied. */
  readonly policy: PermissionPolicy;
  /** The command's table entry. */
  readonly command: PermissionCommandEntry;
  /** How the entry was matched. */
  readonly match: PermissionMatch | 'ata-command';
  /** The class that applied. */
  readonly commandClass: PermissionCommandClass;
  /** ATA PASS-THROUGH detail. */
  readonly ata?: PermissionAtaDetail;
  /** The inputs, normalised. */
  readonly request: {
    readonly iface: PermissionInterface;
    readonly openMode: PermissionOpenMode;
    readonly capSysRawio: boolean;
    readonly deviceType: number;
    readonly submission: PermissionSubmission;
    readonly partition: boolean;
  };
}

/** SPC peripheral device type of a scanner (`TYPE_SCANNER`, include/scsi/scsi_proto.h). */
export const TYPE_SCANNER = 6;

function classify(
  cdb: Uint8Array,
  policy: PermissionPolicy,
  table: PermissionTable,
  deviceType: number,
): Pick<PermissionDecision, 'command' | 'match' | 'commandClass' | 'ata'> {
  const found = table.lookup(cdb, policy === 'ata-aware', deviceType);
  const form = ataPassThroughForm(cdb, deviceType);
  let ata: PermissionAtaDetail | undefined;
  if (form !== undefined) {
    let decoded: AtaPassThroughCommand | undefined;
    try {
      decoded = decodeAtaPassThrough(cdb, deviceType);
    } catch (error) {
      if (!(error instanceof InvalidFieldError)) throw error;
      decoded = undefined; // too short to decode: the SCSI entry decides
    }
    if (decoded !== undefined) {
      ata = {
        command: decoded,
        classification: classifyAtaCommand(decoded),
        decisive: policy === 'ata-aware',
      };
    }
  }
  if (ata?.decisive) {
    return {
      command: {
        opcode: cdb[0] ?? 0,
        name: `${ata.command.form}: ${ata.classification.entry.name}`,
        commandClass: ata.classification.commandClass,
      },
      match: 'ata-command',
      commandClass: ata.classification.commandClass,
      ata,
    };
  }
  return { command: found.entry, match: found.match, commandClass: found.entry.commandClass, ata };
}

/**
 * Decides as Linux 6.1 does, in the kernel's order:
 * 1. block SG_IO on a partition without CAP_SYS_RAWIO: `sd_ioctl()` returns -ENOIOCTLCMD
 *    (the VFS turns it into ENOTTY) before any table is consulted;
 * 2. sg (drivers/scsi/sg.c): write() never filters (`sg_write` passes no read_only), but
 *    the VFS refuses write(2) on an O_RDONLY fd (EBADF); SG_IO filters only when
 *    `O_RDWR != (f_flags & O_ACCMODE)` (`read_only`), and `sg_allow_access()` skips
 *    TYPE_SCANNER devices;
 * 3. bsg (`scsi_bsg_sg_io_fn`) and block SG_IO (`sg_io` in drivers/scsi/scsi_ioctl.c)
 *    always filter, with the open mode;
 * 4. `scsi_cmd_allowed(cmd, mode)`: CAP_SYS_RAWIO allows; read class allowed; write class
 *    needs FMODE_WRITE (O_WRONLY or O_RDWR); anything else EPERM.
 * Under `ata-aware`, step 4 classifies with service actions, device type and the ATA table.
 */
export function decidePermission(request: PermissionRequest): PermissionDecision {
  const { cdb, openMode, capSysRawio, iface } = request;
  if (!(cdb instanceof Uint8Array) || cdb.length === 0) {
    throw new InvalidFieldError('cdb', 'must be a non-empty Uint8Array', cdb);
  }
  if (openMode !== 'read-only' && openMode !== 'write-only' && openMode !== 'read-write') {
    throw new InvalidFieldError('openMode', "must be 'read-only', 'write-only' or 'read-write'", openMode);
  }
  if (iface !== 'sg' && iface !== 'bsg' && iface !== 'block') {
    throw new InvalidFieldError('iface', "must be 'sg', 'bsg' or 'block'", iface);
  }
  const deviceType = request.deviceType ?? 0;
  if (!Number.isInteger(deviceType) || deviceType < 0 || deviceType > 0x1f) {
    throw new InvalidFieldError('deviceType', 'must be a peripheral device type 0..31', deviceType);
  }
  const policy = request.policy ?? 'kernel';
  if (policy !== 'kernel' && policy !== 'ata-aware') {
    throw new InvalidFieldError('policy', "must be 'kernel' or 'ata-aware'", policy);
  }
  const submission = request.submission ?? 'ioctl';
  if (submission === 'write' && iface !== 'sg') {
    throw new InvalidFieldError(
      'submission',
      "'write' exists only on sg (bsg and block devices take SG_IO only)",
      submission,
    );
  }
  const partition = request.partition ?? false;
  if (partition && iface !== 'block') {
    throw new InvalidFieldError('partition', 'applies only to the block interface', partition);
  }
  const table = request.table ?? (policy === 'kernel' ? LINUX_6_1_TABLE : SGV4_PROPOSAL_TABLE);
  const cls = classify(cdb, policy, table, deviceType);
  const verdict = ruleFor(iface, openMode, capSysRawio, deviceType, submission, partition, cls.commandClass);
  const request_ = { iface, openMode, capSysRawio, deviceType, submission, partition };
  const decision: PermissionDecision =
    verdict.errno === undefined
      ? {
          allowed: verdict.allowed,
          rule: verdict.rule,
          filtered: verdict.filtered,
          table: table.name,
          policy,
          command: cls.command,
          match: cls.match,
          commandClass: cls.commandClass,
          ata: cls.ata,
          request: request_,
        }
      : {
          allowed: verdict.allowed,
          errno: verdict.errno,
          rule: verdict.rule,
          filtered: verdict.filtered,
          table: table.name,
          policy,
          command: cls.command,
          match: cls.match,
          commandClass: cls.commandClass,
          ata: cls.ata,
          request: request_,
        };
  return decision;
}

interface Verdict {
  readonly allowed: boolean;
  readonly rule: PermissionRule;
  readonly filtered: boolean;
  readonly errno?: PermissionDecision['errno'];
}

/** Every verdict, built once (a decision allocates no verdict). */
const V = {
  partition: { allowed: false, rule: 'block-partition-needs-rawio', filtered: false, errno: 'ENOTTY' },
  writeBadf: { allowed: false, rule: 'write-needs-writable-fd', filtered: false, errno: 'EBADF' },
  sgWrite: { allowed: true, rule: 'sg-write-unfiltered', filtered: false },
  sgRdwr: { allowed: true, rule: 'sg-read-write-unfiltered', filtered: false },
  scanner: { allowed: true, rule: 'sg-scanner-unfiltered', filtered: false },
  rawio: { allowed: true, rule: 'cap-sys-rawio', filtered: true },
  read: { allowed: true, rule: 'read-safe', filtered: true },
  writeOk: { allowed: true, rule: 'write-safe-writable', filtered: true },
  writeNo: { allowed: false, rule: 'write-safe-not-writable', filtered: true, errno: 'EPERM' },
  privileged: { allowed: false, rule: 'privileged', filtered: true, errno: 'EPERM' },
} as const satisfies Record<string, Verdict>;

/** The kernel's order of checks (see {@link decidePermission}). */
function ruleFor(
  iface: PermissionInterface,
  openMode: PermissionOpenMode,
  capSysRawio: boolean,
  deviceType: number,
  submission: PermissionSubmission,
  partition: boolean,
  commandClass: PermissionCommandClass,
): Verdict {
  if (iface === 'block' && partition && !capSysRawio) return V.partition;
  if (iface === 'sg') {
    if (submission === 'write') return openMode === 'read-only' ? V.writeBadf : V.sgWrite;
    if (openMode === 'read-write') return V.sgRdwr;
    if (deviceType === TYPE_SCANNER) return V.scanner;
  }
  if (capSysRawio) return V.rawio;
  if (commandClass === 'read-safe') return V.read;
  if (commandClass === 'write-safe') return openMode === 'read-only' ? V.writeNo : V.writeOk;
  return V.privileged;
}
