/** An app's Prometheus text at `<url>/metrics`, or '' when it has no URL or does not answer (within `timeoutMs`, when given). */
export async function metricsText(url: string | undefined, timeoutMs?: number): Promise<string> {
  if (!url) return '';
  const init = timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(timeoutMs) };
  return fetch(`${url}/metrics`, init).then((r) => (r.ok ? r.text() : ''), () => '');
}

/** The value of one series (`name` or `name{label="value"}`, as the text writes it), NaN when it is not there. */
export function sampleOf(text: string, series: string): number {
  const escaped = series.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return Number(new RegExp(`^${escaped} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
}
