import { describe, expect, it } from 'vitest';
import {
  BSG_6_1_CAPABILITIES,
  InvalidFieldError,
  type Nexus,
  NotSupportedError,
  SAS_SSP_CAPABILITIES,
  TagAllocator,
  TagCollisionError,
  TaskAttribute,
  TaskSetFullError,
  taskAttributeCode,
  taskAttributeFromCode,
} from '../../src/index.js';

const nexus: Nexus = { initiator: 'host0', target: '0:0:0', lun: 0n };

describe('task attributes', () => {
  it('encodes every attribute per transport as the 6.1 headers define', () => {
    const table = (t: Parameters<typeof taskAttributeCode>[1]) =>
      [TaskAttribute.SIMPLE, TaskAttribute.HEAD_OF_QUEUE, TaskAttribute.ORDERED, TaskAttribute.ACA].map((a) =>
        taskAttributeCode(a, t),
      );
    expect(table('sas')).toEqual([0, 1, 2, 4]);
    expect(table('uas')).toEqual([0, 1, 2, 4]);
    expect(table('fcp')).toEqual([0, 1, 2, 4]);
    expect(table('iscsi')).toEqual([1, 3, 2, 4]);
    expect(table('virtio-scsi')).toEqual([0, 2, 1, 3]);
    expect(table('spi')).toEqual([0x20, 0x21, 0x22, 0x24]);
    expect(taskAttributeFromCode(3, 'iscsi')).toBe('HEAD_OF_QUEUE');
    expect(() => taskAttributeFromCode(0, 'iscsi')).toThrow(/is not a iscsi task attribute code/);
    expect(() => taskAttributeCode('BOGUS' as TaskAttribute, 'sas')).toThrow(InvalidFieldError);
  });
});

describe('TagAllocator', () => {
  it('library policy hands out distinct tags round-robin and reuses only after release', () => {
    const a = new TagAllocator({ nexus, queueDepth: 3, transport: SAS_SSP_CAPABILITIES });
    const tags = [a.allocate(), a.allocate(), a.allocate()].map((t) => t.tag);
    expect(tags).toEqual([0n, 1n, 2n]);
    expect(() => a.allocate()).toThrow(TaskSetFullError);
    a.release(1n, 'completed');
    expect(a.isInUse(1n)).toBe(false);
    // Round-robin: the next free tag after the last one handed out, not the one just freed.
    expect(a.allocate().tag).toBe(3n);
    a.release(0n, 'aborted');
    expect(a.allocate()).toEqual({ tag: 4n, onWire: true });
    expect(a.outstanding).toBe(3);
    expect(() => a.release(7n, 'completed')).toThrow(/is not outstanding/);
  });

  it('caller policy detects collisions and bounds tags by the tag space', () => {
    const a = new TagAllocator({ nexus, queueDepth: 8, policy: 'caller', transport: SAS_SSP_CAPABILITIES });
    a.allocate(42n);
    expect(() => a.allocate(42n)).toThrow(TagCollisionError);
    try {
      a.allocate(42n);
    } catch (e) {
      expect((e as TagCollisionError).nexus).toBe('host0->0:0:0/0');
    }
    expect(() => a.allocate()).toThrow(/tag: is required/);
    expect(() => a.allocate(1n << 16n)).toThrow(/must be in 0..65535/);
    a.release(42n, 'completed');
    expect(a.allocate(42n).tag).toBe(42n);
  });

  it('a transport that cannot tag either refuses tags or hands out software tags', () => {
    const reject = new TagAllocator({
      nexus,
      queueDepth: 4,
      transport: BSG_6_1_CAPABILITIES,
      untagged: 'reject',
    });
    expect(() => reject.allocate()).toThrow(NotSupportedError);
    const soft = new TagAllocator({ nexus, queueDepth: 4, transport: BSG_6_1_CAPABILITIES });
    expect(soft.allocate()).toEqual({ tag: 0n, onWire: false });
  });

  it('validates its options', () => {
    expect(() => new TagAllocator({ nexus, queueDepth: 0, transport: SAS_SSP_CAPABILITIES })).toThrow(
      InvalidFieldError,
    );
    expect(() => new TagAllocator({ nexus, queueDepth: 70000, transport: SAS_SSP_CAPABILITIES })).toThrow(
      /must not exceed the tag space/,
    );
  });
});
