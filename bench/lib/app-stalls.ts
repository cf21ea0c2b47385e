import { EVENT_LOOP_SAMPLE_MS } from '@app/common';
import { metricsText, sampleOf } from './metrics-text';
import type { AppProcess } from './procs';
import { appLabel } from './procs';

/**
 * What stalled each app's event loop during a window, from its /metrics (prom-client's default metrics): the
 * longest event-loop delay (its histogram is emptied by every scrape, so the scrape at the start opens the window)
 * and the time spent in garbage collection, all of it and the major (mark-compact) part. A request answered late
 * while an app's loop stood still for longer than the p99 limit, or during a major collection, waited for that app.
 */
export interface AppStall {
  /**
   * The longest event-loop stall seen (ms): the histogram's maximum less its sampling interval (EVENT_LOOP_SAMPLE_MS: it
   * records the time between ticks of that timer, so a loop that never stood still reads 0).
   */
  loopMaxMs: number;
  /** Garbage collection during the window: all kinds, and the major collections alone (ms), and how many majors. */
  gcMs: number;
  majorGcMs: number;
  majors: number;
}

interface GcTotals {
  allSeconds: number;
  majorSeconds: number;
  majors: number;
}

/** The GC histogram's totals: the sum over every kind, and the major kind's sum and count. */
function gcTotals(text: string): GcTotals {
  let allSeconds = 0;
  for (const m of text.matchAll(/^nodejs_gc_duration_seconds_sum\{[^}]*\} (\S+)$/gm)) allSeconds += Number(m[1]);
  const major = (what: 'sum' | 'count') => Number(new RegExp(`^nodejs_gc_duration_seconds_${what}\\{[^}]*kind="major"[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { allSeconds, majorSeconds: major('sum'), majors: major('count') };
}

/** Scrapes every app with a URL now (opening the window); `end()` scrapes them again and says what each went through. */
export async function watchAppStalls(apps: AppProcess[]): Promise<{ end(): Promise<Record<string, AppStall>> }> {
  const withUrl = apps.filter((a) => a.url);
  const before = new Map(await Promise.all(withUrl.map(async (a) => [a.name, gcTotals(await metricsText(a.url, 5_000))] as const)));
  return {
    async end() {
      const out: Record<string, AppStall> = {};
      await Promise.all(
        withUrl.map(async (a) => {
          const text = await metricsText(a.url, 5_000);
          const loopMax = sampleOf(text, 'nodejs_eventloop_lag_max_seconds');
          if (!Number.isFinite(loopMax)) return; // not answering, or no default metrics: nothing to say
          const b = before.get(a.name) ?? { allSeconds: 0, majorSeconds: 0, majors: 0 };
          const g = gcTotals(text);
          const ms = (s: number) => Math.round(s * 10_000) / 10;
          out[appLabel(a)] = { loopMaxMs: Math.max(0, Math.round((loopMax * 1000 - EVENT_LOOP_SAMPLE_MS) * 10) / 10), gcMs: ms(g.allSeconds - b.allSeconds), majorGcMs: ms(g.majorSeconds - b.majorSeconds), majors: g.majors - b.majors };
        }),
      );
      return out;
    },
  };
}

/** The apps whose loop stood still for at least `minMs`, or that ran a major collection, as one log phrase. */
export function describeAppStalls(stalls: Record<string, AppStall>, minMs: number): string {
  return Object.entries(stalls)
    .filter(([, s]) => s.loopMaxMs >= minMs || s.majors > 0)
    .map(([name, s]) => `${name} loop stood still ${s.loopMaxMs} ms${s.majors > 0 ? `, ${s.majors} major GC ${s.majorGcMs} ms` : ''}`)
    .join(', ');
}
