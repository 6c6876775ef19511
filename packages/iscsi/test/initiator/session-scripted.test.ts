/**
 * Initiator session behaviour a real target cannot be made to show on demand, against a
 * scripted peer (see scripted-target.ts): asynchronous messages, rejects, sequence and digest
 * errors, a zero command window, bidirectional and extended-CDB commands, residuals, a text
 * answer spread over PDUs, login refusals.
 */
import { once } from 'node:events';
import { AbortedError, HostStatus, InvalidFieldError, SenseKey, Sgv4Error } from '@sgv4/core';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AhsType,
  BHS_LAYOUTS,
  encodePduToBytes,
  encodeText,
  fullCdb,
  type IscsiCommandResult,
  IscsiConnectionLostError,
  IscsiDigestError,
  IscsiLoginError,
  IscsiProtocolError,
  IscsiRejectError,
  IscsiSession,
  type IscsiSessionOptions,
  type Pdu,
  RESERVED_TAG,
} from '../../src/index.js';
import { acceptLogin, type PeerConnection, ScriptedTarget } from '../support/scripted-target.js';

// Ports of this workstream's range (13280-13287), one per test in turn.
let nextPort = 13280;
let target: ScriptedTarget | undefined;
afterEach(async () => {
  await target?.close();
  target = undefined;
});

async function setUp(
  script: (conn: PeerConnection, index: number) => Promise<void>,
  options: Partial<IscsiSessionOptions> = {},
): Promise<IscsiSession> {
  const port = nextPort++;
  if (nextPort > 13287) nextPort = 13280;
  target = await ScriptedTarget.listen(port, (conn, i) => {
    script(conn, i).catch(() => conn.close());
  });
  return IscsiSession.login({
    host: '127.0.0.1',
    port,
    targetName: 'iqn.2026-11.test:scripted',
    keepalive: false,
    ...options,
  });
}

const TUR = Uint8Array.of(0, 0, 0, 0, 0, 0);
const READ10 = Uint8Array.of(0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0);

function respond(
  conn: PeerConnection,
  cmd: Pdu<'SCSI_COMMAND'>,
  fields: Partial<{
    status: number;
    response: number;
    overflow: boolean;
    underflow: boolean;
    residualCount: number;
    bidiReadUnderflow: boolean;
    bidiReadResidualCount: number;
  }> = {},
  data?: Uint8Array,
): void {
  conn.send({
    kind: 'SCSI_RESPONSE',
    header: {
      final: true,
      itt: cmd.header.itt,
      statSN: conn.statSN++,
      expCmdSN: (cmd.header.cmdSN + 1) >>> 0,
      maxCmdSN: (cmd.header.cmdSN + 32) >>> 0,
      ...fields,
    },
    ...(data ? { data } : {}),
  });
}

function senseSegment(sense: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + sense.length);
  out[0] = sense.length >> 8;
  out[1] = sense.length & 0xff;
  out.set(sense, 2);
  return out;
}

