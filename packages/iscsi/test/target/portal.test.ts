/**
 * The portal and the embedded target it serves, driven by this package's initiator, both real
 * and in one process: every write path, digests, CHAP, login refusals, task management that
 * really ends commands (the target's events show it), the CmdSN window, sessions as I_T nexuses,
 * session reinstatement, discovery. Interoperability with other initiators is covered by the
 * host tests (libiscsi's tools and conformance suite) and the lab test (Linux's initiator).
 */
import { once } from 'node:events';
import { Socket } from 'node:net';
import { AbortedError, buildCdb, SenseKey, TimeoutError } from '@sgv4/core';
import type { TargetEvents } from '@sgv4/target';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BHS_LAYOUTS,
  encodePduToBytes,
  encodeText,
  type IscsiCommand,
  IscsiLoginError,
  type IscsiPortalOptions,
  IscsiSession,
  type IscsiSessionOptions,
  type ServedIscsiTarget,
  serveIscsiTarget,
} from '../../src/index.js';

const IQN = 'iqn.2026-11.dev.sgv4:portal-test';
let nextPort = 13274;
let served: ServedIscsiTarget | undefined;
const sessions: IscsiSession[] = [];

afterEach(async () => {
  for (const s of sessions.splice(0)) s.close();
  await served?.close();
  served = undefined;
});

async function serve(options: Partial<IscsiPortalOptions> & { luns?: string[] } = {}): Promise<number> {
  const port = nextPort++;
  if (nextPort > 13279) nextPort = 13274;
  served = await serveIscsiTarget({
    address: `127.0.0.1:${port}`,
    iqn: IQN,
    luns: options.luns ?? ['mem:16M'],
    ...options,
  });
  return port;
}

async function login(port: number, options: Partial<IscsiSessionOptions> = {}): Promise<IscsiSession> {
  const s = await IscsiSession.login({
    host: '127.0.0.1',
    port,
    targetName: IQN,
    keepalive: false,
    ...options,
  });
  sessions.push(s);
  // The first command of a new I_T nexus meets the power-on unit attention.
  const r = await s.execute({ cdb: buildCdb('TEST UNIT READY') });
  if (r.status !== 0) expect(r.decodedSense?.senseKey).toBe(SenseKey.UNIT_ATTENTION);
  return s;
}

const read16 = (lba: number, blocks: number) => buildCdb('READ(16)', { lba, transferLength: blocks });
const write16 = (lba: number, blocks: number) => buildCdb('WRITE(16)', { lba, transferLength: blocks });
const pattern = (n: number, seed: number) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 9)) & 0xff);

/** Resolves with the first target event of `name` matching `match`. */
function targetEvent<E extends keyof TargetEvents>(
  name: E,
  match: (e: TargetEvents[E]) => boolean,
): Promise<TargetEvents[E]> {
  return new Promise((resolve) => {
    const listener = (e: TargetEvents[E]) => {
      if (!match(e)) return;
      served!.target.off(name, listener);
      resolve(e);
    };
    served!.target.on(name, listener);
  });
}

