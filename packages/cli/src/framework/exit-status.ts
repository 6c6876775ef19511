/**
 * Maps any thrown value to the `sgv4` exit status and a one-line message.
 * Errors from `@sgv4/*` packages carry an `exitStatus` or an `errno`; anything
 * else is SG_LIB_CAT_OTHER (99).
 */
import { ExitStatus, exitStatusForErrno } from '@sgv4/core';

interface ErrorFields {
  exitStatus?: unknown;
  errno?: unknown;
  code?: unknown;
}

/** The exit status for a thrown value, following sg3_utils' categories. */
export function exitStatusOf(error: unknown): number {
  if (typeof error === 'object' && error !== null) {
    const fields = error as ErrorFields;
    if (typeof fields.exitStatus === 'number') return fields.exitStatus;
    if (typeof fields.errno === 'number') return exitStatusForErrno(fields.errno);
  }
  return ExitStatus.OTHER;
}

/** The error's own message on one line (no stack: the exit status says what kind it was). */
export function oneLineMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** A JSON-safe description of the error for `--json` output. */
export function errorRecord(error: unknown): Record<string, unknown> {
  const record: Record<string, unknown> = {
    name: error instanceof Error ? error.name : 'Error',
    message: oneLineMessage(error),
    exitStatus: exitStatusOf(error),
  };
  if (typeof error === 'object' && error !== null) {
    for (const [key, value] of Object.entries(error)) {
      if (key !== 'stack' && key !== 'message' && typeof value !== 'function') record[key] = value;
    }
  }
  return record;
}