describe('login', () => {
  it('names a redirection and its TargetAddress', async () => {
    const error = await setUp(async (conn) => {
      const req = await conn.expect('LOGIN_REQUEST');
      conn.send({
        kind: 'LOGIN_RESPONSE',
        header: { isid: req.header.isid, itt: req.header.itt, statusClass: 1, statusDetail: 2 },
        data: encodeText([['TargetAddress', '10.0.0.9:3260,1']]),
      });
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IscsiLoginError);
    expect(error).toMatchObject({ statusClass: 1, statusDetail: 2, targetAddress: '10.0.0.9:3260,1' });
    expect((error as Error).message).toMatch(
      /refused: target moved permanently \(status class 1 redirection, detail 0x02\)/,
    );
  });

  it('refuses an answer the result function does not allow', async () => {
    const bad = await setUp(
      async (conn) => {
        const req = await conn.expect('LOGIN_REQUEST');
        conn.send({
          kind: 'LOGIN_RESPONSE',
          header: { transit: true, csg: 0, nsg: 1, isid: req.header.isid, itt: req.header.itt },
          data: encodeText([['AuthMethod', 'None']]),
        });
        const op = await conn.expect('LOGIN_REQUEST');
        conn.send({
          kind: 'LOGIN_RESPONSE',
          header: { transit: true, csg: 1, nsg: 3, isid: op.header.isid, itt: op.header.itt },
          // ...but a MaxBurstLength above the offer is a protocol error (RFC 7143 §6.2).
          data: encodeText([['MaxBurstLength', '1048576']]),
        });
      },
      { maxBurstLength: 65536 },
    ).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(IscsiProtocolError);
    expect((bad as Error).message).toMatch(/MaxBurstLength=1048576 answering MaxBurstLength=65536/);
  });

  it('refuses a target that drops a required digest', async () => {
    const error = await setUp(
      async (conn) => {
        await acceptLogin(conn, { local: { HeaderDigest: 'None' } });
      },
      { headerDigest: 'CRC32C' },
    ).catch((e: unknown) => e);
    // answerOffer answers Reject to a lone CRC32C offer it does not support.
    expect(error).toBeInstanceOf(IscsiLoginError);
    expect((error as Error).message).toMatch(/HeaderDigest=CRC32C was required and the target refused it/);
  });
});

describe('commands and data', () => {
  it('sends a 32-byte CDB in an Extended CDB AHS', async () => {
    const cdb = Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 0x7f : i));
    let seen: Uint8Array | undefined;
    const session = await setUp(async (conn) => {
      await acceptLogin(conn);
      const cmd = await conn.expect('SCSI_COMMAND');
      expect(cmd.ahs[0]?.type).toBe(AhsType.EXTENDED_CDB);
      seen = fullCdb(cmd.header.cdb, cmd.ahs);
      respond(conn, cmd);
    });
    const r = await session.execute({ cdb });
    expect(r.status).toBe(0);
    expect(seen).toEqual(cdb);
    session.close();
  });

  it('bidirectional: write by R2T, read by Data-In sharing one sequence counter, both residuals', async () => {
    const session = await setUp(async (conn) => {
      await acceptLogin(conn);
      const cmd = await conn.expect('SCSI_COMMAND');
      expect(cmd.header).toMatchObject({ read: true, write: true, expectedDataTransferLength: 1024 });
      expect(cmd.ahs.find((a) => a.type === AhsType.BIDIRECTIONAL_READ_LENGTH)).toBeDefined();
      const base = {
        lun: 0n,
        itt: cmd.header.itt,
        expCmdSN: cmd.header.cmdSN + 1,
        maxCmdSN: cmd.header.cmdSN + 32,
      };
      conn.send({
        kind: 'DATA_IN',
        header: { ...base, dataSN: 0, bufferOffset: 0 },
        data: new Uint8Array(256).fill(1),
      });
      conn.send({
        kind: 'R2T',
        header: { ...base, ttt: 5, r2tSN: 1, bufferOffset: 0, desiredDataTransferLength: 1024 },
      });
      const out = await conn.expect('DATA_OUT');
      expect(out.header).toMatchObject({ ttt: 5, dataSN: 0, final: true, bufferOffset: 0 });
      expect(out.data.length).toBe(1024);
      conn.send({
        kind: 'DATA_IN',
        header: { ...base, dataSN: 2, bufferOffset: 256 },
        data: new Uint8Array(256).fill(2),
      });
      respond(conn, cmd, { bidiReadUnderflow: true, bidiReadResidualCount: 512 });
    });
    const dataIn = new Uint8Array(1024);
    const r = await session.execute({
      cdb: Uint8Array.of(0x53, 0, 0, 0, 0, 0, 0, 0, 2, 0),
      dataIn,
      dataOut: new Uint8Array(1024),
    });
    expect(r).toMatchObject({ status: 0, dinResid: 512, doutResid: 0, dataInLength: 512 });
    expect(dataIn.subarray(0, 512)).toEqual(Uint8Array.from({ length: 512 }, (_, i) => (i < 256 ? 1 : 2)));
    session.close();
  });

  it('reports overflow as a negative residual, an underflow past the buffer as DID_BAD_TARGET, and truncates sense', async () => {
    const session = await setUp(async (conn) => {
      await acceptLogin(conn);
      const a = await conn.expect('SCSI_COMMAND');
      respond(conn, a, { overflow: true, residualCount: 100 });
      const b = await conn.expect('SCSI_COMMAND');
      respond(conn, b, { underflow: true, residualCount: 9999 });
      const c = await conn.expect('SCSI_COMMAND');
      const sense = new Uint8Array(40);
      sense.set([0x70, 0, SenseKey.MEDIUM_ERROR, 0, 0, 0, 0, 32, 0, 0, 0, 0, 0x11, 0]);
      respond(conn, c, { status: 2 }, senseSegment(sense));
      const d = await conn.expect('SCSI_COMMAND');
      respond(conn, d, { response: 1 });
    });
    expect((await session.execute({ cdb: READ10, dataIn: new Uint8Array(4096) })).dinResid).toBe(-100);
    expect((await session.execute({ cdb: READ10, dataIn: new Uint8Array(4096) })).hostStatus).toBe(
      HostStatus.DID_BAD_TARGET,
    );
    const c = await session.execute({ cdb: READ10, dataIn: new Uint8Array(4096), maxSenseLength: 18 });
    expect(c.sense.length).toBe(18);
    expect(c.decodedSense).toMatchObject({ senseKey: SenseKey.MEDIUM_ERROR, asc: 0x11 });
    const d = await session.execute({ cdb: TUR });
    expect(d.hostStatus).toBe(HostStatus.DID_ERROR); // iSCSI Response 1: target failure
    session.close();
  });

  it('a Reject of one command fails that command only', async () => {
    const session = await setUp(async (conn) => {
      await acceptLogin(conn);
      const cmd = await conn.expect('SCSI_COMMAND');
      conn.send({
        kind: 'REJECT',
        header: {
          final: true,
          reason: 0x05,
          itt: RESERVED_TAG,
          statSN: conn.statSN++,
          expCmdSN: cmd.header.cmdSN + 1,
          maxCmdSN: cmd.header.cmdSN + 32,
        },
        data: encodePduToBytes({
          kind: 'SCSI_COMMAND',
          header: { itt: cmd.header.itt, cdb: cmd.header.cdb },
        }).subarray(0, 48),
      });
      respond(conn, await conn.expect('SCSI_COMMAND'));
    });
    const rejected = await session.execute({ cdb: TUR }).catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(IscsiRejectError);
    expect(rejected).toMatchObject({ reason: 5, reasonName: 'COMMAND NOT SUPPORTED' });
    expect((await session.execute({ cdb: TUR })).status).toBe(0);
    session.close();
  });
});

