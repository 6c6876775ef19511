/**
 * "What does Linux 6.1 answer when this header is submitted on this node?" The header and
 * CDB-length checks of each submission path in the kernel's order, with the command filter
 * and the data plan at the points where the kernel applies them.
 * @module
 */
import { InvalidFieldError } from '../errors/index.js';
import { X86_64_PAGE_SIZE } from '../limits/constants.js';
import { maxHwBytesU32, type QueueLimits } from '../limits/queue-limits.js';
import {
  decidePermission,
  PERMISSION_RULE_SOURCES,
  type PermissionDecision,
  type PermissionInterface,
  type PermissionOpenMode,
  type PermissionPolicy,
  type PermissionRule,
  type PermissionSubmission,
} from '../permissions/decision.js';
import { explainPermission } from '../permissions/explain.js';
import { sgMmapIoRefusal } from '../reserve/admission.js';
import { SG_MAX_DXFER_LEN, type SgReserveState, sgOpenReserve } from '../reserve/reserve-buffer.js';
import type { PageFrameMapping, TransferDirection, UserIovec } from '../scatterlist/iovec.js';
import { planTransfer, type SgTransferOptions, type TransferPlan } from '../scatterlist/plan.js';
import {
  type KernelRule,
  TRANSFER_RULES,
  type TransferRuleId,
  transferRuleSource,
} from '../scatterlist/transfer-rules.js';
import {
  type CdromGenericCommandFields,
  CGC_DATA,
  commandSize,
  type ScsiIoctlCommandFields,
  type SgIoHdrFields,
  type SgIoV4Fields,
  type SubmissionHeader,
} from './headers.js';
import { SUBMISSION_RULES, type SubmissionRuleId, submissionRuleSource } from './submission-rules.js';

/** `SG_MAX_CDB_SIZE` (drivers/scsi/sg.c): sg reads at most 252 CDB bytes. */
export const SG_MAX_CDB_SIZE = 252;
/** `sizeof(scsi_cmnd.cmnd)` (include/scsi/scsi_cmnd.h): the midlayer holds at most 32 CDB bytes. */
export const SCSI_CMND_SIZE = 32;
/** `SZ_SG_IO_HDR`: sizeof(struct sg_io_hdr) on x86-64, 88 bytes. */
export const SZ_SG_IO_HDR = 88;
/** `SZ_SG_HEADER`: sizeof(struct sg_header), the old interface's header, 36 bytes. */
export const SZ_SG_HEADER = 36;
/** 'S': the v3 `interface_id`. */
export const SG_INTERFACE_ID = 0x53;
/** 'Q': the v4 `guard`. */
export const BSG_GUARD = 0x51;

/** Who submits, and how the node was opened. */
export interface SubmissionAccess {
  /** O_ACCMODE of the open. */
  readonly openMode: PermissionOpenMode;
  /** The caller has CAP_SYS_RAWIO. */
  readonly capSysRawio: boolean;
  /** Peripheral device type (default 0). */
  readonly deviceType?: number;
  /** block only: the node is a partition. */
  readonly partition?: boolean;
  /** sg only: the caller's credentials changed since open (`sg_check_file_access`). */
  readonly credentialsChanged?: boolean;
  /** Permission policy (default `kernel`). */
  readonly policy?: PermissionPolicy;
}

/** The user data, for the data plan (without it the prediction stops before the mapping). */
export interface SubmissionData {
  /** The buffer: one flat buffer, or the iovecs (`iovec_count` > 0 on sg/block). */
  readonly iovecs: readonly UserIovec[];
  /** sg options: allow_dio, the fd's reserve, scatter_elem_sz. */
  readonly sg?: Omit<SgTransferOptions, 'directIo' | 'mmapIo'>;
  /** bsg with an iovec count: the array's address (`dout_xferp`/`din_xferp`). */
  readonly iovecArrayAddress?: number;
  /** The user pages exist (default true). */
  readonly userPagesMapped?: boolean;
  /** User page -> physical frame. */
  readonly pageFrames?: PageFrameMapping;
  /** PAGE_SIZE (default 4096). */
  readonly pageSize?: number;
}

