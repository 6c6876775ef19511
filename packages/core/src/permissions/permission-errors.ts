/**
 * Errors of the permission-table area: bad input is an {@link InvalidFieldError}; a
 * cmdfilter token the kernel would refuse is a {@link CmdFilterSyntaxError} (EINVAL).
 * @module
 */
import { InvalidFieldError } from '../errors/index.js';

/** Throws an {@link InvalidFieldError} for a permission-table field. */
export function invalidPermissionField(field: string, rule: string, value: unknown): never {
  throw new InvalidFieldError(field, rule, value);
}

/**
 * A `read_table`/`write_table` token that `rcf_cmds_store()` (block/cmd-filter.c) rejects
 * with -EINVAL: no hex digit where the opcode should start, or an opcode above 0xff.
 * An {@link InvalidFieldError} (exit status 1) that also carries the errno the sysfs write
 * would have failed with.
 */
export class CmdFilterSyntaxError extends InvalidFieldError {
  /** EINVAL (22): what write(2) on the sysfs attribute returned. */
  readonly errno = 22;
  /** `EINVAL`. */
  readonly code = 'EINVAL';
  /** The offending token, as written. */
  readonly token: string;
  /** Its 0-based position among the space-separated tokens. */
  readonly tokenIndex: number;

  /** `field` names the attribute (`read_table`), `rule` what the token breaks. */
  constructor(field: string, rule: string, token: string, tokenIndex: number) {
    super(`${field} token ${tokenIndex}`, rule, token);
    this.name = 'CmdFilterSyntaxError';
    this.token = token;
    this.tokenIndex = tokenIndex;
  }
}
