/**
 * The shape of the lab's conformance registry: areas of the model, the Linux 6.1 rules
 * each checks, and cases that put one input to both the model and the real kernel.
 * @module
 */
import type { QueueLimits } from '@sgv4/core';

/** The areas, in report order. */
export const CONFORMANCE_AREA_NAMES = ['permissions', 'headers', 'transfer', 'reserve', 'sense'] as const;

/** One area's name. */
export type ConformanceAreaName = (typeof CONFORMANCE_AREA_NAMES)[number];

/** A rule an area checks against the kernel. */
export interface ConformanceRule {
  /** The model's id for it (`sg-interface-id`, `privileged`, `bio-max-segments`). */
  readonly id: string;
  /** `function (file)` of the Linux 6.1 code that applies it. */
  readonly kernelFunction: string;
  /** One line: what the rule says. */
  readonly summary: string;
  /**
   * `decision` (default): each case either meets the rule (it decides the outcome: it
   * "fires") or passes it. `value`: every case checks a value the rule computes.
   */
  readonly kind?: 'decision' | 'value';
  /** Why the lab cannot produce a case for this rule; absent when it can. */
  readonly notInLab?: string;
}

/** A rule a case counts for, and whether the rule decided that case. */
export interface RuleCredit {
  /** The rule's id. */
  readonly id: string;
  /** True: the rule decided the outcome; false: the kernel checked it and it did not apply. */
  readonly fires: boolean;
}

/** A case before it runs: its input and the model's prediction. */
export interface PlannedCase<P = unknown> {
  /** The input, for a person (`sg O_RDONLY SG_IO cmd_len 5`). */
  readonly input: string;
  /** The rules this case counts for, per the model. */
  readonly rules: readonly RuleCredit[];
  /** The model's outcome (`EINVAL`, `ok`, `ok direct`, `sb_len_wr 18`). */
  readonly predicted: string;
  /** What the area's runner needs to produce the case in the guest. */
  readonly payload: P;
}

/** One case after it ran. */
export interface ConformanceCaseResult {
  /** The area. */
  readonly area: ConformanceAreaName;
  /** The input. */
  readonly input: string;
  /** The rules it counts for. */
  readonly rules: readonly RuleCredit[];
  /** The model's outcome. */
  readonly predicted: string;
  /** The real kernel's outcome, in the same words. */
  readonly observed: string;
  /** `predicted === observed`. */
  readonly agrees: boolean;
}

/** The device facts an area plans its cases with. */
export interface ConformanceDevice {
  /** The scsi_debug disk's sg node (`/dev/sg0`). */
  readonly sg: string;
  /** Its bsg node (`/dev/bsg/0:0:0:0`). */
  readonly bsg: string;
  /** Its block device (`/dev/sda`). */
  readonly disk: string;
  /** Its queue limits, read from sysfs. */
  readonly limits: QueueLimits;
  /** Its peripheral device type (0). */
  readonly deviceType: number;
}

/** What a runner reports for one planned case. */
export interface ObservedCase {
  /** The kernel's outcome. */
  readonly observed: string;
  /**
   * The model's outcome when it needs what the device returned (the sense bytes a
   * reply-length case starts from); replaces the planned prediction.
   */
  readonly predicted?: string;
}

/** An area: its rules, its cases, and how to run them in the guest. */
export interface ConformanceArea<P = unknown> {
  /** Its name. */
  readonly name: ConformanceAreaName;
  /** One line: what it covers. */
  readonly title: string;
  /** The rules it checks, lab-reachable or not. */
  readonly rules: readonly ConformanceRule[];
  /** The cases with the model's predictions: pure, no device access. */
  plan(device: ConformanceDevice): PlannedCase<P>[];
  /** Runs the cases against the real kernel (inside the guest), one observation per case. */
  run(device: ConformanceDevice, cases: readonly PlannedCase<P>[]): Promise<ObservedCase[]>;
}
