/**
 * Turning a refusal predicted by the model into the error family's PermissionDeniedError,
 * so I/O layers can fail early (or explain a real EPERM) with the model's sentence.
 * @module
 */
import { PermissionDeniedError } from '../errors/index.js';
import type { PermissionDecision } from './decision.js';
import { explainPermission } from './explain.js';

const ERRNO: Readonly<Record<NonNullable<PermissionDecision['errno']>, number>> = {
  EPERM: 1,
  EBADF: 9,
  EINVAL: 22,
  ENOTTY: 25,
};

/**
 * A {@link PermissionDeniedError} for a refused decision (errno EPERM, EBADF, EINVAL or ENOTTY as the
 * kernel would return; `explanation` from {@link explainPermission}); undefined when allowed.
 */
export function permissionDeniedErrorFor(decision: PermissionDecision): PermissionDeniedError | undefined {
  if (decision.allowed) return undefined;
  return new PermissionDeniedError(explainPermission(decision), ERRNO[decision.errno ?? 'EPERM']);
}
