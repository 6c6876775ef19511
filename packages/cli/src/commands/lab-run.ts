/** `sgv4 lab run -- <cmd...>`: run one command in a fresh lab guest. */
import { LabProgress, runInLab } from '@sgv4/lab';
import type { Command } from '../framework/command.js';
import { UsageError } from '../framework/usage-error.js';
import { labGuestOptionSpecs, labGuestOptionsFrom } from './lab-guest-options.js';

export const labRunCommand: Command = {
  name: 'run',
  summary: 'boot a guest with scsi_debug, run a command against its real /dev/sg* and /dev/bsg/*',
  usage: "[--scsi-debug 'K=V ...'] [--user nobody] [options] -- <command> [args...]",
  details: [
    "The host file system is the guest's root (read-only, over 9p), so host binaries and this project",
    'run unchanged, in the current directory. $SGV4_LAB_RESULTS is a writable directory (--results DIR',
    "shares a host directory there). The command's stdout and stderr stream back separately and",
    "exactly, and sgv4 exits with the command's exit status. Progress (boot, command) shows on a",
    "terminal only, so redirected stderr holds only the command's bytes.",
    '',
    "Example: sgv4 lab run --scsi-debug 'sector_size=4096' -- sg_readcap /dev/sg0",
    'On a lab failure (timeout: status 33; guest failure: status 99) the console log is kept and named.',
  ].join('\n'),
  options: {
    ...labGuestOptionSpecs,
    results: {
      type: 'string',
      valueName: 'DIR',
      description: 'host directory shared writable as $SGV4_LAB_RESULTS',
    },
    keep: {
      type: 'boolean',
      description: 'keep the run directory (console log, control files) and print it',
    },
    timing: { type: 'boolean', description: 'print boot-to-command and command times to stderr at the end' },
  },
  async run(invocation, io) {
    if (invocation.passthrough.length === 0)
      throw new UsageError("missing command: usage is 'sgv4 lab run [options] -- <command> [args...]'");
    const guest = labGuestOptionsFrom(invocation);
    const results = invocation.string('results');
    const result = await runInLab({
      ...guest,
      command: invocation.passthrough,
      ...(results === undefined ? {} : { resultsDir: results }),
      keepRunDir: invocation.flag('keep'),
      stdout: io.stdout,
      stderr: io.stderr,
      progress: new LabProgress(io.stderr),
    });
    if (invocation.flag('timing')) {
      const s = (ms: number) => (ms / 1000).toFixed(1);
      io.stderr.write(
        `lab: ${result.accel.toUpperCase()} boot-to-command ${s(result.bootMs)} s, command ${s(result.commandMs)} s, total ${s(result.totalMs)} s\n`,
      );
    }
    if (result.runDir) io.stderr.write(`lab: run directory kept at ${result.runDir}\n`);
    return result.status;
  },
};
