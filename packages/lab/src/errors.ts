/**
 * Typed errors of the lab. Each carries the sg3_utils exit status the `sgv4` command
 * exits with, so the dispatcher needs no lab-specific knowledge.
 * @module
 */
import { ExitStatus, type ExitStatusCode } from '@sgv4/core';

/** Base class of every error the lab throws. */
export class LabError extends Error {
  /** The `sgv4` exit status for this failure. */
  readonly exitStatus: ExitStatusCode;

  /** `message` is one line that says what failed and what to do. */
  constructor(message: string, exitStatus: ExitStatusCode, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.exitStatus = exitStatus;
  }
}

/** A lab setting has a bad value; names the setting and the rule it broke. */
export class LabConfigError extends LabError {
  /** The setting, e.g. `scsiDebug.sector_size` or `--memory`. */
  readonly field: string;
  /** The rule the value broke, e.g. `one of 512, 1024, 2048, 4096`. */
  readonly rule: string;

  /** `value` is the offending input, quoted in the message. */
  constructor(field: string, rule: string, value: unknown) {
    super(`${field} must be ${rule} (got ${JSON.stringify(value)})`, ExitStatus.SYNTAX_ERROR);
    this.field = field;
    this.rule = rule;
  }
}

/** The host lacks something the lab needs (QEMU, the kernel, busybox-static, sg3-utils). */
export class LabSetupError extends LabError {
  /** The Debian packages to install. */
  readonly missingPackages: readonly string[];
  /** The exact command that installs them. */
  readonly installCommand: string;

  /** `message` is the one line shown to the user; it includes `installCommand`. */
  constructor(message: string, missingPackages: readonly string[], installCommand: string) {
    super(message, ExitStatus.FILE_ERROR);
    this.missingPackages = missingPackages;
    this.installCommand = installCommand;
  }
}

/** The guest did not finish: QEMU failed, or the guest never reported the command's exit status. */
export class LabGuestError extends LabError {
  /** The guest console log, kept for diagnosis; undefined for an interactive shell. */
  readonly consoleLogPath: string | undefined;

  /** `consoleLogPath` is named in the message too. */
  constructor(message: string, consoleLogPath: string | undefined) {
    super(
      consoleLogPath ? `${message}; guest console log kept at ${consoleLogPath}` : message,
      ExitStatus.OTHER,
    );
    this.consoleLogPath = consoleLogPath;
  }
}

/** The hard timeout expired: QEMU was killed. */
export class LabTimeoutError extends LabError {
  /** The timeout that expired, in milliseconds. */
  readonly timeoutMs: number;
  /** The guest console log, kept for diagnosis; undefined for an interactive shell. */
  readonly consoleLogPath: string | undefined;

  /** The message says the guest was killed, after how long, and where the console log is. */
  constructor(timeoutMs: number, qemuPid: number | undefined, consoleLogPath: string | undefined) {
    const log = consoleLogPath ? `; guest console log kept at ${consoleLogPath}` : '';
    super(
      `timed out after ${formatSeconds(timeoutMs)}: killed QEMU (pid ${qemuPid ?? 'unknown'})${log}`,
      ExitStatus.TIMEOUT,
    );
    this.timeoutMs = timeoutMs;
    this.consoleLogPath = consoleLogPath;
  }
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
}
