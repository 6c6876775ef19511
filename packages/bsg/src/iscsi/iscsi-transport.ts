/**
 * The `iscsi://` transport: a logical unit reached over iSCSI (RFC 7143) through the pure
 * TypeScript initiator of @sgv4/iscsi. Task tags are the ITTs on the wire, task attributes are
 * sent in the SCSI Command PDU, a command in flight is aborted with ABORT TASK, and the task
 * management functions iSCSI defines reach the target. No kernel filter applies, so there is no
 * permission pre-check.
 * @module
 */
import {
  defaultQueueLimits,
  InvalidFieldError,
  ScsiStatus,
  SenseKey,
  SG_INFO_CHECK,
  TaskManagementFunction,
  TmfResponse,
  tmfResponseName,
} from '@sgv4/core';
import {
  type IscsiCommandResult,
  IscsiSession,
  type IscsiSessionOptions,
  type IscsiTmfName,
  IscsiTmfResponse,
  parseIscsiUrl,
} from '@sgv4/iscsi';
import type {
  DeviceCapabilities,
  TaskManagementResult,
  Transport,
  TransportDescription,
  TransportFactory,
  TransportOpenOptions,
  TransportRequest,
  TransportResult,
} from '../transport/transport.js';

/**
 * The Device's tags are sent as ITTs from 2^31 up. The session numbers the ITTs of its own PDUs
 * (task management, NOP-Out, text, logout: RFC 7143 §11.2.1.8 makes them share the ITT space with
 * commands) round-robin from 0, so the upper half keeps the Device's tags clear of them.
 */
const ITT_BASE = 0x8000_0000n;

/** The SAM functions iSCSI carries (RFC 7143 §11.5.1: functions 1..5; 6..8 are target- and session-level). */
const ISCSI_TMFS: readonly TaskManagementFunction[] = [
  TaskManagementFunction.ABORT_TASK,
  TaskManagementFunction.ABORT_TASK_SET,
  TaskManagementFunction.CLEAR_ACA,
  TaskManagementFunction.CLEAR_TASK_SET,
  TaskManagementFunction.LOGICAL_UNIT_RESET,
];

/**
 * An iSCSI TMF Response (RFC 7143 §11.6.1) in the core's SAS-coded vocabulary: FUNCTION
 * COMPLETE as is; "task does not exist" is FUNCTION COMPLETE too (SAM-6 7.2: ABORT TASK of a
 * task the device server does not have completes); "LUN does not exist" is INCORRECT LOGICAL
 * UNIT NUMBER; "not supported" FUNCTION NOT SUPPORTED; anything else FUNCTION FAILED.
 */
function samResponse(code: number): TmfResponse {
  switch (code) {
    case IscsiTmfResponse.FUNCTION_COMPLETE:
    case IscsiTmfResponse.TASK_DOES_NOT_EXIST:
      return TmfResponse.FUNCTION_COMPLETE;
    case IscsiTmfResponse.LUN_DOES_NOT_EXIST:
      return TmfResponse.INCORRECT_LUN;
    case IscsiTmfResponse.TASK_MANAGEMENT_FUNCTION_NOT_SUPPORTED:
      return TmfResponse.FUNCTION_NOT_SUPPORTED;
    default:
      return TmfResponse.FUNCTION_FAILED;
  }
}

/** A Device's iSCSI session to one logical unit. */
export class IscsiTransport implements Transport {
  readonly kind = 'iscsi';
  readonly location: string;
  readonly readOnly: boolean;
  readonly capabilities: DeviceCapabilities;
  readonly #session: IscsiSession;
  readonly #lun: number;
  #closing: Promise<void> | undefined;

  /** Wraps a logged-in session; `lun` is the LU its commands go to. */
  constructor(
    session: IscsiSession,
    options: { location: string; lun: number; readOnly?: boolean; queueDepth?: number },
  ) {
    this.#session = session;
    this.#lun = options.lun;
    this.location = options.location;
    this.readOnly = options.readOnly ?? false;
    this.capabilities = {
      name: 'iSCSI (@sgv4/iscsi, RFC 7143)',
      tagsOnWire: true,
      // Device tags go on the wire as ITT_BASE + tag (see ITT_BASE): 2^31 - 1 of them.
      tagSpace: ITT_BASE - 1n,
      taskAttributes: 'wire',
      priorityOnWire: false,
      abortInFlight: true,
      taskManagement: ISCSI_TMFS,
      iovecs: false,
      directIo: 'none',
      mmap: false,
      maxQueueDepth: options.queueDepth ?? 128,
      minTimeoutMs: 1,
      note: 'the Device tag is the ITT on the wire (offset by 2^31) and the task attribute is sent; no command priority (RFC 7143 §11.3)',
    };
  }

