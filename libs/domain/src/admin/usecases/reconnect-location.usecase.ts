import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import type { ConnectionView} from '../location-view';
import { connectionsFor } from '../location-view';

export interface ReconnectRequested {
  locationId: string;
  /** Always "reconnect_requested": the owning gateway replica resets the backoff and dials at once. */
  status: 'reconnect_requested';
  message: string;
  /** ISO time of the request. */
  requestedAt: string;
  /** How many gateway replicas heard the request (the one holding the location acts on it; 0: no gateway is running). */
  gatewaysNotified: number;
  /** The connection status as it was just before the request (poll GET /v1/locations/{id} for the new one). */
  connection: ConnectionView;
}

/**
 * An operator's "reconnect now": the gateway replica holding the location's
 * link forgets its backoff (after an authentication refusal it can be minutes)
 * and dials again at once; an open link is closed and dialled again. Redis
 * not answering is RedisUnavailable (503 redis_unavailable): the request may
 * not have reached the gateways, and sending it again is harmless.
 */
export class ReconnectLocation {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string): Promise<ReconnectRequested> {
    const enabled = await this.d.locations.enabled(id);
    if (enabled === null) throw DomainError.notFound('location', id);
    if (!enabled) throw DomainError.conflict('the location is disabled: enable it (POST /v1/locations/{id}/enable) to connect it', { locationId: id });
    const requestedAt = new Date().toISOString();
    // Both go to Redis, the status read first: side by side, an outage costs one wait (then 503 redis_unavailable
    // from the request), not two in a row.
    const status = connectionsFor(this.d, [id]);
    const [connections, gatewaysNotified] = await Promise.all([status, this.d.publisher.requestReconnect(id)]);
    const connection = connections.get(id)!;
    return {
      locationId: id,
      status: 'reconnect_requested',
      message:
        gatewaysNotified > 0
          ? 'the gateway replica holding this location resets its backoff and dials Dojo again now'
          : 'no gateway replica is listening: the location is dialled when a gateway starts',
      requestedAt,
      gatewaysNotified,
      connection,
    };
  }
}
