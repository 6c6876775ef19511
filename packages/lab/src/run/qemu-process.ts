/**
 * Starting QEMU so that it cannot outlive the process that started it: it runs under
 * `setpriv --pdeathsig KILL` (the kernel kills it when its parent dies, even by SIGKILL),
 * and every live QEMU is also killed on this process's exit, SIGINT and SIGTERM.
 * @module
 */
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { findExecutable } from '../host/executables.js';

const live = new Set<ChildProcess>();
let handlersInstalled = false;

function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
}

function onSignal(signal: NodeJS.Signals): void {
  killAll();
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAll);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function removeHandlers(): void {
  if (!handlersInstalled || live.size > 0) return;
  handlersInstalled = false;
  process.off('exit', killAll);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

/** Spawns `qemu args...` with the guarantees above. */
export function spawnQemu(qemu: string, args: readonly string[], stdio: StdioOptions): ChildProcess {
  const setpriv = findExecutable('setpriv');
  const child = setpriv
    ? spawn(setpriv, ['--pdeathsig', 'KILL', '--', qemu, ...args], { stdio })
    : spawn(qemu, [...args], { stdio });
  live.add(child);
  installHandlers();
  child.once('exit', () => {
    live.delete(child);
    removeHandlers();
  });
  return child;
}

/** How many QEMU processes this process has running. */
export function liveQemuCount(): number {
  return live.size;
}
