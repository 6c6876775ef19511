/**
 * The conformance suite's fault knobs on an embedded target (@sgv4/target `configure()`):
 * latency per command, the every-nth `timeout` fault (the target never answers that task) and
 * medium errors on reads. The every-nth counter runs from the logical unit's creation, so the
 * injector counts the commands the target received (its `task-received` event) to aim at the
 * n-th command from now: create it before the first command reaches the target.
 */
import type { ScsiTarget } from '@sgv4/target';
import type { FaultInjector } from '../conformance/target.js';

/** `target`'s LUN 0 as a {@link FaultInjector}. */
export function emuFaults(target: ScsiTarget): FaultInjector {
  let received = 0;
  target.on('task-received', () => {
    received++;
  });
  return {
    latency: (ms) => target.configure(0, { latency: { nanoseconds: ms * 1_000_000 } }),
    dropNth: (n) => target.configure(0, { faults: { everyNth: { n: received + n, action: 'timeout' } } }),
    async mediumErrors() {
      await target.configure(0, { faults: { mediumErrors: [{ lba: 0x1234n, count: 10, on: 'read' }] } });
      return { lba: 0x1234n, count: 10 };
    },
    clear: () => target.configure(0, { latency: { nanoseconds: 0 }, faults: {} }),
  };
}
