/**
 * The permission decision: would Linux (or the sgv4 proposal) let this CDB through this
 * interface, opened this way, by a caller with these capabilities?
 * @module
 */
import { InvalidFieldError } from '../errors/index.js';
import { type AtaClassification, classifyAtaCommand } from './ata-command-table.js';
import { type AtaPassThroughCommand, ataPassThroughForm, decodeAtaPassThrough } from './ata-pass-through.js';
import type { PermissionCommandClass, PermissionCommandEntry } from './command-class.js';
import type { PermissionLookup, PermissionMatch, PermissionTable } from './permission-table.js';
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

/**
 * How the command is submitted: `ioctl` = SG_IO; `write` = sg's asynchronous write(2) of a
 * v3 header; `send-command` = the deprecated SCSI_IOCTL_SEND_COMMAND (`struct
 * scsi_ioctl_command`); `cdrom-packet` = CDROM_SEND_PACKET (`struct cdrom_generic_command`).
 */
export type PermissionSubmission = 'ioctl' | 'write' | 'send-command' | 'cdrom-packet';

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
  /** `ioctl` (SG_IO, default), `write` (sg only), `send-command` or `cdrom-packet`. */
  readonly submission?: PermissionSubmission;
  /**
   * sg only: the caller's credentials are not the ones the fd was opened with (a setuid,
   * setgid or capability change since open). `sg_check_file_access()` then fails write(2)
   * and read(2) with EPERM; ioctls do not check.
   */
  readonly credentialsChanged?: boolean;
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
  /** sg write()/read() after a credential change: `sg_check_file_access()` returns EPERM. */
  | 'sg-file-credentials-changed'
  /** An sg ioctl that `sg_ioctl_common()` does not know (CDROM_SEND_PACKET) on a non-O_RDWR fd: EPERM. */
  | 'sg-ioctl-needs-read-write'
  /** SCSI_IOCTL_SEND_COMMAND on bsg: `bsg_ioctl()` refuses it with EINVAL. */
  | 'bsg-send-command-unsupported'
  /** CDROM_SEND_PACKET on bsg: not a bsg ioctl, ENOTTY. */
  | 'bsg-ioctl-unknown'
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
  /**
   * errno the caller sees when refused: EPERM, ENOTTY (partition; CDROM_SEND_PACKET on
   * bsg), EBADF (write() on O_RDONLY) or EINVAL (SCSI_IOCTL_SEND_COMMAND on bsg).
   */
  readonly errno?: 'EPERM' | 'ENOTTY' | 'EBADF' | 'EINVAL';
  /** The rule that decided. */
  readonly rule: PermissionRule;
  /** `function (file)` of the Linux 6.1 code that applies the rule. */
  readonly kernelFunction: string;
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
    readonly credentialsChanged: boolean;
  };
}

/** Where Linux 6.1 applies each {@link PermissionRule}: `function (file)`. */
export const PERMISSION_RULE_SOURCES: Readonly<Record<PermissionRule, string>> = {
  'sg-write-unfiltered': 'sg_write -> sg_new_write, read_only 0 (drivers/scsi/sg.c)',
  'sg-file-credentials-changed': 'sg_check_file_access (drivers/scsi/sg.c)',
  'sg-ioctl-needs-read-write': 'sg_ioctl_common (drivers/scsi/sg.c)',
  'bsg-send-command-unsupported': 'bsg_ioctl (block/bsg.c)',
  'bsg-ioctl-unknown': 'bsg_ioctl (block/bsg.c)',
  'write-needs-writable-fd': 'vfs_write (fs/read_write.c)',
  'sg-read-write-unfiltered': 'sg_ioctl_common -> sg_new_write, read_only (drivers/scsi/sg.c)',
  'sg-scanner-unfiltered': 'sg_allow_access (drivers/scsi/sg.c)',
  'block-partition-needs-rawio': 'sd_ioctl (drivers/scsi/sd.c)',
  'cap-sys-rawio': 'scsi_cmd_allowed (drivers/scsi/scsi_ioctl.c)',
  'read-safe': 'scsi_cmd_allowed (drivers/scsi/scsi_ioctl.c)',
  'write-safe-writable': 'scsi_cmd_allowed (drivers/scsi/scsi_ioctl.c)',
  'write-safe-not-writable': 'scsi_cmd_allowed (drivers/scsi/scsi_ioctl.c)',
  privileged: 'scsi_cmd_allowed (drivers/scsi/scsi_ioctl.c)',
};

/** SPC peripheral device type of a scanner (`TYPE_SCANNER`, include/scsi/scsi_proto.h). */
export const TYPE_SCANNER = 6;

