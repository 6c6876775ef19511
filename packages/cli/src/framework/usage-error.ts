/**
 * A bad command line: wrong option, missing or extra argument, value out of
 * range. Exits with sg3_utils' SG_LIB_SYNTAX_ERROR (1) or SG_LIB_CONTRADICT (31).
 */
import { ExitStatus } from '@sgv4/core';

/** The command line cannot be carried out as written; `message` says which argument and why. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** Exit status: 1 (syntax error), or 31 when options contradict each other. */
  readonly exitStatus: number;

  constructor(message: string, exitStatus: number = ExitStatus.SYNTAX_ERROR) {
    super(message);
    this.exitStatus = exitStatus;
  }
}
