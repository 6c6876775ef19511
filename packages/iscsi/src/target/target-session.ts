/**
 * The full feature phase of one target-side session (RFC 7143, ErrorRecoveryLevel 0, one
 * connection per session): commands taken in CmdSN order within the window, write data
 * gathered from immediate data, unsolicited Data-Out and R2Ts, each command handed to the
 * embedded target (`@sgv4/target`) as a task of this I_T nexus, its data returned as Data-In
 * and its status as a SCSI Response (or in the last Data-In), task management functions
 * mapped onto the target's, NOP, text (SendTargets), logout.
 * @module
 */
import {
  ScsiStatus,
  SenseKey,
  TaskAttribute,
  TaskManagementFunction,
  TmfResponse,
  taskAttributeFromCode,
} from '@sgv4/core';
import { decodeLun, type ITNexus, type ScsiTarget, type TaskResponse } from '@sgv4/target';
import { IscsiProtocolError } from '../errors.js';
import { serialAdd, serialLessOrEqual, serialLessThan } from '../initiator/serial-number.js';
import { IscsiTmfResponse } from '../initiator/task-management.js';
import { bidirectionalReadLength, fullCdb } from '../pdu/ahs.js';
import { RESERVED_TAG } from '../pdu/bhs-layouts.js';
import { DataBufferView } from '../pdu/data-buffer-view.js';
import {
  type AnyOutgoingPdu,
  type AnyPdu,
  type DataPlacement,
  encodePduToBytes,
  type Pdu,
} from '../pdu/pdu-codec.js';
import { answerOffer } from '../text/keys.js';
import type { OperationalParameters } from '../text/negotiation.js';
import { decodeText, encodeText, TextAccumulator, type TextPair } from '../text/text-codec.js';

/** What a session needs from its portal. */
export interface TargetSessionContext {
  /** The embedded target the commands go to. */
  readonly target: ScsiTarget;
  /** The target port name of this portal (an I_T nexus is initiator port + this). */
  readonly targetPort: string;
  /** The target's iSCSI name. */
  readonly targetName: string;
  /** `TargetAddress` values for SendTargets (`host:port,tpgt`). */
  readonly targetAddresses: readonly string[];
  /** The largest Expected Data Transfer Length accepted for one command. */
  readonly maxCommandBytes: number;
  /** Commands the CmdSN window admits beyond those in progress. */
  readonly commandWindow: number;
  /**
   * Write data one session may hold in buffers at once; a write beyond it is answered TASK SET
   * FULL (SAM-6 5.3.1) without allocating, so one initiator cannot make the portal allocate
   * `commandWindow × maxCommandBytes`.
   */
  readonly maxSessionBufferBytes: number;
  /** Our values for renegotiation in the full feature phase. */
  readonly local: Readonly<Record<string, string>>;
  /** Ends every connection of the portal (TARGET COLD RESET, RFC 7143 §11.5.1). */
  readonly dropAllConnections: () => void;
  /** Reports a task management function and its answer (for the portal's events). */
  readonly onTaskManagement?: (event: PortalTmfEvent) => void;
}

/** A task management function the portal received and answered. */
export interface PortalTmfEvent {
  /** The I_T nexus it came from. */
  readonly nexus: Required<ITNexus>;
  /** The iSCSI function code (RFC 7143 §11.5.1). */
  readonly function: number;
  /** The LUN it addressed. */
  readonly lun: bigint | undefined;
  /** The referenced task tag (ABORT TASK). */
  readonly referencedTaskTag?: number;
  /** The iSCSI response code sent (RFC 7143 §11.6.1). */
  readonly response: number;
}

/** How the session sends and ends (its connection). */
export interface SessionLink {
  /** Sends PDUs back to back. */
  send(...pdus: AnyOutgoingPdu[]): void;
  /** Ends the connection. */
  close(reason: string, error?: Error): void;
}

/** A SCSI command as the portal tracks it. */
interface PortalTask {
  readonly itt: number;
  readonly cmdSN: number;
  readonly lunField: bigint;
  readonly lun: bigint;
  readonly cdb: Uint8Array;
  readonly attribute: TaskAttribute;
  readonly bidirectional: boolean;
  /** The W bit: residuals describe the write (RFC 7143 §11.4.5). */
  readonly write: boolean;
  readonly dataInLength: number;
  readonly writeLength: number;
  /** Write data as it arrives (undefined for no data, or for a command refused for its size). */
  readonly buffer: Uint8Array | undefined;
  readonly view: DataBufferView | undefined;
  /** Bytes of the write solicited or sent unsolicited so far, from offset 0. */
  covered: number;
  /** Bytes of the write received. */
  received: number;
  /** The unsolicited Data-Out sequence, while open. */
  unsolicited: { nextOffset: number; nextDataSN: number; limit: number } | undefined;
  /** Outstanding R2Ts by TTT. */
  readonly r2ts: Map<number, { offset: number; end: number; nextOffset: number; nextDataSN: number }>;
  nextR2TSN: number;
  state: 'receiving' | 'ready' | 'submitted' | 'done';
  /** A status to answer with without running the command (too large a transfer). */
  refusal?: { status: number; sense: Uint8Array };
}

const EMPTY = new Uint8Array(0);

/** iSCSI TMF function codes (RFC 7143 §11.5.1) that map onto a SAM function of the target. */
const SAM_FUNCTION: Readonly<Record<number, TaskManagementFunction>> = {
  1: TaskManagementFunction.ABORT_TASK,
  2: TaskManagementFunction.ABORT_TASK_SET,
  3: TaskManagementFunction.CLEAR_ACA,
  4: TaskManagementFunction.CLEAR_TASK_SET,
  5: TaskManagementFunction.LOGICAL_UNIT_RESET,
};

