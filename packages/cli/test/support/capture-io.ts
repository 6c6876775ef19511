/** In-memory stdout/stderr for running `sgv4` command lines in tests. */
import { Writable } from 'node:stream';
import type { CommandIO } from '../../src/framework/command.js';
import { runCli } from '../../src/run-cli.js';

/** What one `sgv4` run printed and returned. */
export interface CapturedRun {
  status: number;
  stdout: string;
  stderr: string;
}

function sink(chunks: string[]): Writable {
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
}

/** Runs `sgv4 <argv...>` in-process and captures its output. */
export async function runCaptured(argv: readonly string[]): Promise<CapturedRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIO = { stdout: sink(out), stderr: sink(err) };
  const status = await runCli(argv, io);
  return { status, stdout: out.join(''), stderr: err.join('') };
}
