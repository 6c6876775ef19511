/** `sgv4 lab`: the QEMU guest with real sg and bsg devices (packages/lab). */
import type { Command } from '../framework/command.js';
import { labConformanceCommand } from './lab-conformance.js';
import { labRunCommand } from './lab-run.js';
import { labSetupCommand } from './lab-setup.js';
import { labShellCommand } from './lab-shell.js';

export const labCommand: Command = {
  name: 'lab',
  summary: 'boot a Linux 6.1 guest with scsi_debug: real /dev/sg* and /dev/bsg/* on any machine',
  details: 'See docs/guides/lab.md: prototyping in the guest, the interactive shell, fault injection.',
  subcommands: [labSetupCommand, labRunCommand, labShellCommand, labConformanceCommand],
};
