import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  AbortedError,
  DeviceError,
  InvalidFieldError,
  NotSupportedError,
  OsError,
  ResultCategory,
  TagCollisionError,
  TaskAttribute,
  TaskManagementFunction,
  TimeoutError,
  TransportError,
} from '@sgv4/core';
import { describe, expect, it } from 'vitest';
import { CommandPermissionError, Device, TRACE_CHANNELS, type TraceEvent } from '../../src/index.js';
import { checkCondition, GOOD, ScriptedTransport, settle } from '../support/scripted-transport.js';

const TUR = Uint8Array.of(0, 0, 0, 0, 0, 0);
const WRITE10 = Uint8Array.of(0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0);

function hold(options: ConstructorParameters<typeof ScriptedTransport>[0] = {}): ScriptedTransport {
  return new ScriptedTransport({ responder: () => 'hold', ...options });
}

async function attach(
  t: ScriptedTransport,
  options: Parameters<typeof Device.attach>[1] = {},
): Promise<Device> {
  return Device.attach(t, { identify: false, ...options });
}

describe('Device raw mode', () => {
  it('resolves CHECK CONDITION with decoded sense and the SENSE category, never rejects', async () => {
    const t = new ScriptedTransport({ responder: () => checkCondition(0x05, 0x24, 0x00) });
    const d = await attach(t);
    const r = await d.submit({ cdb: TUR });
    expect(r.statusName).toBe('CHECK CONDITION');
    expect(r.category).toBe(ResultCategory.SENSE);
    expect(r.decodedSense?.senseKeyName).toBe('Illegal Request');
    expect(r.decodedSense?.ascText).toBe('Invalid field in cdb');
    await expect(d.execute({ cdb: TUR })).rejects.toBeInstanceOf(DeviceError);
    await d.close();
  });

  it('resolves a host-byte error as TRANSPORT_ERR; execute() throws TransportError', async () => {
    const t = new ScriptedTransport({ responder: () => ({ ...GOOD, hostStatus: 0x07 }) });
    const d = await attach(t);
    expect((await d.submit({ cdb: TUR })).category).toBe(ResultCategory.TRANSPORT_ERR);
    await expect(d.execute({ cdb: TUR })).rejects.toBeInstanceOf(TransportError);
    await d.close();
  });

  it('treats RECOVERED ERROR as success in execute()', async () => {
    const d = await attach(new ScriptedTransport({ responder: () => checkCondition(0x01, 0x17, 0x01) }));
    expect((await d.execute({ cdb: TUR })).decodedSense?.senseKeyName).toBe('Recovered Error');
    await d.close();
  });

  it('reports transferred bytes from the residual', async () => {
    const d = await attach(new ScriptedTransport({ responder: () => ({ ...GOOD, dinResid: 60 }) }));
    const r = await d.submit({ cdb: Uint8Array.of(0x12, 0, 0, 0, 96, 0), dataIn: new Uint8Array(96) });
    expect(r.transferred).toBe(36);
    await d.close();
  });

  it('refuses at the call what the transport cannot do, naming it', async () => {
    const d = await attach(new ScriptedTransport());
    await expect(
      d.submit({ cdb: TUR, dataIn: new Uint8Array(4), dataOut: new Uint8Array(4) }),
    ).rejects.toThrow(/bidirectional data not supported/);
    await expect(d.submit({ cdb: TUR, dataIn: [new Uint8Array(4)] })).rejects.toBeInstanceOf(
      NotSupportedError,
    );
    await expect(d.submit({ cdb: TUR, transfer: 'mmap', dataIn: new Uint8Array(4) })).rejects.toThrow(
      /mmap-ed IO/,
    );
    await expect(d.submit({ cdb: TUR, attribute: TaskAttribute.ACA })).rejects.toThrow(/task attribute ACA/);
    await expect(d.abort(99n)).resolves.toBe(false);
    await expect(d.taskManagement(TaskManagementFunction.LOGICAL_UNIT_RESET)).rejects.toBeInstanceOf(
      NotSupportedError,
    );
    await d.close();
  });

  it('rejects bad fields with InvalidFieldError naming them', async () => {
    const d = await attach(new ScriptedTransport());
    const cases: [Parameters<Device['submit']>[0], string][] = [
      [{ cdb: new Uint8Array(0) }, 'cdb'],
      [{ cdb: new Uint8Array(33) }, 'cdb'],
      [{ cdb: TUR, timeoutMs: 0 }, 'timeoutMs'],
      [{ cdb: TUR, priority: 16 }, 'priority'],
      [{ cdb: TUR, attribute: 'NONE' as TaskAttribute }, 'attribute'],
      [{ cdb: TUR, maxSenseLength: 256 }, 'maxSenseLength'],
      [{ cdb: TUR, queueAt: 'middle' as 'head' }, 'queueAt'],
      [{ cdb: TUR, tag: 5n }, 'tag'],
    ];
    for (const [request, field] of cases) {
      const error = await d.submit(request).catch((e: unknown) => e);
      expect(error, field).toBeInstanceOf(InvalidFieldError);
      expect((error as InvalidFieldError).field).toBe(field);
    }
    await d.close();
  });
});