describe('the CmdSN window', () => {
  it('a zero window holds commands until a NOP-In reopens it; an update moving backwards is ignored', async () => {
    let sent = 0;
    const session = await setUp(async (conn) => {
      const login = await acceptLogin(conn, { window: 0 });
      await new Promise((r) => setTimeout(r, 50));
      // A backwards MaxCmdSN is ignored (RFC 7143 §4.2.2.1)...
      conn.send({
        kind: 'NOP_IN',
        header: {
          final: true,
          itt: RESERVED_TAG,
          ttt: RESERVED_TAG,
          statSN: conn.statSN,
          expCmdSN: login.cmdSN,
          maxCmdSN: login.cmdSN - 5,
        },
      });
      await new Promise((r) => setTimeout(r, 50));
      expect(sent).toBe(0);
      // ...a window of two lets two commands out.
      conn.send({
        kind: 'NOP_IN',
        header: {
          final: true,
          itt: RESERVED_TAG,
          ttt: RESERVED_TAG,
          statSN: conn.statSN,
          expCmdSN: login.cmdSN,
          maxCmdSN: login.cmdSN + 1,
        },
      });
      for (let i = 0; i < 3; i++) {
        const cmd = await conn.expect('SCSI_COMMAND');
        sent++;
        respond(conn, cmd);
      }
    });
    const done = [1, 2, 3].map(() => session.execute({ cdb: TUR }));
    expect(session.queued).toBe(3);
    const aborter = new AbortController();
    const dropped = session.execute({ cdb: TUR, signal: aborter.signal });
    aborter.abort('no longer needed');
    await expect(dropped).rejects.toBeInstanceOf(AbortedError);
    expect((await Promise.all(done)).map((r) => r.status)).toEqual([0, 0, 0]);
    expect(sent).toBe(3);
    session.close();
  });
});

