/**
 * Builds and runs packages/lab/probes/sg-v3-probe.c (native and -m32) in the lab guest, and mirrors
 * the headers it builds so a test can translate the very same request.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AddressSpace, createSgIoHdr, SG_FLAG_MMAP_IO, type SgAbi, type SgIoHdr } from '../../src/index.js';

// Every C probe of the project lives in packages/lab/probes (one place to read and build them).
const SOURCE = fileURLToPath(new URL('../../../lab/probes/sg-v3-probe.c', import.meta.url));

/** One JSON line of the probe. */
export interface ProbeLine {
  readonly op: string;
  /** -1 on failure, else the call's (non-negative) return. */
  readonly ret: number;
  readonly errno: string | null;
  readonly value?: number;
  /** Submission number (names the probe's buffers). */
  readonly seq?: number;
  /** The submission's usr_ptr. */
  readonly usr?: number;
  /** Header bytes the kernel wrote (hex). */
  readonly hdr?: string;
  /** Sense bytes written at sbp (hex). */
  readonly sense?: string;
  /** FNV-1a of the data buffer (or the mapping) after the reply. */
  readonly crc?: number;
  /** Table / sg_scsi_id bytes (hex). */
  readonly bytes?: string;
}

/** The commands the probe builds. */
export type ProbeCommand = 'tur' | 'read' | 'oob' | 'inq' | 'bad' | 'wr';

/** One v3 submission as the probe takes it. */
export interface ProbeCall {
  readonly kind: ProbeCommand;
  readonly dir: number;
  readonly len: number;
  readonly packId: number;
  readonly flags?: number;
  readonly mx?: number;
  readonly niov?: number;
  /** write()'s count (0 = sizeof the caller's sg_io_hdr). */
  readonly count?: number;
  readonly iface?: number;
  /** 0 = the command's own length. */
  readonly cmdLen?: number;
}

/** The probe line of a submission on `slot`. */
export function callLine(op: 'write' | 'sgio' | 'sgioint', slot: number, c: ProbeCall): string {
  return [
    op,
    slot,
    c.kind,
    c.dir,
    c.len,
    c.packId,
    c.flags ?? 0,
    c.mx ?? 32,
    c.niov ?? 0,
    c.count ?? 0,
    c.iface ?? 0x53,
    c.cmdLen ?? 0,
  ].join(' ');
}

/** Binaries built in this worker (the lab runs its test files in one worker: each builds once). */
const built = new Map<SgAbi, string>();

/** Compiles the probe for `abi` (gcc -m32 for ilp32) into a fresh temp directory, once per worker. */
export function buildProbe(abi: SgAbi): string {
  const done = built.get(abi);
  if (done !== undefined) return done;
  const dir = mkdtempSync(join(tmpdir(), 'sg3-compat-probe-'));
  const binary = join(dir, `sg-v3-probe-${abi}`);
  execFileSync('gcc', [abi === 'ilp32' ? '-m32' : '-m64', '-O1', '-Wall', '-Werror', '-o', binary, SOURCE], {
    stdio: 'pipe',
  });
  built.set(abi, binary);
  return binary;
}

/** Runs `lines` through the probe on `device`; one result per line. */
export function runProbe(binary: string, device: string, lines: readonly string[]): ProbeLine[] {
  const run = spawnSync(binary, [device], {
    input: `${lines.join('\n')}\n`,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 300_000,
  });
  if (run.status !== 0) throw new Error(`probe exited ${run.status}: ${run.stderr}`);
  const out = run.stdout
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as ProbeLine);
  if (out.length !== lines.length)
    throw new Error(`probe answered ${out.length} of ${lines.length} lines: ${run.stderr}`);
  return out;
}

/** {@link runProbe} without blocking the event loop, so the caller can run the facade meanwhile. */
export function runProbeAsync(
  binary: string,
  device: string,
  lines: readonly string[],
): Promise<ProbeLine[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [device], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString();
      if (status !== 0) return reject(new Error(`probe exited ${status}: ${stderr}`));
      const parsed = Buffer.concat(out)
        .toString()
        .trim()
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as ProbeLine);
      if (parsed.length !== lines.length)
        return reject(new Error(`probe answered ${parsed.length} of ${lines.length} lines: ${stderr}`));
      resolve(parsed);
    });
    child.stdin.end(`${lines.join('\n')}\n`);
  });
}