/** The iSCSI response code for a SAM service response (RFC 7143 §11.6.1, SAM-6 7.x). */
function iscsiTmfResponse(sam: number): number {
  switch (sam) {
    case TmfResponse.FUNCTION_COMPLETE:
    case TmfResponse.FUNCTION_SUCCEEDED:
      return IscsiTmfResponse.FUNCTION_COMPLETE;
    case TmfResponse.FUNCTION_NOT_SUPPORTED:
      return IscsiTmfResponse.TASK_MANAGEMENT_FUNCTION_NOT_SUPPORTED;
    case TmfResponse.INCORRECT_LUN:
      return IscsiTmfResponse.LUN_DOES_NOT_EXIST;
    default:
      return IscsiTmfResponse.FUNCTION_REJECTED;
  }
}

/** Fixed-format sense (SPC-6 4.4.2) for the few answers the portal gives itself. */
function fixedSense(key: number, asc: number, ascq: number): Uint8Array {
  const s = new Uint8Array(18);
  s[0] = 0x70;
  s[2] = key;
  s[7] = 10;
  s[12] = asc;
  s[13] = ascq;
  return s;
}

/**
 * Additional sense codes for iSCSI data phase conditions: RFC 7143 §11.4.7.2 (0C/0C, 0C/0D) and
 * SPC-6's data phase codes (4B/xx).
 */
const Asc = {
  UNEXPECTED_UNSOLICITED_DATA: [0x0c, 0x0c],
  INCORRECT_AMOUNT_OF_DATA: [0x0c, 0x0d],
  DATA_PHASE_ERROR: [0x4b, 0x00],
  INVALID_TARGET_PORT_TRANSFER_TAG: [0x4b, 0x01],
  TOO_MUCH_WRITE_DATA: [0x4b, 0x02],
  DATA_OFFSET_ERROR: [0x4b, 0x05],
} as const;

/** Where WRITE and WRITE AND VERIFY (10/12/16) keep their TRANSFER LENGTH (SBC-5 5.x). */
const WRITE_LENGTH_FIELDS: Readonly<Record<number, { at: number; bytes: number }>> = {
  42: { at: 7, bytes: 2 },
  46: { at: 7, bytes: 2 },
  170: { at: 6, bytes: 4 },
  174: { at: 6, bytes: 4 },
  138: { at: 10, bytes: 4 },
  142: { at: 10, bytes: 4 },
};

/** How many ended ITTs a session remembers for discarding their late Data-Out. */
const MAX_ENDED_TAGS = 1024;

/** A LUN value no target has, for LUN fields that do not decode (the target answers LOGICAL UNIT NOT SUPPORTED). */
const NO_SUCH_LUN = 16383n;

/** See the module note. */
export class TargetSession {
  /** The I_T nexus this session is (initiator port name `<InitiatorName>,i,0x<ISID>`, RFC 7143 §4.2.7). */
  readonly nexus: Required<ITNexus>;
  /** `Normal` or `Discovery`. */
  readonly sessionType: 'Normal' | 'Discovery';
  readonly #context: TargetSessionContext;
  readonly #link: SessionLink;
  #params: OperationalParameters;
  #expCmdSN: number;
  #maxCmdSN: number;
  #statSN: number;
  readonly #tasks = new Map<number, PortalTask>();
  /** Commands that arrived ahead of ExpCmdSN, by CmdSN. */
  readonly #early = new Map<number, AnyPdu>();
  /** Tasks not yet handed to the target, in CmdSN order (ORDERED tasks wait for those before them). */
  #unsubmitted: PortalTask[] = [];
  /** ITTs of tasks ended here whose Data-Out may still arrive (discarded, RFC 7143 §4.2.3.3). */
  readonly #ended = new Set<number>();
  /** Bytes of write buffers held by this session's tasks. */
  #bufferedBytes = 0;
  /** CmdSNs an ABORT TASK ended before they arrived (§11.6.1: "consider the CmdSN received"). */
  readonly #abortedAhead = new Set<number>();
  #inProgress = 0;
  #nextTtt = 1;
  readonly #blockSizes = new Map<bigint, number>();
  #text: { accumulator: TextAccumulator; pending: Uint8Array | undefined; ttt: number } | undefined;
  #closed = false;

  /** Starts the full feature phase of a session that just logged in. */
  constructor(
    context: TargetSessionContext,
    link: SessionLink,
    login: {
      readonly sessionType: 'Normal' | 'Discovery';
      readonly initiatorName: string;
      readonly isid: Uint8Array;
      readonly expCmdSN: number;
      readonly statSN: number;
      readonly parameters: OperationalParameters;
    },
  ) {
    this.#context = context;
    this.#link = link;
    this.sessionType = login.sessionType;
    this.#params = login.parameters;
    this.#expCmdSN = login.expCmdSN;
    this.#statSN = login.statSN;
    this.#maxCmdSN = serialAdd(login.expCmdSN, context.commandWindow - 1);
    const isid = Buffer.from(login.isid).toString('hex');
    this.nexus = Object.freeze({
      initiator: `${login.initiatorName},i,0x${isid}`,
      targetPort: context.targetPort,
    });
  }

  /** The negotiated parameters. */
  get parameters(): OperationalParameters {
    return this.#params;
  }

  /** Commands in progress (received, not yet answered). */
  get inProgress(): number {
    return this.#inProgress;
  }

