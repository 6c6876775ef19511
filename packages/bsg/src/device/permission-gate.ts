/**
 * The permission pre-check: before a command is queued, the core's tables decide whether the
 * kernel path would let it through, with the handle's real open mode, node and CAP_SYS_RAWIO,
 * so a refusal is a {@link CommandPermissionError} that says why and what to change instead of
 * a bare EPERM from deep inside an ioctl.
 * @module
 */
import {
  decidePermission,
  errnoFromName,
  explainPermission,
  type PermissionDecision,
  PermissionDeniedError,
  type PermissionPolicy,
  type PermissionTable,
} from '@sgv4/core';
import type { TransportPermissionProfile } from '../transport/transport.js';

/** How the pre-check decides (see `decidePermission` in @sgv4/core). */
export interface PermissionCheckOptions {
  /** `kernel` (Linux 6.1, the default) or `ata-aware` (the sgv4 proposal). */
  readonly policy?: PermissionPolicy;
  /** A table other than the policy's default. */
  readonly table?: PermissionTable;
}

/**
 * A command the kernel refuses, predicted by the pre-check (`predicted: true`) or reported by
 * the kernel itself (EPERM, `predicted: false`): the same class either way, so one `catch`
 * handles both. `explain()` gives the decision in a few lines.
 */
export class CommandPermissionError extends PermissionDeniedError {
  /** The model's decision for this command on this handle. */
  readonly decision: PermissionDecision;
  /** The device location. */
  readonly location: string;
  /** True when the pre-check refused it; false when the kernel did. */
  readonly predicted: boolean;

  /** See the class description. */
  constructor(decision: PermissionDecision, location: string, predicted: boolean, cause?: unknown) {
    const sentence = predicted
      ? explainPermission(decision)
      : decision.allowed
        ? `the kernel refused ${decision.command.name} with EPERM although ${decision.table} allows it here (${decision.rule}): the running kernel's filter differs from the model, or the file's credentials changed since open (sg_check_file_access)`
        : explainPermission(decision);
    super(
      sentence,
      predicted ? (errnoFromName(decision.errno ?? 'EPERM') ?? 1) : 1,
      cause === undefined ? {} : { cause },
    );
    // The message names the node; `explanation` stays the model's sentence.
    this.message = `${location}: ${this.message}`;
    this.decision = decision;
    this.location = location;
    this.predicted = predicted;
  }

  /** The decision as a person reads it: verdict, node and open mode, table and rule, what to change. */
  explain(): string {
    const d = this.decision;
    const r = d.request;
    return [
      `${d.allowed ? 'allowed by the model' : `denied (${d.errno})`}${this.predicted ? ' (predicted before submission)' : ' (the kernel answered EPERM)'}: ${d.command.name}`,
      `node: ${this.location}, ${r.iface} opened ${r.openMode}, ${r.submission === 'write' ? 'write(2)' : 'SG_IO'}, CAP_SYS_RAWIO ${r.capSysRawio ? 'yes' : 'no'}, device type ${r.deviceType}`,
      `table ${d.table}, policy ${d.policy}, class ${d.commandClass}, rule ${d.rule}`,
      this.explanation,
    ].join('\n');
  }
}

/** ATA PASS-THROUGH (12), (16) and the variable-length opcode: their decision depends on more than byte 0. */
const NOT_CACHEABLE = new Set([0xa1, 0x85, 0x7f]);

/** Decides for one handle; caches byte-0 decisions under the kernel policy (the kernel checks byte 0 only). */
export class PermissionGate {
  readonly #profile: TransportPermissionProfile | undefined;
  readonly #options: PermissionCheckOptions | false;
  readonly #cache = new Map<number, PermissionDecision>();
  #deviceType: number;

  /** `options: false` turns the pre-check off (the kernel still decides). */
  constructor(
    profile: TransportPermissionProfile | undefined,
    options: PermissionCheckOptions | false,
    deviceType = 0,
  ) {
    this.#profile = profile;
    this.#options = options;
    this.#deviceType = deviceType;
  }

  /** True when the path filters commands and the pre-check is on. */
  get active(): boolean {
    return this.#profile !== undefined && this.#options !== false;
  }

  /** Sets the peripheral device type (known after INQUIRY): sg never filters scanners. */
  setDeviceType(deviceType: number): void {
    if (deviceType !== this.#deviceType) this.#cache.clear();
    this.#deviceType = deviceType;
  }

  /** The decision for `cdb`, or undefined when no kernel filter applies to this transport. */
  decide(cdb: Uint8Array): PermissionDecision | undefined {
    const profile = this.#profile;
    if (profile === undefined) return undefined;
    const options = this.#options === false ? {} : this.#options;
    const opcode = cdb[0] ?? 0;
    const cacheable =
      (options.policy ?? 'kernel') === 'kernel' && options.table === undefined && !NOT_CACHEABLE.has(opcode);
    if (cacheable) {
      const hit = this.#cache.get(opcode);
      if (hit !== undefined) return hit;
    }
    const decision = decidePermission({
      cdb,
      openMode: profile.openMode,
      capSysRawio: profile.capSysRawio,
      iface: profile.iface,
      deviceType: this.#deviceType,
      submission: profile.submission,
      partition: profile.partition,
      ...(options.policy ? { policy: options.policy } : {}),
      ...(options.table ? { table: options.table } : {}),
    });
    if (cacheable) this.#cache.set(opcode, decision);
    return decision;
  }

  /** Throws CommandPermissionError when the pre-check is on and the model refuses `cdb`. */
  check(cdb: Uint8Array, location: string): void {
    if (!this.active) return;
    const decision = this.decide(cdb);
    if (decision !== undefined && !decision.allowed)
      throw new CommandPermissionError(decision, location, true);
  }

  /** The error for a real EPERM the kernel returned for `cdb` (undefined when no filter applies). */
  kernelRefusal(cdb: Uint8Array, location: string, cause: unknown): CommandPermissionError | undefined {
    const decision = this.decide(cdb);
    return decision === undefined ? undefined : new CommandPermissionError(decision, location, false, cause);
  }
}
