import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotSupportedError } from '@sgv4/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  list,
  locationScheme,
  open,
  registerTransport,
  transportFactory,
  unregisterTransport,
} from '../../src/index.js';
import { ScriptedTransport } from '../support/scripted-transport.js';

/**
 * A sysfs tree laid out as Linux 6.1 lays it out (scsi_sysfs.c, sg.c, bsg.c): the class link
 * /sys/class/scsi_device/H:C:T:L/device -> the device directory, whose scsi_generic/, block/
 * and bsg/ subdirectories name its nodes.
 */
const root = mkdtempSync(join(tmpdir(), 'sgv4-sysfs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sys = join(root, 'sys');
const dev = join(root, 'dev');

function scsiDevice(
  address: string,
  files: Record<string, string | Uint8Array>,
  nodes: { sg?: string; block?: string; bsg?: boolean },
): void {
  const dir = join(sys, 'devices', 'pseudo_0', `adapter_${address}`, address);
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  if (nodes.sg) {
    mkdirSync(join(dir, 'scsi_generic', nodes.sg), { recursive: true });
    writeFileSync(join(dev, nodes.sg), '');
  }
  if (nodes.block) {
    mkdirSync(join(dir, 'block', nodes.block, 'queue'), { recursive: true });
    writeFileSync(join(dir, 'block', nodes.block, 'queue', 'max_segments'), '2048\n');
    writeFileSync(join(dev, nodes.block), '');
  }
  if (nodes.bsg) {
    mkdirSync(join(dir, 'bsg', address), { recursive: true });
    writeFileSync(join(dev, 'bsg', address), '');
  }
  mkdirSync(join(sys, 'class', 'scsi_device', address), { recursive: true });
  symlinkSync(dir, join(sys, 'class', 'scsi_device', address, 'device'));
}

mkdirSync(join(dev, 'bsg'), { recursive: true });
scsiDevice(
  '0:0:0:0',
  {
    type: '0\n',
    vendor: 'Linux   \n',
    model: 'scsi_debug      \n',
    rev: '0191\n',
    queue_depth: '192\n',
    state: 'running\n',
    vpd_pg80: Uint8Array.of(0, 0x80, 0, 4, 0x32, 0x30, 0x30, 0x30),
    vpd_pg83: Uint8Array.of(0, 0x83, 0, 12, 1, 3, 0, 8, 0x33, 0x33, 0x33, 0x30, 0, 0, 7, 0xd0),
  },
  { sg: 'sg0', block: 'sda', bsg: true },
);
scsiDevice('10:0:1:2', { type: '1\n', vendor: 'TAPE\n', model: 'LTO\n', rev: '1\n' }, { sg: 'sg1' });
scsiDevice(
  '2:0:0:0',
  { type: '5\n', vendor: 'QEMU\n', model: 'DVD\n', rev: '2.5\n', vpd_pg80: Uint8Array.of(0, 0) },
  { bsg: true },
);

describe('list() from sysfs', () => {
  it('pairs the sg, bsg and block nodes of each logical unit, in numeric H:C:T:L order', async () => {
    const devices = await list({ sysfsRoot: sys, devRoot: dev });
    expect(devices.map((d) => d.address)).toEqual(['0:0:0:0', '2:0:0:0', '10:0:1:2']);
    expect(devices[0]).toMatchObject({
      hctl: { host: 0, channel: 0, target: 0, lun: 0n },
      nodes: { sg: join(dev, 'sg0'), bsg: join(dev, 'bsg', '0:0:0:0'), block: join(dev, 'sda') },
      peripheralTypeName: 'disk',
      vendor: 'Linux',
      product: 'scsi_debug',
      revision: '0191',
      serial: '2000',
      queueDepth: 192,
      state: 'running',
    });
    expect(devices[0]?.identifiers[0]).toMatchObject({ typeName: 'NAA', value: '33333330000007d0' });
    expect(devices[2]).toMatchObject({
      peripheralTypeName: 'tape',
      nodes: { sg: join(dev, 'sg1') },
      identifiers: [],
    });
    // A truncated cached page is left out rather than failing the listing.
    expect(devices[1]?.serial).toBeUndefined();
  });

  it('is empty without SCSI devices (this host)', async () => {
    expect(await list({ sysfsRoot: join(root, 'none'), devRoot: dev })).toEqual([]);
  });
});

describe('transport registry', () => {
  it('finds a scheme only in a URL, never in a path', () => {
    expect(locationScheme('iscsi://h/iqn/1')).toBe('iscsi');
    expect(locationScheme('emu:disk?size=64M')).toBe('emu');
    expect(locationScheme('/dev/sg0')).toBeUndefined();
    expect(locationScheme('c:/x')).toBeUndefined();
  });

  it('opens registered schemes and names the package for a missing one', async () => {
    expect(() => transportFactory('nvmeof')).toThrow(/registered: emu:, iscsi:/);
    await expect(open('nvmeof://127.0.0.1/nqn.x/1')).rejects.toBeInstanceOf(NotSupportedError);
    const factory = {
      scheme: 'test',
      description: 'scripted',
      open: () => Promise.resolve(new ScriptedTransport()),
    };
    registerTransport(factory);
    registerTransport(factory); // the same factory twice is fine
    expect(() => registerTransport({ ...factory })).toThrow(/already registered/);
    const d = await open('test:anything', { identify: false });
    expect(d.kind).toBe('scripted');
    await d.close();
    expect(unregisterTransport('test')).toBe(true);
    expect(() => registerTransport({ ...factory, scheme: 'x' })).toThrow(/scheme/);
  });
});
