/** `sgv4 demo`: a tour of what sgv4 can do, running real code at every step. */

import { tour } from '../demo/tour.js';
import type { Command } from '../framework/command.js';
import { printLine } from '../framework/output.js';
import { UsageError } from '../framework/usage-error.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'a guided tour of sgv4, running each capability for real',
  usage: '[--only STEP] [--list] [--lab]',
  details:
    'Each step runs real code and prints what it did. Without --lab nothing boots a guest: the device\n' +
    'step drives the embedded target (emu:), and the steps that need real sg/bsg nodes say how to run them.',
  options: {
    only: {
      type: 'string',
      valueName: 'STEP',
      multiple: true,
      description: 'run only this step (repeatable; see --list)',
    },
    list: { type: 'boolean', description: 'list the steps and exit' },
    lab: { type: 'boolean', description: 'also run the steps that boot a Linux guest (QEMU, scsi_debug)' },
  },
  async run(invocation, io) {
    if (invocation.flag('list')) {
      for (const step of tour) printLine(io, `${step.id.padEnd(14)} ${step.title}`);
      return 0;
    }
    const only = invocation.strings('only');
    const unknown = only.filter((id) => !tour.some((s) => s.id === id));
    if (unknown.length > 0) throw new UsageError(`--only: no step '${unknown[0]}' (see --list)`);
    const steps = only.length > 0 ? tour.filter((s) => only.includes(s.id)) : tour;
    for (const [i, step] of steps.entries()) {
      printLine(io, `${i === 0 ? '' : '\n'}== ${i + 1}/${steps.length} ${step.title} ==`);
      await step.run(io, { lab: invocation.flag('lab') });
    }
    return 0;
  },
};