  /** Where Data-Out lands: straight into the task's write buffer. */
  placeData(header: Uint8Array): DataPlacement | undefined {
    const itt = ((header[16]! << 24) | (header[17]! << 16) | (header[18]! << 8) | header[19]!) >>> 0;
    const task = this.#tasks.get(itt);
    if (task?.view === undefined || task.state !== 'receiving') return undefined;
    const offset = ((header[40]! << 24) | (header[41]! << 16) | (header[42]! << 8) | header[43]!) >>> 0;
    return { buffer: task.view, offset };
  }

  /** One PDU of the full feature phase. Protocol violations end the connection (ErrorRecoveryLevel 0). */
  onPdu(pdu: AnyPdu): void {
    if (this.#closed) return;
    try {
      switch (pdu.kind) {
        case 'DATA_OUT':
          this.#onDataOut(pdu);
          return;
        case 'SNACK_REQUEST':
          // SNACK needs ErrorRecoveryLevel > 0 (RFC 7143 §11.16).
          this.#reject(pdu, 0x03);
          return;
        case 'SCSI_COMMAND':
        case 'NOP_OUT':
        case 'TASK_MANAGEMENT_REQUEST':
        case 'TEXT_REQUEST':
        case 'LOGOUT_REQUEST':
          this.#ordered(pdu);
          return;
        default:
          this.#reject(pdu, 0x04);
          throw new IscsiProtocolError(
            `${pdu.kind} in the full feature phase`,
            'not a PDU an initiator sends here (RFC 7143 §11)',
          );
      }
    } catch (error) {
      if (error instanceof IscsiProtocolError) this.#link.close(error.message, error);
      else throw error;
    }
  }

  /**
   * Commands in CmdSN order (RFC 7143 §4.2.2.1): immediate ones at once; non-immediate ones
   * when their CmdSN is next, held while ahead of it within the window, silently dropped
   * outside it.
   */
  #ordered(pdu: AnyPdu & { header: { cmdSN: number } }): void {
    if (pdu.immediate) {
      this.#dispatch(pdu);
      return;
    }
    const cmdSN = pdu.header.cmdSN;
    if (cmdSN === this.#expCmdSN) {
      this.#consume(pdu);
      for (
        let next = this.#early.get(this.#expCmdSN);
        next !== undefined;
        next = this.#early.get(this.#expCmdSN)
      ) {
        this.#early.delete(this.#expCmdSN);
        this.#consume(next);
      }
      return;
    }
    if (serialLessThan(this.#expCmdSN, cmdSN) && serialLessOrEqual(cmdSN, this.#maxCmdSN)) {
      this.#early.set(cmdSN, pdu);
    }
    // Outside the window (below ExpCmdSN or past MaxCmdSN): silently ignored (§4.2.2.1).
  }

  #consume(pdu: AnyPdu): void {
    const cmdSN = this.#expCmdSN;
    this.#expCmdSN = serialAdd(this.#expCmdSN, 1);
    if (this.#abortedAhead.delete(cmdSN)) return; // ABORT TASK ended it before it came
    this.#dispatch(pdu);
  }

  #dispatch(pdu: AnyPdu): void {
    switch (pdu.kind) {
      case 'SCSI_COMMAND':
        this.#onCommand(pdu);
        break;
      case 'NOP_OUT':
        this.#onNopOut(pdu);
        break;
      case 'TASK_MANAGEMENT_REQUEST':
        void this.#onTmf(pdu).catch((error: unknown) =>
          this.#link.close(`task management failed: ${String(error)}`),
        );
        break;
      case 'TEXT_REQUEST':
        this.#onText(pdu);
        break;
      case 'LOGOUT_REQUEST':
        this.#onLogout(pdu);
        break;
      default:
        break;
    }
  }

  /** The window update every response carries: MaxCmdSN admits `commandWindow` commands beyond those in progress, never moving back. */
  #window(): { expCmdSN: number; maxCmdSN: number } {
    const max = serialAdd(this.#expCmdSN, this.#context.commandWindow - 1 - this.#inProgress);
    if (serialLessThan(this.#maxCmdSN, max)) this.#maxCmdSN = max;
    return { expCmdSN: this.#expCmdSN, maxCmdSN: this.#maxCmdSN };
  }

  #nextStatSN(): number {
    const sn = this.#statSN;
    this.#statSN = serialAdd(sn, 1);
    return sn;
  }

  /** A Reject PDU carrying the rejected PDU's header (RFC 7143 §11.17). */
  #reject(pdu: AnyPdu, reason: number): void {
    const rejected = encodePduToBytes({
      kind: pdu.kind,
      immediate: pdu.immediate,
      header: pdu.header,
    } as AnyOutgoingPdu);
    this.#link.send({
      kind: 'REJECT',
      header: { final: true, reason, itt: RESERVED_TAG, statSN: this.#statSN, ...this.#window(), dataSN: 0 },
      data: rejected.subarray(0, 48),
    });
  }

  // ------------------------------------------------------------ SCSI commands

  #onCommand(pdu: Pdu<'SCSI_COMMAND'>): void {
    const h = pdu.header;
    if (this.sessionType === 'Discovery') {
      this.#reject(pdu, 0x05);
      return;
    }
    if (this.#tasks.has(h.itt)) {
      throw new IscsiProtocolError(
        `SCSI Command ITT ${h.itt}`,
        'the tag is already in use (RFC 7143 §11.2.1.8)',
      );
    }
    this.#ended.delete(h.itt);
    const lunBytes = new Uint8Array(8);
    new DataView(lunBytes.buffer).setBigUint64(0, h.lun);
    const bidirectional = h.read && h.write;
    const edtl = h.expectedDataTransferLength;
    const writeLength = h.write ? edtl : 0;
    const dataInLength = bidirectional ? (bidirectionalReadLength(pdu.ahs) ?? 0) : h.read ? edtl : 0;
    let attribute: TaskAttribute;
    try {
      attribute = h.attribute === 0 ? TaskAttribute.SIMPLE : taskAttributeFromCode(h.attribute, 'iscsi');
    } catch {
      attribute = TaskAttribute.SIMPLE; // reserved ATTR values: treated as SIMPLE
    }
    const tooBig =
      writeLength > this.#context.maxCommandBytes || dataInLength > this.#context.maxCommandBytes;
    const overBudget =
      !tooBig && writeLength > 0 && this.#bufferedBytes + writeLength > this.#context.maxSessionBufferBytes;
    const buffer = writeLength > 0 && !tooBig && !overBudget ? Buffer.allocUnsafe(writeLength) : undefined;
    if (buffer !== undefined) this.#bufferedBytes += writeLength;
    const task: PortalTask = {
      itt: h.itt,
      cmdSN: h.cmdSN,
      lunField: h.lun,
      lun: decodeLun(lunBytes) ?? NO_SUCH_LUN,
      cdb: fullCdb(h.cdb, pdu.ahs),
      attribute,
      bidirectional,
      write: h.write,
      dataInLength,
      writeLength,
      buffer,
      view: buffer === undefined ? undefined : new DataBufferView(buffer),
      covered: 0,
      received: 0,
      unsolicited: undefined,
      r2ts: new Map(),
      nextR2TSN: 0,
      state: 'receiving',
      ...(tooBig
        ? {
            refusal: {
              status: ScsiStatus.CHECK_CONDITION,
              sense: fixedSense(SenseKey.ILLEGAL_REQUEST, 0x24, 0x00),
            },
          }
        : overBudget
          ? { refusal: { status: ScsiStatus.TASK_SET_FULL, sense: new Uint8Array(0) } }
          : {}),
    };
    this.#tasks.set(h.itt, task);
    this.#unsubmitted.push(task);
    this.#inProgress++;
    // Immediate data (RFC 7143 §13.11), within the first burst.
    const immediate = pdu.dataLength;
    const unsolicitedNext = !h.final;
    if (
      (immediate > 0 &&
        (!this.#params.immediateData ||
          !h.write ||
          immediate > writeLength ||
          immediate > this.#params.firstBurstLength)) ||
      (unsolicitedNext && (this.#params.initialR2T || !h.write))
    ) {
      // Data the negotiation did not allow (ImmediateData, InitialR2T, FirstBurstLength).
      this.#failTask(task, Asc.UNEXPECTED_UNSOLICITED_DATA);
      return;
    }
    if (immediate > 0) {
      buffer?.set(pdu.data, 0);
      task.received = immediate;
      task.covered = immediate;
    }
    if (unsolicitedNext) {
      // Unsolicited Data-Out follows (RFC 7143 §11.3.1: F = 0), up to FirstBurstLength in all.
      task.unsolicited = {
        nextOffset: immediate,
        nextDataSN: 0,
        limit: Math.min(this.#params.firstBurstLength, writeLength),
      };
      return;
    }
    this.#afterUnsolicited(task);
  }

  /** The unsolicited part is over: solicit the rest with R2Ts, or the command is ready. */
  #afterUnsolicited(task: PortalTask): void {
    task.unsolicited = undefined;
    if (task.received < task.writeLength && task.refusal === undefined) this.#solicit(task);
    else this.#ready(task);
  }

  /** Sends R2Ts while the task has fewer than MaxOutstandingR2T outstanding (RFC 7143 §11.8, §13.17). */
  #solicit(task: PortalTask): void {
    const pdus: AnyOutgoingPdu[] = [];
    while (task.covered < task.writeLength && task.r2ts.size < this.#params.maxOutstandingR2T) {
      const length = Math.min(this.#params.maxBurstLength, task.writeLength - task.covered);
      const ttt = this.#newTtt();
      task.r2ts.set(ttt, {
        offset: task.covered,
        end: task.covered + length,
        nextOffset: task.covered,
        nextDataSN: 0,
      });
      pdus.push({
        kind: 'R2T',
        header: {
          final: true,
          lun: task.lunField,
          itt: task.itt,
          ttt,
          statSN: this.#statSN,
          ...this.#window(),
          r2tSN: task.nextR2TSN,
          bufferOffset: task.covered,
          desiredDataTransferLength: length,
        },
      });
      task.nextR2TSN++;
      task.covered += length;
    }
    if (pdus.length > 0) this.#link.send(...pdus);
  }

  #onDataOut(pdu: Pdu<'DATA_OUT'>): void {
    const h = pdu.header;
    const task = this.#tasks.get(h.itt);
    if (task === undefined || task.state !== 'receiving') {
      // Data for a task ended here (aborted, or failed below) is discarded (RFC 7143
      // §4.2.3.3); for a tag nobody knows, the PDU is rejected.
      if (!this.#ended.has(h.itt)) this.#reject(pdu, 0x09);
      return;
    }
    const length = pdu.dataLength;
    // A Data-Out that breaks its sequence ends its command (CHECK CONDITION, ABORTED COMMAND)
    // and nothing else: the PDU stream itself is intact, so the session goes on.
    if (h.ttt === RESERVED_TAG) {
      const u = task.unsolicited;
      if (u === undefined) {
        this.#failTask(task, Asc.UNEXPECTED_UNSOLICITED_DATA);
        return;
      }
      if (h.dataSN !== u.nextDataSN) {
        this.#failTask(task, Asc.DATA_PHASE_ERROR);
        return;
      }
      if (h.bufferOffset !== u.nextOffset) {
        this.#failTask(task, Asc.DATA_OFFSET_ERROR);
        return;
      }
      if (h.bufferOffset + length > u.limit) {
        this.#failTask(task, Asc.TOO_MUCH_WRITE_DATA);
        return;
      }
      this.#take(task, pdu, h.bufferOffset, length);
      u.nextDataSN++;
      u.nextOffset += length;
      task.covered = Math.max(task.covered, u.nextOffset);
      if (h.final) this.#afterUnsolicited(task);
      return;
    }
    const r2t = task.r2ts.get(h.ttt);
    if (r2t === undefined) {
      this.#failTask(task, Asc.INVALID_TARGET_PORT_TRANSFER_TAG);
      return;
    }
    if (h.dataSN !== r2t.nextDataSN) {
      this.#failTask(task, Asc.DATA_PHASE_ERROR);
      return;
    }
    if (h.bufferOffset !== r2t.nextOffset) {
      this.#failTask(task, Asc.DATA_OFFSET_ERROR);
      return;
    }
    if (h.bufferOffset + length > r2t.end) {
      this.#failTask(task, Asc.TOO_MUCH_WRITE_DATA);
      return;
    }
    this.#take(task, pdu, h.bufferOffset, length);
    r2t.nextDataSN++;
    r2t.nextOffset += length;
    if (!h.final) return;
    if (r2t.nextOffset !== r2t.end) {
      this.#failTask(task, Asc.INCORRECT_AMOUNT_OF_DATA);
      return;
    }
    task.r2ts.delete(h.ttt);
    if (task.received >= task.writeLength) this.#ready(task);
    else this.#solicit(task);
  }

  /**
   * Ends a command whose data phase went wrong with CHECK CONDITION, ABORTED COMMAND and the
   * condition's additional sense (RFC 7143 §11.4.7.2; SPC-6 4B/xx for data phase errors); its
   * remaining Data-Out PDUs are discarded.
   */
  #failTask(task: PortalTask, asc: readonly [number, number]): void {
    this.#endHere(task);
    this.#sendStatus(
      task,
      ScsiStatus.CHECK_CONDITION,
      fixedSense(SenseKey.ABORTED_COMMAND, asc[0], asc[1]),
      0,
      0,
    );
  }

  /** Counts a Data-Out's bytes (placed by the reader, or copied here when they were not). */
  #take(task: PortalTask, pdu: Pdu<'DATA_OUT'>, offset: number, length: number): void {
    if (!pdu.placed && length > 0) task.buffer?.set(pdu.data, offset);
    task.received += length;
  }

  /** All data is in: hand the task to the target, keeping ORDERED tasks in CmdSN order. */
  #ready(task: PortalTask): void {
    task.state = 'ready';
    this.#submitReady();
  }

  /**
   * Submits ready tasks (kept in arrival order, which is CmdSN order): HEAD OF QUEUE ones at
   * once; SIMPLE ones unless an earlier ORDERED or ACA task still waits for its data; an
   * ORDERED or ACA task only once everything before it has been submitted. So the target's
   * task set receives them in command order where SAM-6 8.6 makes order matter, while
   * SIMPLE writes gathering data do not hold up the others.
   */
  #submitReady(): void {
    let blocked = false;
    const still: PortalTask[] = [];
    for (const task of this.#unsubmitted) {
      if (task.state !== 'ready' && task.state !== 'receiving') continue;
      const strict = task.attribute === TaskAttribute.ORDERED || task.attribute === TaskAttribute.ACA;
      const allowed =
        task.attribute === TaskAttribute.HEAD_OF_QUEUE || (!blocked && !(strict && still.length > 0));
      if (task.state === 'ready' && allowed) {
        this.#submit(task);
        continue;
      }
      still.push(task);
      if (strict) blocked = true;
    }
    this.#unsubmitted = still;
  }

  #submit(task: PortalTask): void {
    task.state = 'submitted';
    if (task.refusal !== undefined) {
      this.#respond(task, {
        outcome: 'completed',
        status: task.refusal.status,
        sense: task.refusal.sense,
        dataIn: EMPTY,
        dataInResidual: 0,
        dataOutResidual: 0,
      });
      return;
    }
    const { cdb, writeResidual } = this.#truncateWrite(task);
    let result: Promise<TaskResponse>;
    try {
      result = this.#context.target.execute(this.nexus, {
        lun: task.lun,
        tag: task.itt,
        attribute: task.attribute,
        cdb,
        ...(task.buffer !== undefined ? { dataOut: task.buffer } : {}),
        dataInLength: task.dataInLength,
        // Not a Linux pass-through path: the negotiated burst limits bound the transfer.
        layout: null,
      });
    } catch {
      // The target refuses the arguments themselves (e.g. a CDB shorter than 6 bytes).
      result = Promise.resolve({
        outcome: 'completed',
        status: ScsiStatus.CHECK_CONDITION,
        sense: fixedSense(SenseKey.ILLEGAL_REQUEST, 0x24, 0x00),
        dataIn: EMPTY,
        dataInResidual: task.dataInLength,
        dataOutResidual: 0,
      });
    }
    result.then(
      (r) =>
        this.#respond(
          task,
          writeResidual !== undefined && r.outcome === 'completed'
            ? { ...r, dataOutResidual: writeResidual }
            : r,
        ),
      (error: unknown) => this.#link.close(`the target failed a command: ${String(error)}`),
    );
  }

  /**
   * A write whose Expected Data Transfer Length is less than its CDB asks for (RFC 7143
   * §11.4.5.2: overflow): the target "processes the command normally except that data beyond
   * EDTL is not requested or transferred" (FCP-4 9.4.2 a), so a WRITE or WRITE AND VERIFY is
   * run for the whole blocks it received, and the response reports the overflow. This is what
   * tgt does and libiscsi's residual tests check (the block after them stays untouched). A
   * partial block is left to the target, which refuses it (0E/03, FCP-4 9.4.2 b).
   */
  #truncateWrite(task: PortalTask): { cdb: Uint8Array; writeResidual?: number } {
    const cdb = task.cdb;
    const field = WRITE_LENGTH_FIELDS[cdb[0]!];
    if (field === undefined || !task.write || task.bidirectional) return { cdb };
    const blockSize = this.#blockSize(task.lun);
    if (blockSize === undefined) return { cdb };
    let blocks = 0;
    for (let i = 0; i < field.bytes; i++) blocks = blocks * 256 + cdb[field.at + i]!;
    const asked = blocks * blockSize;
    if (task.writeLength >= asked || task.writeLength % blockSize !== 0) return { cdb };
    const truncated = cdb.slice();
    let n = task.writeLength / blockSize;
    for (let i = field.bytes - 1; i >= 0; i--) {
      truncated[field.at + i] = n & 0xff;
      n = Math.floor(n / 256);
    }
    return { cdb: truncated, writeResidual: task.writeLength - asked };
  }

  #blockSize(lun: bigint): number | undefined {
    let size = this.#blockSizes.get(lun);
    if (size === undefined) {
      try {
        size = this.#context.target.describe(lun).blockSize;
      } catch {
        return undefined; // no such LU: the target answers for itself
      }
      this.#blockSizes.set(lun, size);
    }
    return size;
  }

  /** Sends a finished task's Data-In and status (RFC 7143 §11.4, §11.7). */
  #respond(task: PortalTask, r: TaskResponse): void {
    if (this.#tasks.get(task.itt) !== task) return; // ended here meanwhile (abort, logout)
    this.#finishTask(task);
    if (this.#closed) return;
    if (r.outcome === 'aborted') {
      // Aborted by a TMF: no status, unless TASK ABORTED for another nexus's TMF (TAS=1, SAM-6 5.6).
      if (r.status !== undefined) this.#sendStatus(task, r.status, EMPTY, 0, 0);
      return;
    }
    if (r.outcome === 'rejected') {
      // Linux would refuse the buffer layout; over iSCSI the command is refused as a field error.
      this.#sendStatus(
        task,
        ScsiStatus.CHECK_CONDITION,
        fixedSense(SenseKey.ILLEGAL_REQUEST, 0x24, 0x00),
        task.dataInLength,
        0,
      );
      return;
    }
    const dataIn = r.dataIn;
    const readResidual = r.dataInResidual;
    const writeResidual = r.dataOutResidual;
    const pdus: AnyOutgoingPdu[] = [];
    const piggyback =
      r.status === ScsiStatus.GOOD && r.sense.length === 0 && dataIn.length > 0 && !task.bidirectional;
    if (dataIn.length > 0) {
      const segment = this.#params.peerMaxRecvDataSegmentLength;
      const burst = this.#params.maxBurstLength;
      let dataSN = 0;
      for (let offset = 0; offset < dataIn.length; ) {
        const burstEnd = Math.min(dataIn.length, offset - (offset % burst) + burst);
        const n = Math.min(segment, burstEnd - offset);
        const last = offset + n >= dataIn.length;
        const status = last && piggyback;
        pdus.push({
          kind: 'DATA_IN',
          header: {
            final: offset + n >= burstEnd,
            statusPresent: status,
            status: status ? r.status : 0,
            overflow: status && readResidual < 0,
            underflow: status && readResidual > 0,
            residualCount: status ? Math.abs(readResidual) : 0,
            lun: task.lunField,
            itt: task.itt,
            ttt: RESERVED_TAG,
            statSN: status ? this.#nextStatSN() : 0,
            ...this.#window(),
            dataSN: dataSN++,
            bufferOffset: offset,
          },
          data: dataIn.subarray(offset, offset + n),
        });
        offset += n;
      }
    }
    if (!piggyback) {
      const residual = task.bidirectional ? readResidual : task.write ? writeResidual : readResidual;
      pdus.push(
        this.#statusPdu(task, r.status, r.sense, residual, writeResidual, task.nextR2TSN + pdus.length),
      );
    }
    this.#link.send(...pdus);
  }

  #sendStatus(
    task: PortalTask,
    status: number,
    sense: Uint8Array,
    residual: number,
    bidiWriteResidual: number,
  ): void {
    this.#link.send(this.#statusPdu(task, status, sense, residual, bidiWriteResidual, task.nextR2TSN));
  }

  /**
   * A SCSI Response (RFC 7143 §11.4). `residual`: the residual of the command's direction (for
   * a bidirectional command, the read's, reported in o/u); positive underflow, negative overflow.
   * `sent`: the R2T and Data-In PDUs sent for the command (ExpDataSN, §11.4.8).
   */
  #statusPdu(
    task: PortalTask,
    status: number,
    sense: Uint8Array,
    residual: number,
    bidiWriteResidual: number,
    sent: number,
  ): AnyOutgoingPdu {
    const data = sense.length > 0 ? new Uint8Array(2 + sense.length) : EMPTY;
    if (sense.length > 0) {
      data[0] = sense.length >> 8;
      data[1] = sense.length & 0xff;
      data.set(sense, 2);
    }
    // For a bidirectional command U/O describe the write and o/u the read (RFC 7143 §11.4.1).
    const write = task.bidirectional ? bidiWriteResidual : residual;
    return {
      kind: 'SCSI_RESPONSE',
      header: {
        final: true,
        bidiReadOverflow: task.bidirectional && residual < 0,
        bidiReadUnderflow: task.bidirectional && residual > 0,
        overflow: write < 0,
        underflow: write > 0,
        response: 0,
        status,
        itt: task.itt,
        statSN: this.#nextStatSN(),
        ...this.#window(),
        expDataSN: sent,
        bidiReadResidualCount: task.bidirectional ? Math.abs(residual) : 0,
        residualCount: Math.abs(write),
      },
      data,
    };
  }

  #finishTask(task: PortalTask): void {
    if (this.#tasks.get(task.itt) !== task) return;
    this.#tasks.delete(task.itt);
    task.state = 'done';
    this.#inProgress--;
    if (task.buffer !== undefined) this.#bufferedBytes -= task.buffer.length;
  }

  /** Ends a task here (aborted before or while submitted); its later Data-Out is discarded. */
  #endHere(task: PortalTask): void {
    this.#finishTask(task);
    this.#ended.add(task.itt);
    if (this.#ended.size > MAX_ENDED_TAGS) {
      // Oldest first (a Set keeps insertion order): their Data-Out, if any, is long overdue.
      this.#ended.delete(this.#ended.values().next().value!);
    }
    this.#unsubmitted = this.#unsubmitted.filter((t) => t !== task);
  }

  // ------------------------------------------------------------ task management

  async #onTmf(pdu: Pdu<'TASK_MANAGEMENT_REQUEST'>): Promise<void> {
    const h = pdu.header;
    const fn = h.function;
    const lunBytes = new Uint8Array(8);
    new DataView(lunBytes.buffer).setBigUint64(0, h.lun);
    const lun = decodeLun(lunBytes);
    let response: number;
    if (this.sessionType === 'Discovery') response = IscsiTmfResponse.FUNCTION_REJECTED;
    else if (fn === 1) response = await this.#abortTask(h, lun);
    else if (fn >= 2 && fn <= 5) {
      // The session's own tasks on the LU that the target has not seen yet end here.
      if (fn !== 3)
        for (const t of [...this.#tasks.values()])
          if (t.state !== 'submitted' && t.lunField === h.lun) this.#endHere(t);
      const result = await this.#context.target.manage(this.nexus, {
        function: SAM_FUNCTION[fn]!,
        lun: lun ?? NO_SUCH_LUN,
      });
      response = iscsiTmfResponse(result.response);
    } else if (fn === 6 || fn === 7) {
      // TARGET WARM / COLD RESET: every LU is reset (SAM-6 7.x hard reset of each LU).
      for (const t of [...this.#tasks.values()]) if (t.state !== 'submitted') this.#endHere(t);
      for (const each of this.#context.target.luns) {
        await this.#context.target.manage(this.nexus, {
          function: TaskManagementFunction.LOGICAL_UNIT_RESET,
          lun: each,
        });
      }
      response = IscsiTmfResponse.FUNCTION_COMPLETE;
    } else if (fn === 8) {
      response = IscsiTmfResponse.TASK_ALLEGIANCE_REASSIGNMENT_NOT_SUPPORTED; // needs ErrorRecoveryLevel 2
    } else response = IscsiTmfResponse.FUNCTION_REJECTED;
    // Responses of commands that completed before the function are sent first.
    await new Promise((r) => setImmediate(r));
    if (this.#closed) return;
    this.#link.send({
      kind: 'TASK_MANAGEMENT_RESPONSE',
      header: { final: true, response, itt: h.itt, statSN: this.#nextStatSN(), ...this.#window() },
    });
    this.#context.onTaskManagement?.({
      nexus: this.nexus,
      function: fn,
      lun,
      ...(fn === 1 ? { referencedTaskTag: h.referencedTaskTag } : {}),
      response,
    });
    if (fn === 7 && response === IscsiTmfResponse.FUNCTION_COMPLETE) {
      // TARGET COLD RESET: the target then drops every connection (RFC 7143 §11.5.1).
      setImmediate(() => this.#context.dropAllConnections());
    }
  }

  /** ABORT TASK (RFC 7143 §11.5.1, §11.6.1). */
  async #abortTask(h: Pdu<'TASK_MANAGEMENT_REQUEST'>['header'], lun: bigint | undefined): Promise<number> {
    const task = this.#tasks.get(h.referencedTaskTag);
    if (task === undefined) {
      // Not here: a command the target has not received yet (RefCmdSN inside the window and
      // before the TMF) is considered received and ended; otherwise the task does not exist.
      const ref = h.refCmdSN;
      if (serialLessOrEqual(this.#expCmdSN, ref) && serialLessThan(ref, h.cmdSN) && !this.#early.has(ref)) {
        this.#abortedAhead.add(ref);
        return IscsiTmfResponse.FUNCTION_COMPLETE;
      }
      if (this.#early.has(ref)) {
        this.#early.delete(ref);
        this.#abortedAhead.add(ref);
        return IscsiTmfResponse.FUNCTION_COMPLETE;
      }
      return IscsiTmfResponse.TASK_DOES_NOT_EXIST;
    }
    if (task.state !== 'submitted') {
      this.#endHere(task);
      return IscsiTmfResponse.FUNCTION_COMPLETE;
    }
    const result = await this.#context.target.manage(this.nexus, {
      function: TaskManagementFunction.ABORT_TASK,
      lun: lun ?? task.lun,
      tag: task.itt,
    });
    if (result.aborted.some((a) => a.tag === BigInt(task.itt))) {
      this.#endHere(task);
      return IscsiTmfResponse.FUNCTION_COMPLETE;
    }
    return result.response === TmfResponse.FUNCTION_COMPLETE
      ? IscsiTmfResponse.TASK_DOES_NOT_EXIST
      : iscsiTmfResponse(result.response);
  }

  // ------------------------------------------------------------ NOP, text, logout

  #onNopOut(pdu: Pdu<'NOP_OUT'>): void {
    const h = pdu.header;
    if (h.itt === RESERVED_TAG) return; // an answer to a ping of ours, or a window probe: no reply
    this.#link.send({
      kind: 'NOP_IN',
      header: {
        final: true,
        lun: h.lun,
        itt: h.itt,
        ttt: RESERVED_TAG,
        statSN: this.#nextStatSN(),
        ...this.#window(),
      },
      data: pdu.data.slice(0, this.#params.peerMaxRecvDataSegmentLength),
    });
  }

  #onText(pdu: Pdu<'TEXT_REQUEST'>): void {
    const h = pdu.header;
    // Continuing an answer we split (the initiator echoes our TTT with no data, RFC 7143 §11.10.4).
    if (this.#text?.pending !== undefined && h.ttt === this.#text.ttt) {
      this.#sendTextPart(h.itt, this.#text.pending);
      return;
    }
    this.#text ??= { accumulator: new TextAccumulator(64 * 1024), pending: undefined, ttt: RESERVED_TAG };
    this.#text.accumulator.add(pdu.data, 'Text Request');
    if (h.continue) {
      // More of the request follows: an empty answer with a TTT asks for it.
      this.#text.ttt = this.#newTtt();
      this.#link.send({
        kind: 'TEXT_RESPONSE',
        header: {
          final: false,
          continue: false,
          itt: h.itt,
          ttt: this.#text.ttt,
          statSN: this.#nextStatSN(),
          ...this.#window(),
        },
      });
      return;
    }
    const pairs = decodeText(this.#text.accumulator.take(), 'Text Request');
    const answers: TextPair[] = [];
    for (const [key, value] of pairs) {
      if (key === 'SendTargets') answers.push(...this.#sendTargets(value));
      else if (key === 'MaxRecvDataSegmentLength') {
        // The initiator declares a new value for what it receives (RFC 7143 §13.12).
        const n = Number(value);
        if (Number.isInteger(n) && n >= 512 && n <= 0xffffff)
          this.#params = { ...this.#params, peerMaxRecvDataSegmentLength: n };
        answers.push(['MaxRecvDataSegmentLength', String(this.#params.maxRecvDataSegmentLength)]);
      } else {
        const answer = answerOffer(key, value, this.#context.local[key]);
        // Session-wide keys are settled at login: in the full feature phase they are Irrelevant.
        if (answer !== undefined) answers.push([key, answer === 'NotUnderstood' ? answer : 'Irrelevant']);
      }
    }
    this.#sendTextPart(h.itt, encodeText(answers));
  }

  #newTtt(): number {
    const ttt = this.#nextTtt;
    this.#nextTtt = ttt + 1 >= RESERVED_TAG ? 1 : ttt + 1;
    return ttt;
  }

  /** Sends as much of an answer as the initiator's MaxRecvDataSegmentLength allows; the rest waits for its continuation. */
  #sendTextPart(itt: number, text: Uint8Array): void {
    const max = this.#params.peerMaxRecvDataSegmentLength;
    const more = text.length > max;
    const ttt = more ? this.#newTtt() : RESERVED_TAG;
    this.#text = more
      ? { accumulator: new TextAccumulator(64 * 1024), pending: text.subarray(max), ttt }
      : undefined;
    this.#link.send({
      kind: 'TEXT_RESPONSE',
      header: { final: !more, continue: more, itt, ttt, statSN: this.#nextStatSN(), ...this.#window() },
      data: text.subarray(0, max),
    });
  }

  /** SendTargets (RFC 7143 §13.3): All in a discovery session; empty or our name for this target. */
  #sendTargets(value: string): TextPair[] {
    const all = value === 'All';
    if (all && this.sessionType !== 'Discovery') return [['SendTargets', 'Reject']];
    if (!all && value !== '' && value !== this.#context.targetName) return [];
    return [
      ['TargetName', this.#context.targetName],
      ...this.#context.targetAddresses.map((a): TextPair => ['TargetAddress', a]),
    ];
  }

  #onLogout(pdu: Pdu<'LOGOUT_REQUEST'>): void {
    const h = pdu.header;
    // Reason 0 closes the session, 1 the connection (the same with one connection per
    // session); 2 (remove for recovery) needs ErrorRecoveryLevel 2 (RFC 7143 §11.14-15).
    const response = h.reasonCode === 2 ? 2 : 0;
    this.#link.send({
      kind: 'LOGOUT_RESPONSE',
      header: {
        final: true,
        response,
        itt: h.itt,
        statSN: this.#nextStatSN(),
        ...this.#window(),
        time2Wait: 0,
        time2Retain: 0,
      },
    });
    if (response === 0) setImmediate(() => this.#link.close('logged out'));
  }

  /**
   * The connection ended: the session ends with it (ErrorRecoveryLevel 0, DefaultTime2Retain 0),
   * which is an I_T nexus loss for the target: it aborts the nexus's tasks (SAM-6 6.3.x).
   */
  async end(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#tasks.clear();
    this.#unsubmitted = [];
    this.#early.clear();
    if (this.sessionType === 'Normal') await this.#context.target.nexusLost(this.nexus);
  }
}