/** A submission to predict. */
export interface SubmissionRequest {
  /** Which node. */
  readonly iface: PermissionInterface;
  /** Which call (default `ioctl` = SG_IO). */
  readonly call?: PermissionSubmission;
  /** The structure passed: its `kind` must fit the call and node. */
  readonly header: SubmissionHeader;
  /** The caller and the open. */
  readonly access: SubmissionAccess;
  /** The device's queue limits. */
  readonly limits: QueueLimits;
  /** sg write(2): the byte count passed (default 88, a whole v3 header). */
  readonly writeCount?: number;
  /** The user data, when the data plan is wanted. */
  readonly data?: SubmissionData;
}

/** Any rule a prediction can name. */
export type SubmissionRuleRef = SubmissionRuleId | TransferRuleId | PermissionRule;

/** Where in the kernel's order the outcome was decided. */
export type SubmissionStage = 'gate' | 'header' | 'permission' | 'data';

/** The prediction. */
export interface SubmissionPrediction {
  /** `refused` (the call fails with `errno`) or `submitted` (the command reaches the device). */
  readonly outcome: 'refused' | 'submitted';
  /** The errno of a refusal. */
  readonly errno?: string;
  /** The rule that refused (for `submitted`: the permission rule that let it through). */
  readonly rule: SubmissionRuleRef;
  /** `function (file)` of the kernel code behind `rule`. */
  readonly kernelFunction: string;
  /** One sentence naming the values and the rule. */
  readonly explanation: string;
  /** Where it was decided: before the header is read (`gate`), header, filter, data mapping. */
  readonly stage: SubmissionStage;
  /** The CDB bytes the kernel takes when it gets that far (bsg: request_len's low 16 bits). */
  readonly cdbLength?: number;
  /** The command filter's decision, when the kernel consulted it (or bypassed it). */
  readonly permission?: PermissionDecision;
  /** The data plan, when `data` was given and the checks before it passed. */
  readonly plan?: TransferPlan;
}

function refusal(
  stage: SubmissionStage,
  rule: SubmissionRuleId,
  explanation: string,
  extra: Partial<SubmissionPrediction> = {},
): SubmissionPrediction {
  const entry: KernelRule = SUBMISSION_RULES[rule];
  return {
    outcome: 'refused',
    ...(entry.errno === undefined ? {} : { errno: entry.errno }),
    rule,
    kernelFunction: submissionRuleSource(rule),
    explanation,
    stage,
    ...extra,
  };
}

function transferRefusal(
  stage: SubmissionStage,
  rule: TransferRuleId,
  explanation: string,
  extra: Partial<SubmissionPrediction> = {},
): SubmissionPrediction {
  const entry: KernelRule = TRANSFER_RULES[rule];
  return {
    outcome: 'refused',
    ...(entry.errno === undefined ? {} : { errno: entry.errno }),
    rule,
    kernelFunction: transferRuleSource(rule),
    explanation,
    stage,
    ...extra,
  };
}

function permissionOutcome(decision: PermissionDecision, stage: SubmissionStage): SubmissionPrediction {
  return {
    outcome: decision.allowed ? 'submitted' : 'refused',
    ...(decision.errno === undefined ? {} : { errno: decision.errno }),
    rule: decision.rule,
    kernelFunction: PERMISSION_RULE_SOURCES[decision.rule],
    explanation: explainPermission(decision),
    stage,
    permission: decision,
  };
}