  /** Logs in to the LU an `iscsi://[user[%password]@]host[:port]/target-iqn/lun` URL names (libiscsi's syntax; CHAP from the URL or LIBISCSI_CHAP_*). */
  static async connect(location: string, options: TransportOpenOptions): Promise<IscsiTransport> {
    const url = parseIscsiUrl(location, { env: process.env });
    const login: IscsiSessionOptions = {
      host: url.host,
      port: url.port,
      targetName: url.targetName,
      lun: url.lun,
      ...(url.credentials ? { credentials: url.credentials } : {}),
      ...(url.targetCredentials ? { targetCredentials: url.targetCredentials } : {}),
      ...(url.headerDigest ? { headerDigest: url.headerDigest } : {}),
      ...(url.dataDigest ? { dataDigest: url.dataDigest } : {}),
      ...(url.chapAlgorithm ? { chapAlgorithms: [url.chapAlgorithm] } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const session = await IscsiSession.login(login);
    try {
      await IscsiTransport.#clearLoginUnitAttention(session, url.lun);
    } catch (error) {
      session.close();
      throw error;
    }
    return new IscsiTransport(session, { location, lun: url.lun, readOnly: options.readOnly });
  }

  /**
   * After a login, as libiscsi's full connect does: TEST UNIT READY until it stops answering the
   * UNIT ATTENTION (29/xx: power on, reset, I_T nexus loss) every new I_T nexus gets (SAM-6 5.14),
   * so the program's first command is not refused by it. Any other answer (NOT READY, say) is left
   * for the program to meet.
   */
  static async #clearLoginUnitAttention(session: IscsiSession, lun: number): Promise<void> {
    for (let attempt = 0; attempt < 4; attempt++) {
      const r = await session.execute({ cdb: new Uint8Array(6), lun });
      if (
        r.status !== ScsiStatus.CHECK_CONDITION ||
        r.decodedSense?.senseKey !== SenseKey.UNIT_ATTENTION ||
        r.decodedSense.asc !== 0x29
      )
        return;
    }
  }

  describe(): Promise<TransportDescription> {
    // iSCSI has no Linux request queue: the kernel defaults stand in, so large transfers are
    // split as they would be for a plain queue (the session itself bursts by MaxBurstLength).
    const limits = defaultQueueLimits();
    return Promise.resolve({
      address: this.location.replace(/\/\/[^@/]*@/, '//'),
      queueLimits: limits,
      assumedLimits: Object.entries(limits).map(([field, value]) => ({
        field: field as keyof typeof limits,
        value,
      })),
      limitsSource: 'kernel defaults (an iSCSI LU has no Linux request queue)',
      deviceQueueDepth: this.capabilities.maxQueueDepth,
    });
  }

  submit(request: TransportRequest): Promise<TransportResult> {
    const { dataIn, dataOut } = request;
    if (
      (dataIn !== undefined && !(dataIn instanceof Uint8Array)) ||
      (dataOut !== undefined && !(dataOut instanceof Uint8Array))
    ) {
      return Promise.reject(
        new InvalidFieldError('data', 'must be one flat buffer on iSCSI', dataIn ?? dataOut),
      );
    }
    return this.#session
      .execute({
        cdb: request.cdb,
        ...(dataIn !== undefined ? { dataIn } : {}),
        ...(dataOut !== undefined ? { dataOut } : {}),
        tag: ITT_BASE + request.tag,
        attribute: request.attribute,
        timeoutMs: request.timeoutMs,
        lun: this.#lun,
      })
      .then((r: IscsiCommandResult) => ({
        status: r.status,
        hostStatus: r.hostStatus,
        driverStatus: r.driverStatus,
        sense: r.sense,
        dinResid: r.dinResid,
        doutResid: r.doutResid,
        durationMs: r.durationMs,
        info: r.info || (r.status !== 0 ? SG_INFO_CHECK : 0),
      }));
  }

  abort(tag: bigint): Promise<boolean> {
    return this.#session.abortTask(ITT_BASE + tag);
  }

  async taskManagement(fn: TaskManagementFunction, tag?: bigint): Promise<TaskManagementResult> {
    if (!ISCSI_TMFS.includes(fn)) {
      throw new InvalidFieldError('fn', `must be one of ${ISCSI_TMFS.join(', ')} on iSCSI`, fn);
    }
    const outcome = await this.#session.taskManagement(fn as IscsiTmfName, {
      lun: this.#lun,
      ...(tag !== undefined ? { referencedTaskTag: ITT_BASE + tag } : {}),
    });
    const aborted = outcome.abortedTags.filter((t) => t >= ITT_BASE).map((t) => t - ITT_BASE);
    const response = samResponse(outcome.response);
    return { fn, response, responseName: tmfResponseName(response), aborted };
  }

  /** Logs out (commands in flight finish first); a session that cannot log out is closed. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closing = this.#session.logout().catch(() => this.#session.close());
    }
    return this.#closing;
  }
}

/** `iscsi://[user[%password]@]host[:port]/target-iqn/lun[?header_digest=...]`: libiscsi's URL syntax. */
export const iscsiTransportFactory: TransportFactory = {
  scheme: 'iscsi',
  description: 'iSCSI (RFC 7143) through the @sgv4/iscsi initiator',
  open: (location, options) => IscsiTransport.connect(location, options),
};
