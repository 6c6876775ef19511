/**
 * Every kind of sense data the target produces, in fixed and in descriptor format: decoded with
 * @sgv4/core, checked against the condition the scenario provokes, and cross-checked with
 * sg3_utils' `sg_decode_sense` on the same bytes (format, sense key, additional sense text,
 * INFORMATION, sense-key specific field pointer / unit attention overflow). Skipped, with the
 * reason in its name, when sg_decode_sense is not installed.
 */
import { execFileSync } from 'node:child_process';
import {
  buildCdb,
  type DecodedSense,
  decodeSense,
  encodeTable,
  PR_OUT_PARAMETER_LIST,
  ScsiStatus,
  TaskAttribute,
  TaskManagementFunction,
} from '@sgv4/core';
import { describe, expect, it } from 'vitest';
import { createTarget, type ScsiTarget } from '../../src/index.js';
import { Initiator, setModePage } from '../support/initiator.js';

interface Env {
  readonly target: ScsiTarget;
  readonly a: Initiator;
  readonly b: Initiator;
}

/** A scenario: provoke a condition, return the sense bytes the target sent. */
interface Scenario {
  readonly name: string;
  readonly expect: [senseKey: number, asc: number, ascq: number];
  readonly run: (env: Env) => Promise<Uint8Array>;
}

async function checkSense(i: Initiator, ...args: Parameters<Initiator['run']>): Promise<Uint8Array> {
  const r = await i.run(...args);
  if (r.status !== ScsiStatus.CHECK_CONDITION) throw new Error(`expected CHECK CONDITION, got ${r.status}`);
  return r.sense;
}

const prParams = (extra: Record<string, number | bigint>) =>
  encodeTable(PR_OUT_PARAMETER_LIST, { reservationKey: 0n, serviceActionReservationKey: 1n, ...extra });