/** The data plan, or the submission outcome when there is no data to plan. */
function withPlan(
  request: SubmissionRequest,
  allowed: SubmissionPrediction,
  transfer: {
    direction: TransferDirection;
    length: number;
    vector: boolean;
    directIo?: boolean;
    mmapIo?: boolean;
  },
): SubmissionPrediction {
  const data = request.data;
  if (data === undefined) return allowed;
  const plan = planTransfer({
    limits: request.limits,
    iface: request.iface,
    direction: transfer.direction,
    iovecs: data.iovecs,
    vector: transfer.vector,
    dxferLength: transfer.length,
    ...(data.pageSize === undefined ? {} : { pageSize: data.pageSize }),
    ...(data.pageFrames === undefined ? {} : { pageFrames: data.pageFrames }),
    ...(data.userPagesMapped === undefined ? {} : { userPagesMapped: data.userPagesMapped }),
    ...(data.iovecArrayAddress === undefined ? {} : { iovecArrayAddress: data.iovecArrayAddress }),
    sg: { ...data.sg, directIo: transfer.directIo ?? false, mmapIo: transfer.mmapIo ?? false },
  });
  if (plan.outcome === 'refused' && plan.refusal) {
    return {
      outcome: 'refused',
      errno: plan.refusal.errno,
      rule: plan.refusal.id,
      kernelFunction: plan.refusal.kernelFunction,
      explanation: plan.refusal.rule,
      stage: 'data',
      ...(allowed.cdbLength === undefined ? {} : { cdbLength: allowed.cdbLength }),
      ...(allowed.permission ? { permission: allowed.permission } : {}),
      plan,
    };
  }
  return { ...allowed, plan };
}

function checkCdbBytes(cdb: Uint8Array | null, needed: number, field: string): void {
  if (cdb !== null && !(cdb instanceof Uint8Array)) {
    throw new InvalidFieldError(field, 'must be a Uint8Array or null (a NULL pointer)', cdb);
  }
  if (cdb !== null && cdb.length < needed) {
    throw new InvalidFieldError(field, `must hold the ${needed} bytes the kernel reads`, cdb.length);
  }
}

function checkUnsigned(value: number, max: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new InvalidFieldError(field, `must be an integer in 0..${max}`, value);
  }
}

/** The permission decision for `cdb` (a gate refusal does not depend on it). */
function permissionFor(request: SubmissionRequest, cdb: Uint8Array | null): PermissionDecision {
  const a = request.access;
  return decidePermission({
    cdb: cdb !== null && cdb.length > 0 ? cdb : Uint8Array.of(0),
    iface: request.iface,
    openMode: a.openMode,
    capSysRawio: a.capSysRawio,
    submission: request.call ?? 'ioctl',
    ...(a.deviceType === undefined ? {} : { deviceType: a.deviceType }),
    ...(a.partition === undefined ? {} : { partition: a.partition }),
    ...(a.credentialsChanged === undefined ? {} : { credentialsChanged: a.credentialsChanged }),
    ...(a.policy === undefined ? {} : { policy: a.policy }),
  });
}

/** A gate rule refused before the header was read (partition, bsg ioctls, sg write/ioctl gates). */
function isGateRefusal(decision: PermissionDecision): boolean {
  return !decision.allowed && !decision.filtered;
}

/**
 * sg SG_IO and write(2): `sg_write` (credentials, the VFS's EBADF before it; fewer than 36
 * bytes EIO; a negative second word, which every v3 header has, means v3) ->
 * `sg_new_write`: header size (write only), interface_id 'S' (ENOSYS), SG_FLAG_MMAP_IO
 * (ENOMEM, EINVAL, EBUSY), NULL cmdp / cmd_len < 6 / > 252 (EMSGSIZE), the command filter
 * on non-O_RDWR SG_IO (EPERM) -> `sg_common_write`: dxfer_len >= 256 MiB (EINVAL) ->
 * `sg_start_req`: cmd_len > 32 (EINVAL), then the data.
 */
