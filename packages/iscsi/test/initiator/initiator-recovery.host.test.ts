/**
 * Authentication and failure handling against a real tgt: CHAP one-way and mutual (tgtadm
 * accounts), a lost connection settling every request, reconnect and reissue, NOP-Out
 * keepalive noticing a stopped target, and tgt's own NOP-In pings answered.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { promisify } from 'node:util';
import { buildCdb, SenseKey } from '@sgv4/core';
import { describe, expect, it } from 'vitest';
import {
  type IscsiCommand,
  type IscsiCommandResult,
  IscsiConnectionLostError,
  IscsiLoginError,
  IscsiSession,
  type IscsiSessionOptions,
} from '../../src/index.js';
import { haveTgt, startTgt, type TgtTarget } from '../support/tgt-target.js';

const exec = promisify(execFile);
const BLOCK = 512;

const write16 = (lba: number, blocks: number) => buildCdb('WRITE(16)', { lba, transferLength: blocks });
const read16 = (lba: number, blocks: number) => buildCdb('READ(16)', { lba, transferLength: blocks });

function login(tgt: TgtTarget, options: Partial<IscsiSessionOptions> = {}): Promise<IscsiSession> {
  return IscsiSession.login({ host: '127.0.0.1', port: tgt.port, targetName: tgt.iqn, lun: 1, ...options });
}

/** TEST UNIT READY until the power-on unit attention is consumed. */
async function ready(session: IscsiSession): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const r = await session.execute({ cdb: buildCdb('TEST UNIT READY') });
    if (r.status === 0) return;
    expect(r.decodedSense?.senseKey).toBe(SenseKey.UNIT_ATTENTION);
  }
}

function fileBytes(path: string, offset: number, length: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const out = new Uint8Array(length);
    readSync(fd, out, 0, length, offset);
    return out;
  } finally {
    closeSync(fd);
  }
}

async function withTgt(
  options: Parameters<typeof startTgt>[0],
  body: (tgt: TgtTarget) => Promise<void>,
): Promise<void> {
  const tgt = await startTgt(options);
  try {
    await body(tgt);
  } finally {
    await tgt.stop();
  }
}

const alice = { username: 'alice', secret: 'alice-secret-01' };
const targetAccount = { username: 'tgt-proof', secret: 'target-secret-02' };

describe.skipIf(!haveTgt)('CHAP against tgt accounts', () => {
  it('one-way and mutual CHAP log in; a missing or wrong secret is refused with the status class and detail', () =>
    withTgt(
      {
        port: 13263,
        controlPort: 13293,
        incoming: { user: alice.username, secret: alice.secret },
        outgoing: { user: targetAccount.username, secret: targetAccount.secret },
      },
      async (tgt) => {
        const none = await login(tgt).catch((e: unknown) => e);
        expect(none).toBeInstanceOf(IscsiLoginError);
        expect((none as IscsiLoginError).message).toMatch(/AuthMethod|authentication/);

        const wrong = await login(tgt, {
          credentials: { username: 'alice', secret: 'not-the-secret' },
        }).catch((e: unknown) => e);
        expect(wrong).toBeInstanceOf(IscsiLoginError);
        expect(wrong).toMatchObject({
          statusClass: 2,
          statusDetail: 1,
          statusText: 'authentication failure',
        });
        expect((wrong as IscsiLoginError).message).toContain('status class 2 initiator error, detail 0x01');
        expect((wrong as IscsiLoginError).exitStatus).toBe(63);

        const oneWay = await login(tgt, { credentials: alice });
        await ready(oneWay);
        await oneWay.logout();

        const mutual = await login(tgt, { credentials: alice, targetCredentials: targetAccount });
        await ready(mutual);
        await mutual.logout();

        const impostor = await login(tgt, {
          credentials: alice,
          targetCredentials: { username: targetAccount.username, secret: 'what-we-expect-03' },
        }).catch((e: unknown) => e);
        expect(impostor).toBeInstanceOf(IscsiLoginError);
        expect((impostor as IscsiLoginError).message).toMatch(
          /CHAP: mutual CHAP: CHAP_R: the target does not know the secret/,
        );

        if (existsSync('/usr/bin/iscsi-inq')) {
          // libiscsi logs in with the same account, so the account set-up is not what made it work.
          const { stdout } = await exec('iscsi-inq', [
            `iscsi://alice%${alice.secret}@127.0.0.1:${tgt.port}/${tgt.iqn}/1`,
          ]);
          expect(stdout).toContain('Product:VIRTUAL-DISK');
        }
      },
    ));
});