/** The class, entry and ATA detail of a CDB: what {@link decidePermission} reports besides the rule. */
interface Classification {
  readonly command: PermissionCommandEntry;
  readonly match: PermissionMatch | 'ata-command';
  readonly commandClass: PermissionCommandClass;
  readonly ata: PermissionAtaDetail | undefined;
}

/** The ATA PASS-THROUGH path of {@link classify}: decodes the taskfile and classes it. */
function classifyAta(
  cdb: Uint8Array,
  policy: PermissionPolicy,
  found: PermissionLookup,
  deviceType: number,
): Classification {
  let decoded: AtaPassThroughCommand | undefined;
  try {
    decoded = decodeAtaPassThrough(cdb, deviceType);
  } catch (error) {
    if (!(error instanceof InvalidFieldError)) throw error;
    decoded = undefined; // too short to decode: the SCSI entry decides
  }
  if (decoded === undefined) {
    return {
      command: found.entry,
      match: found.match,
      commandClass: found.entry.commandClass,
      ata: undefined,
    };
  }
  const ata: PermissionAtaDetail = {
    command: decoded,
    classification: classifyAtaCommand(decoded),
    decisive: policy === 'ata-aware',
  };
  if (ata.decisive) {
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
 * The normalised inputs of every decision, one frozen object per combination (3 interfaces x
 * 3 open modes x CAP_SYS_RAWIO x 4 submissions x partition x credentials x 32 device types),
 * made on first use: a decision reports its inputs without allocating them.
 */
const SHARED_INPUTS: (RuleInputs | undefined)[] = new Array(3 * 3 * 2 * 4 * 2 * 2 * 32).fill(undefined);

function sharedInputs(
  index: number,
  iface: PermissionInterface,
  openMode: PermissionOpenMode,
  capSysRawio: boolean,
  deviceType: number,
  submission: PermissionSubmission,
  partition: boolean,
  credentialsChanged: boolean,
): RuleInputs {
  const cached = SHARED_INPUTS[index];
  if (cached !== undefined) return cached;
  const made: RuleInputs = Object.freeze({
    iface,
    openMode,
    capSysRawio,
    deviceType,
    submission,
    partition,
    credentialsChanged,
  });
  SHARED_INPUTS[index] = made;
  return made;
}

/**
 * Decides as Linux 6.1 does, in the kernel's order:
 * 1. any ioctl on a partition without CAP_SYS_RAWIO: `sd_ioctl()` (drivers/scsi/sd.c)
 *    returns -ENOIOCTLCMD (the VFS turns it into ENOTTY) before any table is consulted;
 * 2. bsg (`bsg_ioctl`, block/bsg.c): SCSI_IOCTL_SEND_COMMAND is EINVAL, CDROM_SEND_PACKET
 *    is not a bsg ioctl (ENOTTY);
 * 3. sg (drivers/scsi/sg.c): write() never filters (`sg_write` passes no read_only), but
 *    the VFS refuses write(2) on an O_RDONLY fd (EBADF) and `sg_check_file_access()` refuses
 *    a caller whose credentials changed since open (EPERM); SG_IO filters only when
 *    `O_RDWR != (f_flags & O_ACCMODE)` (`read_only`), and `sg_allow_access()` skips
 *    TYPE_SCANNER devices; SCSI_IOCTL_SEND_COMMAND goes straight to `scsi_ioctl()` ->
 *    `sg_scsi_ioctl()` and is always filtered (no O_RDWR or scanner bypass);
 *    CDROM_SEND_PACKET is an ioctl `sg_ioctl_common()` does not know, so a non-O_RDWR fd
 *    gets EPERM, and an O_RDWR fd reaches `scsi_cdrom_send_packet()` -> `sg_io()`, filtered;
 * 4. bsg (`scsi_bsg_sg_io_fn`), block SG_IO (`sg_io` in drivers/scsi/scsi_ioctl.c) and the
 *    block device's SCSI_IOCTL_SEND_COMMAND / CDROM_SEND_PACKET always filter, with the
 *    open mode;
 * 5. `scsi_cmd_allowed(cmd, mode)`: CAP_SYS_RAWIO allows; read class allowed; write class
 *    needs FMODE_WRITE (O_WRONLY or O_RDWR); anything else EPERM.
 * Under `ata-aware`, step 5 classifies with service actions, device type and the ATA table.
 */
export function decidePermission(request: PermissionRequest): PermissionDecision {
  const { cdb, openMode, capSysRawio, iface } = request;
  if (!(cdb instanceof Uint8Array) || cdb.length === 0) {
    throw new InvalidFieldError('cdb', 'must be a non-empty Uint8Array', cdb);
  }
  // Each check also numbers the value, for the shared-inputs index (comparisons of interned
  // strings, no keyed lookups).
  const modeIndex =
    openMode === 'read-only' ? 0 : openMode === 'write-only' ? 1 : openMode === 'read-write' ? 2 : -1;
  if (modeIndex < 0) {
    throw new InvalidFieldError('openMode', "must be 'read-only', 'write-only' or 'read-write'", openMode);
  }
  const ifaceIndex = iface === 'sg' ? 0 : iface === 'bsg' ? 1 : iface === 'block' ? 2 : -1;
  if (ifaceIndex < 0) {
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
  const submissionIndex =
    submission === 'ioctl'
      ? 0
      : submission === 'write'
        ? 1
        : submission === 'send-command'
          ? 2
          : submission === 'cdrom-packet'
            ? 3
            : -1;
  if (submissionIndex < 0) {
    throw new InvalidFieldError(
      'submission',
      "must be 'ioctl', 'write', 'send-command' or 'cdrom-packet'",
      submission,
    );
  }
  if (submission === 'write' && iface !== 'sg') {
    throw new InvalidFieldError(
      'submission',
      "'write' exists only on sg (bsg has no write(); a block device's write() is data, not a command)",
      submission,
    );
  }
  const credentialsChanged = request.credentialsChanged ?? false;
  if (credentialsChanged && iface !== 'sg') {
    throw new InvalidFieldError('credentialsChanged', 'applies only to the sg interface', credentialsChanged);
  }
  const partition = request.partition ?? false;
  if (partition && iface !== 'block') {
    throw new InvalidFieldError('partition', 'applies only to the block interface', partition);
  }
  const table = request.table ?? (policy === 'kernel' ? LINUX_6_1_TABLE : SGV4_PROPOSAL_TABLE);
  // Booleans share one frozen inputs object per combination; anything else (a caller outside
  // the types) is reported exactly as given, in an object of its own.
  const inputs: RuleInputs =
    typeof capSysRawio === 'boolean' &&
    typeof partition === 'boolean' &&
    typeof credentialsChanged === 'boolean'
      ? sharedInputs(
          ((((ifaceIndex * 3 + modeIndex) * 2 + (capSysRawio ? 1 : 0)) * 4 + submissionIndex) * 2 +
            (partition ? 1 : 0)) *
            64 +
            (credentialsChanged ? 32 : 0) +
            deviceType,
          iface,
          openMode,
          capSysRawio,
          deviceType,
          submission,
          partition,
          credentialsChanged,
        )
      : { iface, openMode, capSysRawio, deviceType, submission, partition, credentialsChanged };
  // The byte-0 (or refined) entry is precomputed per table; only an ATA PASS-THROUGH CDB
  // (three opcodes) decodes anything.
  const found = table.lookup(cdb, policy === 'ata-aware', deviceType);
  const cls =
    ataPassThroughForm(cdb, deviceType) === undefined
      ? undefined
      : classifyAta(cdb, policy, found, deviceType);
  const commandClass = cls === undefined ? found.entry.commandClass : cls.commandClass;
  const verdict = ruleFor(inputs, commandClass);
  // Two literal shapes, in one property order: errno is absent (not undefined) when allowed.
  if (verdict.errno === undefined) {
    return {
      allowed: verdict.allowed,
      rule: verdict.rule,
      kernelFunction: verdict.kernelFunction,
      filtered: verdict.filtered,
      table: table.name,
      policy,
      command: cls === undefined ? found.entry : cls.command,
      match: cls === undefined ? found.match : cls.match,
      commandClass,
      ata: cls?.ata,
      request: inputs,
    };
  }
  return {
    allowed: verdict.allowed,
    errno: verdict.errno,
    rule: verdict.rule,
    kernelFunction: verdict.kernelFunction,
    filtered: verdict.filtered,
    table: table.name,
    policy,
    command: cls === undefined ? found.entry : cls.command,
    match: cls === undefined ? found.match : cls.match,
    commandClass,
    ata: cls?.ata,
    request: inputs,
  };
}

interface Verdict {
  readonly allowed: boolean;
  readonly rule: PermissionRule;
  readonly filtered: boolean;
  readonly errno?: PermissionDecision['errno'];
  /** {@link PERMISSION_RULE_SOURCES} of the rule, looked up once. */
  readonly kernelFunction: string;
}

/** Every verdict, built once and of one shape (errno undefined when allowed): a decision allocates no verdict. */
const V = {
  partition: {
    allowed: false,
    rule: 'block-partition-needs-rawio',
    filtered: false,
    errno: 'ENOTTY',
    kernelFunction: PERMISSION_RULE_SOURCES['block-partition-needs-rawio'],
  },
  writeBadf: {
    allowed: false,
    rule: 'write-needs-writable-fd',
    filtered: false,
    errno: 'EBADF',
    kernelFunction: PERMISSION_RULE_SOURCES['write-needs-writable-fd'],
  },
  credentials: {
    allowed: false,
    rule: 'sg-file-credentials-changed',
    filtered: false,
    errno: 'EPERM',
    kernelFunction: PERMISSION_RULE_SOURCES['sg-file-credentials-changed'],
  },
  sgIoctlReadOnly: {
    allowed: false,
    rule: 'sg-ioctl-needs-read-write',
    filtered: false,
    errno: 'EPERM',
    kernelFunction: PERMISSION_RULE_SOURCES['sg-ioctl-needs-read-write'],
  },
  bsgSendCommand: {
    allowed: false,
    rule: 'bsg-send-command-unsupported',
    filtered: false,
    errno: 'EINVAL',
    kernelFunction: PERMISSION_RULE_SOURCES['bsg-send-command-unsupported'],
  },
  bsgUnknownIoctl: {
    allowed: false,
    rule: 'bsg-ioctl-unknown',
    filtered: false,
    errno: 'ENOTTY',
    kernelFunction: PERMISSION_RULE_SOURCES['bsg-ioctl-unknown'],
  },
  sgWrite: {
    allowed: true,
    rule: 'sg-write-unfiltered',
    filtered: false,
    errno: undefined,
    kernelFunction: PERMISSION_RULE_SOURCES['sg-write-unfiltered'],
  },
  sgRdwr: {
    allowed: true,
    rule: 'sg-read-write-unfiltered',
    filtered: false,
    errno: undefined,
    kernelFunction: PERMISSION_RULE_SOURCES['sg-read-write-unfiltered'],
  },
  scanner: {
    allowed: true,
    rule: 'sg-scanner-unfiltered',
    filtered: false,
    errno: undefined,
    kernelFunction: PERMISSION_RULE_SOURCES['sg-scanner-unfiltered'],
  },
  rawio: {
    allowed: true,
    rule: 'cap-sys-rawio',
    filtered: true,
    errno: undefined,
    kernelFunction: PERMISSION_RULE_SOURCES['cap-sys-rawio'],
  },
  read: {
    allowed: true,
    rule: 'read-safe',
    filtered: true,
    errno: undefined,
    kernelFunction: PERMISSION_RULE_SOURCES['read-safe'],
  },
  writeOk: {
    allowed: true,
    rule: 'write-safe-writable',
    filtered: true,
    errno: undefined,
    kernelFunction: PERMISSION_RULE_SOURCES['write-safe-writable'],
  },
  writeNo: {
    allowed: false,
    rule: 'write-safe-not-writable',
    filtered: true,
    errno: 'EPERM',
    kernelFunction: PERMISSION_RULE_SOURCES['write-safe-not-writable'],
  },
  privileged: {
    allowed: false,
    rule: 'privileged',
    filtered: true,
    errno: 'EPERM',
    kernelFunction: PERMISSION_RULE_SOURCES.privileged,
  },
} as const satisfies Record<string, Verdict>;

/** The inputs {@link ruleFor} reads. */
interface RuleInputs {
  readonly iface: PermissionInterface;
  readonly openMode: PermissionOpenMode;
  readonly capSysRawio: boolean;
  readonly deviceType: number;
  readonly submission: PermissionSubmission;
  readonly partition: boolean;
  readonly credentialsChanged: boolean;
}

/** The kernel's order of checks (see {@link decidePermission}). */
function ruleFor(r: RuleInputs, commandClass: PermissionCommandClass): Verdict {
  if (r.iface === 'block' && r.partition && !r.capSysRawio) return V.partition;
  if (r.iface === 'bsg') {
    if (r.submission === 'send-command') return V.bsgSendCommand;
    if (r.submission === 'cdrom-packet') return V.bsgUnknownIoctl;
  }
  if (r.iface === 'sg') {
    if (r.submission === 'write') {
      if (r.openMode === 'read-only') return V.writeBadf;
      return r.credentialsChanged ? V.credentials : V.sgWrite;
    }
    if (r.submission === 'ioctl') {
      if (r.openMode === 'read-write') return V.sgRdwr;
      if (r.deviceType === TYPE_SCANNER) return V.scanner;
    }
    if (r.submission === 'cdrom-packet' && r.openMode !== 'read-write') return V.sgIoctlReadOnly;
  }
  if (r.capSysRawio) return V.rawio;
  if (commandClass === 'read-safe') return V.read;
  if (commandClass === 'write-safe') return r.openMode === 'read-only' ? V.writeNo : V.writeOk;
  return V.privileged;
}
