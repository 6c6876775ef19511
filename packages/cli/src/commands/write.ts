/** `sgv4 write <device> --lba N --in FILE`: write a file's blocks (WRITE(10)/(16), split as the queue requires). */
import { readFileSync } from 'node:fs';
import { OsError } from '@sgv4/core';
import { openDevice, TIMEOUT_OPTION, timeoutOf } from '../device/open-device.js';
import type { Command } from '../framework/command.js';
import { printJson, printLine } from '../framework/output.js';
import { UsageError } from '../framework/usage-error.js';

export const writeCommand: Command = {
  name: 'write',
  summary: "write a file's bytes as logical blocks (WRITE(10)/(16), split to the queue limits)",
  usage: '<device> --lba N --in FILE [--bs N] [--fua] [--json]',
  details: [
    'FILE must hold a whole number of blocks (block size from READ CAPACITY unless --bs). The device is',
    'opened read-write (a read-only open could not write: the permission model refuses WRITE there).',
    '--json: {device, lba (decimal string), count, blockSize, bytes}',
  ].join('\n'),
  json: true,
  positionals: { min: 1, max: 1 },
  options: {
    lba: { type: 'string', valueName: 'N', description: 'first logical block' },
    in: { type: 'string', valueName: 'FILE', description: 'the data to write' },
    bs: {
      type: 'string',
      valueName: 'N',
      description: 'logical block size in bytes (default: READ CAPACITY)',
    },
    fua: { type: 'boolean', description: 'FUA: force unit access (write through the cache)' },
    timeout: TIMEOUT_OPTION,
  },
  async run(invocation, io) {
    const [location] = invocation.positionals as [string];
    if (invocation.string('lba') === undefined) throw new UsageError('--lba is required');
    const file = invocation.requireString('in');
    const lba = BigInt(invocation.integer('lba', { min: 0, max: Number.MAX_SAFE_INTEGER }) ?? 0);
    const bs = invocation.integer('bs', { min: 1, max: 1 << 20 });
    const timeoutMs = timeoutOf(invocation);
    let data: Uint8Array;
    try {
      const b = readFileSync(file);
      data = new Uint8Array(b.buffer, b.byteOffset, b.length);
    } catch (error) {
      throw OsError.fromNodeError(error, 'open') ?? error;
    }
    if (data.length === 0) throw new UsageError(`--in: ${file} is empty`);
    const device = await openDevice(location, invocation, { identify: false });
    let blockSize: number;
    try {
      blockSize = bs ?? (await device.readCapacity()).blockSize;
      if (data.length % blockSize !== 0) {
        throw new UsageError(
          `--in: ${file} holds ${data.length} bytes, not a whole number of ${blockSize}-byte blocks`,
        );
      }
      await device.write(lba, data, {
        blockSize,
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        fua: invocation.flag('fua'),
      });
    } finally {
      await device.close();
    }
    const count = data.length / blockSize;
    if (invocation.json) printJson(io, { device: location, lba, count, blockSize, bytes: data.length });
    else printLine(io, `wrote ${count} blocks (${data.length} bytes) at LBA ${lba} of ${location}`);
    return 0;
  },
};
