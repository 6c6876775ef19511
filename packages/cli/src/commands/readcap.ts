/** `sgv4 readcap <device>`: READ CAPACITY (10, then 16 when needed), printed like sg_readcap. */
import type { Capacity } from '@sgv4/bsg';
import { openDevice, READONLY_OPTION, TIMEOUT_OPTION, timeoutOf } from '../device/open-device.js';
import type { Command } from '../framework/command.js';
import { printJson, printLine } from '../framework/output.js';

function sizeLines(c: Capacity): string[] {
  const bytes = Number(c.bytes);
  return [
    'Hence:',
    `   Device size: ${c.bytes} bytes, ${(bytes / 1048576).toFixed(1)} MiB, ${(bytes / 1e9).toFixed(2)} GB`,
  ];
}

export const readcapCommand: Command = {
  name: 'readcap',
  summary: 'READ CAPACITY: last LBA, block size, device size (like sg_readcap)',
  usage: '<device> [--16] [--json]',
  details: [
    'Sends READ CAPACITY(10), and READ CAPACITY(16) when the capacity does not fit 32 bits (returned LBA',
    '0xffffffff) or when --16 is given (it adds protection, provisioning and physical block fields).',
    '--json: {device, source ("READ CAPACITY(10)"|"READ CAPACITY(16)"), lastLba, blocks, bytes (decimal',
    'strings), blockSize, and with (16): protectionEnabled, protectionType, logicalPerPhysicalExponent,',
    'thinProvisioned, unmappedReadsZero, lowestAlignedLba}',
  ].join('\n'),
  json: true,
  positionals: { min: 1, max: 1 },
  options: {
    '16': { type: 'boolean', description: 'use READ CAPACITY(16) (sg_readcap --16)' },
    timeout: TIMEOUT_OPTION,
    readonly: READONLY_OPTION,
  },
  async run(invocation, io) {
    const [location] = invocation.positionals as [string];
    const timeoutMs = timeoutOf(invocation);
    const opts = timeoutMs !== undefined ? { timeoutMs } : {};
    const device = await openDevice(location, invocation, { identify: false });
    let c: Capacity;
    try {
      c = invocation.flag('16') ? await device.readCapacity16(opts) : await device.readCapacity(opts);
    } finally {
      await device.close();
    }
    if (invocation.json) {
      printJson(io, { device: location, ...c });
      return 0;
    }
    printLine(io, 'Read Capacity results:');
    if (c.source === 'READ CAPACITY(16)') {
      printLine(io, `   Protection: prot_en=${c.protectionEnabled ? 1 : 0}, p_type=${c.protectionType ?? 0}`);
      printLine(
        io,
        `   Logical block provisioning: lbpme=${c.thinProvisioned ? 1 : 0}, lbprz=${c.unmappedReadsZero ? 1 : 0}`,
      );
    }
    printLine(
      io,
      `   Last LBA=${c.lastLba} (0x${c.lastLba.toString(16)}), Number of logical blocks=${c.blocks}`,
    );
    printLine(io, `   Logical block length=${c.blockSize} bytes`);
    if (c.source === 'READ CAPACITY(16)') {
      printLine(io, `   Logical blocks per physical block exponent=${c.logicalPerPhysicalExponent ?? 0}`);
      printLine(io, `   Lowest aligned LBA=${c.lowestAlignedLba ?? 0}`);
    }
    for (const line of sizeLines(c)) printLine(io, line);
    return 0;
  },
};
