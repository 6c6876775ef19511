/**
 * The two files the host writes into the run's control directory: `lab.env` (read by the
 * guest's init) and `command.sh` (run by `/bin/sh` inside the chroot of the host root).
 * @module
 */
import type { LabGuestConfig } from '../guest-config.js';
import { sgModuleArguments } from '../guest-config.js';
import { formatScsiDebugParams, scsiDebugModuleArguments } from '../scsi-debug-params.js';

/** Who runs the command in the guest. */
export type LabUser = 'root' | 'nobody';

/** The unprivileged identity: Debian's `nobody`/`nogroup`, uid and gid 65534. */
export const NOBODY_ID = 65534;

/** Where the guest mounts the control share inside the chroot (`command.sh`, compiled probes). */
export const GUEST_CONTROL_DIR = '/run/sgv4-lab/ctl';

/** Where the guest mounts the results share inside the chroot; also `$SGV4_LAB_RESULTS`. */
export const GUEST_RESULTS_DIR = '/run/sgv4-lab/results';

/** Quotes `text` for a POSIX shell: single quotes, with `'` written as `'\''`. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** `lab.env`: the guest mode and the module arguments. Values are validated before they get here. */
export function labEnvFile(config: LabGuestConfig, mode: 'run' | 'shell'): string {
  return [
    `LAB_MODE=${shellQuote(mode)}`,
    `LAB_SG_ARGS=${shellQuote(sgModuleArguments(config.sg).join(' '))}`,
    `LAB_SCSI_DEBUG_ARGS=${shellQuote(scsiDebugModuleArguments(config.scsiDebug).join(' '))}`,
    '',
  ].join('\n');
}

/** The environment every guest command gets, before the caller's additions. */
export function guestBaseEnvironment(config: LabGuestConfig): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    // A guest tmpfs even when /tmp is the host's read-only /tmp (see the init script).
    HOME: '/run/tmp',
    TMPDIR: '/run/tmp',
    LANG: 'C.UTF-8',
    TERM: process.env.TERM ?? 'dumb',
    SGV4_LAB: '1',
    SGV4_LAB_SCSI_DEBUG: formatScsiDebugParams(config.scsiDebug),
    SGV4_LAB_SG: sgModuleArguments(config.sg).join(' '),
    SGV4_LAB_RESULTS: GUEST_RESULTS_DIR,
  };
}

/** What `command.sh` does. */
export interface CommandScriptInput {
  /** argv of the command. */
  readonly argv: readonly string[];
  /** Working directory (a host path, seen unchanged in the guest). */
  readonly cwd: string;
  /** The complete environment. */
  readonly env: Readonly<Record<string, string>>;
  /** `nobody`: make the sg/bsg nodes world-accessible, then drop to uid/gid 65534 with no capabilities. */
  readonly user: LabUser;
}

/**
 * `command.sh`. As `nobody` the command runs under `setpriv` (util-linux) with
 * `--reuid/--regid 65534 --clear-groups --inh-caps=-all --bounding-set=-all`, so it has no
 * CAP_SYS_RAWIO (or any capability) and cannot regain one; the device nodes, which devtmpfs
 * creates 0600 root, are first made 0666 so that the driver's own permission rules decide.
 */
export function commandScript(input: CommandScriptInput): string {
  const lines = ['#!/bin/sh', `cd ${shellQuote(input.cwd)} || exit 127`];
  for (const [name, value] of Object.entries(input.env)) {
    lines.push(`export ${name}=${shellQuote(value)}`);
  }
  const argv = input.argv.map(shellQuote).join(' ');
  if (input.user === 'nobody') {
    lines.push('chmod 0666 /dev/sg* /dev/bsg/* 2>/dev/null');
    lines.push(
      `exec setpriv --reuid=${NOBODY_ID} --regid=${NOBODY_ID} --clear-groups --inh-caps=-all --bounding-set=-all -- ${argv}`,
    );
  } else {
    lines.push(`exec ${argv}`);
  }
  return `${lines.join('\n')}\n`;
}
