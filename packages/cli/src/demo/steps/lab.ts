/**
 * Tour step: the lab. Boots a Linux 6.1 guest with scsi_debug, asks the emulated disk who
 * it is with sg_inq through sg, and lists the bsg nodes and the disk's queue limits, all
 * inside the guest. When the host lacks the lab's packages it says which and moves on.
 */
import { printLine } from '../../framework/output.js';
import { runTourScriptInLab } from '../lab-script.js';
import type { TourStep } from '../tour-step.js';

/** The guest command: real tools against real nodes; each section is labelled by the guest itself. */
const GUEST_SCRIPT = [
  'echo "$ uname -r"; uname -r',
  'echo "$ sg_inq /dev/sg0"; sg_inq /dev/sg0 | grep -E "identification|revision level"',
  'echo "$ ls -l /dev/bsg"; ls -l /dev/bsg | tail -n +2',
  'for f in max_segments max_sectors_kb logical_block_size; do echo "/sys/block/sda/queue/$f: $(cat /sys/block/sda/queue/$f)"; done',
].join('; ');

export const labStep: TourStep = {
  id: 'lab',
  title: 'The lab: a Linux 6.1 guest with real sg and bsg devices',
  async run(io, context) {
    const result = await runTourScriptInLab(io, GUEST_SCRIPT, 'Skipped', context);
    if (!result) return;
    printLine(
      io,
      `Booted QEMU (${result.accel.toUpperCase()}) with scsi_debug ${Object.entries(result.config.scsiDebug)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}: command started after ${(result.bootMs / 1000).toFixed(1)} s`,
    );
    for (const line of result.stdout.toString('utf8').trimEnd().split('\n')) printLine(io, `  ${line}`);
    const err = result.stderr.toString('utf8').trim();
    if (err) printLine(io, `  (stderr) ${err}`);
    printLine(io, `Guest command exit status ${result.status}; the guest powered off.`);
  },
};
