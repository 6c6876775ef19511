/**
 * Cases that share probe runs: a batch runs once (one probe process, or a short sequence
 * with its own set-up and tear-down) and each of its cases reads one result line.
 * @module
 */
import type { ConformanceDevice, ObservedCase, PlannedCase } from './conformance-case.js';
import type { ProbeLine } from './probe-runner.js';

/** One probe run shared by several cases. */
export interface ProbeBatch {
  /** For error messages. */
  readonly name: string;
  /** Runs it in the guest and returns its result lines (set-up and tear-down included). */
  readonly execute: (device: ConformanceDevice) => ProbeLine[] | Promise<ProbeLine[]>;
}

/** Where a case finds its observation. */
export interface BatchedProbe {
  /** The batch. */
  readonly batch: ProbeBatch;
  /** The index of the case's result line. */
  readonly index: number;
  /** Turns the line (and, if needed, the batch's other lines) into the kernel's outcome. */
  readonly observe: (line: ProbeLine, batch: readonly ProbeLine[]) => ObservedCase;
}

/** Runs every batch the cases use, once each in first-use order, and reads each case's line. */
export async function runBatchedCases(
  device: ConformanceDevice,
  cases: readonly PlannedCase<BatchedProbe>[],
): Promise<ObservedCase[]> {
  const results = new Map<ProbeBatch, ProbeLine[]>();
  for (const c of cases) {
    const batch = c.payload.batch;
    if (!results.has(batch)) results.set(batch, await batch.execute(device));
  }
  return cases.map((c) => {
    const lines = results.get(c.payload.batch) ?? [];
    const line = lines[c.payload.index];
    if (line === undefined) throw new Error(`batch ${c.payload.batch.name} has no line ${c.payload.index}`);
    return c.payload.observe(line, lines);
  });
}

/** Collects cases and the batches they read, numbering each batch's lines. */
export class CaseCollector {
  readonly cases: PlannedCase<BatchedProbe>[] = [];

  /** Adds a case reading line `index` of `batch`. */
  add(
    batch: ProbeBatch,
    index: number,
    planned: Omit<PlannedCase<BatchedProbe>, 'payload'>,
    observe: (line: ProbeLine, batch: readonly ProbeLine[]) => ObservedCase,
  ): void {
    this.cases.push({ ...planned, payload: { batch, index, observe } });
  }
}