describe('settling and logout', () => {
  it('an already aborted signal frees the tag at once; logout waits for the commands in flight', async () => {
    const order: string[] = [];
    const session = await setUp(async (conn) => {
      await acceptLogin(conn);
      const cmd = await conn.expect('SCSI_COMMAND');
      order.push(`command ${cmd.header.itt}`);
      await new Promise((r) => setTimeout(r, 50));
      respond(conn, cmd);
      const logout = await conn.expect('LOGOUT_REQUEST');
      order.push('logout');
      conn.send({
        kind: 'LOGOUT_RESPONSE',
        header: { final: true, itt: logout.header.itt, statSN: conn.statSN++ },
      });
    });
    const aborted = session.execute({ cdb: TUR, tag: 9n, signal: AbortSignal.abort('never mind') });
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
    const running = session.execute({ cdb: TUR, tag: 9n }); // the tag is free again
    const loggedOut = session.logout();
    await expect(session.execute({ cdb: TUR })).rejects.toThrow(/logging out/);
    expect((await running).status).toBe(0);
    await loggedOut;
    expect(order).toEqual(['command 9', 'logout']);
  });
});

describe('asynchronous messages', () => {
  it('reports a SCSI async event with its sense, and logs out when the target asks', async () => {
    const session = await setUp(async (conn) => {
      await acceptLogin(conn);
      const sense = Uint8Array.of(
        0x70,
        0,
        SenseKey.UNIT_ATTENTION,
        0,
        0,
        0,
        0,
        10,
        0,
        0,
        0,
        0,
        0x3f,
        0x0e,
        0,
        0,
        0,
        0,
      );
      conn.send({
        kind: 'ASYNC_MESSAGE',
        header: {
          final: true,
          lun: 0x0001_0000_0000_0000n,
          itt: RESERVED_TAG,
          statSN: conn.statSN++,
          expCmdSN: 0,
          maxCmdSN: 0,
          asyncEvent: 0,
        },
        data: senseSegment(sense),
      });
      conn.send({
        kind: 'ASYNC_MESSAGE',
        header: { final: true, itt: RESERVED_TAG, statSN: conn.statSN++, asyncEvent: 1, parameter3: 2 },
      });
      const logout = await conn.expect('LOGOUT_REQUEST');
      expect(logout.header.reasonCode).toBe(0);
      conn.send({
        kind: 'LOGOUT_RESPONSE',
        header: { final: true, itt: logout.header.itt, statSN: conn.statSN++, response: 0 },
      });
    });
    const [event] = await once(session, 'asyncEvent');
    expect(event).toMatchObject({
      event: 0,
      lun: 0x0001_0000_0000_0000n,
      decodedSense: { asc: 0x3f, ascq: 0x0e },
    });
    const [closed] = await once(session, 'closed');
    expect(closed.reason).toMatch(/logged out at the target request/);
    expect(session.state).toBe('closed');
  });

  it('after "connection will drop", a reconnect policy logs in again and reissues the command once', async () => {
    const isids: string[] = [];
    const session = await setUp(
      async (conn, index) => {
        const login = await acceptLogin(conn);
        isids.push(Buffer.from(login.isid).toString('hex'));
        const cmd = await conn.expect('SCSI_COMMAND');
        if (index === 0) {
          conn.send({
            kind: 'ASYNC_MESSAGE',
            header: { final: true, itt: RESERVED_TAG, statSN: conn.statSN++, asyncEvent: 2, parameter2: 0 },
          });
          return;
        }
        respond(conn, cmd);
      },
      { reconnect: { attempts: 2, delayMs: 10 } },
    );
    const r = await session.execute({ cdb: TUR });
    expect(r).toMatchObject({ status: 0, reissued: true });
    expect(isids).toHaveLength(2);
    expect(isids[0]).toBe(isids[1]); // session reinstatement keeps the ISID (RFC 7143 §6.3.5)
    session.close();
  });
});

