/**
 * Tour step: the native addon. On the host it loads the addon, opens /dev/null and shows
 * that a request whose length does not fit its buffer is refused before any system call
 * while a well-formed one reaches the kernel (ENOTTY: /dev/null is no SCSI device). Then,
 * in one lab guest, `sgv4 raw` sends INQUIRY through sg (SG_IO v3) and bsg (SG_IO v4).
 */
import { fileURLToPath } from 'node:url';
import { createSgIoV4Header, InvalidFieldError, OsError } from '@sgv4/core';
import { addonPath, openScsiHandle } from '@sgv4/native';
import { printLine } from '../../framework/output.js';
import { runTourScriptInLab } from '../lab-script.js';
import type { TourStep } from '../tour-step.js';

const INQUIRY = Uint8Array.of(0x12, 0, 0, 0, 96, 0);

function describeFailure(error: unknown): string {
  if (error instanceof InvalidFieldError) return `InvalidFieldError field=${error.field}: ${error.message}`;
  if (error instanceof OsError) return `OsError ${error.code} syscall=${error.syscall}: ${error.message}`;
  throw error;
}

export const nativeStep: TourStep = {
  id: 'native',
  title: 'The native addon: SG_IO from Node, lengths checked against the real buffers',
  async run(io, context) {
    const handle = openScsiHandle('/dev/null', { readWrite: true });
    printLine(io, `Loaded ${addonPath()}; /dev/null opened, node kind '${handle.kind}' (fstat).`);
    const header = createSgIoV4Header({ requestLen: 6, dinXferLen: 96, maxResponseLen: 32 });
    try {
      handle.sgIoSync({ header, cdb: INQUIRY, sense: new Uint8Array(32), dataIn: new Uint8Array(95) });
    } catch (error) {
      printLine(io, `din_xfer_len 96 with a 95-byte buffer -> ${describeFailure(error)}`);
    }
    try {
      await handle.sgIo({ header, cdb: INQUIRY, sense: new Uint8Array(32), dataIn: new Uint8Array(96) });
    } catch (error) {
      printLine(io, `the same INQUIRY with a 96-byte buffer reaches the kernel -> ${describeFailure(error)}`);
    } finally {
      await handle.close();
    }

    const cli = fileURLToPath(new URL('../../main.js', import.meta.url));
    const script = ['/dev/sg0', '/dev/bsg/0:0:0:0']
      .map(
        (node) =>
          `echo "$ sgv4 raw ${node} 12 00 00 00 24 00 --in 36"; node ${cli} raw ${node} 12 00 00 00 24 00 --in 36`,
      )
      .join('; ');
    const result = await runTourScriptInLab(io, script, 'Lab part skipped', context);
    if (!result) return;
    printLine(io, `In a lab guest (${result.accel.toUpperCase()}), through the addon:`);
    for (const line of result.stdout.toString('utf8').trimEnd().split('\n')) printLine(io, `  ${line}`);
    const err = result.stderr.toString('utf8').trim();
    if (err) printLine(io, `  (stderr) ${err}`);
  },
};
