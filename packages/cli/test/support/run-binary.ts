/** Runs the built `sgv4` binary (packages/cli/dist/main.js) as a user would, and captures it. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI entry point (`pnpm build` makes it). */
export const SGV4_BIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** What one run printed and returned. */
export interface BinaryRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `file args...` and resolves with its exit status and output (never rejects on a non-zero status). */
export function runProgram(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<BinaryRun> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      { encoding: 'utf8', maxBuffer: 64 << 20, env: options.env ?? process.env },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(error);
          return;
        }
        resolve({ status: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/** Runs `sgv4 args...` through node and the built binary. */
export function runSgv4(args: readonly string[]): Promise<BinaryRun> {
  return runProgram(process.execPath, [SGV4_BIN, ...args]);
}
