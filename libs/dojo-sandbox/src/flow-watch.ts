/**
 * Starts a flow on a sandbox's flows API (POST /flows) and reports each step
 * as it completes (GET /flows/{id}), for `npm run flow` and `npm start`.
 */
export interface WatchedStep {
  name: string;
  status: string;
  additionalInformation?: string[];
  method?: string;
  ms?: number;
}

interface FlowView {
  flowID: string;
  flowName: string;
  status: string;
  steps?: WatchedStep[];
}

export interface WatchFlowOptions {
  sandboxUrl: string;
  flow: string;
  params: Record<string, unknown>;
  timeoutMs?: number;
  pollMs?: number;
  onStart?: (flowId: string) => void;
  onStep: (step: WatchedStep, index: number) => void;
}

async function http<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...(init?.headers ?? {}) } });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

export async function listFlows(sandboxUrl: string): Promise<{ name: string; description: string }[]> {
  return http(`${sandboxUrl.replace(/\/$/, '')}/flows`);
}

/** Resolves with the flow's final status: SUCCESS, FAILURE, TIMED_OUT, or GAVE_UP when timeoutMs passes first. */
export async function watchFlow(o: WatchFlowOptions): Promise<string> {
  const base = o.sandboxUrl.replace(/\/$/, '');
  const flowId = await http<string>(`${base}/flows`, { method: 'POST', body: JSON.stringify({ flow: o.flow, params: o.params }) });
  o.onStart?.(flowId);
  const printed = new Set<number>();
  const deadline = Date.now() + (o.timeoutMs ?? 120_000);
  for (;;) {
    const flow = await http<FlowView>(`${base}/flows/${flowId}`);
    (flow.steps ?? []).forEach((s, i) => {
      if (printed.has(i) || s.status === 'IN_PROGRESS') return;
      printed.add(i);
      o.onStep(s, i);
    });
    if (flow.status !== 'IN_PROGRESS') return flow.status;
    if (Date.now() > deadline) return 'GAVE_UP';
    await new Promise((r) => setTimeout(r, o.pollMs ?? 100));
  }
}

const COLOR = process.stdout.isTTY;
export const paint = (code: number, s: string) => (COLOR ? `\x1b[${code}m${s}\x1b[0m` : s);

/** One readable transcript line for a finished step. */
export function formatStep(s: WatchedStep): string {
  const mark = s.status === 'SUCCESS' ? paint(32, 'ok  ') : s.status === 'TIMED_OUT' ? paint(33, 'TIME') : paint(31, 'FAIL');
  const ms = s.ms !== undefined ? `${s.ms.toFixed(1).padStart(7)} ms` : ''.padStart(10);
  return `  ${mark} ${s.name.padEnd(44)} ${ms}  ${(s.additionalInformation ?? []).join('; ')}`;
}