function predictSg(request: SubmissionRequest, h: SgIoHdrFields): SubmissionPrediction {
  const call = request.call ?? 'ioctl';
  const decision = permissionFor(request, h.cdb);
  if (isGateRefusal(decision)) return permissionOutcome(decision, 'gate');
  if (call === 'write') {
    const count = request.writeCount ?? SZ_SG_IO_HDR;
    if (count < SZ_SG_HEADER) {
      return refusal(
        'header',
        'sg-write-count',
        `write(2) of ${count} bytes: less than the ${SZ_SG_HEADER}-byte sg_header (sg_write: EIO)`,
      );
    }
    if (count < SZ_SG_IO_HDR) {
      return refusal(
        'header',
        'sg-v3-header-size',
        `write(2) of ${count} bytes: a v3 header needs ${SZ_SG_IO_HDR} (sg_new_write)`,
      );
    }
  }
  if (h.interfaceId !== SG_INTERFACE_ID) {
    return refusal(
      'header',
      'sg-interface-id',
      `interface_id 0x${h.interfaceId.toString(16)} is not 'S' (sg_new_write: ENOSYS)`,
    );
  }
  const limits = request.limits;
  const reserve: SgReserveState =
    request.data?.sg?.reserve ??
    sgOpenReserve({ limits, pageSize: request.data?.pageSize ?? X86_64_PAGE_SIZE });
  const mmap = sgMmapIoRefusal(
    {
      dxferLength: h.dxferLength,
      direction: h.dxferDirection,
      directIo: h.directIo ?? false,
      mmapIo: h.mmapIo ?? false,
      iovecCount: h.iovecCount ?? 0,
      dxferp: request.data?.iovecs[0]?.address ?? 0,
    },
    reserve,
  );
  if (mmap) return transferRefusal('header', mmap.id, mmap.rule);
  if (h.cdb === null || h.cmdLength < 6 || h.cmdLength > SG_MAX_CDB_SIZE) {
    const why = h.cdb === null ? 'cmdp is NULL' : `cmd_len ${h.cmdLength} is outside 6..${SG_MAX_CDB_SIZE}`;
    return refusal('header', 'sg-cdb-length', `${why} (sg_new_write: EMSGSIZE)`);
  }
  const cdbLength = h.cmdLength;
  if (!decision.allowed) return { ...permissionOutcome(decision, 'permission'), cdbLength };
  if (h.dxferLength >= SG_MAX_DXFER_LEN) {
    return transferRefusal(
      'header',
      'sg-max-dxfer-len',
      `dxfer_len ${h.dxferLength} >= 256 MiB (SZ_256M, sg_common_write)`,
      { cdbLength, permission: decision },
    );
  }
  if (h.cmdLength > SCSI_CMND_SIZE) {
    return refusal(
      'header',
      'sg-cdb-too-long',
      `cmd_len ${h.cmdLength} > ${SCSI_CMND_SIZE} (sizeof scsi_cmnd.cmnd, sg_start_req)`,
      { cdbLength, permission: decision },
    );
  }
  return withPlan(
    request,
    { ...permissionOutcome(decision, 'permission'), cdbLength },
    {
      direction: h.dxferDirection,
      length: h.dxferLength,
      vector: (h.iovecCount ?? 0) > 0,
      directIo: h.directIo ?? false,
      mmapIo: h.mmapIo ?? false,
    },
  );
}

/**
 * Block SG_IO, `sg_io()` (drivers/scsi/scsi_ioctl.c), after `sd_ioctl`'s partition gate:
 * interface_id 'S' (EINVAL), dxfer_len > max_hw_sectors << 9 (EIO), data without a
 * direction (EINVAL), cmd_len > 32 (EINVAL) -> `scsi_fill_sghdr_rq`: cmd_len < 6
 * (EMSGSIZE), the CDB copy (EFAULT), the command filter (EPERM), then the data. CDROM_SEND_PACKET
 * on sg or a block device comes here too, with the header `scsi_cdrom_send_packet` builds.
 */