const SCENARIOS: Scenario[] = [
  {
    name: 'unsupported opcode',
    expect: [5, 0x20, 0],
    run: ({ a }) => checkSense(a, Uint8Array.of(0x04, 0, 0, 0, 0, 0)),
  },
  {
    name: 'unsupported VPD page',
    expect: [5, 0x24, 0],
    run: ({ a }) =>
      checkSense(a, ['inquiry', { evpd: 1, pageCode: 0x99, allocationLength: 64 }], { dataInLength: 64 }),
  },
  {
    name: 'RDPROTECT set (bit pointer)',
    expect: [5, 0x24, 0],
    run: ({ a }) =>
      checkSense(a, ['read10', { lba: 0, transferLength: 1, rdprotect: 3 }], { dataInLength: 512 }),
  },
  { name: 'NACA in CONTROL', expect: [5, 0x24, 0], run: ({ a }) => checkSense(a, ['tur', { control: 4 }]) },
  {
    name: 'unsupported PR IN service action',
    expect: [5, 0x24, 0],
    run: ({ a }) => checkSense(a, Uint8Array.of(0x5e, 9, 0, 0, 0, 0, 0, 0, 8, 0), { dataInLength: 8 }),
  },
  {
    name: 'LBA out of range',
    expect: [5, 0x21, 0],
    run: ({ a }) =>
      checkSense(a, ['read16', { lba: (1n << 64n) - 1n, transferLength: 1 }], { dataInLength: 512 }),
  },
  {
    name: 'parameter list length error',
    expect: [5, 0x1a, 0],
    run: ({ a }) => checkSense(a, ['unmap', { parameterListLength: 4 }], { dataOut: new Uint8Array(4) }),
  },
  {
    name: 'invalid field in parameter list (APTPL)',
    expect: [5, 0x26, 0],
    run: ({ a }) =>
      checkSense(a, ['prout-register', { parameterListLength: 24 }], { dataOut: prParams({ aptpl: 1 }) }),
  },
  {
    name: 'invalid release of persistent reservation',
    expect: [5, 0x26, 4],
    run: async ({ a }) => {
      await a.good(['prout-register', { parameterListLength: 24 }], { dataOut: prParams({}) });
      await a.good(['prout-reserve', { type: 1, parameterListLength: 24 }], {
        dataOut: prParams({ reservationKey: 1n, serviceActionReservationKey: 0n }),
      });
      return checkSense(a, ['prout-release', { type: 3, parameterListLength: 24 }], {
        dataOut: prParams({ reservationKey: 1n, serviceActionReservationKey: 0n }),
      });
    },
  },
  {
    name: 'data-out shorter than the command',
    expect: [5, 0x0e, 3],
    run: ({ a }) =>
      checkSense(a, ['write10', { lba: 0, transferLength: 2 }], { dataOut: new Uint8Array(100) }),
  },
  {
    name: 'ACA task attribute',
    expect: [5, 0x49, 0],
    run: ({ a }) => checkSense(a, ['tur'], { attribute: TaskAttribute.ACA }),
  },
  {
    name: 'logical unit not supported',
    expect: [5, 0x25, 0],
    run: ({ a }) => checkSense(a, ['tur'], { lun: 9 }),
  },
  {
    name: 'MODE SELECT of a field that cannot change (bit pointer in parameter data)',
    expect: [5, 0x26, 0],
    run: async ({ a }) => {
      const page = (
        await a.good(['mode-sense6', { dbd: 1, pageCode: 0x0a, allocationLength: 64 }], { dataInLength: 64 })
      ).slice(4);
      page[0] = 0x0a;
      page[3] = (page[3] ?? 0) | 0x02;
      const list = new Uint8Array(4 + page.length);
      list.set(page, 4);
      return checkSense(a, ['mode-select6', { pf: 1, parameterListLength: list.length }], { dataOut: list });
    },
  },
  {
    name: 'medium removal prevented',
    expect: [5, 0x53, 2],
    run: async ({ a }) => {
      await a.good(['prevent-allow', { prevent: 1 }]);
      return checkSense(a, ['start-stop', { loej: 1, start: 0 }]);
    },
  },
  {
    name: 'miscompare with offset',
    expect: [0xe, 0x1d, 0],
    run: ({ a }) =>
      checkSense(a, ['compare-and-write', { lba: 0n, numberOfBlocks: 1 }], {
        dataOut: new Uint8Array(1024).fill(7),
      }),
  },
  {
    name: 'unrecovered read error at an LBA',
    expect: [3, 0x11, 0],
    run: async ({ target, a }) => {
      await target.configure(0, { faults: { mediumErrors: [{ lba: 0x1234 }] } });
      return checkSense(a, ['read10', { lba: 0x1230, transferLength: 8 }], { dataInLength: 4096 });
    },
  },
  {
    name: 'write error at an LBA',
    expect: [3, 0x0c, 0],
    run: async ({ target, a }) => {
      await target.configure(0, { faults: { mediumErrors: [{ lba: 77, on: 'write' }] } });
      return checkSense(a, ['write10', { lba: 77, transferLength: 1 }], { dataOut: new Uint8Array(512) });
    },
  },
  {
    name: 'not ready, becoming ready',
    expect: [2, 0x04, 1],
    run: async ({ target, a }) => {
      await target.configure(0, { faults: { notReady: 'becoming-ready' } });
      return checkSense(a, ['tur']);
    },
  },
  {
    name: 'not ready, initializing command required',
    expect: [2, 0x04, 2],
    run: async ({ a }) => {
      await a.good(['start-stop', { start: 0 }]);
      return checkSense(a, ['read10', { lba: 0, transferLength: 1 }], { dataInLength: 512 });
    },
  },
  {
    name: 'medium not present',
    expect: [2, 0x3a, 0],
    run: async ({ target, a }) => {
      await target.configure(0, { faults: { notReady: 'no-medium' } });
      return checkSense(a, ['tur']);
    },
  },
  {
    name: 'write protected',
    expect: [7, 0x27, 0],
    run: async ({ target, a }) => {
      await target.configure(0, { writeProtected: true });
      return checkSense(a, ['write10', { lba: 0, transferLength: 1 }], { dataOut: new Uint8Array(512) });
    },
  },
  {
    name: 'software write protected',
    expect: [7, 0x27, 2],
    run: async ({ a }) => {
      await setModePage(a, 'control', { swp: 1 });
      return checkSense(a, ['write-same10', { lba: 0, numberOfBlocks: 1 }], { dataOut: new Uint8Array(512) });
    },
  },
  {
    name: 'transport error fault',
    expect: [0xb, 0x4b, 3],
    run: async ({ target, a }) => {
      await target.configure(0, { faults: { everyNth: { n: 1, action: 'aborted-command' } } });
      return checkSense(a, ['tur']);
    },
  },
  {
    name: 'overlapped commands attempted',
    expect: [0xb, 0x4e, 0],
    run: async ({ target, a }) => {
      await target.configure(0, { latency: { nanoseconds: 2_000_000 } });
      const first = a.send(['tur'], { tag: 500n });
      const sense = await checkSense(a, ['tur'], { tag: 500n });
      await first;
      return sense;
    },
  },
  {
    name: 'power on unit attention',
    expect: [6, 0x29, 0],
    run: ({ target }) => checkSense(new Initiator(target, 'iqn.newcomer'), ['tur']),
  },
  {
    name: 'I_T nexus loss unit attention',
    expect: [6, 0x29, 7],
    run: async ({ target, a }) => {
      await target.manage(a.nexus, { function: TaskManagementFunction.I_T_NEXUS_RESET, lun: 0 });
      return checkSense(a, ['tur']);
    },
  },
  {
    name: 'bus device reset unit attention',
    expect: [6, 0x29, 3],
    run: async ({ target, a }) => {
      await target.manage(a.nexus, { function: TaskManagementFunction.LOGICAL_UNIT_RESET, lun: 0 });
      return checkSense(a, ['tur']);
    },
  },
  {
    name: 'mode parameters changed unit attention',
    expect: [6, 0x2a, 1],
    run: async ({ a, b }) => {
      await setModePage(a, 'caching', { wce: 0 });
      return checkSense(b, ['tur']);
    },
  },
  {
    name: 'capacity data has changed unit attention',
    expect: [6, 0x2a, 9],
    run: async ({ target, a }) => {
      await target.configure(0, { capacityBlocks: 9000 });
      return checkSense(a, ['tur']);
    },
  },
  {
    name: 'reservations preempted unit attention',
    expect: [6, 0x2a, 3],
    run: async ({ a, b }) => {
      await b.good(['prout-register', { parameterListLength: 24 }], {
        dataOut: prParams({ serviceActionReservationKey: 2n }),
      });
      await a.good(['prout-register', { parameterListLength: 24 }], { dataOut: prParams({}) });
      await a.good(['prout-clear', { parameterListLength: 24 }], {
        dataOut: prParams({ reservationKey: 1n }),
      });
      return checkSense(b, ['tur']);
    },
  },
  {
    name: 'reported LUNs data has changed unit attention',
    expect: [6, 0x3f, 0x0e],
    run: async ({ target, a }) => {
      await target.addLogicalUnit({ lun: 3, capacityBlocks: 8 });
      return checkSense(a, ['tur']);
    },
  },
  {
    name: 'commands cleared by another initiator unit attention',
    expect: [6, 0x2f, 0],
    run: async ({ target, a, b }) => {
      await target.configure(0, { latency: { nanoseconds: 2_000_000 } });
      const t = b.send(['tur']);
      await target.manage(a.nexus, { function: TaskManagementFunction.CLEAR_TASK_SET, lun: 0 });
      await t;
      await target.configure(0, { latency: { nanoseconds: 0 } });
      return checkSense(b, ['tur']);
    },
  },
];

