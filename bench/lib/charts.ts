/**
 * The bench's figures as SVG files (plain text, no browser or library needed):
 * latency percentiles against offered load per variant, CPU per request by
 * process, and the throughput ramp (achieved against offered). Written beside
 * the results JSON by bench/run.ts.
 */

export interface Series {
  name: string;
  points: { x: number; y: number }[];
  dashed?: boolean;
}

const W = 720;
const H = 400;
const M = { left: 70, right: 190, top: 40, bottom: 50 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#17becf', '#bcbd22'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2));

function frame(title: string, xLabel: string, yLabel: string, body: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="${M.left + (W - M.left - M.right) / 2}" y="${H - 10}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(16 ${M.top + (H - M.top - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    body,
    '</svg>',
    '',
  ].join('\n');
}

/** Ticks: 1-2-5 steps on a linear axis, powers of ten (with 2 and 5) on a log axis. */
function ticks(min: number, max: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (v >= min * 0.999 && v <= max * 1.001) out.push(v);
      }
    }
    return out;
  }
  const raw = (max - min) / 6 || 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Math.round(v * 1e9) / 1e9);
  return out;
}

/** A line chart; `logY` for latencies that span orders of magnitude. */
export function lineChart(o: { title: string; xLabel: string; yLabel: string; series: Series[]; logY?: boolean; yMin?: number }): string {
  const pts = o.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (pts.length === 0) return frame(o.title, o.xLabel, o.yLabel, `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no data</text>`);
  const logY = o.logY ?? false;
  const xMin = 0;
  const xMax = Math.max(...pts.map((p) => p.x)) * 1.05;
  let yMin = o.yMin ?? (logY ? Math.min(...pts.map((p) => p.y).filter((y) => y > 0)) / 1.5 : 0);
  let yMax = Math.max(...pts.map((p) => p.y)) * (logY ? 1.5 : 1.1);
  if (logY) {
    yMin = 10 ** Math.floor(Math.log10(Math.max(yMin, 1e-3)));
    yMax = 10 ** Math.ceil(Math.log10(Math.max(yMax, yMin * 10)));
  }
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number) => M.left + ((x - xMin) / (xMax - xMin || 1)) * pw;
  const sy = (y: number) =>
    logY ? M.top + ph - ((Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * ph : M.top + ph - ((y - yMin) / (yMax - yMin || 1)) * ph;
  const parts: string[] = [];
  for (const t of ticks(yMin, yMax, logY)) {
    parts.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${M.left - 6}" y="${sy(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const t of ticks(xMin, xMax, false)) {
    parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${M.top}" y2="${M.top + ph}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${sx(t)}" y="${M.top + ph + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  o.series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!;
    const ps = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    if (ps.length > 1) {
      parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''} points="${ps.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ')}"/>`);
    }
    for (const p of ps) parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${c}"><title>${esc(s.name)}: ${fmt(p.x)}, ${fmt(p.y)}</title></circle>`);
    const ly = M.top + 10 + i * 16;
    parts.push(`<line x1="${W - M.right + 12}" x2="${W - M.right + 32}" y1="${ly}" y2="${ly}" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`);
    parts.push(`<text x="${W - M.right + 38}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  return frame(o.title, o.xLabel, o.yLabel, parts.join('\n'));
}

/** Stacked horizontal bars: one bar per row, one segment per part (e.g. CPU ms per request by process). */
export function stackedBars(o: { title: string; xLabel: string; rows: { label: string; parts: Record<string, number> }[] }): string {
  const names = [...new Set(o.rows.flatMap((r) => Object.keys(r.parts)))];
  const height = Math.max(H, M.top + M.bottom + o.rows.length * 26 + 20);
  // Room for the longest row label (about 6.2 px a character at 11 px sans-serif), at least 170 px.
  const left = Math.max(170, Math.ceil(12 + 6.2 * Math.max(0, ...o.rows.map((r) => r.label.length))));
  const pw = W - left - M.right;
  const max = Math.max(0.001, ...o.rows.map((r) => Object.values(r.parts).reduce((a, b) => a + b, 0))) * 1.1;
  const sx = (v: number) => (v / max) * pw;
  const parts: string[] = [];
  for (const t of ticks(0, max, false)) {
    parts.push(`<line x1="${left + sx(t)}" x2="${left + sx(t)}" y1="${M.top}" y2="${height - M.bottom}" stroke="#eee"/>`);
    parts.push(`<text x="${left + sx(t)}" y="${height - M.bottom + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  o.rows.forEach((r, i) => {
    const y = M.top + 10 + i * 26;
    parts.push(`<text x="${left - 6}" y="${y + 13}" text-anchor="end">${esc(r.label)}</text>`);
    let x = left;
    names.forEach((n, j) => {
      const v = r.parts[n] ?? 0;
      if (v <= 0) return;
      parts.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${sx(v).toFixed(1)}" height="18" fill="${COLORS[j % COLORS.length]}"><title>${esc(n)}: ${fmt(v)}</title></rect>`);
      x += sx(v);
    });
    const total = Object.values(r.parts).reduce((a, b) => a + b, 0);
    parts.push(`<text x="${(x + 4).toFixed(1)}" y="${y + 13}">${fmt(total)}</text>`);
  });
  names.forEach((n, j) => {
    const ly = M.top + 10 + j * 16;
    parts.push(`<rect x="${W - M.right + 12}" y="${ly - 6}" width="14" height="10" fill="${COLORS[j % COLORS.length]}"/>`);
    parts.push(`<text x="${W - M.right + 32}" y="${ly + 3}">${esc(n)}</text>`);
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="22" font-size="14" font-weight="bold">${esc(o.title)}</text>`,
    `<text x="${left + pw / 2}" y="${height - 10}" text-anchor="middle">${esc(o.xLabel)}</text>`,
    parts.join('\n'),
    '</svg>',
    '',
  ].join('\n');
}