function predictBlockSgIo(
  request: SubmissionRequest,
  h: SgIoHdrFields,
  decision: PermissionDecision,
): SubmissionPrediction {
  if (h.interfaceId !== SG_INTERFACE_ID) {
    return refusal(
      'header',
      'block-interface-id',
      `interface_id 0x${h.interfaceId.toString(16)} is not 'S' (sg_io: EINVAL)`,
    );
  }
  const limit = maxHwBytesU32(request.limits);
  if (h.dxferLength > limit) {
    return transferRefusal(
      'header',
      'block-max-hw-sectors',
      `dxfer_len ${h.dxferLength} > max_hw_sectors << 9 = ${limit} (32-bit) (sg_io: EIO)`,
    );
  }
  if (h.dxferLength > 0 && (h.dxferDirection === 'none' || h.dxferDirection === 'unknown')) {
    return transferRefusal(
      'header',
      'block-direction',
      `dxfer_len ${h.dxferLength} with direction ${h.dxferDirection} (sg_io: EINVAL)`,
    );
  }
  if (h.cmdLength > SCSI_CMND_SIZE) {
    return refusal(
      'header',
      'block-cdb-too-long',
      `cmd_len ${h.cmdLength} > ${SCSI_CMND_SIZE} (sg_io: EINVAL)`,
    );
  }
  if (h.cmdLength < 6) {
    return refusal(
      'header',
      'block-cdb-too-short',
      `cmd_len ${h.cmdLength} < 6 (scsi_fill_sghdr_rq: EMSGSIZE)`,
    );
  }
  if (h.cdb === null) {
    return refusal(
      'header',
      'block-cdb-fault',
      'cmdp is NULL (copy_from_user in scsi_fill_sghdr_rq: EFAULT)',
    );
  }
  const cdbLength = h.cmdLength;
  if (!decision.allowed) return { ...permissionOutcome(decision, 'permission'), cdbLength };
  return withPlan(
    request,
    { ...permissionOutcome(decision, 'permission'), cdbLength },
    {
      direction: h.dxferDirection,
      length: h.dxferLength,
      vector: (h.iovecCount ?? 0) > 0 && h.dxferLength > 0,
    },
  );
}

/**
 * bsg SG_IO: `bsg_sg_io()` (block/bsg.c) guard 'Q' (EINVAL) -> `scsi_bsg_sg_io_fn()`
 * (drivers/scsi/scsi_bsg.c): protocol/subprotocol (EINVAL), both transfer lengths
 * (EOPNOTSUPP), request_len as the 16-bit cmd_len > 32 (EINVAL; no minimum), the CDB copy
 * (EFAULT), the command filter (EPERM), then one flat buffer (iovec counts ignored).
 */
function predictBsg(request: SubmissionRequest, h: SgIoV4Fields): SubmissionPrediction {
  if (h.guard !== BSG_GUARD) {
    return refusal('header', 'bsg-guard', `guard 0x${h.guard.toString(16)} is not 'Q' (bsg_sg_io: EINVAL)`);
  }
  if (h.protocol !== 0 || h.subprotocol !== 0) {
    return refusal(
      'header',
      'bsg-protocol',
      `protocol ${h.protocol}, subprotocol ${h.subprotocol}: only 0/0 (SCSI command) (scsi_bsg_sg_io_fn: EINVAL)`,
    );
  }
  if (h.doutXferLength > 0 && h.dinXferLength > 0) {
    return transferRefusal(
      'header',
      'bsg-bidi',
      'dout_xfer_len and din_xfer_len both set: BIDI support in bsg has been removed (scsi_bsg_sg_io_fn: EOPNOTSUPP)',
    );
  }
  const cdbLength = h.requestLength & 0xffff;
  if (cdbLength > SCSI_CMND_SIZE) {
    const wrap = cdbLength === h.requestLength ? '' : ` (request_len ${h.requestLength} kept as 16 bits)`;
    return refusal(
      'header',
      'bsg-request-len',
      `cmd_len ${cdbLength}${wrap} > ${SCSI_CMND_SIZE} (scsi_bsg_sg_io_fn: EINVAL)`,
    );
  }
  if (h.request === null && cdbLength > 0) {
    return refusal(
      'header',
      'bsg-cdb-fault',
      'request is NULL (copy_from_user in scsi_bsg_sg_io_fn: EFAULT)',
    );
  }
  // The midlayer zeroes cmnd (scsi_initialize_rq): with request_len 0 the filter sees opcode 0.
  const cdb = h.request === null || cdbLength === 0 ? Uint8Array.of(0) : h.request.subarray(0, cdbLength);
  const decision = permissionFor(request, cdb);
  if (!decision.allowed) return { ...permissionOutcome(decision, 'permission'), cdbLength };
  const dout = h.doutXferLength > 0;
  const length = dout ? h.doutXferLength : h.dinXferLength;
  const iovecCount = dout ? (h.doutIovecCount ?? 0) : (h.dinIovecCount ?? 0);
  return withPlan(
    request,
    { ...permissionOutcome(decision, 'permission'), cdbLength },
    {
      direction: dout ? 'to-device' : h.dinXferLength > 0 ? 'from-device' : 'none',
      length,
      vector: iovecCount > 0,
    },
  );
}

