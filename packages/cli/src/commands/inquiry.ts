/** `sgv4 inquiry <device> [--vpd PAGE]`: standard INQUIRY or a VPD page (like sg_inq and sg_vpd). */
import { type DeviceIdentifier, type StandardInquiry, toDeviceIdentifier } from '@sgv4/bsg';
import { hexByte, SUPPORTED_VPD_PAGES, type VpdPage } from '@sgv4/core';
import { hexDump, toHex } from '../device/hex-dump.js';
import { openDevice, READONLY_OPTION, TIMEOUT_OPTION, timeoutOf } from '../device/open-device.js';
import type { Command, CommandIO } from '../framework/command.js';
import { parseIntegerArgument } from '../framework/invocation.js';
import { formatTable, printJson, printLine } from '../framework/output.js';

const VPD_NAMES: Readonly<Record<number, string>> = {
  0: 'Supported VPD pages',
  128: 'Unit serial number',
  131: 'Device Identification',
  176: 'Block limits',
  177: 'Block device characteristics',
  178: 'Logical block provisioning',
};

const b = (v: boolean): string => (v ? '1' : '0');

function printStandard(
  io: CommandIO,
  device: string,
  inq: StandardInquiry,
  serial: string | undefined,
): void {
  printLine(io, `${device}: standard INQUIRY:`);
  printLine(
    io,
    `  PQual=${inq.peripheralQualifier}  PDT=${inq.peripheralType}  RMB=${b(inq.removable)}  version=${hexByte(inq.version)}`,
  );
  printLine(
    io,
    `  NormACA=${b(inq.normaca)}  HiSUP=${b(inq.hisup)}  Resp_data_format=${inq.responseDataFormat}`,
  );
  printLine(
    io,
    `  SCCS=${b(inq.sccs)}  ACC=${b(inq.acc)}  TPGS=${inq.tpgs}  3PC=${b(inq.thirdPartyCopy)}  Protect=${b(inq.protect)}`,
  );
  printLine(io, `  EncServ=${b(inq.encserv)}  MultiP=${b(inq.multip)}  CmdQue=${b(inq.cmdque)}`);
  printLine(
    io,
    `    length=${inq.raw.length} (0x${inq.raw.length.toString(16)})   Peripheral device type: ${inq.peripheralTypeName}`,
  );
  printLine(io, ` Vendor identification: ${inq.vendor}`);
  printLine(io, ` Product identification: ${inq.product}`);
  printLine(io, ` Product revision level: ${inq.revision}`);
  if (serial !== undefined) printLine(io, ` Unit serial number: ${serial}`);
}

function identifierLines(ids: readonly DeviceIdentifier[]): string[] {
  const lines: string[] = [];
  let association = '';
  for (const id of ids) {
    if (id.association !== association) {
      association = id.association;
      lines.push(
        association === 'logical unit'
          ? '  Addressed logical unit:'
          : association === 'target port'
            ? '  Target port:'
            : '  Target device that contains addressed lu:',
      );
    }
    lines.push(
      `    designator type: ${id.typeName},  code set: ${id.codeSet === 'utf-8' ? 'UTF-8' : id.codeSet === 'ascii' ? 'ASCII' : id.codeSet === 'binary' ? 'Binary' : 'Reserved'}`,
    );
    lines.push(`      ${id.codeSet === 'binary' ? `0x${id.value}` : id.value}`);
  }
  return lines;
}

function printVpd(io: CommandIO, page: VpdPage): void {
  printLine(io, `${VPD_NAMES[page.pageCode] ?? 'VPD'} VPD page:`);
  switch (page.pageCode) {
    case 0x00:
      for (const p of page.supportedPages) printLine(io, `  ${hexByte(p)}  ${VPD_NAMES[p] ?? ''}`.trimEnd());
      return;
    case 0x80:
      printLine(io, `  Unit serial number: ${page.serialNumber}`);
      return;
    case 0x83:
      return;
    default:
      for (const line of formatTable(Object.entries(page.fields).map(([k, v]) => [`  ${k}`, String(v)])))
        printLine(io, line);
  }
}

