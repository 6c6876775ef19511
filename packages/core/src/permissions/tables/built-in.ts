/**
 * The built-in permission tables, by name.
 * @module
 */
import { InvalidFieldError } from '../../errors/index.js';
import type { PermissionTable } from '../permission-table.js';
import { BLK_FILTER_5_14_TABLE, BLK_FILTER_EARLY_TABLE } from './historic.js';
import { LINUX_6_1_TABLE } from './linux-6-1.js';
import { SGV4_PROPOSAL_TABLE } from './sgv4-proposal.js';

/** Every built-in table: linux-6.1, blk-filter-5.14, blk-filter-early, sgv4-proposal. */
export const BUILT_IN_PERMISSION_TABLES: readonly PermissionTable[] = [
  LINUX_6_1_TABLE,
  BLK_FILTER_5_14_TABLE,
  BLK_FILTER_EARLY_TABLE,
  SGV4_PROPOSAL_TABLE,
];

/** The built-in table called `name`; an InvalidFieldError on `field` listing the names otherwise. */
export function builtInPermissionTable(name: string, field = 'table'): PermissionTable {
  const found = BUILT_IN_PERMISSION_TABLES.find((t) => t.name === name);
  if (!found) {
    throw new InvalidFieldError(
      field,
      `must name a built-in table (${BUILT_IN_PERMISSION_TABLES.map((t) => t.name).join(', ')})`,
      name,
    );
  }
  return found;
}
