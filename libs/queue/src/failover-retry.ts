/** How long a Redis write is tried again across a failover: a Cluster or Sentinel replica is promoted 2–3 s after its master died. */
export const FAILOVER_RETRY_MS = 3_000;
const FIRST_WAIT_MS = 100;
const MAX_WAIT_MS = 500;

/**
 * Runs `attempt` (its first call in the caller's turn, so a command it issues shares that turn's write), and after a
 * failure again with a doubling wait (100 ms, at most 500 ms) while `stop` says nothing against it and the next try
 * would start before `until` (epoch ms). Past that, the last error. The one retry rule of the request path's writes to
 * Redis: the gateway's send of a request (RpcClient) and the worker's reply (RpcWorkerHost).
 */
export async function retryAcrossFailover<T>(attempt: (n: number) => Promise<T>, o: { until: number; stop?: () => boolean }): Promise<T> {
  let wait = FIRST_WAIT_MS;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (o.stop?.() || Date.now() + wait > o.until) throw err;
    }
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, MAX_WAIT_MS);
  }
}