describe('protocol errors end the connection and fail what was in flight', () => {
  it('a Data-In out of DataSN order', async () => {
    const session = await setUp(async (conn) => {
      await acceptLogin(conn);
      const cmd = await conn.expect('SCSI_COMMAND');
      conn.send({
        kind: 'DATA_IN',
        header: { itt: cmd.header.itt, dataSN: 1, bufferOffset: 0 },
        data: new Uint8Array(512),
      });
    });
    const error = await session
      .execute({ cdb: READ10, dataIn: new Uint8Array(4096) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IscsiConnectionLostError);
    expect((error as Error).cause).toBeInstanceOf(IscsiProtocolError);
    expect((error as Error).message).toMatch(/DataSN 1: expected 0/);
  });

  it('a header digest that does not match', async () => {
    const session = await setUp(
      async (conn) => {
        await acceptLogin(conn, { local: { HeaderDigest: 'CRC32C' } });
        conn.setDigests({ header: true, data: false });
        const cmd = await conn.expect('SCSI_COMMAND');
        const bytes = encodePduToBytes(
          { kind: 'SCSI_RESPONSE', header: { final: true, itt: cmd.header.itt, statSN: conn.statSN++ } },
          { header: true, data: false },
        );
        bytes[50]! ^= 0xff; // corrupt the digest
        conn.sendBytes(bytes);
      },
      { headerDigest: 'CRC32C' },
    );
    expect(session.parameters.headerDigest).toBe(true);
    const error = await session.execute({ cdb: TUR }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IscsiConnectionLostError);
    expect((error as Error).cause).toBeInstanceOf(IscsiDigestError);
  });

  it('a response for a tag nobody used', async () => {
    const session = await setUp(async (conn) => {
      await acceptLogin(conn);
      const cmd = await conn.expect('SCSI_COMMAND');
      conn.send({
        kind: 'SCSI_RESPONSE',
        header: { final: true, itt: cmd.header.itt + 1000, statSN: conn.statSN++ },
      });
    });
    const error = await session.execute({ cdb: TUR }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IscsiConnectionLostError);
    expect((error as Error).message).toMatch(/no command with this tag is outstanding/);
  });
});

describe('discovery', () => {
  it('gathers a SendTargets answer spread over three Text Responses (C bit)', async () => {
    const names = Array.from(
      { length: 60 },
      (_, i) => `iqn.2026-11.test:target-${String(i).padStart(3, '0')}`,
    );
    const port = nextPort++;
    target = await ScriptedTarget.listen(port, (conn) => {
      (async () => {
        const login = await acceptLogin(conn);
        expect(login.keys.get('SessionType')).toBe('Discovery');
        const text = encodeText(
          names.flatMap((n, i) => [
            ['TargetName', n] as const,
            ['TargetAddress', `127.0.0.1:${3260 + i},1`] as const,
          ]),
        );
        const parts = [text.subarray(0, 1000), text.subarray(1000, 2500), text.subarray(2500)];
        for (const [i, part] of parts.entries()) {
          const req = await conn.expect('TEXT_REQUEST');
          if (i === 0) expect(Buffer.from(req.data).toString()).toBe('SendTargets=All\0');
          else expect(req.header.ttt).toBe(0x42);
          conn.send({
            kind: 'TEXT_RESPONSE',
            header: {
              final: i === 2,
              continue: i < 2,
              itt: req.header.itt,
              ttt: i < 2 ? 0x42 : RESERVED_TAG,
              statSN: conn.statSN++,
              expCmdSN: req.header.cmdSN + 1,
              maxCmdSN: req.header.cmdSN + 32,
            },
            data: part,
          });
        }
        const logout = await conn.expect('LOGOUT_REQUEST');
        conn.send({
          kind: 'LOGOUT_RESPONSE',
          header: { final: true, itt: logout.header.itt, statSN: conn.statSN++ },
        });
      })().catch(() => conn.close());
    });
    const found = await IscsiSession.discover({ host: '127.0.0.1', port });
    expect(found.map((t) => t.targetName)).toEqual(names);
    expect(found[59]!.portals).toEqual([{ host: '127.0.0.1', port: 3319, portalGroupTag: 1 }]);
  });
});

describe('fuzzing the session with target PDUs', () => {
  it('random target PDUs never crash it: every command settles with a response or a typed error', async () => {
    const targetKinds = [
      'NOP_IN',
      'SCSI_RESPONSE',
      'TASK_MANAGEMENT_RESPONSE',
      'TEXT_RESPONSE',
      'DATA_IN',
      'LOGOUT_RESPONSE',
      'R2T',
      'ASYNC_MESSAGE',
      'REJECT',
    ] as const;
    const pduArb = fc.record({
      kind: fc.constantFrom(...targetKinds),
      seed: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 20, maxLength: 20 }),
      itt: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 3 }), fc.constant(RESERVED_TAG)),
      data: fc.uint8Array({ maxLength: 300 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(pduArb, { minLength: 1, maxLength: 6 }), async (pdus) => {
        const session = await setUp(async (conn) => {
          await acceptLogin(conn);
          const cmd = await conn.expect('SCSI_COMMAND');
          for (const p of pdus) {
            const layout = BHS_LAYOUTS[p.kind];
            const header: Record<string, unknown> = {};
            for (const [i, [name, f]] of layout.entries.entries()) {
              const r = p.seed[i % p.seed.length]!;
              header[name] =
                f.kind === 'flag'
                  ? (r & 1) === 1
                  : f.kind === 'bits'
                    ? r % (1 << f.width)
                    : f.kind === 'u64'
                      ? BigInt(r)
                      : f.kind === 'bytes'
                        ? new Uint8Array(f.length).fill(r & 0xff)
                        : f.kind === 'u8'
                          ? r & 0xff
                          : f.kind === 'u16'
                            ? r & 0xffff
                            : f.kind === 'u24'
                              ? r & 0xffffff
                              : r;
            }
            header.itt = p.itt === -1 ? cmd.header.itt : p.itt;
            conn.send({ kind: p.kind, header, data: p.data } as never);
          }
          await new Promise((r) => setTimeout(r, 20));
          conn.close();
        });
        const outcome: unknown = await session
          .execute({ cdb: READ10, dataIn: new Uint8Array(4096), timeoutMs: 2000 })
          .catch((e: unknown) => e);
        if (outcome instanceof Error) {
          expect(outcome instanceof Sgv4Error || outcome instanceof InvalidFieldError).toBe(true);
        } else expect(typeof (outcome as IscsiCommandResult).status).toBe('number');
        session.close();
        await target?.close();
        target = undefined;
      }),
      { numRuns: 40 },
    );
  }, 60_000);
});