describe('Device queue, tags and attributes', () => {
  it('keeps at most queueDepth in the transport and issues the rest as slots free', async () => {
    const t = hold();
    const d = await attach(t, { queueDepth: 2 });
    const promises = [1, 2, 3, 4].map(() => d.submit({ cdb: TUR }));
    await settle();
    expect(t.issued.length).toBe(2);
    expect(d.outstanding).toBe(4);
    t.complete(promises[0]?.tag as bigint);
    await settle();
    expect(t.issued.length).toBe(3);
    for (const p of promises.slice(1)) t.pending.has(p.tag as bigint) && t.complete(p.tag as bigint);
    await settle();
    t.complete(promises[3]?.tag as bigint);
    const results = await Promise.all(promises);
    expect(new Set(results.map((r) => r.tag)).size).toBe(4);
    expect(results.every((r) => r.tagOnWire === false)).toBe(true);
    await d.close();
  });

  it('orders ORDERED and HEAD OF QUEUE among its own tasks when the path drops attributes (SAM-6 8.6)', async () => {
    const t = hold();
    const d = await attach(t, { queueDepth: 4 });
    const a = d.submit({ cdb: TUR });
    const b = d.submit({ cdb: TUR, attribute: TaskAttribute.ORDERED });
    const c = d.submit({ cdb: TUR });
    await settle();
    expect(t.issued.map((r) => r.tag)).toEqual([a.tag]); // B waits for A; C waits for B
    const h = d.submit({ cdb: TUR, attribute: TaskAttribute.HEAD_OF_QUEUE });
    await settle();
    expect(t.issued.map((r) => r.tag)).toEqual([a.tag, h.tag]); // HEAD OF QUEUE is not held
    t.complete(a.tag as bigint);
    t.complete(h.tag as bigint);
    await settle();
    expect(t.issued.map((r) => r.tag)).toEqual([a.tag, h.tag, b.tag]);
    t.complete(b.tag as bigint);
    await settle();
    expect(t.issued.at(-1)?.tag).toBe(c.tag);
    t.complete(c.tag as bigint);
    await Promise.all([a, b, c, h]);
    await d.close();
  });

  it('issues waiting SIMPLE tasks by priority (1 first, 0 last)', async () => {
    const t = hold();
    const d = await attach(t, { queueDepth: 1 });
    const first = d.submit({ cdb: TUR });
    const p0 = d.submit({ cdb: TUR });
    const p9 = d.submit({ cdb: TUR, priority: 9 });
    const p2 = d.submit({ cdb: TUR, priority: 2 });
    await settle();
    for (const p of [first, p2, p9, p0]) {
      expect(t.issued.at(-1)?.tag).toBe(p.tag);
      t.complete(p.tag as bigint);
      await settle();
    }
    await d.close();
  });

  it('sends attribute and priority as given on a wire transport', async () => {
    const t = new ScriptedTransport({ capabilities: { taskAttributes: 'wire', priorityOnWire: true } });
    const d = await attach(t);
    await d.submit({ cdb: TUR, attribute: TaskAttribute.ACA, priority: 3 });
    expect(t.issued[0]).toMatchObject({ attribute: 'ACA', priority: 3 });
    await d.close();
  });

  it('caller tags: required, collisions refused (SAM-6 5.4), reusable after completion', async () => {
    const t = hold();
    const d = await attach(t, { tagPolicy: 'caller' });
    await expect(d.submit({ cdb: TUR })).rejects.toBeInstanceOf(InvalidFieldError);
    const first = d.submit({ cdb: TUR, tag: 7n });
    expect(first.tag).toBe(7n);
    await expect(d.submit({ cdb: TUR, tag: 7n })).rejects.toBeInstanceOf(TagCollisionError);
    await settle();
    t.complete(7n);
    expect((await first).tag).toBe(7n);
    const again = d.submit({ cdb: TUR, tag: 7n });
    await settle();
    t.complete(7n);
    await again;
    await d.close();
  });
});

