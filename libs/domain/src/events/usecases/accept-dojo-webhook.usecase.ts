import type { Logger } from '@app/common';
import type { PrismaClient, SecretBox } from '@app/db';
import { parseDojoEventPayload } from '../dojo-event-payload';
import { IngestDojoEvent } from '../ingest-dojo-event.usecase';
import { verify } from '../webhook-signature';
import { findUnsafeValue } from '../../shared/safe-strings';
import { WebhookAccount, WebhookAccountCache } from './accept-dojo-webhook.cache';

export interface AcceptDojoWebhookCommand {
  /** The exact request body bytes (the signature covers them). */
  rawBody: Buffer;
  /** The dojo-signature header value, if any. */
  signature: string | undefined;
  traceId: string;
}

export type AcceptDojoWebhookResult =
  | { status: 200; eventRowId: string; duplicate: boolean }
  | { status: 400 | 401 | 404 | 503; reason: string };

/**
 * A Dojo webhook delivery: find the account's location, verify the signature
 * against every active secret of that location, check the payload, then store
 * it (IngestDojoEvent). Rejections change nothing; 503 means "not stored, send
 * again" (Postgres unavailable). The account's location and secrets come from
 * a short-lived cache (WebhookAccountCache); a signature that matches none of
 * the cached secrets is checked once more against freshly read ones before it
 * is refused.
 */
export class AcceptDojoWebhook {
  readonly accounts: WebhookAccountCache;

  constructor(
    prisma: PrismaClient,
    secretBox: SecretBox,
    private readonly ingest: IngestDojoEvent,
    private readonly logger: Logger,
    accounts?: WebhookAccountCache,
  ) {
    this.accounts = accounts ?? new WebhookAccountCache(prisma, secretBox, logger);
  }

  async execute(cmd: AcceptDojoWebhookCommand): Promise<AcceptDojoWebhookResult> {
    const reject = <S extends 400 | 401 | 404 | 503>(status: S, reason: string, extra: object = {}) => {
      const log = this.logger.child({ traceId: cmd.traceId });
      (status === 503 ? log.error.bind(log) : log.warn.bind(log))({ status, reason, ...extra }, 'dojo webhook rejected');
      return { status, reason };
    };

    let body: unknown;
    try {
      body = JSON.parse(cmd.rawBody.toString('utf8'));
    } catch {
      return reject(400, 'body is not valid JSON', { bytes: cmd.rawBody.length });
    }
    // Before anything reaches Postgres, which refuses NUL in text (a lone surrogate is not Unicode either).
    const unsafe = findUnsafeValue(body);
    if (unsafe) return reject(400, `${unsafe.field} ${unsafe.reason}`);
    const accountId = (body as { accountId?: unknown } | null)?.accountId;
    if (typeof accountId !== 'string' || accountId.length === 0) return reject(400, 'accountId is missing');

    const lookup = async (fresh: boolean): Promise<WebhookAccount | null | { failed: string }> => {
      try {
        return await this.accounts.load(accountId, fresh);
      } catch (err) {
        return { failed: (err as Error).message };
      }
    };
    let account = await lookup(false);
    if (account && 'failed' in account) return reject(503, 'the event store is unavailable', { err: account.failed });
    if (!account) return reject(404, 'unknown account', { accountId });

    let locationId = account.locationId;
    if (!cmd.signature) return reject(401, 'dojo-signature header is missing', { locationId });
    if (account.secrets.length === 0 || !verify(cmd.signature, cmd.rawBody, account.secrets)) {
      // The cached secrets may be stale (a secret added a moment ago): read them again once before refusing.
      account = await lookup(true);
      if (account && 'failed' in account) return reject(503, 'the event store is unavailable', { err: account.failed });
      if (!account) return reject(404, 'unknown account', { accountId });
      if (account.secrets.length === 0) return reject(401, 'the location has no active webhook secret', { locationId: account.locationId });
      if (!verify(cmd.signature, cmd.rawBody, account.secrets)) return reject(401, 'dojo-signature does not match', { locationId: account.locationId });
      locationId = account.locationId;
    }

    const parsed = parseDojoEventPayload(body);
    if (!parsed.ok) return reject(400, parsed.reason, { locationId });

    try {
      const { eventRowId, duplicate } = await this.ingest.execute({ payload: parsed.payload, channel: 'webhook', locationId });
      return { status: 200, eventRowId, duplicate };
    } catch (err) {
      // The cached location may be gone or changed: the next delivery reads it again.
      this.accounts.forgetAccount(accountId);
      return reject(503, 'the event could not be stored', { locationId, eventId: parsed.payload.id, err: (err as Error).message });
    }
  }
}