describe('data through the portal', () => {
  it('every write path (immediate, unsolicited, R2T, several R2Ts outstanding) and digests move the bytes intact', async () => {
    const port = await serve({ maxBurstLength: 16384, firstBurstLength: 8192, maxOutstandingR2T: 4 });
    const variants: Partial<IscsiSessionOptions>[] = [
      {},
      { initialR2T: true },
      { immediateData: false, initialR2T: true, maxOutstandingR2T: 4 },
      { headerDigest: 'CRC32C', dataDigest: 'CRC32C', maxRecvDataSegmentLength: 512 },
    ];
    let lba = 0;
    for (const [v, options] of variants.entries()) {
      const s = await login(port, options);
      if (options.headerDigest) expect(s.parameters).toMatchObject({ headerDigest: true, dataDigest: true });
      expect(s.parameters).toMatchObject({ maxBurstLength: 16384, firstBurstLength: 8192 });
      for (const blocks of [1, 9, 130]) {
        const data = pattern(blocks * 512, v * 10 + blocks);
        expect((await s.execute({ cdb: write16(lba, blocks), dataOut: data })).status).toBe(0);
        const back = new Uint8Array(data.length);
        const r = await s.execute({ cdb: read16(lba, blocks), dataIn: back });
        expect(r).toMatchObject({ status: 0, dinResid: 0, dataInLength: data.length });
        expect(Buffer.compare(back, data)).toBe(0);
        lba += blocks;
      }
      await s.logout();
    }
  });

  it('reports residuals and CHECK CONDITION sense the target produced', async () => {
    const port = await serve();
    const s = await login(port);
    const inquiry = await s.execute({
      cdb: buildCdb('INQUIRY', { allocationLength: 255 }),
      dataIn: new Uint8Array(255),
    });
    expect(inquiry.dinResid).toBe(255 - inquiry.dataInLength);
    expect(inquiry.dinResid).toBeGreaterThan(0);
    const beyond = await s.execute({ cdb: read16(16 << 11, 1), dataIn: new Uint8Array(512) });
    expect(beyond.decodedSense).toMatchObject({ senseKey: SenseKey.ILLEGAL_REQUEST, asc: 0x21 });
    // A write whose Expected Data Transfer Length is one block short of its CDB: the block
    // received is written, the overflow reported (FCP-4 9.4.2 a, RFC 7143 §11.4.5.2).
    const w = await s.execute({ cdb: write16(10, 2), dataOut: new Uint8Array(512).fill(0xbb) });
    expect(w).toMatchObject({ status: 0, doutResid: -512 });
  });

  it('writes beyond the session’s buffer budget are answered TASK SET FULL, without allocating', async () => {
    const port = await serve({ maxSessionBufferBytes: 64 << 10 });
    const s = await login(port, { initialR2T: true, immediateData: false });
    // Sent together: each 48 KiB write is held for its R2Ts, so the second one does not fit.
    const data = pattern(48 << 10, 3);
    const [first, second] = await Promise.all([
      s.execute({ cdb: write16(0, 96), dataOut: data }),
      s.execute({ cdb: write16(96, 96), dataOut: data }),
    ]);
    expect(first.status).toBe(0);
    expect(second.status).toBe(0x28);
    // The budget is released as tasks end: the retry fits.
    expect((await s.execute({ cdb: write16(96, 96), dataOut: data })).status).toBe(0);
    const back = new Uint8Array(96 << 10);
    expect((await s.execute({ cdb: read16(0, 192), dataIn: back })).status).toBe(0);
    expect(Buffer.compare(back.subarray(48 << 10), data)).toBe(0);
  });
});

describe('login', () => {
  it('CHAP one-way and mutual; refusals carry the status class and detail', async () => {
    const port = await serve({
      chap: {
        accounts: { alice: 'alice-secret-01' },
        targetCredentials: { username: 'portal', secret: 'portal-secret-02' },
      },
    });
    const noCredentials = await login(port).catch((e: unknown) => e);
    expect(noCredentials).toBeInstanceOf(IscsiLoginError);
    const wrong = await login(port, { credentials: { username: 'alice', secret: 'nope-nope-nope' } }).catch(
      (e: unknown) => e,
    );
    expect(wrong).toMatchObject({ statusClass: 2, statusDetail: 1 });
    await (await login(port, { credentials: { username: 'alice', secret: 'alice-secret-01' } })).logout();
    const mutual = await login(port, {
      credentials: { username: 'alice', secret: 'alice-secret-01' },
      targetCredentials: { username: 'portal', secret: 'portal-secret-02' },
    });
    await mutual.logout();
    const impostor = await login(port, {
      credentials: { username: 'alice', secret: 'alice-secret-01' },
      targetCredentials: { username: 'portal', secret: 'not-the-portal' },
    }).catch((e: unknown) => e);
    expect((impostor as Error).message).toMatch(/the target does not know the secret/);
    // Discovery needs no CHAP unless asked for.
    expect(await IscsiSession.discover({ host: '127.0.0.1', port })).toEqual([
      { targetName: IQN, portals: [{ host: '127.0.0.1', port, portalGroupTag: 1 }] },
    ]);
  });

  it('refuses an unknown target name (2/03) and a second connection for a session (2/0a)', async () => {
    const port = await serve();
    const refused: unknown[] = [];
    served!.portal.on('loginRefused', (e) => refused.push(e));
    const unknown = await IscsiSession.login({
      host: '127.0.0.1',
      port,
      targetName: 'iqn.2026-11.dev.sgv4:nobody',
      keepalive: false,
    }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ statusClass: 2, statusDetail: 3, statusText: 'target not found' });
    expect(refused).toEqual([expect.objectContaining({ statusClass: 2, statusDetail: 3 })]);
  });

  it('a login with the same ISID reinstates the session: the old one ends (RFC 7143 §6.3.5)', async () => {
    const port = await serve();
    const first = await login(port);
    const lost = once(first, 'connectionLost');
    const second = await login(port, { isid: first.isid });
    await lost;
    expect(first.state).toBe('closed');
    expect((await second.execute({ cdb: buildCdb('TEST UNIT READY') })).status).toBe(0);
  });
});