/** What both decoders say, in one shape. */
interface Normalized {
  format: 'fixed' | 'descriptor';
  current: boolean;
  senseKey: string;
  additional: string;
  information?: string;
  fieldPointer?: string;
  overflow?: boolean;
}

function fromCore(s: DecodedSense): Normalized {
  const out: Normalized = {
    format: s.format,
    current: s.current,
    senseKey: s.senseKeyName,
    additional: s.ascText,
  };
  if (s.information !== undefined) out.information = s.information.toString(16);
  const sks = s.senseKeySpecific;
  if (sks?.kind === 'field-pointer')
    out.fieldPointer = `${sks.inCdb ? 'Command' : 'Data parameters'}: byte ${sks.fieldPointer}${sks.bitPointer === undefined ? '' : ` bit ${sks.bitPointer}`}`;
  if (sks?.kind === 'unit-attention-overflow') out.overflow = sks.overflow;
  return out;
}

function fromSg3(text: string): Normalized {
  const lines = text.split('\n');
  const head = /^(Fixed|Descriptor) format, (current|deferred); Sense key: (.*)$/.exec(lines[0] ?? '');
  if (head === null) throw new Error(`unexpected sg_decode_sense output: ${text}`);
  const out: Normalized = {
    format: head[1] === 'Fixed' ? 'fixed' : 'descriptor',
    current: head[2] === 'current',
    senseKey: (head[3] ?? '').trim(),
    additional: (lines[1] ?? '').replace(/^Additional sense: /, '').trim(),
  };
  const info = /Info fld=0x([0-9a-f]+)|Information: 0x([0-9a-f]+)/.exec(text);
  if (info !== null) out.information = BigInt(`0x${info[1] ?? info[2]}`).toString(16);
  const fp = /Error in (Command|Data parameters): byte (\d+)(?: bit (\d))?/.exec(text);
  if (fp !== null) out.fieldPointer = `${fp[1]}: byte ${fp[2]}${fp[3] === undefined ? '' : ` bit ${fp[3]}`}`;
  const ov = /overflow flag is (\d)/.exec(text);
  if (ov !== null) out.overflow = ov[1] === '1';
  return out;
}

