import { describe, expect, it } from 'vitest';
import { Capability, effectiveCapabilities, hasCapability } from '../../src/linux/process-capabilities.js';

const status = (capEff: string) =>
  `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`;

describe('effective capabilities from /proc/self/status (fs/proc/array.c render_cap_t)', () => {
  it('reads CapEff as a 64-bit mask', () => {
    expect(effectiveCapabilities(status('000001ffffffffff'))).toBe(0x1ffffffffffn);
    expect(effectiveCapabilities(status('0000000000020000'))).toBe(1n << 17n);
  });

  it('answers CAP_SYS_RAWIO (17) and CAP_SYS_ADMIN (21) as root and as an unprivileged user', () => {
    expect(hasCapability(Capability.SYS_RAWIO, status('000001ffffffffff'))).toBe(true);
    expect(hasCapability(Capability.SYS_ADMIN, status('000001ffffffffff'))).toBe(true);
    expect(hasCapability(Capability.SYS_RAWIO, status('0000000000000000'))).toBe(false);
    expect(hasCapability(Capability.SYS_RAWIO, status('0000000000020000'))).toBe(true);
    expect(hasCapability(Capability.SYS_ADMIN, status('0000000000020000'))).toBe(false);
  });

  it('assumes no capability when the field is missing', () => {
    expect(effectiveCapabilities('Name:\tnode\n')).toBe(0n);
  });
});