/**
 * SCSI_IOCTL_SEND_COMMAND, `sg_scsi_ioctl()` (drivers/scsi/scsi_ioctl.c; on bsg `bsg_ioctl`
 * refuses it first): inlen or outlen > PAGE_SIZE (EINVAL); the CDB is COMMAND_SIZE(opcode)
 * bytes; the command filter with the open mode (EPERM); the data goes through a kernel
 * buffer. The ioctl then returns the SCSI status byte (see `ioctlCompletionResult`).
 */
function predictSendCommand(request: SubmissionRequest, h: ScsiIoctlCommandFields): SubmissionPrediction {
  const opcode = h.data[0] ?? 0;
  const cdbLength = commandSize(opcode);
  const decision = permissionFor(request, h.data.subarray(0, cdbLength));
  if (isGateRefusal(decision)) return permissionOutcome(decision, 'gate');
  const page = request.data?.pageSize ?? X86_64_PAGE_SIZE;
  if (h.inLength > page || h.outLength > page) {
    return refusal(
      'header',
      'send-command-length',
      `inlen ${h.inLength} / outlen ${h.outLength}: at most PAGE_SIZE ${page} each (sg_scsi_ioctl: EINVAL)`,
    );
  }
  return { ...permissionOutcome(decision, 'permission'), cdbLength };
}

/**
 * CDROM_SEND_PACKET, `scsi_cdrom_send_packet()` (drivers/scsi/scsi_ioctl.c) after the
 * gates (sg: `sg_ioctl_common` EPERM unless O_RDWR; bsg: ENOTTY): a data_direction outside
 * CGC_DATA_* (EINVAL), then `sg_io()` with cmd_len 12 and direction UNKNOWN/WRITE/READ/NONE.
 */
function predictCdromPacket(request: SubmissionRequest, h: CdromGenericCommandFields): SubmissionPrediction {
  const decision = permissionFor(request, h.cmd);
  if (isGateRefusal(decision)) return permissionOutcome(decision, 'gate');
  const directions: Record<number, TransferDirection> = {
    [CGC_DATA.unknown]: 'unknown',
    [CGC_DATA.write]: 'to-device',
    [CGC_DATA.read]: 'from-device',
    [CGC_DATA.none]: 'none',
  };
  const direction = directions[h.dataDirection];
  if (direction === undefined) {
    return refusal(
      'header',
      'cdrom-packet-direction',
      `data_direction ${h.dataDirection} is not a CGC_DATA_* value (scsi_cdrom_send_packet: EINVAL)`,
    );
  }
  return predictBlockSgIo(
    request,
    {
      kind: 'sg_io_hdr',
      interfaceId: SG_INTERFACE_ID,
      cmdLength: 12,
      cdb: h.cmd,
      dxferDirection: direction,
      dxferLength: h.bufferLength,
    },
    decision,
  );
}

const KINDS: Record<PermissionSubmission, SubmissionHeader['kind']> = {
  ioctl: 'sg_io_hdr',
  write: 'sg_io_hdr',
  'send-command': 'scsi_ioctl_command',
  'cdrom-packet': 'cdrom_generic_command',
};

