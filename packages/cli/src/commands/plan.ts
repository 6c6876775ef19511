/**
 * `sgv4 plan`: what Linux 6.1 would do with a data transfer on a queue: zero-copy
 * or copy and why, the segments, the chained table, or the errno it returns.
 */
import {
  identityPageFrames,
  planTransfer,
  scatteredPageFrames,
  type TransferDirection,
  type TransferPlan,
  type UserIovec,
} from '@sgv4/core';
import type { Command } from '../framework/command.js';
import { parseIntegerArgument } from '../framework/invocation.js';
import { formatTable, printJson, printLine } from '../framework/output.js';
import { UsageError } from '../framework/usage-error.js';
import { loadQueueLimits } from './limits.js';

/** Parses `addr:len,addr:len` (decimal or 0x-hex) into iovecs. */
export function parseIovecList(text: string): UserIovec[] {
  return text.split(',').map((item, i) => {
    const parts = item.split(':');
    if (parts.length !== 2) throw new UsageError(`--iov entry ${i} must be ADDR:LEN (got '${item}')`);
    const address = parseIntegerArgument(`--iov entry ${i} address`, parts[0]!, {
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
    });
    const length = parseIntegerArgument(`--iov entry ${i} length`, parts[1]!, { min: 0, max: 0xffffffff });
    return { address, length };
  });
}

const DIRECTIONS: Record<string, TransferDirection> = {
  in: 'from-device',
  out: 'to-device',
  both: 'to-from-device',
  none: 'none',
};

function printPlan(io: Parameters<NonNullable<Command['run']>>[1], plan: TransferPlan): void {
  printLine(io, `interface ${plan.iface}, ${plan.length} bytes, user pages assumed ${plan.pageFrames}`);
  if (plan.outcome === 'refused') {
    printLine(io, `refused: ${plan.refusal?.errno} (${plan.refusal?.rule})`);
    return;
  }
  if (plan.outcome === 'no-data') {
    printLine(io, 'no data transfer: nothing is mapped');
    return;
  }
  printLine(io, `mode: ${plan.mode} into ${plan.buffer}`);
  if (plan.copyReason) printLine(io, `why copy: ${plan.copyReason.explanation}`);
  if (plan.sgDirectIo !== undefined) {
    printLine(
      io,
      `sg direct IO: ${plan.sgDirectIo ? 'yes (info has SG_INFO_DIRECT_IO)' : 'no'} (${plan.sgDirectIoReason})`,
    );
  }
  printLine(
    io,
    `bios: ${plan.bios.length} (${plan.bios.map((b) => b.length).join('+')} bvecs); nr_phys_segments ` +
      `${plan.nrPhysSegments} of max_segments ${plan.maxSegments}; max_hw bytes ${plan.maxHwBytes}`,
  );
  const shown = plan.segments.slice(0, 16);
  const rows = shown.map((s, i) => [
    String(i),
    `0x${s.physicalAddress.toString(16)}`,
    String(s.length),
    String(s.pageOffset),
    String(s.requestOffset),
  ]);
  for (const line of formatTable([['#', 'phys', 'length', 'offset', 'data@'], ...rows])) printLine(io, line);
  if (plan.segments.length > shown.length)
    printLine(io, `... ${plan.segments.length - shown.length} more segments`);
  if (plan.padLength > 0) printLine(io, `dma pad: ${plan.padLength} bytes added to the last segment`);
  const chunks = plan.table.chunks
    .map((c) => `${c.source}[${c.dataEntries}${c.chained ? '+link' : ''}]`)
    .join(' -> ');
  printLine(io, `sg table: ${chunks} (${plan.table.chainLinks} chain links)`);
}

export const planCommand: Command = {
  name: 'plan',
  summary:
    'plan a data transfer as Linux 6.1 would: zero-copy or copy and why, segments, chained table, or errno',
  usage:
    '--limits <preset|file|dir> --iov ADDR:LEN[,ADDR:LEN...] --dir in|out|both|none [--iface sg|bsg|block]',
  details: [
    'Addresses are user virtual addresses (decimal or 0x-hex); several --iov entries make an iovec array.',
    'User pages map to physical frames by --frames identity (adjacent pages merge) or scattered (never adjacent).',
    'sg options: --dio (allow_dio=1 and SG_FLAG_DIRECT_IO), --mmap-io (SG_FLAG_MMAP_IO).',
    'Example: sgv4 plan --limits scsi-debug --iov 0x10004:1000 --dir in --iface sg --dio',
    '--json: the TransferPlan: {"iface", "outcome": "no-data"|"mapped"|"refused", "refusal"?: {"errno", "rule"},',
    '"mode"?: "zero-copy"|"copy", "copyReason"?: {"rule", "iovecIndex"?, "part"?, "value"?, "mask"?, "explanation"},',
    '"buffer"?, "sgDirectIo"?, "sgDirectIoReason"?, "length", "bios": [[{"physicalAddress", "length",',
    '"requestOffset"}]], "nrPhysSegments", "segments": [{"physicalAddress", "length", "pageOffset", "requestOffset"}],',
    '"padLength", "maxSegments", "maxHwBytes", "table": {"entries", "chunks": [{"source", "slots", "dataEntries",',
    '"chained"}], "chainLinks"}, "pageFrames"}',
  ].join('\n'),
  json: true,
  options: {
    limits: {
      type: 'string',
      valueName: 'SPEC',
      description: 'preset name, JSON file of QueueLimits, or sysfs dir',
    },
    iov: { type: 'string', valueName: 'LIST', description: 'ADDR:LEN[,ADDR:LEN...] the data buffers' },
    dir: { type: 'string', valueName: 'DIR', description: 'in (from device), out (to device), both or none' },
    iface: { type: 'string', valueName: 'IFACE', description: 'sg, bsg or block (default block)' },
    'dxfer-len': { type: 'string', valueName: 'N', description: 'dxfer_len (default: the iovec total)' },
    frames: { type: 'string', valueName: 'MAP', description: 'identity (default) or scattered' },
    dio: { type: 'boolean', description: 'sg: allow_dio=1 and SG_FLAG_DIRECT_IO' },
    'mmap-io': { type: 'boolean', description: 'sg: SG_FLAG_MMAP_IO' },
  },
  run(invocation, io) {
    const loaded = loadQueueLimits(invocation.requireString('limits'));
    const iovecs = parseIovecList(invocation.requireString('iov'));
    const dir = invocation.choice('dir', ['in', 'out', 'both', 'none'] as const);
    if (dir === undefined) throw new UsageError('--dir is required');
    const iface = invocation.choice('iface', ['sg', 'bsg', 'block'] as const, 'block') ?? 'block';
    const frames = invocation.choice('frames', ['identity', 'scattered'] as const, 'identity');
    const dxferLength = invocation.integer('dxfer-len', { min: 0, max: 0xffffffff });
    const dio = invocation.flag('dio');
    const plan = planTransfer({
      limits: loaded.limits,
      iface,
      direction: DIRECTIONS[dir]!,
      iovecs,
      ...(dxferLength === undefined ? {} : { dxferLength }),
      pageFrames: frames === 'scattered' ? scatteredPageFrames : identityPageFrames,
      sg: { allowDio: dio, directIo: dio, mmapIo: invocation.flag('mmap-io') },
    });
    if (invocation.json) printJson(io, plan);
    else {
      printLine(io, `limits ${loaded.source}`);
      printPlan(io, plan);
    }
    return 0;
  },
};
