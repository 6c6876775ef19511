/**
 * The report's chart: one horizontal bar per comparison of this project against a peer
 * program, length = the measured ratio, with the line at 1 (as fast as the peer) and a tick at
 * the goal's minimum where a goal names that comparison. Plain SVG, no dependency, readable in
 * the site and on GitHub alike.
 * @module
 */
import type { Comparison, ReportGoal } from './report-model.js';

/** A bar of the chart. */
export interface ChartBar {
  readonly suite: string;
  readonly comparison: Comparison;
  /** The goal attached to this comparison, if any. */
  readonly goal?: ReportGoal;
}

const WIDTH = 640;
const LEFT = 12;
const RIGHT = 70;
const ROW = 38;
const TOP = 44;
const BAR = 14;

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/** A round axis maximum at or above `value` (1.2, 1.5, 2, 3, 5, then 10, 20, 50, 100, ...). */
export function axisMaximum(value: number): number {
  for (const step of [1.2, 1.5, 2, 3, 5]) if (value <= step) return step;
  const decade = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5]) if (value <= m * decade) return m * decade;
  return 10 * decade;
}

/** The SVG document (an empty chart with a note when there are no peer comparisons). */
export function peerChartSvg(bars: readonly ChartBar[], title: string): string {
  const height = TOP + Math.max(1, bars.length) * ROW + 30;
  const max = axisMaximum(
    Math.max(1, ...bars.map((b) => b.comparison.ratio), ...bars.map((b) => b.goal?.min ?? 0)),
  );
  const plot = WIDTH - LEFT - RIGHT;
  const x = (ratio: number) => LEFT + (Math.max(0, ratio) / max) * plot;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="chart-title" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`,
    `<title id="chart-title">${escapeXml(title)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="20" font-size="14" font-weight="bold" fill="#222">${escapeXml(title)}</text>`,
    `<text x="${LEFT}" y="36" fill="#555">ratio to the peer measured in the same run (1 = as fast as the peer; longer is faster)</text>`,
  ];
  if (bars.length === 0) {
    parts.push(
      `<text x="${LEFT}" y="${TOP + 20}" fill="#555">no comparison with a peer program in this run</text>`,
    );
  }
  bars.forEach((bar, i) => {
    const y = TOP + i * ROW;
    const { comparison, goal } = bar;
    const color = goal === undefined ? '#4a78a8' : goal.met ? '#2e8540' : '#c0392b';
    const label = `${bar.suite}: ${comparison.case}  vs  ${comparison.against}`;
    parts.push(`<text x="${LEFT}" y="${y + 11}" fill="#222">${escapeXml(label)}</text>`);
    parts.push(
      `<rect x="${LEFT}" y="${y + 16}" width="${(x(comparison.ratio) - LEFT).toFixed(1)}" height="${BAR}" fill="${color}"/>`,
    );
    parts.push(
      `<text x="${(x(comparison.ratio) + 4).toFixed(1)}" y="${y + 27}" fill="#222">${comparison.ratio.toFixed(2)}x</text>`,
    );
    // The "as fast as the peer" line, on the bar's row only (not through the labels).
    parts.push(
      `<line x1="${x(1).toFixed(1)}" x2="${x(1).toFixed(1)}" y1="${y + 14}" y2="${y + 32}" stroke="#888" stroke-dasharray="3 2"/>`,
    );
    if (goal !== undefined) {
      const gx = x(goal.min).toFixed(1);
      parts.push(
        `<line x1="${gx}" x2="${gx}" y1="${y + 13}" y2="${y + 33}" stroke="#222" stroke-width="2"><title>goal: ${escapeXml(goal.goal)}</title></line>`,
      );
    }
  });
  const one = x(1).toFixed(1);
  const bottom = TOP + Math.max(1, bars.length) * ROW;
  parts.push(
    `<text x="${one}" y="${bottom + 14}" fill="#555" text-anchor="middle">1 = peer</text>`,
    `<text x="${LEFT}" y="${bottom + 14}" fill="#555">0</text>`,
    `<text x="${(LEFT + plot).toFixed(1)}" y="${bottom + 14}" fill="#555" text-anchor="middle">${max}</text>`,
    `<text x="${WIDTH - RIGHT + 8}" y="${bottom + 28}" fill="#555" text-anchor="end" font-size="10">green: goal met, red: missed, |: goal</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
