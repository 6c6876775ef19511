/**
 * Where a CDB keeps its service action, for the opcodes that multiplex several commands.
 * @module
 */

/** Opcode of variable-length CDBs (SPC-4 `VARIABLE LENGTH`, Linux `VARIABLE_LENGTH_CMD`). */
export const VARIABLE_LENGTH_OPCODE = 0x7f;

/**
 * Opcodes whose byte 1 bits 4..0 hold a service action (SPC-4 4.2.5.2):
 * SERVICE ACTION IN(16) 0x9e, SERVICE ACTION OUT(16) 0x9f, MAINTENANCE IN 0xa3,
 * MAINTENANCE OUT 0xa4, THIRD-PARTY COPY OUT 0x83, THIRD-PARTY COPY IN 0x84.
 */
export const SHORT_SERVICE_ACTION_OPCODES: readonly number[] = [0x83, 0x84, 0x9e, 0x9f, 0xa3, 0xa4];

/** Every opcode that carries a service action, the variable-length one included. */
export const SERVICE_ACTION_OPCODES: readonly number[] = [...SHORT_SERVICE_ACTION_OPCODES, 0x7f];

/** The outcome of reading a CDB's service action. */
export type ServiceActionField =
  /** The opcode has no service action. */
  | { readonly kind: 'none' }
  /** The service action, read from the CDB. */
  | { readonly kind: 'present'; readonly serviceAction: number }
  /** The opcode has one but the CDB is too short to hold it (`needed` bytes). */
  | { readonly kind: 'truncated'; readonly needed: number };

/**
 * Reads the service action of `cdb`: bits 4..0 of byte 1 for the six short opcodes,
 * the big-endian 16-bit field at bytes 8..9 for 0x7f (SPC-4 4.2.3, variable-length CDB).
 */
export function permissionServiceAction(cdb: Uint8Array): ServiceActionField {
  const opcode = cdb[0];
  if (opcode === VARIABLE_LENGTH_OPCODE) {
    const hi = cdb[8];
    const lo = cdb[9];
    if (hi === undefined || lo === undefined) return { kind: 'truncated', needed: 10 };
    return { kind: 'present', serviceAction: (hi << 8) | lo };
  }
  if (opcode !== undefined && SHORT_SERVICE_ACTION_OPCODES.includes(opcode)) {
    const b1 = cdb[1];
    if (b1 === undefined) return { kind: 'truncated', needed: 2 };
    return { kind: 'present', serviceAction: b1 & 0x1f };
  }
  return { kind: 'none' };
}
