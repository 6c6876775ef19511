/** `sgv4 lab conformance`: the model against the real Linux 6.1 kernel, in one guest boot. */
import { ExitStatus } from '@sgv4/core';
import {
  CONFORMANCE_AREA_NAMES,
  type ConformanceAreaName,
  conformanceCoverageGaps,
  conformanceDisagreements,
  formatConformanceTable,
  type LabAccel,
  LabProgress,
  runConformanceInLab,
} from '@sgv4/lab';
import type { Command } from '../framework/command.js';
import { printJson, printLine } from '../framework/output.js';
import { UsageError } from '../framework/usage-error.js';
import { LAB_ACCEL_OPTION, LAB_TIMEOUT_OPTION } from './lab-guest-options.js';

export const labConformanceCommand: Command = {
  name: 'conformance',
  summary: 'run every conformance case against the real kernel in one guest; one table per rule',
  usage: '[--area NAME ...] [--cases] [--accel tcg|kvm|auto] [--timeout SECONDS] [--json]',
  details: [
    'Boots one lab guest and runs the conformance registry of every area (permissions, headers,',
    'transfer, reserve, sense): each case puts one input to the model and to Linux 6.1 (sg, bsg, block',
    'SG_IO on scsi_debug) and compares the outcomes. The table has one row per rule: area, rule, the',
    'kernel function that applies it, the cases run, how many the rule decided (fire) or was checked',
    'and passed (pass), and how many agreed; rules the lab cannot produce say why. Exit status 0 when',
    'every case agrees and every reachable rule has a firing and a passing case, 14 (MISCOMPARE)',
    'otherwise. --cases also lists every case; --json prints the whole report: kernel, date, ms,',
    'totals { cases, agreeing, rules, rulesInLab }, rows [{ area, rule, kernelFunction, kind, cases,',
    'firing, notFiring, agreeing, notInLab? }], areas [{ area, title, ms, rules, cases [{ input, rules',
    '[{ id, fires }], predicted, observed, agrees }] }], plus bootMs, commandMs, totalMs and accel.',
  ].join('\n'),
  json: true,
  options: {
    area: {
      type: 'string',
      multiple: true,
      valueName: 'NAME',
      description: `run only this area (repeatable): ${CONFORMANCE_AREA_NAMES.join(', ')}`,
    },
    cases: { type: 'boolean', description: 'list every case (input, model, kernel) after the table' },
    accel: LAB_ACCEL_OPTION,
    timeout: LAB_TIMEOUT_OPTION,
  },
  async run(invocation, io) {
    const areas = invocation.strings('area');
    for (const name of areas) {
      if (!(CONFORMANCE_AREA_NAMES as readonly string[]).includes(name)) {
        throw new UsageError(`--area must be one of ${CONFORMANCE_AREA_NAMES.join(', ')} (got '${name}')`);
      }
    }
    const accel: LabAccel = invocation.choice('accel', ['tcg', 'kvm', 'auto'] as const, 'tcg') ?? 'tcg';
    const timeoutMs = (invocation.integer('timeout', { min: 1, max: 86400 }, 600) ?? 600) * 1000;
    const progress = new LabProgress(io.stderr, { quiet: invocation.json });
    const { report, run } = await runConformanceInLab({
      accel,
      timeoutMs,
      progress,
      ...(areas.length > 0 ? { areas: areas as ConformanceAreaName[] } : {}),
      ...(invocation.json ? {} : { stderr: io.stderr }),
    });
    const disagreements = conformanceDisagreements(report);
    const gaps = conformanceCoverageGaps(report.rows);
    const status = disagreements.length === 0 && gaps.length === 0 ? ExitStatus.CLEAN : ExitStatus.MISCOMPARE;
    const times = { bootMs: run.bootMs, commandMs: run.commandMs, totalMs: run.totalMs, accel: run.accel };
    if (invocation.json) {
      printJson(io, { ...report, ...times });
      return status;
    }
    for (const line of formatConformanceTable(report)) printLine(io, line);
    const t = report.totals;
    const s = (ms: number) => (ms / 1000).toFixed(1);
    printLine(io);
    printLine(
      io,
      `${t.agreeing}/${t.cases} cases agree; ${t.rulesInLab} of ${t.rules} rules have lab cases; ` +
        `kernel ${report.kernel}; ${run.accel.toUpperCase()} boot ${s(run.bootMs)} s, cases ${s(report.ms)} s, ` +
        `total ${s(run.totalMs)} s`,
    );
    for (const c of disagreements) {
      printLine(io, `DISAGREES ${c.area}: ${c.input}: model ${c.predicted}, kernel ${c.observed}`);
    }
    for (const gap of gaps) printLine(io, `COVERAGE ${gap}`);
    if (invocation.flag('cases')) {
      printLine(io);
      for (const area of report.areas) {
        for (const c of area.cases) {
          const rules = c.rules.map((r) => `${r.id}${r.fires ? '*' : ''}`).join(',');
          printLine(
            io,
            `${c.agrees ? 'ok ' : 'BAD'} ${area.area}: ${c.input} | model ${c.predicted} | kernel ${c.observed} | ${rules}`,
          );
        }
      }
    }
    return status;
  },
};