/**
 * Predicts what Linux 6.1 does with a submission, checking in the kernel's order:
 * - the gates that come before the header is read: a partition without CAP_SYS_RAWIO
 *   (`sd_ioctl`, ENOTTY), bsg's SCSI_IOCTL_SEND_COMMAND (EINVAL) and CDROM_SEND_PACKET
 *   (ENOTTY), write(2) on an O_RDONLY sg fd (EBADF), `sg_check_file_access` (EPERM), sg's
 *   CDROM_SEND_PACKET on a non-O_RDWR fd (`sg_ioctl_common`, EPERM);
 * - the header and CDB-length checks of the path (sg: ENOSYS, MMAP_IO, EMSGSIZE, EPERM,
 *   256 MiB, > 32; block: EINVAL, EIO, direction, > 32, EMSGSIZE, EPERM; bsg: guard,
 *   protocol, BIDI, request_len > 32, EPERM; SCSI_IOCTL_SEND_COMMAND: PAGE_SIZE, EPERM;
 *   CDROM_SEND_PACKET: data_direction, then block SG_IO's checks);
 * - with `data`, the transfer plan (`planTransfer`).
 * Inputs are validated ({@link InvalidFieldError}); refusals are data.
 */
export function predictSubmission(request: SubmissionRequest): SubmissionPrediction {
  const call = request.call ?? 'ioctl';
  const h = request.header;
  const expected = request.iface === 'bsg' && call === 'ioctl' ? 'sg_io_v4' : KINDS[call];
  if (h === null || typeof h !== 'object' || h.kind !== expected) {
    throw new InvalidFieldError(
      'header',
      `a ${call} on ${request.iface} takes a ${expected} header`,
      (h as { kind?: unknown } | null)?.kind,
    );
  }
  switch (h.kind) {
    case 'sg_io_hdr': {
      checkUnsigned(h.cmdLength, 0xff, 'header.cmdLength');
      checkUnsigned(h.dxferLength, 0xffff_ffff, 'header.dxferLength');
      // The bytes the kernel reads before a length check refuses (only the first 32 matter).
      checkCdbBytes(
        h.cdb,
        h.cmdLength <= (request.iface === 'sg' ? SG_MAX_CDB_SIZE : SCSI_CMND_SIZE)
          ? Math.min(h.cmdLength, SCSI_CMND_SIZE)
          : 0,
        'header.cdb',
      );
      if (request.iface === 'sg') return predictSg(request, h);
      const decision = permissionFor(request, h.cdb);
      if (isGateRefusal(decision)) return permissionOutcome(decision, 'gate');
      return predictBlockSgIo(request, h, decision);
    }
    case 'sg_io_v4':
      checkUnsigned(h.requestLength, 0xffff_ffff, 'header.requestLength');
      checkUnsigned(h.doutXferLength, 0xffff_ffff, 'header.doutXferLength');
      checkUnsigned(h.dinXferLength, 0xffff_ffff, 'header.dinXferLength');
      checkCdbBytes(
        h.request,
        (h.requestLength & 0xffff) <= SCSI_CMND_SIZE ? h.requestLength & 0xffff : 0,
        'header.request',
      );
      return predictBsg(request, h);
    case 'scsi_ioctl_command':
      checkUnsigned(h.inLength, 0xffff_ffff, 'header.inLength');
      checkUnsigned(h.outLength, 0xffff_ffff, 'header.outLength');
      checkCdbBytes(h.data, commandSize(h.data[0] ?? 0), 'header.data');
      return predictSendCommand(request, h);
    case 'cdrom_generic_command':
      checkCdbBytes(h.cmd, 12, 'header.cmd');
      checkUnsigned(h.bufferLength, 0xffff_ffff, 'header.bufferLength');
      return predictCdromPacket(request, h);
  }
}

/**
 * What the call returns once the device answered with `scsiStatus`: SG_IO 0 (the status is
 * in the header); SCSI_IOCTL_SEND_COMMAND the status byte itself, a positive value
 * (`sg_scsi_ioctl`: `scmd->result & 0xff`); CDROM_SEND_PACKET EIO for any status but GOOD
 * (`scsi_cdrom_send_packet`).
 */
export function ioctlCompletionResult(
  call: Exclude<PermissionSubmission, 'write'>,
  scsiStatus: number,
): number | 'EIO' {
  if (call === 'send-command') return scsiStatus & 0xff;
  if (call === 'cdrom-packet') return scsiStatus === 0 ? 0 : 'EIO';
  return 0;
}
