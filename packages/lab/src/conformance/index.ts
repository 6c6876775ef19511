/**
 * The lab's conformance registry: per area of the model (permissions, header checks,
 * transfer plans, reserve/mmap sequences, sense capture), the Linux 6.1 rules it checks and
 * the cases that put one input to the model and to the real kernel. `pnpm test:lab` and
 * `sgv4 lab conformance` run the same registry.
 * @module
 */
export * from './conformance-case.js';
export * from './guest-device.js';
export * from './lab-conformance.js';
export * from './registry.js';
export * from './report.js';
export * from './run-conformance.js';
