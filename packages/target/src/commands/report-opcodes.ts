/**
 * REPORT SUPPORTED OPERATION CODES (SPC-6 6.35) and REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS
 * (SPC-6 6.37), generated from the command table: the command descriptors, and the CDB usage
 * data derived from the core's CDB field tables (so what is reported is what is decoded).
 * @module
 */
import {
  COMMAND_DESCRIPTOR,
  COMMAND_TIMEOUTS_DESCRIPTOR,
  cdbUsageData,
  encodeTable,
  ONE_COMMAND_HEADER,
  SUPPORTED_TMF_DATA,
} from '@sgv4/core';
import { invalidFieldInCdb } from '../sense/check-condition.js';
import type { CommandContext, CommandDescriptor, CommandResult } from './command-context.js';
import { allocate, num } from './helpers.js';

/** Default recommended timeout (seconds) for commands that declare none. */
const DEFAULT_TIMEOUT_SECONDS = 30;

function timeouts(d: CommandDescriptor): Uint8Array {
  const t = d.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  return encodeTable(COMMAND_TIMEOUTS_DESCRIPTOR, {
    descriptorLength: 0x0a,
    nominalCommandProcessingTimeout: 1,
    recommendedCommandTimeout: t,
  });
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * REPORTING OPTIONS 000b lists every command (SERVACTV for commands with service actions,
 * CTDP and a timeouts descriptor with RCTD); 001b reports one opcode that has no service
 * actions (INVALID FIELD IN CDB for one that has); 010b one opcode + service action (INVALID
 * FIELD IN CDB for an opcode without service actions); 011b either. A command the LU does not
 * support is reported with SUPPORT 001b.
 */
export function reportSupportedOperationCodes(ctx: CommandContext): CommandResult {
  const f = ctx.fields;
  const commands = ctx.lu.supportedCommands();
  const rctd = f.rctd === 1;
  const options = num(f.reportingOptions);
  const allocationLength = num(f.allocationLength);
  if (options === 0) {
    const parts = commands.map((d) => {
      const desc = encodeTable(COMMAND_DESCRIPTOR, {
        operationCode: d.spec.opcode,
        serviceAction: d.spec.serviceAction ?? 0,
        servactv: d.spec.serviceAction === undefined ? 0 : 1,
        ctdp: rctd ? 1 : 0,
        cdbLength: d.spec.length,
      });
      return rctd ? concat([desc, timeouts(d)]) : desc;
    });
    const body = concat(parts);
    const data = new Uint8Array(4 + body.length);
    new DataView(data.buffer).setUint32(0, body.length);
    data.set(body, 4);
    return { dataIn: allocate(data, allocationLength) };
  }
  if (options > 3) throw invalidFieldInCdb(2, 2);
  const opcode = num(f.requestedOperationCode);
  const sa = num(f.requestedServiceAction);
  const hasServiceActions = commands.some(
    (d) => d.spec.opcode === opcode && d.spec.serviceAction !== undefined,
  );
  if (options === 1 && hasServiceActions) throw invalidFieldInCdb(3);
  if (options === 2 && !hasServiceActions && commands.some((d) => d.spec.opcode === opcode))
    throw invalidFieldInCdb(4);
  const wantSa = options === 2 || (options === 3 && hasServiceActions);
  const d = commands.find((c) => c.spec.opcode === opcode && (!wantSa || c.spec.serviceAction === sa));
  const usage = d === undefined ? new Uint8Array(0) : cdbUsageData(d.spec);
  const header = encodeTable(ONE_COMMAND_HEADER, {
    ctdp: rctd && d !== undefined ? 1 : 0,
    support: d === undefined ? 0b001 : 0b011,
    cdbSize: usage.length,
  });
  const parts = [header, usage];
  if (rctd && d !== undefined) parts.push(timeouts(d));
  return { dataIn: allocate(concat(parts), allocationLength) };
}

/**
 * REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS: ABORT TASK, ABORT TASK SET, CLEAR TASK SET,
 * LOGICAL UNIT RESET, QUERY TASK, QUERY ASYNCHRONOUS EVENT, QUERY TASK SET, I_T NEXUS RESET;
 * not CLEAR ACA (NormACA = 0). REPD = 1 adds the 12 extended bytes (no TMF timeouts reported).
 */
export function reportSupportedTmfs(ctx: CommandContext): CommandResult {
  const repd = ctx.fields.repd === 1;
  const base = encodeTable(SUPPORTED_TMF_DATA, {
    ats: 1,
    atss: 1,
    cacas: 0,
    ctss: 1,
    lurs: 1,
    qts: 1,
    quas: 1,
    qtss: 1,
    itnrs: 1,
    additionalDataLength: repd ? 0x0c : 0,
  });
  const data = repd ? concat([base, new Uint8Array(12)]) : base;
  return { dataIn: allocate(data, num(ctx.fields.allocationLength)) };
}