describe.skipIf(!haveTgt)('connection loss', () => {
  it('without a reconnect policy every request settles: answered, or IscsiConnectionLostError', () =>
    withTgt({ port: 13264, controlPort: 13294 }, async (tgt) => {
      const session = await login(tgt, { immediateData: false, initialR2T: true });
      await ready(session);
      const closed = once(session, 'closed');
      const held = session.execute({
        cdb: write16(0, 8),
        dataOutSource: { length: 8 * BLOCK, read: () => new Promise<Uint8Array>(() => {}) },
      });
      const reads = Array.from({ length: 16 }, (_, i) =>
        session.execute({ cdb: read16(i * 64, 64), dataIn: new Uint8Array(64 * BLOCK) }),
      );
      tgt.process.kill('SIGKILL');
      const outcomes = await Promise.allSettled([held, ...reads]);
      expect(outcomes[0]).toMatchObject({ status: 'rejected', reason: expect.any(IscsiConnectionLostError) });
      for (const o of outcomes) {
        if (o.status === 'fulfilled') expect(o.value.status).toBe(0);
        else expect(o.reason).toBeInstanceOf(IscsiConnectionLostError);
      }
      expect((outcomes[0] as PromiseRejectedResult).reason.hostStatusName).toBe('DID_TRANSPORT_DISRUPTED');
      await closed;
      expect(session.state).toBe('closed');
      await expect(session.execute({ cdb: buildCdb('TEST UNIT READY') })).rejects.toBeInstanceOf(
        IscsiConnectionLostError,
      );
    }));

  it('with a reconnect policy a write the target closed on is sent once more after re-login, and lands', () =>
    withTgt({ port: 13265, controlPort: 13295 }, async (tgt) => {
      const session = await login(tgt, {
        immediateData: false,
        initialR2T: true,
        reconnect: { attempts: 5, delayMs: 50 },
      });
      await ready(session);
      const data = Uint8Array.from({ length: 8 * BLOCK }, (_, i) => (i * 7 + 3) & 0xff);
      let reads = 0;
      let firstAsked: () => void = () => {};
      const asked = new Promise<void>((r) => {
        firstAsked = r;
      });
      const command: IscsiCommand = {
        cdb: write16(100, 8),
        dataOutSource: {
          length: data.length,
          read: (offset, length) => {
            reads++;
            if (reads === 1) {
              firstAsked();
              return new Promise<Uint8Array>(() => {}); // the first attempt never gets its data
            }
            return data.subarray(offset, offset + length);
          },
        },
      };
      const write = session.execute(command);
      await asked;
      const lost = once(session, 'connectionLost');
      const reconnected = once(session, 'reconnected');
      // tgt closes the connection itself (tgtadm --op delete --mode conn).
      const show = await tgt.admin('--op', 'show', '--mode', 'conn', '--tid', '1');
      const sid = /Session: (\d+)/.exec(show)?.[1];
      expect(sid).toBeDefined();
      await tgt.admin('--op', 'delete', '--mode', 'conn', '--tid', '1', '--sid', sid!, '--cid', '0');
      const [loss] = await lost;
      expect(loss.reconnecting).toBe(true);
      const [again] = await reconnected;
      expect(again.reissued).toBe(1);
      const result: IscsiCommandResult = await write;
      // The new session starts with a unit attention on some targets; tgt's I_T nexus is new.
      expect([0, 2]).toContain(result.status);
      expect(result.reissued).toBe(true);
      if (result.status === 0) {
        expect(Buffer.compare(fileBytes(tgt.files.get(1)!, 100 * BLOCK, data.length), data)).toBe(0);
      } else {
        expect(result.decodedSense?.senseKey).toBe(SenseKey.UNIT_ATTENTION);
      }
      await ready(session);
      await session.logout();
    }));

  it('NOP-Out keepalive notices a target that stopped answering, and fails what was in flight', () =>
    withTgt({ port: 13266, controlPort: 13296 }, async (tgt) => {
      const session = await login(tgt, { keepalive: { intervalMs: 100, timeoutMs: 300 } });
      await ready(session);
      tgt.process.kill('SIGSTOP');
      const started = performance.now();
      const lost = once(session, 'connectionLost');
      const stuck = session.execute({
        cdb: read16(0, 8),
        dataIn: new Uint8Array(8 * BLOCK),
        timeoutMs: 10_000,
      });
      await expect(stuck).rejects.toBeInstanceOf(IscsiConnectionLostError);
      const [loss] = await lost;
      expect(loss.reason).toMatch(/timed out after 300 ms/);
      expect(performance.now() - started).toBeLessThan(2000);
    }));

  it("answers tgt's NOP-In pings, so tgt keeps the connection", () =>
    withTgt(
      { port: 13267, controlPort: 13297, targetParams: ['nop_interval=1', 'nop_count=1'] },
      async (tgt) => {
        const session = await login(tgt, { keepalive: false });
        await ready(session);
        let pings = 0;
        let losses = 0;
        session.on('targetPing', () => pings++);
        session.on('connectionLost', () => losses++);
        await new Promise((r) => setTimeout(r, 2600));
        expect(pings).toBeGreaterThanOrEqual(2);
        expect(losses).toBe(0);
        await ready(session);
        await session.logout();
      },
    ));
});