/** Hex -> bytes. */
export function bytesOf(hex: string | undefined): Uint8Array {
  return Uint8Array.from(Buffer.from(hex ?? '', 'hex'));
}

/** The CDB the probe builds for `kind` and `len` (build_cdb in the probe). */
export function probeCdb(kind: ProbeCommand, len: number): Uint8Array {
  const blocks = Math.ceil(len / 512);
  switch (kind) {
    case 'tur':
      return new Uint8Array(6);
    case 'inq':
      return Uint8Array.of(0x12, 0, 0, (len >> 8) & 0xff, len & 0xff, 0);
    case 'bad':
      return Uint8Array.of(0xff, 0, 0, 0, 0, 0);
    default: {
      const cdb = new Uint8Array(10);
      const view = new DataView(cdb.buffer);
      cdb[0] = kind === 'wr' ? 0x2a : 0x28;
      view.setUint32(2, kind === 'oob' ? 0xffff_ff00 : kind === 'wr' ? 2048 : 0);
      view.setUint16(7, blocks);
      return cdb;
    }
  }
}

/** The probe's data pattern for submission `seq`: byte i = seq * 7 + i. */
export function probeData(seq: number, len: number): Uint8Array {
  return Uint8Array.from({ length: len }, (_, i) => (seq * 7 + i) & 0xff);
}

/** FNV-1a, as the probe computes "crc". */
export function fnv1a(bytes: Uint8Array): number {
  let h = 2166136261;
  for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h >>> 0;
}

/**
 * The header the probe submits for `call` as submission `seq`, built in an address space of
 * `abi` (a fresh one unless given) holding the same CDB, data (flat or in iovecs) and sense buffer.
 */
export function probeHeader(
  call: ProbeCall,
  seq: number,
  abi: SgAbi,
  memory: AddressSpace = new AddressSpace({ abi }),
): { memory: AddressSpace; hdr: SgIoHdr; data: Uint8Array } {
  const cdb = new Uint8Array(260);
  const own = probeCdb(call.kind, call.len);
  cdb.set(own);
  const data = probeData(seq, Math.max(call.len, 1));
  const sense = new Uint8Array(256);
  let dxferp = 0n;
  let iovecCount = 0;
  const niov = call.niov ?? 0;
  if ((call.flags ?? 0) & SG_FLAG_MMAP_IO) dxferp = 0n;
  else if (niov > 0) {
    const per = Math.floor(call.len / niov);
    const base = memory.map(data);
    const iov = new Uint8Array(niov * (abi === 'lp64' ? 16 : 8));
    const view = new DataView(iov.buffer);
    for (let i = 0; i < niov; i++) {
      const length = i + 1 === niov ? call.len - per * i : per;
      if (abi === 'lp64') {
        view.setBigUint64(i * 16, base + BigInt(i * per), true);
        view.setBigUint64(i * 16 + 8, BigInt(length), true);
      } else {
        view.setUint32(i * 8, Number(base) + i * per, true);
        view.setUint32(i * 8 + 4, length, true);
      }
    }
    dxferp = memory.map(iov);
    iovecCount = niov;
  } else dxferp = memory.map(data);
  const hdr = createSgIoHdr({
    interfaceId: call.iface ?? 0x53,
    dxferDirection: call.dir,
    cmdLen: call.cmdLen || own.length,
    cmdp: memory.map(cdb),
    mxSbLen: call.mx ?? 32,
    sbp: memory.map(sense),
    dxferLen: call.len,
    dxferp,
    iovecCount,
    timeout: 20000,
    flags: call.flags ?? 0,
    packId: call.packId,
    usrPtr: BigInt(0x500_0000 + seq),
  });
  return { memory, hdr, data };
}
