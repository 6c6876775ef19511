/**
 * What a command handler gets and returns, and how a command is declared: its CDB table (from
 * @sgv4/core), its handler, and the properties the logical unit checks before running it
 * (reservation access, medium access, data-out length, LBA range for ordering).
 * @module
 */
import type { CdbSpec, FieldValues } from '@sgv4/core';
import type { LogicalUnit } from '../logical-unit/logical-unit.js';
import type { ReservationAccess } from '../logical-unit/reservations.js';
import type { NexusInfo } from '../nexus.js';
import type { MaybePromise } from '../storage/block-store.js';
import type { TaskRecord } from '../task-set/task-record.js';

/** What the target offers handlers beyond their logical unit (REPORT LUNS, TransportIDs). */
export interface TargetView {
  /** Name of the target. */
  readonly name: string;
  /** T10 vendor identification. */
  readonly vendor: string;
  /** Product identification. */
  readonly product: string;
  /** Product revision level. */
  readonly revision: string;
  /** Target port names, relative port identifier = index + 1. */
  readonly ports: readonly string[];
  /** Protocol for TransportIDs. */
  readonly protocol: 'iscsi' | 'sas';
  /** The LUNs, ascending. */
  readonly luns: readonly bigint[];
}

/** A command being processed. */
export interface CommandContext {
  /** The logical unit. */
  readonly lu: LogicalUnit;
  /** The I_T nexus it came on. */
  readonly nexus: NexusInfo;
  /** The CDB. */
  readonly cdb: Uint8Array;
  /** The CDB decoded with the command's table. */
  readonly fields: FieldValues;
  /** The data-out bytes the command uses (exactly `dataOutLength(fields)` bytes). */
  readonly dataOut: Uint8Array;
  /** The task. */
  readonly task: TaskRecord;
  /** The target. */
  readonly target: TargetView;
}

/** What a handler returns (GOOD with no data when undefined). */
export interface CommandResult {
  /** Status (default GOOD); CHECK CONDITION is thrown as a CheckCondition instead. */
  readonly status?: number;
  /** Data-in, already cut to the CDB's ALLOCATION LENGTH. */
  readonly dataIn?: Uint8Array;
}

/** A command handler. */
export type CommandHandler = (ctx: CommandContext) => MaybePromise<CommandResult | undefined>;

/** An LBA range a command touches, for restricted reordering (SAM-6 8.x, QUEUE ALGORITHM MODIFIER 0). */
export interface LbaRange {
  /** First LBA. */
  readonly lba: number;
  /** Blocks (0 = none). */
  readonly blocks: number;
  /** True when the command modifies the range. */
  readonly writes: boolean;
  /** Must not overlap any other task while it runs, whatever the reordering mode (COMPARE AND WRITE). */
  readonly atomic?: boolean;
}

/** How unit attention conditions affect a command (SAM-6 5.14). */
export type UnitAttentionBehaviour = 'report' | 'ignore' | 'request-sense' | 'report-luns';

/** One implemented command. */
export interface CommandDescriptor {
  /** CDB table (name, opcode, service action, length, fields). */
  readonly spec: CdbSpec;
  /** The handler. */
  readonly handler: CommandHandler;
  /** Reservation access class, fixed or from the CDB. */
  readonly access: ReservationAccess | ((fields: FieldValues) => ReservationAccess);
  /** Allowed while another I_T nexus holds an SPC-2 reservation (SPC-2 5.5.1). */
  readonly spc2Allowed?: boolean;
  /** Needs the medium: NOT READY conditions apply (SBC-5 4.x). */
  readonly medium?: boolean;
  /** Modifies the medium: write protection applies (SBC-5 4.x, DATA PROTECT). */
  readonly modifiesMedium?: boolean;
  /** Unit attention handling (default `report`). */
  readonly unitAttention?: UnitAttentionBehaviour;
  /** Data-out bytes the command needs (default 0). */
  readonly dataOutLength?: (fields: FieldValues, lu: LogicalUnit) => number;
  /**
   * The Data-Out Buffer must hold exactly `dataOutLength` bytes (COMPARE AND WRITE, WRITE SAME:
   * a surplus is as wrong as a shortfall, libiscsi `*.InvalidDataOutSize`).
   */
  readonly dataOutExact?: boolean;
  /** LBA range touched, for ordering overlapping SIMPLE tasks. */
  readonly range?: (fields: FieldValues, lu: LogicalUnit, dataOut: Uint8Array) => LbaRange | undefined;
  /** Whether the LU supports it (default yes): UNMAP only on a thin provisioned LU. */
  readonly supported?: (lu: LogicalUnit) => boolean;
  /** Recommended command timeout in seconds (REPORT SUPPORTED OPERATION CODES with RCTD). */
  readonly timeoutSeconds?: number;
}
