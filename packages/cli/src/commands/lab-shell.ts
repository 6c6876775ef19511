/** `sgv4 lab shell`: an interactive shell in a fresh lab guest. */
import { LabProgress, runInLab } from '@sgv4/lab';
import type { Command } from '../framework/command.js';
import { labGuestOptionSpecs, labGuestOptionsFrom } from './lab-guest-options.js';

export const labShellCommand: Command = {
  name: 'shell',
  summary: 'an interactive shell in a lab guest (exit or Ctrl-D powers it off)',
  usage: "[--scsi-debug 'K=V ...'] [--user nobody] [options]",
  details: [
    'Boots the same guest as "sgv4 lab run" with its serial console on this terminal and starts bash',
    '(or sh) in the current directory. /dev/sg0, /dev/bsg/0:0:0:0 and /dev/sda are scsi_debug; fault',
    "knobs live in /sys/bus/pseudo/drivers/scsi_debug/. Ctrl-A X kills the guest at once. The shell's",
    "exit status becomes sgv4's.",
  ].join('\n'),
  options: { ...labGuestOptionSpecs },
  async run(invocation) {
    const guest = labGuestOptionsFrom(invocation);
    const result = await runInLab({
      ...guest,
      interactive: true,
      // An interactive session has no natural end: a day unless --timeout says otherwise.
      timeoutMs: invocation.string('timeout') === undefined ? 86_400_000 : guest.timeoutMs,
      progress: new LabProgress(process.stderr),
    });
    return result.status;
  },
};
