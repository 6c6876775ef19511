import { describe, expect, it } from 'vitest';
import {
  BSG_6_1_CAPABILITIES,
  type Nexus,
  NotSupportedError,
  SAS_SSP_CAPABILITIES,
  TaskManagementFunction as T,
  TaskSet,
  TaskStateError,
  TmfResponse,
  tmfCode,
  tmfFromCode,
  tmfResponseName,
  transportsSupportingTmf,
} from '../../src/index.js';

const a: Nexus = { initiator: 'A', target: 't0', lun: 0n };
const b: Nexus = { initiator: 'B', target: 't0', lun: 0n };

describe('TMF codes', () => {
  it('has each transport code from the 6.1 headers', () => {
    const all = Object.values(T);
    expect(all.map((f) => tmfCode(f, 'sas'))).toEqual([0x01, 0x02, 0x04, 0x08, 0x10, 0x40, 0x80, 0x81, 0x82]);
    expect(tmfCode(T.LOGICAL_UNIT_RESET, 'fcp')).toBe(0x10);
    expect(tmfCode(T.LOGICAL_UNIT_RESET, 'iscsi')).toBe(5);
    expect(tmfCode(T.CLEAR_ACA, 'iscsi')).toBe(3);
    expect(tmfCode(T.QUERY_TASK_SET, 'virtio-scsi')).toBe(7);
    expect(tmfCode(T.I_T_NEXUS_RESET, 'virtio-scsi')).toBe(4);
    expect(() => tmfCode(T.ABORT_TASK, 'fcp')).toThrow(NotSupportedError);
    expect(tmfFromCode(0x81, 'uas')).toBe('QUERY_TASK_SET');
    expect(transportsSupportingTmf(T.QUERY_ASYNCHRONOUS_EVENT)).toEqual(['sas', 'uas']);
    expect(tmfResponseName(0x0a)).toBe('OVERLAPPED TAG');
  });
});

describe('task state machine and TMFs', () => {
  it('moves tasks queued -> issued -> completed and frees tags only then', () => {
    const set = new TaskSet({ transport: SAS_SSP_CAPABILITIES, queueDepth: 2, policy: 'caller' });
    const t = set.submit(a, { tag: 5n });
    expect(() => set.submit(a, { tag: 5n })).toThrow(/already in use/);
    set.issue(t);
    expect(() => set.issue(t)).toThrow(TaskStateError);
    set.complete(t);
    expect(t.state).toBe('completed');
    expect(() => set.complete(t)).toThrow(
      /cannot go from completed to completed \(allowed: none, terminal\)/,
    );
    expect(set.submit(a, { tag: 5n }).tag).toBe(5n);
  });

  it('keeps a timed-out task tag until ABORT TASK frees it', () => {
    const set = new TaskSet({ transport: SAS_SSP_CAPABILITIES, queueDepth: 4, policy: 'caller' });
    const t = set.submit(a, { tag: 9n });
    set.issue(t);
    set.timeOut(t);
    expect(() => set.submit(a, { tag: 9n })).toThrow(/overlapped tag/);
    expect(set.applyTmf(T.QUERY_TASK, a, 9n).response).toBe(TmfResponse.FUNCTION_SUCCEEDED);
    const out = set.applyTmf(T.ABORT_TASK, a, 9n);
    expect(out.aborted).toEqual([t]);
    expect(t.state).toBe('aborted');
    expect(set.applyTmf(T.QUERY_TASK, a, 9n).response).toBe(TmfResponse.FUNCTION_COMPLETE);
    expect(set.submit(a, { tag: 9n }).state).toBe('queued');
  });

  it('scopes ABORT TASK SET to the nexus, CLEAR TASK SET / LU RESET to all, I_T NEXUS RESET to the pair', () => {
    const set = new TaskSet({ transport: SAS_SSP_CAPABILITIES, queueDepth: 8 });
    const a1 = set.submit(a);
    const a2 = set.submit(a);
    const b1 = set.submit(b);
    set.issue(a1);
    expect(set.applyTmf(T.ABORT_TASK_SET, a).aborted).toEqual([a1, a2]);
    expect(b1.state).toBe('queued');
    expect(set.applyTmf(T.QUERY_TASK_SET, b).matched).toEqual([b1]);
    expect(set.applyTmf(T.I_T_NEXUS_RESET, a).aborted).toEqual([]);
    const a3 = set.submit(a);
    expect(set.applyTmf(T.LOGICAL_UNIT_RESET, a).aborted).toEqual([b1, a3]);
    expect(set.active).toEqual([]);
    const b2 = set.submit(b);
    expect(set.applyTmf(T.CLEAR_TASK_SET, a).aborted).toEqual([b2]);
    expect(set.applyTmf(T.CLEAR_ACA, a).response).toBe(TmfResponse.FUNCTION_COMPLETE);
    expect(set.applyTmf(T.QUERY_ASYNCHRONOUS_EVENT, a).response).toBe(TmfResponse.FUNCTION_COMPLETE);
    expect(() => set.applyTmf(T.ABORT_TASK, a)).toThrow(/tag: is required/);
  });

  it('refuses TMFs on 6.1 bsg, which rejects subprotocol 1', () => {
    const set = new TaskSet({ transport: BSG_6_1_CAPABILITIES, queueDepth: 4 });
    const t = set.submit(a);
    expect(t.tagOnWire).toBe(false);
    expect(() => set.applyTmf(T.ABORT_TASK, a, t.tag)).toThrow(/ABORT TASK not supported: bsg \(Linux 6.1\)/);
  });
});