function sg3Installed(): boolean {
  try {
    execFileSync('sg_decode_sense', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function collect(format: 'fixed' | 'descriptor'): Promise<{ scenario: Scenario; sense: Uint8Array }[]> {
  const out: { scenario: Scenario; sense: Uint8Array }[] = [];
  for (const scenario of SCENARIOS) {
    const target = await createTarget({ logicalUnits: [{ capacityBlocks: 8192 }] });
    const a = new Initiator(target, 'iqn.a');
    const b = new Initiator(target, 'iqn.b');
    await a.clearUnitAttentions();
    await b.clearUnitAttentions();
    if (format === 'descriptor') {
      // Saved, so that the LOGICAL UNIT RESET scenario keeps it.
      await setModePage(a, 'control', { dSense: 1 }, { save: true });
      await b.clearUnitAttentions();
    }
    out.push({ scenario, sense: await scenario.run({ target, a, b }) });
    await target.close();
  }
  return out;
}

const hasSg3 = sg3Installed();

describe.each(['fixed', 'descriptor'] as const)('%s format sense', (format) => {
  it('each scenario yields the condition it provokes, decoded by the core', async () => {
    const all = await collect(format);
    for (const { scenario, sense } of all) {
      const d = decodeSense(sense);
      expect([scenario.name, d.format, d.senseKey, d.asc, d.ascq]).toEqual([
        scenario.name,
        format,
        ...scenario.expect,
      ]);
    }
  });

  it.skipIf(!hasSg3)(
    `agrees with sg_decode_sense on every scenario${hasSg3 ? '' : ' (SKIPPED: sg_decode_sense not installed)'}`,
    async () => {
      const all = await collect(format);
      let agreed = 0;
      for (const { scenario, sense } of all) {
        const args = Array.from(sense, (x) => x.toString(16).padStart(2, '0'));
        const theirs = fromSg3(execFileSync('sg_decode_sense', args, { encoding: 'utf8' }));
        const ours = fromCore(decodeSense(sense));
        expect({ scenario: scenario.name, ...theirs }).toEqual({ scenario: scenario.name, ...ours });
        agreed++;
      }
      expect(agreed).toBe(SCENARIOS.length);
      console.info(`sg_decode_sense agreement (${format}): ${agreed}/${SCENARIOS.length}`);
    },
  );
});

it('REQUEST SENSE data (a unit attention returned with GOOD) also agrees', async () => {
  const target = await createTarget({ logicalUnits: [{ capacityBlocks: 8 }] });
  const a = new Initiator(target, 'iqn.a');
  const data = await a.good(buildCdb('request-sense', { allocationLength: 252 }), { dataInLength: 252 });
  const d = decodeSense(data);
  expect([d.senseKey, d.asc, d.ascq]).toEqual([6, 0x29, 0]);
  if (hasSg3) {
    const text = execFileSync(
      'sg_decode_sense',
      Array.from(data, (x) => x.toString(16).padStart(2, '0')),
      { encoding: 'utf8' },
    );
    expect(fromSg3(text)).toEqual(fromCore(d));
  }
  await target.close();
});
