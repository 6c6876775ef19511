/**
 * An iSCSI session, initiator side (RFC 7143, ErrorRecoveryLevel 0, one connection): login,
 * SCSI commands with their task tags and attributes, Data-In placed straight into the
 * caller's buffers, Data-Out by immediate data, unsolicited Data-Out and R2T, the CmdSN
 * window as back-pressure, NOP keepalive, task management, asynchronous messages, text
 * exchanges (SendTargets), logout, and what happens when the connection is lost.
 *
 * Outcomes. Every request settles: with a response, or with a typed error (TimeoutError,
 * AbortedError, IscsiRejectError, IscsiConnectionLostError, ...). A write whose status never
 * arrived is never reported written: at ErrorRecoveryLevel 0 a lost connection loses the
 * session (RFC 7143 §7.1.4.3), so its commands fail with IscsiConnectionLostError, or, with a
 * reconnect policy, are sent once more on a new session (session reinstatement with the same
 * ISID, §6.3.5) and report that second answer.
 * @module
 */

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import {
  AbortedError,
  type DataBuffer,
  type DecodedSense,
  decodeSense,
  HostStatus,
  hexDigits,
  InvalidFieldError,
  NotSupportedError,
  optionalInteger,
  ResultCategory,
  resultCategoryOf,
  SCSI_SENSE_BUFFERSIZE,
  type ScsiRequest,
  type ScsiResponse,
  scsiStatusName,
  TagCollisionError,
  TaskAttribute,
  TimeoutError,
  taskAttributeCode,
} from '@sgv4/core';
import { type ChapAlgorithm, type ChapCredentials, ChapInitiator } from '../auth/chap.js';
import {
  IscsiConnectionLostError,
  IscsiLoginError,
  IscsiProtocolError,
  IscsiRejectError,
  rejectReasonName,
} from '../errors.js';
import { bidirectionalReadLengthAhs, extendedCdbAhs } from '../pdu/ahs.js';
import { BHS_LAYOUTS, opcodeName, RESERVED_TAG } from '../pdu/bhs-layouts.js';
import { DataBufferView } from '../pdu/data-buffer-view.js';
import { type Lun, lunField } from '../pdu/lun.js';
import type { AnyOutgoingPdu, AnyPdu, DataPlacement, Pdu } from '../pdu/pdu-codec.js';
import type { OperationalParameters } from '../text/negotiation.js';
import { decodeText, encodeText, TextAccumulator, type TextPair } from '../text/text-codec.js';
import { ISCSI_DEFAULT_PORT } from '../url/iscsi-url.js';
import { CommandWindow } from './command-window.js';
import { type ConnectionEnd, IscsiConnection } from './connection.js';
import { type DataOutSegment, planSequence, planUnsolicited } from './data-out-plan.js';
import { login } from './login.js';
import { serialAdd } from './serial-number.js';
import { type DiscoveredTarget, parseSendTargets } from './target-address.js';
import {
  IscsiTmf,
  type IscsiTmfName,
  IscsiTmfResponse,
  tasksEndedBy,
  tmfName,
  tmfResponseText,
} from './task-management.js';

/** A digest offer: one value, or several in preference order. */
export type DigestOffer = 'None' | 'CRC32C' | readonly ('None' | 'CRC32C')[];

/** When and how to reconnect after the connection is lost. */
export interface ReconnectPolicy {
  /** Login attempts before giving up (default 3). */
  readonly attempts?: number;
  /** Wait before each attempt, ms (default: the negotiated DefaultTime2Wait, RFC 7143 §13.15). */
  readonly delayMs?: number;
}

/** NOP-Out keepalive (as Linux's noop_out_interval / noop_out_timeout, 5 s each by default). */
export interface KeepalivePolicy {
  /** Send a NOP-Out ping after this long without any PDU from the target (default 5000 ms). */
  readonly intervalMs?: number;
  /** Consider the connection dead when the ping's NOP-In does not come within this (default 5000 ms). */
  readonly timeoutMs?: number;
}

/** Options of {@link IscsiSession.login}. */
export interface IscsiSessionOptions {
  /** Target portal host. */
  readonly host: string;
  /** Target portal port (default 3260). */
  readonly port?: number;
  /** The target's iSCSI name. Absent: a discovery session (SendTargets only). */
  readonly targetName?: string;
  /** The LUN commands go to when a request names none (default 0). */
  readonly lun?: Lun;
  /** Our iSCSI name (default `iqn.2026-01.dev.sgv4:<hostname>`). */
  readonly initiatorName?: string;
  /** InitiatorAlias to declare. */
  readonly initiatorAlias?: string;
  /** ISID (6 bytes; default random, RFC 7143 §11.12.5 type 10b). Kept across reconnects. */
  readonly isid?: Uint8Array;
  /** CHAP name and secret. */
  readonly credentials?: ChapCredentials;
  /** The target's CHAP name and secret (mutual CHAP). */
  readonly targetCredentials?: ChapCredentials;
  /** CHAP_A values to offer (default [5] = MD5). */
  readonly chapAlgorithms?: readonly ChapAlgorithm[];
  /** HeaderDigest offer (default `None,CRC32C`, as libiscsi). Naming only CRC32C requires it. */
  readonly headerDigest?: DigestOffer;
  /** DataDigest offer (default `None,CRC32C`). */
  readonly dataDigest?: DigestOffer;
  /** Our MaxRecvDataSegmentLength (default 262144). */
  readonly maxRecvDataSegmentLength?: number;
  /** MaxBurstLength offer (default 262144). */
  readonly maxBurstLength?: number;
  /** FirstBurstLength offer (default 262144). */
  readonly firstBurstLength?: number;
  /** ImmediateData offer (default true). */
  readonly immediateData?: boolean;
  /** InitialR2T offer (default false: unsolicited Data-Out allowed). */
  readonly initialR2T?: boolean;
  /** MaxOutstandingR2T offer (default 1). */
  readonly maxOutstandingR2T?: number;
  /** Most SCSI commands outstanding at once; more wait in order (default 128). */
  readonly queueDepth?: number;
  /** TCP connect timeout (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Login timeout (default 15 s). */
  readonly loginTimeoutMs?: number;
  /** Timeout of commands that give none (default 30 s; 0 = none). */
  readonly commandTimeoutMs?: number;
  /** How long a task management function may take before the connection is given up (default 10 s). */
  readonly taskManagementTimeoutMs?: number;
  /** NOP-Out keepalive; false turns it off. */
  readonly keepalive?: KeepalivePolicy | false;
  /** Reconnect after a lost connection (default: no, every request in flight fails). */
  readonly reconnect?: ReconnectPolicy | false;
  /** Cancels the login. */
  readonly signal?: AbortSignal;
}

/**
 * Write data produced on demand (instead of `dataOut`): the session asks for each range when
 * it is about to send it, so a large write can stream from a file or a generator. The
 * unsolicited part (at most FirstBurstLength) is read before the command is sent; the rest as
 * the target's R2Ts ask for it, in offset order within each R2T.
 */
export interface DataOutSource {
  /** Total bytes the command writes (its Expected Data Transfer Length). */
  readonly length: number;
  /** The bytes `[offset, offset + length)`, exactly `length` of them. */
  read(offset: number, length: number): Uint8Array | Promise<Uint8Array>;
}

/** A SCSI command for {@link IscsiSession.execute}: the canonical request plus LUN and cancellation. */
export interface IscsiCommand extends ScsiRequest {
  /** Write data produced on demand; exclusive with `dataOut`. */
  readonly dataOutSource?: DataOutSource;
  /** The LUN (default: the session's). */
  readonly lun?: Lun;
  /** Aborting it sends ABORT TASK for the command (or drops it if not sent yet) and rejects with AbortedError. */
  readonly signal?: AbortSignal;
}

/** The outcome of a command: the canonical response plus what iSCSI adds. */
export interface IscsiCommandResult extends ScsiResponse {
  /** The task tag (ITT) the command had on the wire. */
  readonly tag: bigint;
  /** The iSCSI Response field (RFC 7143 §11.4.3): 0 = completed at target, 1 = target failure. */
  readonly iscsiResponse: number;
  /** Bytes of Data-In received. */
  readonly dataInLength: number;
  /** True when the command was sent again after a reconnect (its first attempt was lost). */
  readonly reissued: boolean;
}

/** What {@link IscsiSession.taskManagement} learned. */
export interface TaskManagementOutcome {
  /** The function. */
  readonly function: IscsiTmfName;
  /** The Response code (RFC 7143 §11.6.1). */
  readonly response: number;
  /** Its name, e.g. `FUNCTION COMPLETE`. */
  readonly responseText: string;
  /** Tags of this session's commands the function ended (their promises rejected with AbortedError). */
  readonly abortedTags: readonly bigint[];
}

/** Target of a task management function. */
export interface TaskManagementTarget {
  /** The LU (default: the session's). */
  readonly lun?: Lun;
  /** For ABORT TASK: the tag of the task to abort. */
  readonly referencedTaskTag?: bigint;
}

/** An Asynchronous Message (RFC 7143 §11.9) as the session reports it. */
export interface AsyncEvent {
  /** AsyncEvent code: 0 SCSI event, 1 logout requested, 2 connection drop, 3 all connections drop, 4 renegotiation, 255 vendor. */
  readonly event: number;
  /** The LUN field. */
  readonly lun: bigint;
  /** Parameter1-3. */
  readonly parameters: readonly [number, number, number];
  /** For SCSI events: the sense data. */
  readonly sense?: Uint8Array;
  /** ...decoded, when it decodes. */
  readonly decodedSense?: DecodedSense;
}

