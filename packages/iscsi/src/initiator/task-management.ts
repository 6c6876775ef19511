/**
 * iSCSI task management (RFC 7143 §11.5-11.6): the function codes, the response codes, and
 * which of a session's tasks each function ends.
 * @module
 */

/**
 * Task Management Function codes (RFC 7143 §11.5.1). `@sgv4/core`'s TaskManagementFunction
 * names the SAM functions every transport shares; the two target resets exist only here.
 */
export const IscsiTmf = {
  ABORT_TASK: 1,
  ABORT_TASK_SET: 2,
  CLEAR_ACA: 3,
  CLEAR_TASK_SET: 4,
  LOGICAL_UNIT_RESET: 5,
  TARGET_WARM_RESET: 6,
  TARGET_COLD_RESET: 7,
  TASK_REASSIGN: 8,
} as const;

/** One of the {@link IscsiTmf} names. */
export type IscsiTmfName = keyof typeof IscsiTmf;

/** Task Management Function Response codes (RFC 7143 §11.6.1). */
export const IscsiTmfResponse = {
  FUNCTION_COMPLETE: 0,
  TASK_DOES_NOT_EXIST: 1,
  LUN_DOES_NOT_EXIST: 2,
  TASK_STILL_ALLEGIANT: 3,
  TASK_ALLEGIANCE_REASSIGNMENT_NOT_SUPPORTED: 4,
  TASK_MANAGEMENT_FUNCTION_NOT_SUPPORTED: 5,
  FUNCTION_AUTHORIZATION_FAILED: 6,
  FUNCTION_REJECTED: 255,
} as const;

/** `FUNCTION COMPLETE` for 0, `response N` for codes RFC 7143 does not define. */
export function tmfResponseText(code: number): string {
  const hit = Object.entries(IscsiTmfResponse).find(([, c]) => c === code);
  return hit ? hit[0].replace(/_/g, ' ') : `response ${code}`;
}

/** The readable name of a function, e.g. `LOGICAL UNIT RESET`. */
export function tmfName(fn: IscsiTmfName): string {
  return fn.replace(/_/g, ' ');
}

/** A task as far as task management is concerned. */
export interface ManagedTask {
  /** Its ITT. */
  readonly itt: number;
  /** The 64-bit LUN field it was sent to. */
  readonly lunField: bigint;
  /** True once it was sent (it has a CmdSN the target saw or will see). */
  readonly sent: boolean;
}

/**
 * Which of this session's tasks a completed function ends (SAM-6 7.x, RFC 7143 §4.2.3.3):
 * ABORT TASK the referenced task; ABORT TASK SET, CLEAR TASK SET and LOGICAL UNIT RESET every
 * task on that LU; TARGET WARM and COLD RESET every task; CLEAR ACA and TASK REASSIGN none.
 * Tasks not yet sent when the function was issued are not affected: the TMF carries the
 * CmdSN of the next command, so they come after it.
 */
export function tasksEndedBy<T extends ManagedTask>(
  fn: IscsiTmfName,
  lunField: bigint,
  referencedTaskTag: number | undefined,
  tasks: Iterable<T>,
): T[] {
  const out: T[] = [];
  for (const t of tasks) {
    if (!t.sent) continue;
    switch (fn) {
      case 'ABORT_TASK':
        if (t.itt === referencedTaskTag) out.push(t);
        break;
      case 'ABORT_TASK_SET':
      case 'CLEAR_TASK_SET':
      case 'LOGICAL_UNIT_RESET':
        if (t.lunField === lunField) out.push(t);
        break;
      case 'TARGET_WARM_RESET':
      case 'TARGET_COLD_RESET':
        out.push(t);
        break;
      default:
        break;
    }
  }
  return out;
}
