/** `sgv4 read <device> --lba N --count N [--out FILE]`: read logical blocks (READ(10)/(16), split as the queue requires). */
import { writeFileSync } from 'node:fs';
import { OsError } from '@sgv4/core';
import { hexDump, toHex } from '../device/hex-dump.js';
import { openDevice, READONLY_OPTION, TIMEOUT_OPTION, timeoutOf } from '../device/open-device.js';
import type { Command } from '../framework/command.js';
import { printJson, printLine } from '../framework/output.js';
import { UsageError } from '../framework/usage-error.js';

export const readCommand: Command = {
  name: 'read',
  summary: 'read logical blocks to a file or a hex dump (READ(10)/(16), split to the queue limits)',
  usage: '<device> --lba N --count N [--out FILE] [--bs N] [--fua] [--json]',
  details: [
    'The block size is the one READ CAPACITY reports unless --bs is given. Transfers larger than the',
    "device's queue limits are split (the core's splitLargeTransfer) and run at the device's queue depth.",
    '--json: {device, lba (decimal string), count, blockSize, bytes, out (with --out) or data (hex)}',
  ].join('\n'),
  json: true,
  positionals: { min: 1, max: 1 },
  options: {
    lba: { type: 'string', valueName: 'N', description: 'first logical block' },
    count: { type: 'string', valueName: 'N', description: 'number of blocks' },
    out: { type: 'string', valueName: 'FILE', description: 'write the data to FILE instead of a hex dump' },
    bs: {
      type: 'string',
      valueName: 'N',
      description: 'logical block size in bytes (default: READ CAPACITY)',
    },
    fua: { type: 'boolean', description: 'FUA: force unit access' },
    timeout: TIMEOUT_OPTION,
    readonly: READONLY_OPTION,
  },
  async run(invocation, io) {
    const [location] = invocation.positionals as [string];
    if (invocation.string('lba') === undefined) throw new UsageError('--lba is required');
    if (invocation.string('count') === undefined) throw new UsageError('--count is required');
    const lba = BigInt(invocation.integer('lba', { min: 0, max: Number.MAX_SAFE_INTEGER }) ?? 0);
    const count = invocation.integer('count', { min: 1, max: 0xffff_ffff }) ?? 1;
    const bs = invocation.integer('bs', { min: 1, max: 1 << 20 });
    const out = invocation.string('out');
    const timeoutMs = timeoutOf(invocation);
    const device = await openDevice(location, invocation, { identify: false });
    let data: Uint8Array;
    try {
      data = await device.read(lba, count, {
        ...(bs !== undefined ? { blockSize: bs } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        fua: invocation.flag('fua'),
      });
    } finally {
      await device.close();
    }
    const blockSize = data.length / count;
    if (out !== undefined) {
      try {
        writeFileSync(out, data);
      } catch (error) {
        throw OsError.fromNodeError(error, 'write') ?? error;
      }
    }
    if (invocation.json) {
      printJson(io, {
        device: location,
        lba,
        count,
        blockSize,
        bytes: data.length,
        ...(out !== undefined ? { out } : { data: toHex(data) }),
      });
    } else if (out !== undefined) {
      printLine(io, `read ${count} blocks (${data.length} bytes) from LBA ${lba} of ${location} into ${out}`);
    } else {
      for (const line of hexDump(data)) printLine(io, line);
    }
    return 0;
  },
};
