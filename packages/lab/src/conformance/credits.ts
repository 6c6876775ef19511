/**
 * Which rules a case counts for: the rules it was designed to test, each firing when it is
 * the rule the model says decided the case, plus the deciding rule itself when the area
 * checks it.
 * @module
 */
import type { ConformanceRule, RuleCredit } from './conformance-case.js';

/** Credits for a case designed to test `tests`, whose outcome the model puts down to `decidedBy`. */
export function creditsFor(
  rules: readonly ConformanceRule[],
  tests: readonly string[],
  decidedBy: string | undefined,
): RuleCredit[] {
  const ids = new Set(rules.map((r) => r.id));
  const credited = [...tests];
  if (decidedBy !== undefined && ids.has(decidedBy) && !credited.includes(decidedBy))
    credited.push(decidedBy);
  for (const id of credited) {
    if (!ids.has(id)) throw new Error(`case credits rule '${id}', which its area does not list`);
  }
  return credited.map((id) => ({ id, fires: id === decidedBy }));
}