/** Events of a session. */
export interface IscsiSessionEvents {
  /** An Asynchronous Message arrived (after the session acted on it). */
  asyncEvent: [AsyncEvent];
  /** The connection was lost; `reconnecting` says whether the session will log in again. */
  connectionLost: [
    { readonly reason: string; readonly error: Error | undefined; readonly reconnecting: boolean },
  ];
  /** A new connection logged in after a loss; `reissued` commands were sent again. */
  reconnected: [{ readonly attempt: number; readonly reissued: number }];
  /** The session is closed for good. */
  closed: [{ readonly reason: string }];
  /** The target pinged (a NOP-In with a TTT) and the session answered with a NOP-Out (RFC 7143 §11.19). */
  targetPing: [{ readonly ttt: number }];
  /** A task management function got its answer (also the ones the session sends itself for timed-out commands). */
  taskManagement: [TaskManagementOutcome & { readonly referencedTaskTag?: bigint }];
}

/** A session's state: logged in, reconnecting after a loss, logging out, or closed for good. */
export type SessionState = 'open' | 'recovering' | 'closing' | 'closed';

interface ScsiTask {
  readonly kind: 'scsi';
  readonly itt: number;
  readonly tag: bigint;
  readonly lunField: bigint;
  readonly request: IscsiCommand;
  readonly cdb: Uint8Array;
  readonly attribute: number;
  readonly dataIn: DataBufferView | undefined;
  readonly dataOut: DataBufferView | undefined;
  readonly source: DataOutSource | undefined;
  readonly writeLength: number;
  /** For a source: its unsolicited part, read before sending. */
  unsolicited: DataBufferView | undefined;
  /** For a source: the Data-Out sequences being produced, in R2T order. */
  sending: Promise<void>;
  readonly timeoutMs: number;
  readonly startedAt: number;
  resolve: (r: IscsiCommandResult) => void;
  reject: (e: Error) => void;
  sent: boolean;
  cmdSN: number;
  /** The caller has its answer (or error): later PDUs for the task only free it. */
  settled: boolean;
  reissued: boolean;
  dataInReceived: number;
  nextDataSN: number;
  nextR2TSN: number;
  /** When the command times out (performance.now() ms), 0 for never. */
  deadline: number;
  onAbort: (() => void) | undefined;
}

interface ControlTask {
  readonly kind: 'tmf' | 'nop' | 'text' | 'logout';
  readonly itt: number;
  readonly resolve: (pdu: AnyPdu) => void;
  readonly reject: (e: Error) => void;
}

type Task = ScsiTask | ControlTask;

/** A request waiting for room (queue depth or CmdSN window). */
type Queued =
  | { readonly task: ScsiTask }
  | { readonly send: (cmdSN: number) => void; readonly reject: (e: Error) => void };

const ASYNC = {
  SCSI_EVENT: 0,
  LOGOUT_REQUESTED: 1,
  CONNECTION_DROP: 2,
  ALL_CONNECTIONS_DROP: 3,
  RENEGOTIATE: 4,
} as const;

/** The initiator name used when none is given: `iqn.2026-01.dev.sgv4:<hostname>` (RFC 7143 §4.2.7.2 characters only). */
export function defaultInitiatorName(): string {
  const host =
    hostname()
      .toLowerCase()
      .replace(/[^a-z0-9.-]/g, '-') || 'host';
  return `iqn.2026-01.dev.sgv4:${host}`;
}

/** A random ISID of type 10b (RFC 7143 §11.12.5: T=10b, A reserved, B and C random, D a qualifier). */
export function randomIsid(): Uint8Array {
  const isid = new Uint8Array(randomBytes(6));
  isid[0] = 0x80;
  return isid;
}

function digestOffer(field: string, offer: DigestOffer | undefined): string {
  const list = offer === undefined ? ['None', 'CRC32C'] : typeof offer === 'string' ? [offer] : [...offer];
  if (list.length === 0 || list.some((v) => v !== 'None' && v !== 'CRC32C')) {
    throw new InvalidFieldError(field, "must be 'None', 'CRC32C' or a list of them", offer);
  }
  return list.join(',');
}

function yesNo(v: boolean): string {
  return v ? 'Yes' : 'No';
}

function ittOf(header: Uint8Array): number {
  return ((header[16]! << 24) | (header[17]! << 16) | (header[18]! << 8) | header[19]!) >>> 0;
}

function u32At(header: Uint8Array, at: number): number {
  return ((header[at]! << 24) | (header[at + 1]! << 16) | (header[at + 2]! << 8) | header[at + 3]!) >>> 0;
}

/** Largest CDB accepted: SPC-5 variable-length CDBs go up to 260 bytes; beyond 16 they ride in an Extended CDB AHS. */
export const MAX_ISCSI_CDB_LENGTH = 260;

/** See the module note. Create with {@link IscsiSession.login}. */
export class IscsiSession extends EventEmitter<IscsiSessionEvents> {
  /** `host:port` of the portal. */
  readonly portal: string;
  /** The target name ('' for a discovery session). */
  readonly targetName: string;
  /** Our initiator name. */
  readonly initiatorName: string;
  /** The ISID (kept across reconnects). */
  readonly isid: Uint8Array;
  readonly #options: IscsiSessionOptions;
  readonly #defaultLun: bigint;
  readonly #queueDepth: number;
  readonly #commandTimeoutMs: number;
  readonly #tmfTimeoutMs: number;
  readonly #keepalive: Required<KeepalivePolicy> | undefined;
  readonly #reconnect: (Required<Pick<ReconnectPolicy, 'attempts'>> & ReconnectPolicy) | undefined;
  readonly #offers: TextPair[];
  readonly #offeredFirstBurst: number;
  /** Tags whose task the target lost track of (ABORT TASK said "does not exist" before any answer): never reused in this session. */
  readonly #quarantined = new Set<number>();
  #conn: IscsiConnection;
  #params: OperationalParameters;
  #window: CommandWindow;
  #expStatSN: number;
  #tsih: number;
  #targetPortalGroupTag: number | undefined;
  #targetAlias: string | undefined;
  #state: SessionState = 'open';
  readonly #tasks = new Map<number, Task>();
  #queue: Queued[] = [];
  #scsiOutstanding = 0;
  #nextItt = 1;
  #lastReceive = Date.now();
  #keepaliveTimer: NodeJS.Timeout | undefined;
  #pinging = false;
  #closeReason = '';
  #unref = false;
  /** The target asked for a logout: nothing new is sent until the session logged in again. */
  #quiescing = false;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #deadlineAt = 0;
  /** Waiting for the commands in flight (and, with `queue`, the queued ones) to finish. */
  #drainWaiters: { readonly queue: boolean; readonly resolve: () => void }[] = [];

