import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { GatewayConfig } from '@app/config';
import type { GatewayManagerOptions } from './gateway-manager';

export function defaultReplicaId(): string {
  return `${hostname().replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 30) || 'gw'}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/**
 * The part of SHUTDOWN_TIMEOUT_MS a stopping gateway spends waiting for replies in flight. The rest (2 s, or half of
 * a shorter budget) closes the links, whose close handshakes may take 1 s each in parallel, and releases their leases.
 */
export function shutdownReplyWaitMs(shutdownTimeoutMs: number): number {
  return shutdownTimeoutMs - Math.min(2_000, Math.floor(shutdownTimeoutMs / 2));
}

/** Maps the gateway's validated environment onto the manager's options. */
export function gatewayManagerOptions(config: GatewayConfig, replicaId = config.GATEWAY_REPLICA_ID ?? defaultReplicaId()): GatewayManagerOptions {
  return {
    replicaId,
    prefix: config.QUEUE_PREFIX,
    leaseTtlMs: config.GATEWAY_LEASE_TTL_MS,
    resyncMs: config.GATEWAY_RESYNC_MS,
    connectRate: config.GATEWAY_CONNECT_RATE,
    replyWaitMs: shutdownReplyWaitMs(config.SHUTDOWN_TIMEOUT_MS),
    link: {
      defaultUrl: config.DOJO_WS_URL,
      pingIntervalMs: config.GATEWAY_PING_INTERVAL_MS,
      pongTimeoutMs: config.GATEWAY_PONG_TIMEOUT_MS,
      handshakeTimeoutMs: config.GATEWAY_HANDSHAKE_TIMEOUT_MS,
      maxMessageBytes: config.GATEWAY_MAX_MESSAGE_BYTES,
      stableAfterMs: config.GATEWAY_STABLE_AFTER_MS,
      backoff: {
        baseMs: config.GATEWAY_BACKOFF_BASE_MS,
        maxMs: config.GATEWAY_BACKOFF_MAX_MS,
        authBaseMs: config.GATEWAY_AUTH_BACKOFF_MS,
        authMaxMs: config.GATEWAY_AUTH_BACKOFF_MAX_MS,
      },
    },
    dispatch: {
      maxMessageBytes: config.GATEWAY_MAX_MESSAGE_BYTES,
      replyCacheMs: config.GATEWAY_REPLY_CACHE_MS,
      deadlineOverrideMs: config.GATEWAY_DEADLINE_OVERRIDE_MS,
    },
    counter: {
      pollMs: config.COUNTER_POLL_MS,
      replyTimeoutMs: config.COUNTER_REPLY_TIMEOUT_MS,
      recoverGiveUpMs: config.COUNTER_RECOVER_GIVE_UP_MS,
      terminalsRefreshMs: config.COUNTER_TERMINALS_REFRESH_MS,
    },
  };
}
