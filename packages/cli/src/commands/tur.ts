/** `sgv4 tur <device>`: TEST UNIT READY (like sg_turs), the exit status says why it is not ready. */
import { openDevice, READONLY_OPTION, TIMEOUT_OPTION, timeoutOf } from '../device/open-device.js';
import type { Command } from '../framework/command.js';
import { parseIntegerArgument } from '../framework/invocation.js';
import { printJson, printLine } from '../framework/output.js';

export const turCommand: Command = {
  name: 'tur',
  summary: 'TEST UNIT READY (like sg_turs): exit 0 when ready, the sense category otherwise',
  usage: '<device> [--count N] [--json]',
  details: [
    'Exit status: 0 ready; 2 NOT READY; 6 UNIT ATTENTION; other sg3_utils categories as for any command.',
    '--count N sends N commands (sg_turs -n) and reports the rate.',
    '--json: {device, ready (true), commands, seconds, perSecond}; on failure the error document.',
  ].join('\n'),
  json: true,
  positionals: { min: 1, max: 1 },
  options: {
    count: { type: 'string', valueName: 'N', description: 'send N TEST UNIT READY commands (default 1)' },
    timeout: TIMEOUT_OPTION,
    readonly: READONLY_OPTION,
  },
  async run(invocation, io) {
    const [location] = invocation.positionals as [string];
    const raw = invocation.string('count');
    const count = raw === undefined ? 1 : parseIntegerArgument('--count', raw, { min: 1, max: 100_000_000 });
    const timeoutMs = timeoutOf(invocation);
    const device = await openDevice(location, invocation, { identify: false });
    const start = performance.now();
    try {
      for (let i = 0; i < count; i++)
        await device.testUnitReady(timeoutMs !== undefined ? { timeoutMs } : {});
    } finally {
      await device.close();
    }
    const seconds = (performance.now() - start) / 1000;
    if (invocation.json) {
      printJson(io, { device: location, ready: true, commands: count, seconds, perSecond: count / seconds });
    } else if (count === 1) {
      printLine(io, `${location}: ready`);
    } else {
      printLine(
        io,
        `${location}: ready; ${count} TEST UNIT READY commands in ${seconds.toFixed(3)} s (${(count / seconds).toFixed(1)} per second)`,
      );
    }
    return 0;
  },
};
