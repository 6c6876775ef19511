/**
 * `sgv4 limits`: prints a request queue's limits as the @sgv4/core model holds
 * them: a named preset, or a sysfs queue directory read and parsed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  InvalidFieldError,
  isQueueLimitsPresetName,
  parseSysfsQueueLimits,
  QUEUE_LIMITS_PRESET_NAMES,
  type QueueLimits,
  queueLimitsPreset,
  queueMaxBytes,
  SYSFS_QUEUE_LIMIT_FILES,
  validateQueueLimits,
} from '@sgv4/core';
import { openDevice, READONLY_OPTION } from '../device/open-device.js';
import type { Command } from '../framework/command.js';
import { formatTable, printJson, printLine } from '../framework/output.js';
import { UsageError } from '../framework/usage-error.js';

/** Limits plus where they came from. */
export interface LoadedQueueLimits {
  /** `preset:<name>`, `sysfs:<dir>` or `file:<path>`. */
  readonly source: string;
  /** What the values stand for. */
  readonly description: string;
  /** The limits. */
  readonly limits: QueueLimits;
  /** Fields not read from the source, with the values assumed. */
  readonly assumed: readonly { readonly field: string; readonly value: number | boolean }[];
}

/** Reads the limit files of a sysfs queue directory and parses them. */
export function loadSysfsLimits(dir: string): LoadedQueueLimits {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new UsageError(`--sysfs: cannot read directory ${dir}: ${(error as Error).message}`);
  }
  const files: Record<string, string> = {};
  for (const file of SYSFS_QUEUE_LIMIT_FILES) {
    if (names.includes(file)) files[file] = readFileSync(join(dir, file), 'utf8');
  }
  if (Object.keys(files).length === 0) throw new UsageError(`--sysfs: ${dir} holds no queue limit files`);
  const parsed = parseSysfsQueueLimits(files);
  return {
    source: `sysfs:${dir}`,
    description: 'read from sysfs',
    limits: parsed.limits,
    assumed: parsed.assumed,
  };
}

/**
 * A preset name, a sysfs queue directory, or a JSON file of QueueLimits fields
 * (missing fields take the kernel defaults); the result is validated.
 */
export function loadQueueLimits(spec: string): LoadedQueueLimits {
  if (isQueueLimitsPresetName(spec)) {
    const preset = queueLimitsPreset(spec);
    return { source: `preset:${spec}`, description: preset.description, limits: preset.limits, assumed: [] };
  }
  let isDir = false;
  try {
    isDir = statSync(spec).isDirectory();
  } catch {
    throw new UsageError(
      `--limits: '${spec}' is neither a preset (${QUEUE_LIMITS_PRESET_NAMES.join(', ')}) nor a file or directory`,
    );
  }
  if (isDir) return loadSysfsLimits(spec);
  let fields: unknown;
  try {
    fields = JSON.parse(readFileSync(spec, 'utf8'));
  } catch (error) {
    throw new UsageError(`--limits: ${spec} is not a JSON file: ${(error as Error).message}`);
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw new UsageError(`--limits: ${spec} must hold a JSON object of QueueLimits fields`);
  }
  const base = queueLimitsPreset('kernel-default').limits;
  // A misspelt field would otherwise be ignored and its default silently used.
  for (const [name, value] of Object.entries(fields)) {
    if (!(name in base)) {
      throw new InvalidFieldError(
        name,
        `is not a QueueLimits field (one of ${Object.keys(base).join(', ')}; file ${spec})`,
        value,
      );
    }
  }
  const limits = { ...base, ...(fields as Partial<QueueLimits>) };
  const assumed = Object.keys(base)
    .filter((k) => !(k in (fields as object)))
    .map((field) => ({ field, value: base[field as keyof QueueLimits] }));
  return {
    source: `file:${spec}`,
    description: 'read from a JSON file',
    limits: validateQueueLimits(limits),
    assumed,
  };
}

/** The sysfs-style rows of a limits table (field, value, unit note). */
function limitRows(limits: QueueLimits): string[][] {
  const hex = (n: number) => `0x${n.toString(16)}`;
  return [
    ['max_segments', String(limits.maxSegments), ''],
    ['max_segment_size', String(limits.maxSegmentSize), 'bytes'],
    ['seg_boundary_mask', hex(limits.segBoundaryMask), ''],
    ['virt_boundary_mask', hex(limits.virtBoundaryMask), ''],
    ['dma_alignment', hex(limits.dmaAlignment), ''],
    ['dma_pad_mask', hex(limits.dmaPadMask), ''],
    ['logical_block_size', String(limits.logicalBlockSize), 'bytes'],
    ['physical_block_size', String(limits.physicalBlockSize), 'bytes'],
    ['io_min', String(limits.ioMin), 'bytes'],
    ['io_opt', String(limits.ioOpt), 'bytes'],
    [
      'max_hw_sectors',
      String(limits.maxHwSectors),
      `sectors (max_hw_sectors_kb ${Math.floor(limits.maxHwSectors / 2)})`,
    ],
    [
      'max_sectors',
      String(limits.maxSectors),
      `sectors (max_sectors_kb ${Math.floor(limits.maxSectors / 2)})`,
    ],
    ['max_dev_sectors', String(limits.maxDevSectors), 'sectors (0 = none)'],
    ['max_discard_segments', String(limits.maxDiscardSegments), ''],
    ['bounce_highmem', String(limits.bounceHighmem), ''],
    ['queue_max_bytes', String(queueMaxBytes(limits)), 'bytes (caps the sg reserve)'],
  ];
}