describe('task management reaches the target', () => {
  /** A command the target holds (5 s of latency while the test runs; see afterEach). */
  async function held(s: IscsiSession, tag: bigint, extra: Partial<IscsiCommand> = {}) {
    await served!.target.configure(0, { latency: { nanoseconds: 5e9 } });
    const started = targetEvent('task-started', (e) => e.task.tag === tag);
    const promise = s.execute({ cdb: read16(0, 1), dataIn: new Uint8Array(512), tag, ...extra });
    const settled = promise.then(
      (r) => r,
      (e: unknown) => e,
    );
    await started;
    return { settled };
  }

  it('ABORT TASK of a command the target is holding really aborts it', async () => {
    const port = await serve();
    const s = await login(port);
    const { settled: outcome } = await held(s, 41n);
    const aborted = targetEvent('task-aborted', (e) => e.task.tag === 41n);
    const tmf = targetEvent('tmf-received', () => true);
    expect(await s.abortTask(41n)).toBe(true);
    expect(await outcome).toBeInstanceOf(AbortedError);
    expect((await tmf).request).toMatchObject({ function: 'ABORT_TASK', tag: 41 });
    expect((await aborted).abortedBy).toBe('ABORT_TASK');
    // The tag is free again at once.
    await served!.target.configure(0, { latency: { nanoseconds: 0 } });
    expect((await s.execute({ cdb: buildCdb('TEST UNIT READY'), tag: 41n })).status).toBe(0);
  });

  it('a command past its timeout is answered TimeoutError and aborted at the target', async () => {
    const port = await serve();
    const s = await login(port);
    const aborted = targetEvent('task-aborted', () => true);
    const { settled } = await held(s, 7n, { timeoutMs: 300 });
    expect(await settled).toBeInstanceOf(TimeoutError);
    expect((await aborted).abortedBy).toBe('ABORT_TASK');
  });

  it('LOGICAL UNIT RESET, ABORT TASK SET, CLEAR TASK SET and TARGET WARM RESET end what is held', async () => {
    const port = await serve();
    const s = await login(port);
    for (const fn of [
      'LOGICAL_UNIT_RESET',
      'ABORT_TASK_SET',
      'CLEAR_TASK_SET',
      'TARGET_WARM_RESET',
    ] as const) {
      const { settled: outcome } = await held(s, 90n);
      const result = await s.taskManagement(fn);
      expect(result, fn).toMatchObject({ responseText: 'FUNCTION COMPLETE', abortedTags: [90n] });
      expect(await outcome).toBeInstanceOf(AbortedError);
      // A reset leaves a unit attention for the nexus; clear it for the next round.
      await served!.target.configure(0, { latency: { nanoseconds: 0 } });
      await s.execute({ cdb: buildCdb('TEST UNIT READY') });
    }
    expect((await s.taskManagement('CLEAR_ACA')).responseText).toBe('TASK MANAGEMENT FUNCTION NOT SUPPORTED');
  });

  it('TARGET COLD RESET answers, then drops the connection; a reconnect policy logs in again', async () => {
    const port = await serve();
    const s = await login(port, { reconnect: { attempts: 3, delayMs: 20 } });
    const reconnected = once(s, 'reconnected');
    expect((await s.taskManagement('TARGET_COLD_RESET')).responseText).toBe('FUNCTION COMPLETE');
    await reconnected;
    const r = await s.execute({ cdb: buildCdb('TEST UNIT READY') });
    expect(r.decodedSense?.senseKey).toBe(SenseKey.UNIT_ATTENTION);
  });
});

