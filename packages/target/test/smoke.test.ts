import { describe, expect, it } from 'vitest';
import { createTarget } from '../src/index.js';
import { Initiator, pattern } from './initiator.js';

describe('smoke', () => {
  it('writes and reads', async () => {
    const t = await createTarget({ logicalUnits: [{}] });
    const a = new Initiator(t, 'a');
    expect(await a.clearUnitAttentions()).toBe(1);
    const data = pattern(4096, 1);
    await a.good(['write10', { lba: 8, transferLength: 8 }], { dataOut: data });
    const back = await a.good(['read10', { lba: 8, transferLength: 8 }], { dataInLength: 4096 });
    expect(Buffer.from(back).equals(Buffer.from(data))).toBe(true);
    const inq = await a.good(['inquiry', { allocationLength: 96 }], { dataInLength: 96 });
    expect(inq.length).toBe(96);
    await t.close();
  });
});