describe('Device abort, timeouts, signals and close', () => {
  it('abort(tag) removes a queued task (true), refuses one in flight without in-flight abort, false when unknown', async () => {
    const t = hold();
    const d = await attach(t, { queueDepth: 1 });
    const a = d.submit({ cdb: TUR });
    const b = d.submit({ cdb: TUR });
    await settle();
    await expect(d.abort(b.tag as bigint)).resolves.toBe(true);
    const error = await b.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).canceled).toBe(true);
    await expect(d.abort(a.tag as bigint)).rejects.toBeInstanceOf(NotSupportedError);
    t.complete(a.tag as bigint);
    await a;
    await expect(d.abort(a.tag as bigint)).resolves.toBe(false);
    expect(t.issued.length).toBe(1);
    await d.close();
  });

  it('abort(tag) of a task in flight goes to the transport when it can abort', async () => {
    const t = hold({ capabilities: { abortInFlight: true } });
    const d = await attach(t);
    const a = d.submit({ cdb: TUR });
    await settle();
    await expect(d.abort(a.tag as bigint)).resolves.toBe(true);
    await expect(a).rejects.toBeInstanceOf(AbortedError);
    expect(t.aborts).toEqual([a.tag]);
    await d.close();
  });

  it('a kernel timeout (DID_TIME_OUT) is a TimeoutError whose cause carries the host byte', async () => {
    const d = await attach(new ScriptedTransport({ responder: () => ({ ...GOOD, hostStatus: 0x03 }) }));
    const error = await d.submit({ cdb: TUR, timeoutMs: 500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).timeoutMs).toBe(500);
    expect(((error as TimeoutError).cause as TransportError).hostStatusName).toBe('DID_TIME_OUT');
    await d.close();
  });

  it('keeps a timeout shorter than the path honours with its own timer; the tag stays taken until the transport finishes', async () => {
    const t = hold({ capabilities: { minTimeoutMs: 7000 } });
    const d = await attach(t, { tagPolicy: 'caller' });
    const started = performance.now();
    const p = d.submit({ cdb: TUR, timeoutMs: 50, tag: 1n });
    await expect(p).rejects.toBeInstanceOf(TimeoutError);
    expect(performance.now() - started).toBeLessThan(2000);
    await expect(d.submit({ cdb: TUR, tag: 1n })).rejects.toBeInstanceOf(TagCollisionError);
    t.complete(1n);
    await settle();
    const again = d.submit({ cdb: TUR, tag: 1n });
    await settle();
    t.complete(1n);
    await again;
    await d.close();
  });

  it('an AbortSignal removes a queued request and abandons one in flight', async () => {
    const t = hold();
    const d = await attach(t, { queueDepth: 1 });
    const c1 = new AbortController();
    const c2 = new AbortController();
    const inFlight = d.submit({ cdb: TUR, signal: c1.signal });
    const queued = d.submit({ cdb: TUR, signal: c2.signal });
    await settle();
    c2.abort(new Error('no longer needed'));
    expect(((await queued.catch((e: unknown) => e)) as AbortedError).reason).toEqual(
      new Error('no longer needed'),
    );
    c1.abort();
    const abandoned = (await inFlight.catch((e: unknown) => e)) as AbortedError;
    expect(abandoned).toBeInstanceOf(AbortedError);
    expect(abandoned.message).toMatch(/abandoned in flight/);
    expect(d.inFlight).toBe(1); // the path still runs it
    t.complete(inFlight.tag as bigint);
    await settle();
    expect(d.outstanding).toBe(0);
    await expect(d.submit({ cdb: TUR, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
    await d.close();
  });

  it('close() rejects queued requests, settles the in-flight ones through the transport, and refuses new ones', async () => {
    const t = hold();
    const d = await attach(t, { queueDepth: 1 });
    const a = d.submit({ cdb: TUR });
    const b = d.submit({ cdb: TUR });
    await settle();
    const closing = d.close();
    expect(d.close()).toBe(closing);
    await closing;
    await expect(a).rejects.toBeInstanceOf(AbortedError);
    await expect(b).rejects.toThrow(/device closed/);
    const after = await d.submit({ cdb: TUR }).catch((e: unknown) => e);
    expect(after).toBeInstanceOf(OsError);
    expect((after as OsError).code).toBe('EBADF');
    expect(t.closed).toBe(true);
  });

  it('await using closes it', async () => {
    const t = new ScriptedTransport();
    {
      await using d = await attach(t);
      await d.testUnitReady();
    }
    expect(t.closed).toBe(true);
  });
});

describe('Device permission pre-check', () => {
  const readOnlyBsg = {
    iface: 'bsg',
    openMode: 'read-only',
    capSysRawio: false,
    submission: 'ioctl',
    partition: false,
  } as const;

  it('refuses a write-class command on a read-only handle before it is queued, with explain()', async () => {
    const t = new ScriptedTransport({ permissions: readOnlyBsg, readOnly: true });
    const d = await attach(t);
    const error = (await d
      .submit({ cdb: WRITE10, dataOut: new Uint8Array(512) })
      .catch((e: unknown) => e)) as CommandPermissionError;
    expect(error).toBeInstanceOf(CommandPermissionError);
    expect(error.predicted).toBe(true);
    expect(error.errno).toBe(1);
    expect(error.decision.rule).toBe('write-safe-not-writable');
    expect(error.explain()).toMatch(/open the bsg node O_RDWR/);
    expect(t.issued.length).toBe(0);
    expect(d.checkPermission(TUR)?.allowed).toBe(true);
    await d.close();
  });

  it('turns a real EPERM from the kernel into the same error (predicted false)', async () => {
    const t = new ScriptedTransport({
      permissions: { ...readOnlyBsg, openMode: 'read-write' },
      responder: () => new OsError(1, 'EPERM', 'ioctl(SG_IO)', '/dev/bsg/0:0:0:0'),
    });
    const d = await attach(t);
    const error = (await d
      .submit({ cdb: WRITE10, dataOut: new Uint8Array(512) })
      .catch((e: unknown) => e)) as CommandPermissionError;
    expect(error).toBeInstanceOf(CommandPermissionError);
    expect(error.predicted).toBe(false);
    expect(error.cause).toBeInstanceOf(OsError);
    await d.close();
  });

  it('can be turned off', async () => {
    const t = new ScriptedTransport({ permissions: readOnlyBsg });
    const d = await attach(t, { permissionCheck: false });
    await d.submit({ cdb: WRITE10, dataOut: new Uint8Array(512) });
    expect(t.issued.length).toBe(1);
    await d.close();
  });
});

describe('Device tracing', () => {
  it('publishes submit, complete and error on node:diagnostics_channel', async () => {
    const events: [string, TraceEvent][] = [];
    const on = (name: string) => (message: unknown) => events.push([name, message as TraceEvent]);
    const handlers = Object.values(TRACE_CHANNELS).map((name) => [name, on(name)] as const);
    for (const [name, fn] of handlers) subscribe(name, fn);
    try {
      const d = await attach(
        new ScriptedTransport({ responder: (r) => (r.cdb[0] === 0 ? GOOD : { ...GOOD, hostStatus: 3 }) }),
      );
      await d.submit({ cdb: TUR });
      await d.submit({ cdb: WRITE10, dataOut: new Uint8Array(512) }).catch(() => undefined);
      await d.close();
    } finally {
      for (const [name, fn] of handlers) unsubscribe(name, fn);
    }
    expect(events.map(([n]) => n)).toEqual(['sgv4:submit', 'sgv4:complete', 'sgv4:submit', 'sgv4:error']);
    expect(events[1]?.[1]).toMatchObject({ device: 'scripted:0', kind: 'scripted', status: 0, category: 0 });
    expect(events[3]?.[1].error).toBeInstanceOf(TimeoutError);
    expect(typeof events[1]?.[1].durationMs).toBe('number');
  });
});

describe('Device transfers', () => {
  it('splits a read larger than the queue allows into READ(10)s into one buffer (core splitLargeTransfer)', async () => {
    const t = new ScriptedTransport({
      responder: (r) => {
        const data = r.dataIn as Uint8Array;
        const view = new DataView(r.cdb.buffer, r.cdb.byteOffset);
        const lba = view.getUint32(2);
        for (let i = 0; i < data.length; i += 512) data[i] = (lba + i / 512) & 0xff;
        return GOOD;
      },
    });
    const d = await attach(t);
    // max_segments 8 -> (8 - 1) worst-case 4 KiB segments = 28 KiB (56 blocks) per request: 4 requests.
    const data = await d.read(10n, 200, { blockSize: 512 });
    expect(t.issued.map((r) => r.cdb[0])).toEqual([0x28, 0x28, 0x28, 0x28]);
    expect(t.issued.map((r) => (r.dataIn as Uint8Array).length)).toEqual([28672, 28672, 28672, 16384]);
    for (let b = 0; b < 200; b++) expect(data[b * 512]).toBe((10 + b) & 0xff);
    await d.close();
  });

  it('uses READ(16) beyond 32-bit LBAs', async () => {
    const t = new ScriptedTransport();
    const d = await attach(t);
    await d.read(0x1_0000_0000n, 1, { blockSize: 512 });
    expect(t.issued[0]?.cdb[0]).toBe(0x88);
    await d.close();
  });

  it('waits for every chunk before reporting the first failure', async () => {
    let n = 0;
    const t = new ScriptedTransport({
      responder: () => (n++ === 1 ? checkCondition(0x03, 0x11, 0x00) : GOOD),
    });
    const d = await attach(t);
    await expect(d.write(0n, new Uint8Array(512 * 200), { blockSize: 512 })).rejects.toThrow(/Medium Error/);
    expect(t.issued.length).toBe(4);
    await expect(d.write(0n, new Uint8Array(100), { blockSize: 512 })).rejects.toBeInstanceOf(
      InvalidFieldError,
    );
    await d.close();
  });
});