export const inquiryCommand: Command = {
  name: 'inquiry',
  summary: 'standard INQUIRY, or a VPD page with --vpd (like sg_inq and sg_vpd)',
  usage: '<device> [--vpd PAGE] [--json]',
  details: [
    `--vpd PAGE (decimal or 0x-hex): pages ${SUPPORTED_VPD_PAGES.map((p) => `0x${p.toString(16)}`).join(', ')} are decoded, others are hex-dumped.`,
    '--json (standard): {device, peripheralQualifier, peripheralType, peripheralTypeName, removable, version,',
    'responseDataFormat, normaca, hisup, sccs, acc, tpgs, thirdPartyCopy, protect, encserv, multip, cmdque,',
    'vendor, product, revision, length, serial?, identifiers [{association, type, typeName, codeSet,',
    'protocolIdentifier?, value, bytes (hex)}], vpdPages [numbers], raw (hex)}.',
    '--json (--vpd): {device, pageCode, pageName, length, raw (hex), and per page: supportedPages (0x00),',
    'serialNumber (0x80), identifiers (0x83, as above), fields {camelCase T10 names} (0xb0, 0xb1, 0xb2)}.',
    'Examples: sgv4 inquiry /dev/sg0     sgv4 inquiry /dev/bsg/0:0:0:0 --vpd 0x83 --json',
  ].join('\n'),
  json: true,
  positionals: { min: 1, max: 1 },
  options: {
    vpd: { type: 'string', valueName: 'PAGE', description: 'the VPD page to fetch (EVPD=1), e.g. 0x83' },
    timeout: TIMEOUT_OPTION,
    readonly: READONLY_OPTION,
  },
  async run(invocation, io) {
    const [location] = invocation.positionals as [string];
    const rawPage = invocation.string('vpd');
    const page =
      rawPage === undefined ? undefined : parseIntegerArgument('--vpd', rawPage, { min: 0, max: 255 });
    const timeoutMs = timeoutOf(invocation);
    const opts = timeoutMs !== undefined ? { timeoutMs } : {};
    const device = await openDevice(location, invocation, { identify: page === undefined });
    try {
      if (page === undefined) {
        const id = device.identity;
        const inq = id.inquiry as StandardInquiry;
        if (invocation.json) {
          const { raw, ...fields } = inq;
          printJson(io, {
            device: location,
            ...fields,
            length: raw.length,
            ...(id.serial !== undefined ? { serial: id.serial } : {}),
            identifiers: id.identifiers,
            vpdPages: id.vpdPages,
            raw,
          });
        } else {
          printStandard(io, location, inq, id.serial);
          if (id.identifiers.length > 0) {
            printLine(io, ' Device identification:');
            for (const line of identifierLines(id.identifiers)) printLine(io, line);
          }
        }
        return 0;
      }
      const raw = await device.vpdBytes(page, opts);
      const parsed = SUPPORTED_VPD_PAGES.includes(page) ? await device.vpdPage(page, opts) : undefined;
      if (invocation.json) {
        const identifiers =
          parsed?.pageCode === 0x83 ? parsed.designators.map((d) => toDeviceIdentifier(d)) : undefined;
        printJson(io, {
          device: location,
          pageCode: page,
          pageName: VPD_NAMES[page] ?? null,
          length: raw.length,
          raw,
          ...(parsed?.pageCode === 0x00 ? { supportedPages: parsed.supportedPages } : {}),
          ...(parsed?.pageCode === 0x80 ? { serialNumber: parsed.serialNumber } : {}),
          ...(identifiers ? { identifiers } : {}),
          ...(parsed && 'fields' in parsed ? { fields: parsed.fields } : {}),
        });
      } else if (parsed !== undefined) {
        printVpd(io, parsed);
        if (parsed.pageCode === 0x83)
          for (const line of identifierLines(parsed.designators.map((d) => toDeviceIdentifier(d))))
            printLine(io, line);
      } else {
        printLine(
          io,
          `VPD page ${hexByte(page)} (${raw.length} bytes, not decoded: ${toHex(raw.subarray(0, 4))}...):`,
        );
        for (const line of hexDump(raw)) printLine(io, line);
      }
      return 0;
    } finally {
      await device.close();
    }
  },
};
