import { LabConfigError, labTestOptionsFromEnv } from '@sgv4/lab';
import { describe, expect, it } from 'vitest';

describe('lab test options from the environment', () => {
  it('reads the accelerator, the timeout and scsi_debug parameters', () => {
    const options = labTestOptionsFromEnv({
      SGV4_LAB_ACCEL: 'tcg',
      SGV4_LAB_TIMEOUT_S: '90',
      SGV4_LAB_SCSI_DEBUG: 'ndelay=100000',
    });
    expect(options.accel).toBe('tcg');
    expect(options.timeoutMs).toBe(90_000);
    expect(options.scsiDebug).toMatchObject({ ndelay: 100000 });
    expect(labTestOptionsFromEnv({})).toEqual({});
  });

  it.each([
    ['SGV4_LAB_ACCEL', 'xen'],
    ['SGV4_LAB_ACCEL', 'TCG'],
    ['SGV4_LAB_TIMEOUT_S', '0'],
    ['SGV4_LAB_TIMEOUT_S', '1.5'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    let caught: unknown;
    try {
      labTestOptionsFromEnv({ [name]: value });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LabConfigError);
    expect((caught as Error).message).toContain(name);
    expect((caught as Error).message).toContain(value);
  });
});