  private constructor(
    options: IscsiSessionOptions,
    conn: IscsiConnection,
    isid: Uint8Array,
    offers: TextPair[],
    result: Awaited<ReturnType<typeof login>>,
    loginCmdSN: number,
  ) {
    super();
    this.#options = options;
    this.portal = conn.portal;
    this.targetName = options.targetName ?? '';
    this.initiatorName = options.initiatorName ?? defaultInitiatorName();
    this.isid = isid;
    this.#offers = offers;
    // The most unsolicited data any login of this session can allow: negotiation never goes
    // beyond our offers (ImmediateData is AND, InitialR2T is OR, FirstBurstLength a minimum).
    const offered = (key: string) => offers.find(([k]) => k === key)?.[1];
    this.#offeredFirstBurst =
      offered('ImmediateData') === 'Yes' || offered('InitialR2T') === 'No'
        ? Number(offered('FirstBurstLength') ?? 0)
        : 0;
    this.#defaultLun = lunField(options.lun ?? 0);
    this.#queueDepth = optionalInteger('queueDepth', options.queueDepth, 128, 1, 0xffff);
    this.#commandTimeoutMs = optionalInteger(
      'commandTimeoutMs',
      options.commandTimeoutMs,
      30_000,
      0,
      2 ** 31 - 1,
    );
    this.#tmfTimeoutMs = optionalInteger(
      'taskManagementTimeoutMs',
      options.taskManagementTimeoutMs,
      10_000,
      1,
      2 ** 31 - 1,
    );
    this.#keepalive =
      options.keepalive === false
        ? undefined
        : {
            intervalMs: optionalInteger(
              'keepalive.intervalMs',
              options.keepalive?.intervalMs,
              5000,
              1,
              2 ** 31 - 1,
            ),
            timeoutMs: optionalInteger(
              'keepalive.timeoutMs',
              options.keepalive?.timeoutMs,
              5000,
              1,
              2 ** 31 - 1,
            ),
          };
    this.#reconnect =
      options.reconnect === undefined || options.reconnect === false
        ? undefined
        : {
            ...options.reconnect,
            attempts: optionalInteger('reconnect.attempts', options.reconnect.attempts, 3, 1, 1000),
          };
    this.#conn = conn;
    this.#params = result.parameters;
    this.#tsih = result.tsih;
    this.#expStatSN = result.expStatSN;
    this.#window = new CommandWindow(loginCmdSN, result.expCmdSN, result.maxCmdSN);
    this.#targetPortalGroupTag = result.targetPortalGroupTag;
    this.#targetAlias = result.targetAlias;
    this.#attach(conn);
    // PDUs that came right behind the final Login Response wait until the caller holds the
    // session (and could attach listeners): after the login promise's continuations.
    setImmediate(() => conn.resumeReading());
  }

  /**
   * Connects and logs in. Rejects with OsError (connect), IscsiLoginError (the target's status
   * class and detail, or why the initiator gave up), IscsiProtocolError, TimeoutError,
   * AbortedError or InvalidFieldError (bad options).
   */
  static async login(options: IscsiSessionOptions): Promise<IscsiSession> {
    const isid = options.isid ?? randomIsid();
    if (!(isid instanceof Uint8Array) || isid.length !== 6)
      throw new InvalidFieldError('isid', 'must be 6 bytes', isid);
    const offers = IscsiSession.#buildOffers(options);
    const cmdSN = IscsiSession.#initialCmdSN();
    const { conn, result } = await IscsiSession.#connectAndLogin(options, isid, offers, cmdSN);
    return new IscsiSession(options, conn, isid, offers, result, cmdSN);
  }

  /**
   * SendTargets discovery (RFC 7143 §13.3, Appendix C): a discovery session asks
   * `SendTargets=All`, and the answer lists each target with its portals. Logs out after.
   */
  static async discover(options: Omit<IscsiSessionOptions, 'targetName'>): Promise<DiscoveredTarget[]> {
    const { targetName: _ignored, ...rest } = options as IscsiSessionOptions;
    const session = await IscsiSession.login({ ...rest, keepalive: false });
    try {
      return parseSendTargets(await session.textExchange([['SendTargets', 'All']]));
    } finally {
      await session.logout().catch(() => session.close());
    }
  }

  static #initialCmdSN(): number {
    // Any start value works (RFC 7143 §4.2.2.1); a random one makes stale PDUs from an old session stand out.
    return randomBytes(4).readUInt32BE(0) >>> 0;
  }

  static #buildOffers(options: IscsiSessionOptions): TextPair[] {
    const mrdsl = optionalInteger(
      'maxRecvDataSegmentLength',
      options.maxRecvDataSegmentLength,
      262144,
      512,
      2 ** 24 - 1,
    );
    const offers: TextPair[] = [
      ['HeaderDigest', digestOffer('headerDigest', options.headerDigest)],
      ['DataDigest', digestOffer('dataDigest', options.dataDigest)],
      ['MaxRecvDataSegmentLength', String(mrdsl)],
      ['DefaultTime2Wait', '0'],
      ['DefaultTime2Retain', '0'],
      ['ErrorRecoveryLevel', '0'],
    ];
    if (options.targetName !== undefined) {
      const maxBurst = optionalInteger('maxBurstLength', options.maxBurstLength, 262144, 512, 2 ** 24 - 1);
      const firstBurst = optionalInteger(
        'firstBurstLength',
        options.firstBurstLength,
        Math.min(262144, maxBurst),
        512,
        2 ** 24 - 1,
      );
      if (firstBurst > maxBurst) {
        throw new InvalidFieldError(
          'firstBurstLength',
          `must not exceed maxBurstLength ${maxBurst} (RFC 7143 §13.14)`,
          firstBurst,
        );
      }
      offers.push(
        ['InitialR2T', yesNo(options.initialR2T ?? false)],
        ['ImmediateData', yesNo(options.immediateData ?? true)],
        ['MaxBurstLength', String(maxBurst)],
        ['FirstBurstLength', String(firstBurst)],
        [
          'MaxOutstandingR2T',
          String(optionalInteger('maxOutstandingR2T', options.maxOutstandingR2T, 1, 1, 65535)),
        ],
        ['DataPDUInOrder', 'Yes'],
        ['DataSequenceInOrder', 'Yes'],
        ['MaxConnections', '1'],
      );
    }
    return offers;
  }

  static async #connectAndLogin(
    options: IscsiSessionOptions,
    isid: Uint8Array,
    offers: TextPair[],
    cmdSN: number,
  ): Promise<{ conn: IscsiConnection; result: Awaited<ReturnType<typeof login>> }> {
    const host = options.host;
    if (typeof host !== 'string' || host === '')
      throw new InvalidFieldError('host', 'must be a host name or address', host);
    const port = optionalInteger('port', options.port, ISCSI_DEFAULT_PORT, 1, 65535);
    const conn = await IscsiConnection.connect({
      host,
      port,
      ...(options.connectTimeoutMs !== undefined ? { timeoutMs: options.connectTimeoutMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const chap =
      options.credentials === undefined
        ? undefined
        : new ChapInitiator({
            credentials: options.credentials,
            ...(options.targetCredentials ? { targetCredentials: options.targetCredentials } : {}),
            ...(options.chapAlgorithms ? { algorithms: options.chapAlgorithms } : {}),
          });
    const result = await login(conn, {
      initiatorName: options.initiatorName ?? defaultInitiatorName(),
      ...(options.initiatorAlias ? { initiatorAlias: options.initiatorAlias } : {}),
      ...(options.targetName !== undefined ? { targetName: options.targetName } : {}),
      isid,
      tsih: 0,
      cid: 0,
      cmdSN,
      ...(chap ? { chap } : {}),
      offers,
      ...(options.loginTimeoutMs !== undefined ? { timeoutMs: options.loginTimeoutMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    // A digest named alone is a requirement: refuse a target that answered Reject to it.
    for (const [key, want] of [
      ['HeaderDigest', options.headerDigest],
      ['DataDigest', options.dataDigest],
    ] as const) {
      const required =
        want === 'CRC32C' || (Array.isArray(want) && want.length === 1 && want[0] === 'CRC32C');
      const got = key === 'HeaderDigest' ? result.parameters.headerDigest : result.parameters.dataDigest;
      if (required && !got) {
        conn.close();
        throw new IscsiLoginError({
          statusClass: 0,
          statusDetail: 0,
          targetName: options.targetName ?? '',
          portal: conn.portal,
          reason: `${key}=CRC32C was required and the target refused it`,
        });
      }
    }
    conn.setDigests({ header: result.parameters.headerDigest, data: result.parameters.dataDigest });
    conn.setMaxRecvDataSegmentLength(result.parameters.maxRecvDataSegmentLength);
    return { conn, result };
  }

  // ---------------------------------------------------------------- accessors

  /** The negotiated parameters of the current connection. */
  get parameters(): OperationalParameters {
    return this.#params;
  }

  /** The TSIH the target gave the session. */
  get tsih(): number {
    return this.#tsih;
  }

  /** TargetPortalGroupTag, when declared. */
  get targetPortalGroupTag(): number | undefined {
    return this.#targetPortalGroupTag;
  }

  /** TargetAlias, when declared. */
  get targetAlias(): string | undefined {
    return this.#targetAlias;
  }

  /** `open`, `recovering` (reconnecting), `closing` (logging out) or `closed`. */
  get state(): SessionState {
    return this.#state;
  }

  /** SCSI commands sent and not finished. */
  get outstanding(): number {
    return this.#scsiOutstanding;
  }

  /** SCSI commands waiting for room (queue depth or CmdSN window). */
  get queued(): number {
    return this.#queue.length;
  }

  /** The CmdSN window: next CmdSN, ExpCmdSN, MaxCmdSN. */
  get commandWindow(): { readonly cmdSN: number; readonly expCmdSN: number; readonly maxCmdSN: number } {
    return { cmdSN: this.#window.cmdSN, expCmdSN: this.#window.expCmdSN, maxCmdSN: this.#window.maxCmdSN };
  }

  /** The capabilities a tag/TMF model needs: iSCSI carries 32-bit tags (0xffffffff reserved), attributes and every TMF. */
  static readonly capabilities = Object.freeze({
    name: 'iSCSI (RFC 7143)',
    canTag: true,
    canSetTaskAttribute: true,
    canAbortTask: true,
    canSendTmf: true,
    tagSpace: 0xffff_ffffn,
    note: 'the ITT is the task tag (0xffffffff reserved, RFC 7143 §11.2.1.8); ATTR and TMF requests go to the target',
  });

  // ---------------------------------------------------------------- SCSI commands

  /**
   * Sends a SCSI command and resolves with its outcome, whatever the status (CHECK CONDITION
   * included: see `responseError` in `@sgv4/core` to turn one into an error). `tag` becomes
   * the ITT (0..0xfffffffe; TagCollisionError while that tag is outstanding); without one the
   * session picks a free tag. Waits, in order, while the queue depth or the CmdSN window is
   * full. Rejects with TimeoutError (after sending ABORT TASK for it), AbortedError (signal),
   * IscsiRejectError, IscsiConnectionLostError, NotSupportedError (a discovery session).
   */
  execute(command: IscsiCommand): Promise<IscsiCommandResult> {
    if (this.targetName === '') {
      return Promise.reject(
        new NotSupportedError(
          'SCSI commands',
          'a discovery session carries only text requests (RFC 7143 §13.21)',
        ),
      );
    }
    if (this.#state === 'closing' || this.#state === 'closed') {
      return Promise.reject(this.#closedError());
    }
    let task: ScsiTask;
    try {
      task = this.#newTask(command);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<IscsiCommandResult>((resolve, reject) => {
      task.resolve = resolve;
      task.reject = reject;
      this.#tasks.set(task.itt, task);
      if (task.timeoutMs > 0) {
        task.deadline = task.startedAt + task.timeoutMs;
        this.#armDeadline(task.deadline);
      }
      const signal = command.signal;
      if (signal) {
        if (signal.aborted) {
          this.#giveUp(task, new AbortedError(this.#describe(task), signal.reason));
          return;
        }
        task.onAbort = () => this.#giveUp(task, new AbortedError(this.#describe(task), signal.reason));
        signal.addEventListener('abort', task.onAbort, { once: true });
      }
      if (task.source === undefined) {
        this.#queue.push({ task });
        this.#pump();
        return;
      }
      // A source's unsolicited part is read first: the command PDU and its unsolicited Data-Out
      // leave together.
      const firstBurst = Math.min(this.#offeredFirstBurst, task.writeLength);
      (firstBurst === 0 ? Promise.resolve(new Uint8Array(0)) : this.#readSource(task, 0, firstBurst)).then(
        (bytes) => {
          if (task.settled) return;
          task.unsolicited = new DataBufferView(bytes);
          this.#queue.push({ task });
          this.#pump();
        },
        (error: Error) => {
          this.#settle(task, undefined, error);
          this.#release(task);
        },
      );
    });
  }

  async #readSource(task: ScsiTask, offset: number, length: number): Promise<Uint8Array> {
    const bytes = await task.source!.read(offset, length);
    if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
      throw new InvalidFieldError(
        'dataOutSource.read',
        `must return a Uint8Array of exactly ${length} bytes for offset ${offset}`,
        bytes,
      );
    }
    return bytes;
  }

  #newTask(command: IscsiCommand): ScsiTask {
    const cdb = command.cdb;
    if (!(cdb instanceof Uint8Array) || cdb.length < 1 || cdb.length > MAX_ISCSI_CDB_LENGTH) {
      throw new InvalidFieldError('cdb', `must be a Uint8Array of 1..${MAX_ISCSI_CDB_LENGTH} bytes`, cdb);
    }
    const dataIn =
      command.dataIn === undefined ? undefined : new DataBufferView(checkBuffer('dataIn', command.dataIn));
    const dataOut =
      command.dataOut === undefined ? undefined : new DataBufferView(checkBuffer('dataOut', command.dataOut));
    const source = command.dataOutSource;
    if (source !== undefined) {
      if (dataOut !== undefined) {
        throw new InvalidFieldError('dataOutSource', 'must not be given together with dataOut', source);
      }
      if (typeof source.read !== 'function' || !Number.isSafeInteger(source.length) || source.length < 1) {
        throw new InvalidFieldError(
          'dataOutSource',
          'must have a positive integer length and a read() method',
          source,
        );
      }
    }
    const writeLength = source?.length ?? dataOut?.length ?? 0;
    if ((dataIn?.length ?? 0) > 0xffff_ffff || writeLength > 0xffff_ffff) {
      throw new InvalidFieldError(
        'dataIn/dataOut',
        'must be below 4 GiB (Expected Data Transfer Length is 32 bits)',
        command,
      );
    }
    const timeoutMs =
      command.timeoutMs === undefined || command.timeoutMs === 0 ? this.#commandTimeoutMs : command.timeoutMs;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > 2 ** 31 - 1) {
      throw new InvalidFieldError('timeoutMs', 'must be an integer in 0..2147483647', command.timeoutMs);
    }
    const attribute = taskAttributeCode(command.attribute ?? TaskAttribute.SIMPLE, 'iscsi');
    const itt = this.#allocateItt(command.tag);
    return {
      kind: 'scsi',
      itt,
      tag: BigInt(itt),
      lunField: command.lun === undefined ? this.#defaultLun : lunField(command.lun),
      request: command,
      cdb,
      attribute,
      dataIn,
      dataOut,
      source,
      writeLength,
      unsolicited: undefined,
      sending: Promise.resolve(),
      timeoutMs,
      startedAt: performance.now(),
      resolve: () => {},
      reject: () => {},
      sent: false,
      cmdSN: 0,
      settled: false,
      reissued: false,
      dataInReceived: 0,
      nextDataSN: 0,
      nextR2TSN: 0,
      deadline: 0,
      onAbort: undefined,
    };
  }

  #allocateItt(tag: bigint | undefined): number {
    if (tag !== undefined) {
      if (typeof tag !== 'bigint' || tag < 0n || tag >= 0xffff_ffffn) {
        throw new InvalidFieldError(
          'tag',
          'must be a bigint in 0..0xfffffffe (the ITT; 0xffffffff is reserved, RFC 7143 §11.2.1.8)',
          tag,
        );
      }
      const itt = Number(tag);
      if (this.#tasks.has(itt) || this.#quarantined.has(itt)) {
        throw new TagCollisionError(tag, `${this.initiatorName}->${this.targetName}`);
      }
      return itt;
    }
    let itt = this.#nextItt;
    while (this.#tasks.has(itt) || this.#quarantined.has(itt) || itt === RESERVED_TAG) itt = (itt + 1) >>> 0;
    this.#nextItt = (itt + 1) >>> 0;
    return itt;
  }

  #describe(task: ScsiTask): string {
    const op = hexDigits(task.cdb[0]!);
    return `iSCSI command 0x${op} tag ${task.itt} on ${this.targetName} at ${this.portal}`;
  }

  /** Sends queued requests while there is room, in order. */
  #pump(): void {
    while (
      this.#queue.length > 0 &&
      !this.#quiescing &&
      (this.#state === 'open' || this.#state === 'closing')
    ) {
      const next = this.#queue[0]!;
      if ('task' in next && this.#scsiOutstanding >= this.#queueDepth) return;
      const cmdSN = this.#window.take();
      if (cmdSN === undefined) return;
      this.#queue.shift();
      if ('task' in next) this.#sendCommand(next.task, cmdSN);
      else next.send(cmdSN);
    }
  }

  #sendCommand(task: ScsiTask, cmdSN: number): void {
    task.sent = true;
    task.cmdSN = cmdSN;
    task.nextDataSN = 0;
    task.nextR2TSN = 0;
    task.dataInReceived = 0;
    this.#scsiOutstanding++;
    const writeLength = task.writeLength;
    const readLength = task.dataIn?.length ?? 0;
    const plan = writeLength > 0 ? planUnsolicited(writeLength, this.#params) : undefined;
    // Unsolicited data comes from the caller's buffer, or from what was read of a source.
    const unsolicited = task.dataOut ?? task.unsolicited;
    const ahs = [];
    const ext = extendedCdbAhs(task.cdb);
    if (ext) ahs.push(ext);
    if (writeLength > 0 && readLength > 0) ahs.push(bidirectionalReadLengthAhs(readLength));
    const pdus: AnyOutgoingPdu[] = [
      {
        kind: 'SCSI_COMMAND',
        header: {
          final: plan === undefined || plan.dataOut.length === 0,
          read: readLength > 0,
          write: writeLength > 0,
          attribute: task.attribute,
          lun: task.lunField,
          itt: task.itt,
          expectedDataTransferLength: writeLength > 0 ? writeLength : readLength,
          cmdSN,
          expStatSN: this.#expStatSN,
          cdb: task.cdb.length > 16 ? task.cdb.subarray(0, 16) : task.cdb,
        },
        ...(ahs.length > 0 ? { ahs } : {}),
        ...(plan && plan.immediate > 0 ? { data: unsolicited!.slices(0, plan.immediate) } : {}),
      },
    ];
    for (const seg of plan?.dataOut ?? []) {
      pdus.push(this.#dataOutPdu(task, RESERVED_TAG, seg, unsolicited!.slices(seg.offset, seg.length)));
    }
    this.#conn.send(...pdus);
  }

  #dataOutPdu(task: ScsiTask, ttt: number, seg: DataOutSegment, data: Uint8Array[]): AnyOutgoingPdu {
    return {
      kind: 'DATA_OUT',
      header: {
        final: seg.final,
        lun: task.lunField,
        itt: task.itt,
        ttt,
        expStatSN: this.#expStatSN,
        dataSN: seg.dataSN,
        bufferOffset: seg.offset,
      },
      data,
    };
  }

  /**
   * One timer for all command timeouts, armed for the earliest deadline (a timer per command
   * would allocate and churn the timer lists at every command). When it fires, every command
   * whose deadline passed times out, and it is armed again for the next one.
   */
  #armDeadline(deadline: number): void {
    if (this.#deadlineTimer !== undefined && deadline >= this.#deadlineAt) return;
    if (this.#deadlineTimer !== undefined) clearTimeout(this.#deadlineTimer);
    this.#deadlineAt = deadline;
    this.#deadlineTimer = setTimeout(
      () => this.#expireDeadlines(),
      Math.max(0, deadline - performance.now()),
    );
    if (this.#unref) this.#deadlineTimer.unref();
  }

  #expireDeadlines(): void {
    this.#deadlineTimer = undefined;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const task of [...this.#tasks.values()]) {
      if (task.kind !== 'scsi' || task.deadline === 0) continue;
      if (task.deadline <= now + 1)
        this.#giveUp(task, new TimeoutError(this.#describe(task), task.timeoutMs));
      else next = Math.min(next, task.deadline);
    }
    if (next !== Number.POSITIVE_INFINITY) this.#armDeadline(next);
  }

  /** The caller gets `error` now; the command, if the target has it, is aborted in the background (ABORT TASK, then LU reset). */
  #giveUp(task: ScsiTask, error: Error): void {
    if (task.settled) return;
    this.#settle(task, undefined, error);
    const queuedAt = this.#queue.findIndex((q) => 'task' in q && q.task === task);
    if (queuedAt >= 0) this.#queue.splice(queuedAt, 1);
    if (!task.sent) {
      // Never sent (queued, or still reading its data source): nothing to abort at the target.
      this.#release(task);
      return;
    }
    if (this.#state === 'open' || this.#state === 'closing') void this.#abortInBackground(task);
  }

  async #abortInBackground(task: ScsiTask): Promise<void> {
    try {
      const outcome = await this.taskManagement('ABORT_TASK', {
        referencedTaskTag: task.tag,
        lun: task.lunField,
      });
      if (
        outcome.response === IscsiTmfResponse.FUNCTION_COMPLETE ||
        outcome.response === IscsiTmfResponse.TASK_DOES_NOT_EXIST
      )
        return;
      // As the Linux error handler: an abort that did not work escalates to a LU reset.
      const reset = await this.taskManagement('LOGICAL_UNIT_RESET', { lun: task.lunField });
      if (reset.response !== IscsiTmfResponse.FUNCTION_COMPLETE && this.#tasks.get(task.itt) === task) {
        this.#conn.fail(
          new IscsiProtocolError(
            this.#describe(task),
            `neither ABORT TASK nor LOGICAL UNIT RESET ended it (${tmfResponseText(reset.response)})`,
          ),
          'task management could not end a timed-out command',
        );
      }
    } catch {
      // The TMF itself failed or timed out: the connection is already being torn down.
    }
  }

  /** Settles the caller's promise once (result or error); the task stays known until released. */
  #settle(task: ScsiTask, result: IscsiCommandResult | undefined, error?: Error): void {
    if (task.settled) return;
    task.settled = true;
    task.deadline = 0;
    if (task.onAbort) task.request.signal?.removeEventListener('abort', task.onAbort);
    task.onAbort = undefined;
    if (result) task.resolve(result);
    else task.reject(error!);
  }

  /** Forgets a task: its tag is free again, and its slot goes to the next queued request. */
  #release(task: ScsiTask): void {
    if (this.#tasks.get(task.itt) !== task) return;
    this.#tasks.delete(task.itt);
    if (task.sent) {
      task.sent = false;
      this.#scsiOutstanding--;
    }
    this.#pump();
    this.#checkDrained();
  }

  // ---------------------------------------------------------------- incoming PDUs

  #attach(conn: IscsiConnection): void {
    this.#lastReceive = Date.now();
    conn.placeData = (kind, header) => (kind === 'DATA_IN' ? this.#placeDataIn(header) : undefined);
    conn.onPdu = (pdu) => {
      try {
        this.#onPdu(pdu);
      } catch (error) {
        conn.fail(error as Error, (error as Error).message);
      }
    };
    conn.onEnd = (end) => this.#onConnectionEnd(conn, end);
    if (this.#unref) conn.unref();
    this.#startKeepalive();
  }

  /** Where a Data-In segment goes: straight into the task's buffer (or discarded for a task the caller gave up on). */
  #placeDataIn(header: Uint8Array): DataPlacement | undefined {
    const itt = ittOf(header);
    const task = this.#tasks.get(itt);
    if (task === undefined || task.kind !== 'scsi') {
      throw new IscsiProtocolError(
        `SCSI Data-In ITT ${itt}`,
        'no command with this tag is outstanding (RFC 7143 §11.7.2)',
      );
    }
    if (task.dataIn === undefined) {
      throw new IscsiProtocolError(
        `SCSI Data-In for ${this.#describe(task)}`,
        'the command has no data to read (RFC 7143 §11.3.1: R bit clear)',
      );
    }
    if (task.settled) return undefined;
    return { buffer: task.dataIn, offset: u32At(header, 40) };
  }

  #onPdu(pdu: AnyPdu): void {
    this.#lastReceive = Date.now();
    switch (pdu.kind) {
      case 'DATA_IN':
        this.#onDataIn(pdu);
        break;
      case 'SCSI_RESPONSE':
        this.#onScsiResponse(pdu);
        break;
      case 'R2T':
        this.#onR2T(pdu);
        break;
      case 'NOP_IN':
        this.#onNopIn(pdu);
        break;
      case 'TASK_MANAGEMENT_RESPONSE':
      case 'TEXT_RESPONSE':
      case 'LOGOUT_RESPONSE':
        this.#updateWindow(pdu.header.expCmdSN, pdu.header.maxCmdSN);
        this.#advanceStatSN(pdu.header.statSN);
        this.#completeControl(pdu);
        break;
      case 'ASYNC_MESSAGE':
        this.#onAsync(pdu);
        break;
      case 'REJECT':
        this.#onReject(pdu);
        break;
      default:
        throw new IscsiProtocolError(
          `${BHS_LAYOUTS[pdu.kind].name} in the full feature phase`,
          'not a PDU a target sends here (RFC 7143 §11)',
        );
    }
  }

  #updateWindow(expCmdSN: number, maxCmdSN: number): void {
    if (this.#window.update(expCmdSN, maxCmdSN)) this.#pump();
  }

  /** ExpStatSN acknowledges status up to `statSN` (RFC 7143 §4.2.2.2); never moves backwards. */
  #advanceStatSN(statSN: number): void {
    const next = serialAdd(statSN, 1);
    if ((next - this.#expStatSN) >>> 0 < 0x8000_0000) this.#expStatSN = next;
  }

  #scsiTask(itt: number, what: string): ScsiTask {
    const task = this.#tasks.get(itt);
    if (task === undefined || task.kind !== 'scsi') {
      throw new IscsiProtocolError(
        `${what} ITT ${itt}`,
        'no command with this tag is outstanding (RFC 7143 §11.2.1.8)',
      );
    }
    return task;
  }

  #onDataIn(pdu: Pdu<'DATA_IN'>): void {
    const h = pdu.header;
    this.#updateWindow(h.expCmdSN, h.maxCmdSN);
    const task = this.#scsiTask(h.itt, 'SCSI Data-In');
    // DataSN counts a task's Data-In PDUs from 0 (for bidirectional commands R2Ts share the count, RFC 7143 §4.2.2.4 / §11.7.5).
    if (h.dataSN !== task.nextDataSN) {
      throw new IscsiProtocolError(
        `SCSI Data-In for ${this.#describe(task)}: DataSN ${h.dataSN}`,
        `expected ${task.nextDataSN}: at ErrorRecoveryLevel 0 a missing Data-In cannot be recovered (RFC 7143 §7.1.4.3)`,
      );
    }
    task.nextDataSN = serialAdd(task.nextDataSN, 1);
    if (task.writeLength > 0) task.nextR2TSN = task.nextDataSN;
    task.dataInReceived += pdu.dataLength;
    if (!h.statusPresent) return;
    this.#advanceStatSN(h.statSN);
    this.#finish(task, {
      status: h.status,
      iscsiResponse: 0,
      sense: new Uint8Array(0),
      overflow: h.overflow,
      underflow: h.underflow,
      residualCount: h.residualCount,
      bidiOverflow: false,
      bidiUnderflow: false,
      bidiResidualCount: 0,
    });
  }

  #onScsiResponse(pdu: Pdu<'SCSI_RESPONSE'>): void {
    const h = pdu.header;
    this.#updateWindow(h.expCmdSN, h.maxCmdSN);
    this.#advanceStatSN(h.statSN);
    const task = this.#scsiTask(h.itt, 'SCSI Response');
    let sense: Uint8Array = new Uint8Array(0);
    if (pdu.dataLength > 0) {
      // Data segment: SenseLength (2 bytes), sense data, then any iSCSI response data (RFC 7143 §11.4.7).
      if (pdu.dataLength < 2) {
        throw new IscsiProtocolError(
          `SCSI Response for ${this.#describe(task)}`,
          'a data segment must start with the 2-byte SenseLength (RFC 7143 §11.4.7.2)',
        );
      }
      const senseLength = (pdu.data[0]! << 8) | pdu.data[1]!;
      if (senseLength > pdu.dataLength - 2) {
        throw new IscsiProtocolError(
          `SCSI Response for ${this.#describe(task)}: SenseLength ${senseLength}`,
          `exceeds the ${pdu.dataLength - 2} bytes that follow it (RFC 7143 §11.4.7.2)`,
        );
      }
      sense = pdu.data.subarray(2, 2 + senseLength);
    }
    this.#finish(task, {
      status: h.status,
      iscsiResponse: h.response,
      sense,
      overflow: h.overflow,
      underflow: h.underflow,
      residualCount: h.residualCount,
      bidiOverflow: h.bidiReadOverflow,
      bidiUnderflow: h.bidiReadUnderflow,
      bidiResidualCount: h.bidiReadResidualCount,
    });
  }

  #finish(
    task: ScsiTask,
    s: {
      status: number;
      iscsiResponse: number;
      sense: Uint8Array;
      overflow: boolean;
      underflow: boolean;
      residualCount: number;
      bidiOverflow: boolean;
      bidiUnderflow: boolean;
      bidiResidualCount: number;
    },
  ): void {
    const readLength = task.dataIn?.length ?? 0;
    const writeLength = task.writeLength;
    const residual = s.underflow ? s.residualCount : s.overflow ? -s.residualCount : 0;
    const bidiResidual = s.bidiUnderflow ? s.bidiResidualCount : s.bidiOverflow ? -s.bidiResidualCount : 0;
    // Residuals (RFC 7143 §11.4.5): for a bidirectional command U/O describe the write and
    // u/o the read; otherwise U/O describe the command's one direction. Underflow is bytes not
    // transferred (positive); overflow, bytes the target had beyond the buffer, is negative
    // here (Linux's libiscsi reports both as a positive resid, drivers/scsi/libiscsi.c
    // iscsi_scsi_cmd_rsp).
    const dinResid = writeLength > 0 && readLength > 0 ? bidiResidual : readLength > 0 ? residual : 0;
    const doutResid = writeLength > 0 ? residual : 0;
    // As drivers/scsi/libiscsi.c iscsi_scsi_cmd_rsp: a response other than "completed at
    // target" is DID_ERROR, an underflow larger than the buffer is DID_BAD_TARGET.
    const hostStatus =
      s.iscsiResponse !== 0
        ? HostStatus.DID_ERROR
        : dinResid > readLength || doutResid > writeLength
          ? HostStatus.DID_BAD_TARGET
          : HostStatus.DID_OK;
    const max = task.request.maxSenseLength ?? SCSI_SENSE_BUFFERSIZE;
    const sense = s.sense.slice(0, max);
    let decodedSense: DecodedSense | undefined;
    if (sense.length > 0) {
      try {
        decodedSense = decodeSense(sense);
      } catch {
        decodedSense = undefined;
      }
    }
    const category = resultCategoryOf(s.status, hostStatus, 0, sense.length);
    const result: IscsiCommandResult = {
      status: s.status,
      statusName: scsiStatusName(s.status),
      hostStatus,
      driverStatus: 0,
      sense,
      ...(decodedSense ? { decodedSense } : {}),
      dinResid,
      doutResid,
      durationMs: Math.round(performance.now() - task.startedAt),
      info: category === ResultCategory.GOOD ? 0 : 1,
      generatedTag: task.tag,
      usrPtr: task.request.usrPtr ?? 0n,
      category,
      tag: task.tag,
      iscsiResponse: s.iscsiResponse,
      dataInLength: task.dataInReceived,
      reissued: task.reissued,
    };
    this.#settle(task, result);
    this.#release(task);
  }

  #onR2T(pdu: Pdu<'R2T'>): void {
    const h = pdu.header;
    this.#updateWindow(h.expCmdSN, h.maxCmdSN);
    const task = this.#scsiTask(h.itt, 'R2T');
    const writeLength = task.writeLength;
    const what = `R2T for ${this.#describe(task)}`;
    if (h.r2tSN !== task.nextR2TSN) {
      throw new IscsiProtocolError(
        `${what}: R2TSN ${h.r2tSN}`,
        `expected ${task.nextR2TSN} (RFC 7143 §11.8.5)`,
      );
    }
    task.nextR2TSN = serialAdd(task.nextR2TSN, 1);
    if (task.dataIn !== undefined) task.nextDataSN = task.nextR2TSN;
    if (
      h.desiredDataTransferLength === 0 ||
      h.bufferOffset + h.desiredDataTransferLength > writeLength ||
      h.desiredDataTransferLength > this.#params.maxBurstLength
    ) {
      throw new IscsiProtocolError(
        `${what}: ${h.desiredDataTransferLength} bytes at offset ${h.bufferOffset}`,
        `must be 1..MaxBurstLength (${this.#params.maxBurstLength}) bytes within the ${writeLength}-byte write (RFC 7143 §11.8.4)`,
      );
    }
    // Answer even for a task being aborted: the target expects the data (RFC 7143 §4.2.3.3).
    const segments = planSequence(
      h.bufferOffset,
      h.desiredDataTransferLength,
      this.#params.peerMaxRecvDataSegmentLength,
    );
    if (task.dataOut !== undefined) {
      const view = task.dataOut;
      this.#conn.send(
        ...segments.map((seg) => this.#dataOutPdu(task, h.ttt, seg, view.slices(seg.offset, seg.length))),
      );
      return;
    }
    // A source: read each segment when its turn comes, one R2T after the other.
    const conn = this.#conn;
    task.sending = task.sending.then(async () => {
      for (const seg of segments) {
        const bytes = await this.#readSource(task, seg.offset, seg.length);
        if (conn !== this.#conn || this.#tasks.get(task.itt) !== task) return;
        conn.send(this.#dataOutPdu(task, h.ttt, seg, [bytes]));
      }
    });
    task.sending.catch((error: Error) => {
      if (this.#tasks.get(task.itt) !== task) return;
      // The write cannot go on without its data: end the command at the target too.
      this.#giveUp(task, error);
    });
  }

  #onNopIn(pdu: Pdu<'NOP_IN'>): void {
    const h = pdu.header;
    this.#updateWindow(h.expCmdSN, h.maxCmdSN);
    if (h.itt !== RESERVED_TAG) {
      this.#advanceStatSN(h.statSN);
      this.#completeControl(pdu);
    }
    if (h.ttt !== RESERVED_TAG) {
      // The target pings: answer with a NOP-Out carrying its TTT and LUN (RFC 7143 §11.18.3).
      this.#conn.send({
        kind: 'NOP_OUT',
        immediate: true,
        header: {
          final: true,
          lun: h.lun,
          itt: RESERVED_TAG,
          ttt: h.ttt,
          cmdSN: this.#window.cmdSN,
          expStatSN: this.#expStatSN,
        },
      });
      this.emit('targetPing', { ttt: h.ttt });
    }
  }

  #completeControl(pdu: AnyPdu): void {
    const itt = pdu.header.itt;
    const task = this.#tasks.get(itt);
    if (task === undefined || task.kind === 'scsi') {
      throw new IscsiProtocolError(
        `${BHS_LAYOUTS[pdu.kind].name} ITT ${itt}`,
        'no request with this tag is outstanding (RFC 7143 §11.2.1.8)',
      );
    }
    task.resolve(pdu);
  }

  #onReject(pdu: Pdu<'REJECT'>): void {
    const h = pdu.header;
    this.#updateWindow(h.expCmdSN, h.maxCmdSN);
    // The data segment is the rejected PDU's header (RFC 7143 §11.17.3).
    const rejected = pdu.data;
    if (rejected.length < 48) {
      throw new IscsiProtocolError('Reject', 'must carry the rejected PDU header (RFC 7143 §11.17.3)');
    }
    const opcode = rejected[0]! & 0x3f;
    const itt = ittOf(rejected);
    const task = this.#tasks.get(itt);
    const what = `${opcodeName(opcode)} tag ${itt}`;
    const error = new IscsiRejectError(what, h.reason);
    // A data digest error loses write data, which ErrorRecoveryLevel 0 cannot resend: session recovery (RFC 7143 §7.8.2).
    if (h.reason === 0x02 || task === undefined) {
      this.#conn.fail(error, `${what} rejected: ${rejectReasonName(h.reason)}`);
      return;
    }
    if (task.kind === 'scsi') {
      this.#settle(task, undefined, error);
      this.#release(task);
    } else task.reject(error);
  }

  // ---------------------------------------------------------------- async messages

  #onAsync(pdu: Pdu<'ASYNC_MESSAGE'>): void {
    const h = pdu.header;
    this.#updateWindow(h.expCmdSN, h.maxCmdSN);
    this.#advanceStatSN(h.statSN);
    const event: AsyncEvent = {
      event: h.asyncEvent,
      lun: h.lun,
      parameters: [h.parameter1, h.parameter2, h.parameter3],
      ...this.#asyncSense(pdu),
    };
    switch (h.asyncEvent) {
      case ASYNC.LOGOUT_REQUESTED:
        // The target wants the session gone within Parameter3 seconds (RFC 7143 §11.9.1):
        // finish what is in flight, log out, and (with a reconnect policy) log in again.
        void this.#logoutRequested(h.parameter3);
        break;
      case ASYNC.CONNECTION_DROP:
      case ASYNC.ALL_CONNECTIONS_DROP:
        // The target will drop the connection; Parameter2 is Time2Wait (RFC 7143 §11.9.1).
        this.#conn.fail(
          undefined,
          `the target announced it drops the connection (AsyncEvent ${h.asyncEvent})`,
        );
        break;
      case ASYNC.RENEGOTIATE:
        void this.textExchange([
          ['MaxRecvDataSegmentLength', String(this.#params.maxRecvDataSegmentLength)],
        ]).catch(() => {});
        break;
      default:
        break;
    }
    this.emit('asyncEvent', event);
  }

  #asyncSense(pdu: Pdu<'ASYNC_MESSAGE'>): { sense?: Uint8Array; decodedSense?: DecodedSense } {
    if (pdu.header.asyncEvent !== ASYNC.SCSI_EVENT || pdu.dataLength < 2) return {};
    const n = Math.min((pdu.data[0]! << 8) | pdu.data[1]!, pdu.dataLength - 2);
    const sense = pdu.data.slice(2, 2 + n);
    try {
      return { sense, decodedSense: decodeSense(sense) };
    } catch {
      return { sense };
    }
  }

  async #logoutRequested(seconds: number): Promise<void> {
    if (this.#state !== 'open' || this.#quiescing) return;
    this.#quiescing = true;
    const deadline = Math.max(1, seconds) * 1000;
    await Promise.race([this.#drain(false), new Promise((r) => setTimeout(r, deadline).unref())]);
    try {
      await this.#sendLogout(0);
    } catch {
      // A failed logout ends the connection anyway.
    }
    this.#conn.fail(undefined, 'logged out at the target request (AsyncEvent 1)');
  }

  // ---------------------------------------------------------------- control requests

  #control<K extends 'tmf' | 'nop' | 'text' | 'logout'>(
    kind: K,
    timeoutMs: number,
    build: (itt: number) => AnyOutgoingPdu,
    immediate: boolean,
  ): Promise<AnyPdu> {
    if (this.#state === 'closed' || (this.#state === 'recovering' && kind !== 'logout'))
      return Promise.reject(this.#closedError());
    const itt = this.#allocateItt(undefined);
    return new Promise<AnyPdu>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#tasks.delete(itt);
        const error = new TimeoutError(
          `${kind === 'tmf' ? 'task management' : kind} request to ${this.portal}`,
          timeoutMs,
        );
        reject(error);
        // An unanswered request means the connection no longer works: recover the session.
        this.#conn.fail(error, error.message);
      }, timeoutMs);
      timer.unref();
      const task: ControlTask = {
        kind,
        itt,
        resolve: (pdu) => {
          clearTimeout(timer);
          this.#tasks.delete(itt);
          resolve(pdu);
        },
        reject: (e) => {
          clearTimeout(timer);
          this.#tasks.delete(itt);
          reject(e);
        },
      };
      this.#tasks.set(itt, task);
      if (immediate) this.#conn.send(build(itt));
      else {
        this.#queue.push({
          send: (cmdSN) => {
            const pdu = build(itt);
            (pdu.header as { cmdSN?: number }).cmdSN = cmdSN;
            this.#conn.send(pdu);
          },
          reject: task.reject,
        });
        this.#pump();
      }
    });
  }

  /**
   * Sends a task management function (RFC 7143 §11.5) and resolves with the target's answer.
   * For FUNCTION COMPLETE the commands it ended (see `tasksEndedBy`) reject with AbortedError
   * and are listed in `abortedTags`; for ABORT TASK, "task does not exist" while the command
   * is still unanswered ends it too (the target no longer has it). ABORT TASK of a command
   * not sent yet never reaches the wire. TASK REASSIGN needs ErrorRecoveryLevel 2:
   * NotSupportedError. A function the target does not support answers with code 5; a TMF that
   * gets no answer within `taskManagementTimeoutMs` drops the connection (TimeoutError).
   */
  async taskManagement(fn: IscsiTmfName, target: TaskManagementTarget = {}): Promise<TaskManagementOutcome> {
    if (!(fn in IscsiTmf))
      throw new InvalidFieldError('function', `must be one of ${Object.keys(IscsiTmf).join(', ')}`, fn);
    if (fn === 'TASK_REASSIGN')
      throw new NotSupportedError(
        'TASK REASSIGN',
        'needs ErrorRecoveryLevel 2; this session runs at 0 (RFC 7143 §7.2)',
      );
    if (this.targetName === '')
      throw new NotSupportedError('task management', 'a discovery session has no LUs');
    let lun = target.lun === undefined ? this.#defaultLun : lunField(target.lun);
    let refItt = RESERVED_TAG;
    let refCmdSN = 0;
    if (fn === 'ABORT_TASK') {
      const tag = target.referencedTaskTag;
      if (typeof tag !== 'bigint' || tag < 0n || tag >= 0xffff_ffffn) {
        throw new InvalidFieldError(
          'referencedTaskTag',
          'must be the bigint tag of a command (0..0xfffffffe)',
          tag,
        );
      }
      refItt = Number(tag);
      const task = this.#tasks.get(refItt);
      if (task?.kind === 'scsi') {
        if (target.lun === undefined) lun = task.lunField;
        if (!task.sent) {
          // Still queued here: drop it without bothering the target.
          this.#queue = this.#queue.filter((q) => !('task' in q) || q.task !== task);
          this.#settle(
            task,
            undefined,
            new AbortedError(`${this.#describe(task)}: aborted before it was sent`),
          );
          this.#release(task);
          return {
            function: fn,
            response: IscsiTmfResponse.FUNCTION_COMPLETE,
            responseText: 'FUNCTION COMPLETE',
            abortedTags: [task.tag],
          };
        }
        refCmdSN = task.cmdSN;
      }
    }
    const scsiTasks = [...this.#tasks.values()].filter((t): t is ScsiTask => t.kind === 'scsi');
    const affected = tasksEndedBy(fn, lun, refItt === RESERVED_TAG ? undefined : refItt, scsiTasks);
    const pdu = await this.#control(
      'tmf',
      this.#tmfTimeoutMs,
      (itt) => ({
        kind: 'TASK_MANAGEMENT_REQUEST',
        immediate: true,
        header: {
          final: true,
          function: IscsiTmf[fn],
          lun,
          itt,
          referencedTaskTag: refItt,
          cmdSN: this.#window.cmdSN,
          expStatSN: this.#expStatSN,
          refCmdSN,
          expDataSN: 0,
        },
      }),
      true,
    );
    if (pdu.kind !== 'TASK_MANAGEMENT_RESPONSE')
      throw new IscsiProtocolError(`${tmfName(fn)} answer`, 'must be a Task Management Function Response');
    const response = pdu.header.response;
    const ended =
      response === IscsiTmfResponse.FUNCTION_COMPLETE ||
      (fn === 'ABORT_TASK' && response === IscsiTmfResponse.TASK_DOES_NOT_EXIST);
    const abortedTags: bigint[] = [];
    if (ended) {
      for (const task of affected) {
        if (this.#tasks.get(task.itt) !== task) continue; // it completed before the TMF answer
        if (!task.settled) abortedTags.push(task.tag);
        this.#settle(task, undefined, new AbortedError(`${this.#describe(task)}: aborted by ${tmfName(fn)}`));
        this.#release(task);
        // "Does not exist" for a command never answered: the target lost track of it (tgt keeps
        // commands still waiting for Data-Out outside its task set). Its tag may still mean
        // something there, so it is never used again in this session.
        if (response === IscsiTmfResponse.TASK_DOES_NOT_EXIST) this.#quarantined.add(task.itt);
      }
    }
    const outcome = { function: fn, response, responseText: tmfResponseText(response), abortedTags };
    this.emit('taskManagement', {
      ...outcome,
      ...(refItt !== RESERVED_TAG ? { referencedTaskTag: BigInt(refItt) } : {}),
    });
    return outcome;
  }

  /**
   * Aborts one command by its tag (ABORT TASK): true when the command was aborted (its promise
   * rejects with AbortedError), false when it had already completed, no such command was
   * outstanding, or the target could not abort it.
   */
  async abortTask(tag: bigint): Promise<boolean> {
    const task =
      typeof tag === 'bigint' && tag >= 0n && tag < 0xffff_ffffn ? this.#tasks.get(Number(tag)) : undefined;
    if (task === undefined || task.kind !== 'scsi' || task.settled) return false;
    const outcome = await this.taskManagement('ABORT_TASK', { referencedTaskTag: tag });
    return outcome.abortedTags.includes(tag);
  }

  /** NOP-Out ping with a valid ITT (RFC 7143 §11.18): resolves with the round-trip time in ms once the NOP-In echoes `data`. */
  async ping(data: Uint8Array = new Uint8Array(0), timeoutMs = 10_000): Promise<number> {
    if (data.length > this.#params.peerMaxRecvDataSegmentLength) {
      throw new InvalidFieldError(
        'data',
        `must be at most the target's MaxRecvDataSegmentLength ${this.#params.peerMaxRecvDataSegmentLength}`,
        data,
      );
    }
    const start = performance.now();
    const pdu = await this.#control(
      'nop',
      timeoutMs,
      (itt) => ({
        kind: 'NOP_OUT',
        immediate: true,
        header: {
          final: true,
          lun: 0n,
          itt,
          ttt: RESERVED_TAG,
          cmdSN: this.#window.cmdSN,
          expStatSN: this.#expStatSN,
        },
        data,
      }),
      true,
    );
    if (pdu.kind !== 'NOP_IN' || !sameBytes(pdu.data, data)) {
      throw new IscsiProtocolError('NOP-In answering a ping', 'must echo the ping data (RFC 7143 §11.19)');
    }
    return performance.now() - start;
  }

  /**
   * A text exchange in the full feature phase (RFC 7143 §11.10-11.11), e.g. `SendTargets=All`
   * in a discovery session: long answers spanning PDUs (C bit) are gathered by continuing with
   * empty requests carrying the target's TTT (§11.10.4).
   */
  async textExchange(pairs: readonly TextPair[], timeoutMs = 30_000): Promise<TextPair[]> {
    const text = new TextAccumulator();
    let data = encodeText(pairs);
    if (data.length > this.#params.peerMaxRecvDataSegmentLength) {
      throw new InvalidFieldError('pairs', 'must fit one PDU of the target MaxRecvDataSegmentLength', pairs);
    }
    let ttt = RESERVED_TAG;
    for (let round = 0; ; round++) {
      if (round > 256)
        throw new IscsiProtocolError('Text Response', 'the answer did not end within 256 PDUs');
      const sendTtt = ttt;
      const sendData = data;
      const pdu = await this.#control(
        'text',
        timeoutMs,
        (itt) => ({
          kind: 'TEXT_REQUEST',
          header: { final: true, lun: 0n, itt, ttt: sendTtt, cmdSN: 0, expStatSN: this.#expStatSN },
          data: sendData,
        }),
        false,
      );
      if (pdu.kind !== 'TEXT_RESPONSE')
        throw new IscsiProtocolError('Text answer', 'must be a Text Response');
      text.add(pdu.data, 'Text Response');
      if (!pdu.header.continue) break;
      ttt = pdu.header.ttt;
      data = new Uint8Array(0);
    }
    return decodeText(text.take(), 'Text Response');
  }

  // ---------------------------------------------------------------- logout and close

  /** Resolves once no command is in flight (and, with `queue`, none is waiting either). */
  #drain(queue: boolean): Promise<void> {
    return new Promise((resolve) => {
      this.#drainWaiters.push({ queue, resolve });
      this.#checkDrained();
    });
  }

  #checkDrained(): void {
    if (this.#drainWaiters.length === 0 || this.#scsiOutstanding > 0) return;
    const queued = this.#queue.some((q) => 'task' in q);
    this.#drainWaiters = this.#drainWaiters.filter((w) => {
      if (w.queue && queued) return true;
      w.resolve();
      return false;
    });
  }

  async #sendLogout(reasonCode: number): Promise<void> {
    const pdu = await this.#control(
      'logout',
      10_000,
      (itt) => ({
        kind: 'LOGOUT_REQUEST',
        immediate: true,
        header: {
          final: true,
          reasonCode,
          itt,
          cid: 0,
          cmdSN: this.#window.cmdSN,
          expStatSN: this.#expStatSN,
        },
      }),
      true,
    );
    if (pdu.kind !== 'LOGOUT_RESPONSE' || pdu.header.response !== 0) {
      throw new IscsiProtocolError(
        'Logout Response',
        `response ${pdu.kind === 'LOGOUT_RESPONSE' ? pdu.header.response : pdu.kind} (RFC 7143 §11.15.1)`,
      );
    }
  }

  /**
   * Logs out (reason "close the session", RFC 7143 §11.14) after the commands in flight have
   * finished, then closes the connection. New commands are refused from the start.
   */
  async logout(): Promise<void> {
    if (this.#state === 'closed') return;
    if (this.#state === 'open') {
      this.#state = 'closing';
      await this.#drain(true);
      try {
        await this.#sendLogout(0);
      } finally {
        this.#shutdown('logged out');
      }
    } else this.#shutdown('closed while recovering');
  }

  /** Closes the connection at once; every request still open fails with IscsiConnectionLostError. */
  close(): void {
    this.#shutdown('closed by the application');
  }

  #shutdown(reason: string): void {
    if (this.#state === 'closed') return;
    this.#closeReason = reason;
    this.#state = 'closed';
    this.#stopKeepalive();
    this.#conn.close(reason);
    this.#failEverything(new IscsiConnectionLostError(this.portal, reason));
    this.emit('closed', { reason });
  }

  #closedError(): Error {
    return new IscsiConnectionLostError(
      this.portal,
      `the session is ${this.#state === 'closing' ? 'logging out' : `closed (${this.#closeReason})`}`,
    );
  }

  #failEverything(error: Error): void {
    if (this.#deadlineTimer !== undefined) clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
    for (const q of this.#queue) if (!('task' in q)) q.reject(error);
    this.#queue = [];
    for (const task of [...this.#tasks.values()]) {
      if (task.kind === 'scsi') {
        this.#settle(task, undefined, error);
        this.#tasks.delete(task.itt);
      } else task.reject(error);
    }
    this.#tasks.clear();
    this.#scsiOutstanding = 0;
    for (const w of this.#drainWaiters.splice(0)) w.resolve();
  }

  /** Lets the process exit while the session is idle (as node-usb's `unref()`); commands in flight still finish. */
  unref(): void {
    this.#unref = true;
    this.#conn.unref();
    this.#deadlineTimer?.unref();
  }

  /** Undoes {@link unref}. */
  ref(): void {
    this.#unref = false;
    this.#conn.ref();
    this.#deadlineTimer?.ref();
  }

  // ---------------------------------------------------------------- keepalive

  #startKeepalive(): void {
    this.#stopKeepalive();
    const policy = this.#keepalive;
    if (policy === undefined) return;
    this.#keepaliveTimer = setInterval(
      () => {
        if (this.#state !== 'open' || this.#pinging) return;
        if (Date.now() - this.#lastReceive < policy.intervalMs) return;
        this.#pinging = true;
        this.ping(new Uint8Array(0), policy.timeoutMs)
          .catch(() => {
            // ping's timeout already dropped the connection.
          })
          .finally(() => {
            this.#pinging = false;
          });
      },
      Math.min(policy.intervalMs, 1000),
    );
    this.#keepaliveTimer.unref();
  }

  #stopKeepalive(): void {
    if (this.#keepaliveTimer) clearInterval(this.#keepaliveTimer);
    this.#keepaliveTimer = undefined;
  }

  // ---------------------------------------------------------------- connection loss

  #onConnectionEnd(conn: IscsiConnection, end: ConnectionEnd): void {
    if (conn !== this.#conn || this.#state === 'closed') return;
    this.#stopKeepalive();
    const reason = end.reason;
    const lost = new IscsiConnectionLostError(this.portal, reason, end.error ? { cause: end.error } : {});
    const reconnecting = this.#reconnect !== undefined && this.#state === 'open';
    // Control requests never survive their connection.
    for (const task of [...this.#tasks.values()]) if (task.kind !== 'scsi') task.reject(lost);
    this.#queue = this.#queue.filter((q) => {
      if ('task' in q) return true;
      q.reject(lost);
      return false;
    });
    if (!reconnecting) {
      this.#state = 'closed';
      this.#closeReason = reason;
      this.#failEverything(lost);
      this.emit('connectionLost', { reason, error: end.error, reconnecting: false });
      this.emit('closed', { reason });
      return;
    }
    this.#state = 'recovering';
    this.#quiescing = false;
    // Commands the target had: sent again once, in their CmdSN order, ahead of the queue;
    // a command already reissued once fails (never reported written without an answer).
    const inFlight = [...this.#tasks.values()]
      .filter((t): t is ScsiTask => t.kind === 'scsi' && t.sent)
      .sort((a, b) => (a.cmdSN - b.cmdSN) | 0);
    const again: Queued[] = [];
    for (const task of inFlight) {
      task.sent = false;
      this.#scsiOutstanding--;
      if (task.settled || task.reissued) {
        this.#settle(task, undefined, lost);
        this.#tasks.delete(task.itt);
        continue;
      }
      task.reissued = true;
      // A source's reads for the lost connection may never finish: the new attempt starts afresh.
      task.sending = Promise.resolve();
      again.push({ task });
    }
    this.#queue = [...again, ...this.#queue];
    this.emit('connectionLost', { reason, error: end.error, reconnecting: true });
    void this.#recover(lost, again.length);
  }

  async #recover(lost: IscsiConnectionLostError, reissued: number): Promise<void> {
    const policy = this.#reconnect!;
    const delayMs = policy.delayMs ?? this.#params.defaultTime2Wait * 1000;
    let lastError: unknown = lost;
    for (let attempt = 1; attempt <= policy.attempts; attempt++) {
      await new Promise((r) => setTimeout(r, delayMs));
      if (this.#state !== 'recovering') return;
      try {
        const cmdSN = IscsiSession.#initialCmdSN();
        const { conn, result } = await IscsiSession.#connectAndLogin(
          { ...this.#options, initiatorName: this.initiatorName },
          this.isid,
          this.#offers,
          cmdSN,
        );
        if (this.#state !== 'recovering') {
          conn.close();
          return;
        }
        this.#conn = conn;
        this.#params = result.parameters;
        this.#tsih = result.tsih;
        this.#expStatSN = result.expStatSN;
        this.#window = new CommandWindow(cmdSN, result.expCmdSN, result.maxCmdSN);
        this.#targetPortalGroupTag = result.targetPortalGroupTag;
        this.#targetAlias = result.targetAlias;
        this.#state = 'open';
        this.#quarantined.clear(); // a new session: the old tags mean nothing to the target now
        this.#attach(conn);
        conn.resumeReading();
        this.emit('reconnected', { attempt, reissued });
        this.#pump();
        return;
      } catch (error) {
        lastError = error;
      }
    }
    const reason = `reconnect failed after ${policy.attempts} attempts: ${(lastError as Error).message}`;
    this.#state = 'closed';
    this.#closeReason = reason;
    this.#failEverything(new IscsiConnectionLostError(this.portal, reason, { cause: lastError }));
    this.emit('closed', { reason });
  }
}

function checkBuffer(field: string, data: DataBuffer): DataBuffer {
  if (data instanceof Uint8Array) return data;
  if (!Array.isArray(data) || data.length === 0 || data.some((b) => !(b instanceof Uint8Array))) {
    throw new InvalidFieldError(
      field,
      'must be a Uint8Array or a non-empty array of Uint8Array (iovecs)',
      data,
    );
  }
  return data;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
