/**
 * A small initiator for the tests: builds CDBs with the core's tables, hands out tags per
 * I_T nexus, decodes sense with the core, and clears the power-on unit attention.
 */
import {
  buildCdb,
  buildModeSelectParameterList,
  type DecodedSense,
  decodeSense,
  type FieldInput,
  parseModeParameters,
  ScsiStatus,
  type TaskAttribute,
} from '@sgv4/core';
import type { CompletedTaskResponse, ITNexus, ScsiTarget, TaskResponse } from '../../src/index.js';

/** Options of one command. */
export interface CommandOptions {
  readonly lun?: number;
  readonly tag?: bigint;
  readonly attribute?: TaskAttribute;
  readonly priority?: number;
  readonly dataOut?: Uint8Array;
  readonly dataInLength?: number;
}

/** An initiator port talking to one target. */
export class Initiator {
  readonly nexus: ITNexus;
  readonly target: ScsiTarget;
  #nextTag = 1n;

  constructor(target: ScsiTarget, name: string, targetPort?: string) {
    this.target = target;
    this.nexus = targetPort === undefined ? { initiator: name } : { initiator: name, targetPort };
  }

  /** Sends a CDB (raw bytes or `[key, fields]`). */
  send(cdb: Uint8Array | [string, FieldInput?], options: CommandOptions = {}): Promise<TaskResponse> {
    const bytes = cdb instanceof Uint8Array ? cdb : buildCdb(cdb[0], cdb[1] ?? {});
    const tag = options.tag ?? this.#nextTag++;
    return this.target.execute(this.nexus, {
      lun: options.lun ?? 0,
      tag,
      cdb: bytes,
      ...(options.attribute === undefined ? {} : { attribute: options.attribute }),
      ...(options.priority === undefined ? {} : { priority: options.priority }),
      ...(options.dataOut === undefined ? {} : { dataOut: options.dataOut }),
      dataInLength: options.dataInLength ?? 0,
    });
  }

  /** Sends and expects a completed response. */
  async run(
    cdb: Uint8Array | [string, FieldInput?],
    options: CommandOptions = {},
  ): Promise<CompletedTaskResponse> {
    const r = await this.send(cdb, options);
    if (r.outcome !== 'completed') throw new Error(`expected a completed task, got ${JSON.stringify(r)}`);
    return r;
  }

  /** Sends and expects GOOD; returns the data-in. */
  async good(cdb: Uint8Array | [string, FieldInput?], options: CommandOptions = {}): Promise<Uint8Array> {
    const r = await this.run(cdb, options);
    if (r.status !== ScsiStatus.GOOD && r.status !== ScsiStatus.CONDITION_MET) {
      const s = r.sense.length > 0 ? decodeSense(r.sense) : undefined;
      throw new Error(
        `expected GOOD, got status 0x${r.status.toString(16)} ${s ? `${s.senseKeyName} ${s.ascText}` : ''}`,
      );
    }
    return r.dataIn;
  }

  /** Sends and expects CHECK CONDITION; returns the decoded sense (and raw bytes). */
  async check(
    cdb: Uint8Array | [string, FieldInput?],
    options: CommandOptions = {},
  ): Promise<DecodedSense & { raw: Uint8Array }> {
    const r = await this.run(cdb, options);
    if (r.status !== ScsiStatus.CHECK_CONDITION)
      throw new Error(`expected CHECK CONDITION, got 0x${r.status.toString(16)}`);
    return { ...decodeSense(r.sense), raw: r.sense };
  }

  /** TEST UNIT READY until it is GOOD (clears pending unit attentions), at most 16 times. */
  async clearUnitAttentions(lun = 0): Promise<number> {
    for (let i = 0; i < 16; i++) {
      const r = await this.run(['tur'], { lun });
      if (r.status === ScsiStatus.GOOD) return i;
    }
    throw new Error('unit attentions did not clear');
  }
}

/** Bytes of `n` blocks filled with a pattern derived from `seed`. */
export function pattern(bytes: number, seed: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Hex of bytes (for golden comparisons). */
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Reads the current Control (0x0a) or Caching (0x08) page and MODE SELECTs it with `fields` changed. */
export async function setModePage(
  init: Initiator,
  page: 'control' | 'caching',
  fields: FieldInput,
  options: { lun?: number; save?: boolean } = {},
): Promise<void> {
  const code = page === 'control' ? 0x0a : 0x08;
  const data = await init.good(['mode-sense6', { dbd: 1, pageCode: code, allocationLength: 255 }], {
    dataInLength: 255,
    ...(options.lun === undefined ? {} : { lun: options.lun }),
  });
  const current = parseModeParameters(6, data).pages[0]?.fields ?? {};
  const list = buildModeSelectParameterList(6, { [page]: { ...current, ...fields } });
  await init.good(
    ['mode-select6', { pf: 1, sp: options.save === true ? 1 : 0, parameterListLength: list.length }],
    {
      dataOut: list,
      ...(options.lun === undefined ? {} : { lun: options.lun }),
    },
  );
}

/** Resolves after the current macrotask (lets queued microtasks and the task-set pump run). */
export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
