#!/usr/bin/env node
/** The `sgv4` executable. */
import { runCli } from './run-cli.js';

// bsg and block SG_IO block one libuv threadpool thread per request in flight (the device API's
// queue depth there is the pool size): give `--qd 16` sixteen unless the user chose a size. libuv
// reads the variable when the pool starts, at the first threadpool request, which is later than this.
process.env.UV_THREADPOOL_SIZE ??= '16';

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