export const limitsCommand: Command = {
  name: 'limits',
  summary:
    'print request-queue limits (a preset or a sysfs queue directory) as the Linux 6.1 model holds them',
  usage: '[<device> | --preset NAME | --sysfs DIR]',
  details: [
    'With a <device> (/dev/sgN, /dev/bsg/H:C:T:L, /dev/sdX, emu:...): the limits of its request queue as the',
    "device API reads them (its disk's sysfs queue directory, or the sg ioctls when no block driver is bound),",
    'plus its queue depth and the size the API splits transfers at. Example: sgv4 limits /dev/sg0',
    `Presets: ${QUEUE_LIMITS_PRESET_NAMES.join(', ')} (default kernel-default).`,
    '--sysfs reads /sys/block/<disk>/queue style files; fields sysfs does not show (seg_boundary_mask,',
    'dma_pad_mask, max_dev_sectors, bounce) are assumed and listed.',
    'Example: sgv4 limits --sysfs /sys/block/sda/queue',
    '--json: {"source": string, "description": string, "limits": QueueLimits (camelCase fields:',
    'maxSegments, maxSegmentSize, segBoundaryMask, virtBoundaryMask, dmaAlignment, dmaPadMask,',
    'logicalBlockSize, physicalBlockSize, ioMin, ioOpt, maxHwSectors, maxSectors, maxDevSectors,',
    'maxDiscardSegments, bounceHighmem), "queueMaxBytes": number, "assumed": [{"field", "value"}]}; with a',
    '<device> also "device", "kind", "queueDepth" (the API\'s), "deviceQueueDepth" (sysfs queue_depth, when',
    'known) and "maxRequestBytes" (largest single request the API sends).',
  ].join('\n'),
  json: true,
  options: {
    preset: { type: 'string', valueName: 'NAME', description: 'a named preset (see details)' },
    sysfs: { type: 'string', valueName: 'DIR', description: 'a sysfs queue directory to read' },
    readonly: READONLY_OPTION,
  },
  positionals: { min: 0, max: 1 },
  async run(invocation, io) {
    const preset = invocation.string('preset');
    const sysfs = invocation.string('sysfs');
    const [location] = invocation.positionals;
    if (location !== undefined) {
      if (preset !== undefined || sysfs !== undefined) {
        throw new UsageError('<device> excludes --preset and --sysfs', 31);
      }
      const device = await openDevice(location, invocation, { identify: false });
      const l = device.limits;
      await device.close();
      if (invocation.json) {
        printJson(io, {
          device: location,
          kind: device.kind,
          source: l.source,
          description: `request queue of ${location}`,
          limits: l.queueLimits,
          queueMaxBytes: queueMaxBytes(l.queueLimits),
          assumed: l.assumed,
          queueDepth: device.queueDepth,
          ...(l.deviceQueueDepth !== undefined ? { deviceQueueDepth: l.deviceQueueDepth } : {}),
          maxRequestBytes: l.maxRequestBytes,
        });
        return 0;
      }
      printLine(io, `${location} (${device.kind}): ${l.source}`);
      const rows = [
        ...limitRows(l.queueLimits),
        [
          'queue_depth',
          String(l.deviceQueueDepth ?? '-'),
          `device (sysfs); the API keeps ${device.queueDepth} in flight`,
        ],
        ['max_request_bytes', String(l.maxRequestBytes), 'bytes (the API splits larger transfers)'],
      ];
      for (const line of formatTable([['field', 'value', 'unit'], ...rows])) printLine(io, line);
      if (l.assumed.length > 0) {
        printLine(
          io,
          `assumed (not in the source): ${l.assumed.map((a) => `${a.field}=${a.value}`).join(', ')}`,
        );
      }
      return 0;
    }
    if (preset !== undefined && sysfs !== undefined)
      throw new UsageError('--preset and --sysfs exclude each other', 31);
    if (preset !== undefined && !isQueueLimitsPresetName(preset)) {
      throw new UsageError(
        `--preset must be one of ${QUEUE_LIMITS_PRESET_NAMES.join(', ')} (got '${preset}')`,
      );
    }
    const loaded = sysfs !== undefined ? loadSysfsLimits(sysfs) : loadQueueLimits(preset ?? 'kernel-default');
    if (invocation.json) {
      printJson(io, {
        source: loaded.source,
        description: loaded.description,
        limits: loaded.limits,
        queueMaxBytes: queueMaxBytes(loaded.limits),
        assumed: loaded.assumed,
      });
      return 0;
    }
    printLine(io, `${loaded.source}: ${loaded.description}`);
    for (const line of formatTable([['field', 'value', 'unit'], ...limitRows(loaded.limits)]))
      printLine(io, line);
    if (loaded.assumed.length > 0) {
      printLine(
        io,
        `assumed (not in the source): ${loaded.assumed.map((a) => `${a.field}=${a.value}`).join(', ')}`,
      );
    }
    return 0;
  },
};