describe('sessions and ordering', () => {
  it('each session is its own I_T nexus: a RESERVE(6) from one conflicts with the other', async () => {
    const port = await serve();
    const a = await login(port);
    const b = await login(port, { initiatorName: 'iqn.2026-11.dev.sgv4:other-host' });
    expect(served!.portal.sessions.map((x) => x.nexus.initiator)).toEqual([
      expect.stringMatching(/^iqn\.2026-01\.dev\.sgv4:.*,i,0x[0-9a-f]{12}$/),
      expect.stringMatching(/^iqn\.2026-11\.dev\.sgv4:other-host,i,0x/),
    ]);
    expect((await a.execute({ cdb: Uint8Array.of(0x16, 0, 0, 0, 0, 0) })).status).toBe(0);
    expect((await b.execute({ cdb: read16(0, 1), dataIn: new Uint8Array(512) })).status).toBe(0x18);
    expect((await a.execute({ cdb: Uint8Array.of(0x17, 0, 0, 0, 0, 0) })).status).toBe(0);
  });

  it('task attributes arrive as sent, and the CmdSN window is the portal’s', async () => {
    const port = await serve({ commandWindow: 4 });
    const s = await login(port);
    const w = s.commandWindow;
    expect(((w.maxCmdSN - w.expCmdSN) >>> 0) + 1).toBe(4);
    const seen: string[] = [];
    served!.target.on('task-received', (e) => seen.push(`${e.task.tag}:${e.attribute}`));
    await Promise.all(
      (['SIMPLE', 'ORDERED', 'HEAD_OF_QUEUE', 'SIMPLE', 'ORDERED'] as const).map((attribute, i) =>
        s.execute({ cdb: read16(i, 1), dataIn: new Uint8Array(512), tag: BigInt(200 + i), attribute }),
      ),
    );
    expect(seen.sort()).toEqual([
      '200:SIMPLE',
      '201:ORDERED',
      '202:HEAD_OF_QUEUE',
      '203:SIMPLE',
      '204:ORDERED',
    ]);
  });
});

describe('fuzzing the portal with initiator PDUs', () => {
  it('random PDUs after a login never crash it, and it keeps serving', async () => {
    const port = await serve();
    const kinds = [
      'NOP_OUT',
      'SCSI_COMMAND',
      'TASK_MANAGEMENT_REQUEST',
      'TEXT_REQUEST',
      'DATA_OUT',
      'LOGOUT_REQUEST',
      'SNACK_REQUEST',
    ] as const;
    let logins = 0;
    served!.portal.on('login', () => logins++);
    const loginBytes = encodePduToBytes({
      kind: 'LOGIN_REQUEST',
      immediate: true,
      header: { transit: true, csg: 1, nsg: 3, isid: Uint8Array.of(0x80, 1, 2, 3, 0, 0), itt: 1, cmdSN: 1 },
      data: encodeText([
        ['InitiatorName', 'iqn.2026-11.dev.sgv4:fuzzer'],
        ['TargetName', IQN],
      ]),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            kind: fc.constantFrom(...kinds),
            seed: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 16, maxLength: 16 }),
            immediate: fc.boolean(),
            data: fc.uint8Array({ maxLength: 700 }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        async (pdus) => {
          const socket = new Socket();
          await new Promise<void>((resolve, reject) => {
            socket.once('error', reject);
            socket.connect(port, '127.0.0.1', () => resolve());
          });
          socket.on('error', () => {});
          socket.write(loginBytes);
          for (const p of pdus) {
            const header: Record<string, unknown> = {};
            for (const [i, [name, f]] of BHS_LAYOUTS[p.kind].entries.entries()) {
              const r = p.seed[i % p.seed.length]!;
              header[name] =
                f.kind === 'flag'
                  ? (r & 1) === 1
                  : f.kind === 'bits'
                    ? r % (1 << f.width)
                    : f.kind === 'u64'
                      ? BigInt(r & 3) << 48n
                      : f.kind === 'bytes'
                        ? Uint8Array.from({ length: f.length }, (_, j) => (r >> j) & 0xff)
                        : f.kind === 'u8'
                          ? r & 0xff
                          : f.kind === 'u16'
                            ? r & 0xffff
                            : f.kind === 'u24'
                              ? r & 0xffffff
                              : r % 4 === 0
                                ? r & 0xff
                                : r;
            }
            socket.write(
              encodePduToBytes({ kind: p.kind, immediate: p.immediate, header, data: p.data } as never),
            );
          }
          await new Promise((r) => setTimeout(r, 30));
          socket.destroy();
        },
      ),
      { numRuns: 60 },
    );
    await new Promise((r) => setTimeout(r, 100));
    // Every run reached the full feature phase before its random PDUs.
    expect(logins).toBeGreaterThanOrEqual(60);
    const s = await login(port);
    expect((await s.execute({ cdb: buildCdb('TEST UNIT READY') })).status).toBe(0);
  }, 60_000);
});
