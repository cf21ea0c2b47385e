import type { Logger } from '@app/common';
import type { SecretBox } from '@app/db';
import type { WebhookAccountsRepository } from '../../repositories/webhook-accounts.repository';
import { parseDojoEventPayload } from '../dojo-event-payload';
import type { IngestDojoEvent } from '../ingest-dojo-event.usecase';
import { verify } from '../webhook-signature';
import { findUnsafeValue } from '../../shared/safe-strings';
import type { WebhookAccount} from './accept-dojo-webhook.cache';
import { WebhookAccountCache } from './accept-dojo-webhook.cache';

export interface AcceptDojoWebhookCommand {
  /** The exact request body bytes (the signature covers them). */
  rawBody: Buffer;
  /** The dojo-signature header value, if any. */
  signature: string | undefined;
  traceId: string;
}

/**
 * Why a delivery was refused. `malformed`: the body or payload is not a Dojo
 * event; `unknown-account`: no location has that Dojo account; `unauthenticated`:
 * no signature, no active secret, or no secret matches; `unavailable`: the event
 * could not be stored (or the store could not be read), so nothing changed and
 * Dojo should send it again.
 */
export type WebhookRejection = 'malformed' | 'unknown-account' | 'unauthenticated' | 'unavailable';

export type AcceptDojoWebhookResult =
  | { outcome: 'stored'; eventRowId: string; duplicate: boolean }
  | { outcome: 'rejected'; rejection: WebhookRejection; reason: string };

/**
 * A Dojo webhook delivery: find the account's location, verify the signature
 * against every active secret of that location, check the payload, then store
 * it (IngestDojoEvent). Rejections change nothing; `unavailable` means "not
 * stored, send again" (Postgres unavailable). The account's location and secrets come from
 * a short-lived cache (WebhookAccountCache); a signature that matches none of
 * the cached secrets is checked once more against freshly read ones before it
 * is refused.
 */
/**
 * What a sender is told of a delivery that did not verify, whatever the cause: an account that is not ours, one
 * without an active secret, a signature by another secret. The cause is logged with the traceId; the answer must not
 * tell a prober which accounts are onboarded.
 */
const NOT_VERIFIED = 'dojo-signature does not verify for this account';

export class AcceptDojoWebhook {
  readonly accounts: WebhookAccountCache;

  constructor(
    repository: WebhookAccountsRepository,
    secretBox: SecretBox,
    private readonly ingest: IngestDojoEvent,
    private readonly logger: Logger,
    accounts?: WebhookAccountCache,
  ) {
    this.accounts = accounts ?? new WebhookAccountCache(repository, secretBox, logger);
  }

  async execute(cmd: AcceptDojoWebhookCommand): Promise<AcceptDojoWebhookResult> {
    /** `told`: what the sender reads (the reason itself unless given); the log has the reason. */
    const reject = (rejection: WebhookRejection, reason: string, extra: object = {}, told = reason): AcceptDojoWebhookResult => {
      const log = this.logger.child({ traceId: cmd.traceId });
      (rejection === 'unavailable' ? log.error.bind(log) : log.warn.bind(log))({ rejection, reason, ...extra }, 'dojo webhook rejected');
      return { outcome: 'rejected', rejection, reason: told };
    };

    let body: unknown;
    try {
      body = JSON.parse(cmd.rawBody.toString('utf8'));
    } catch {
      return reject('malformed', 'body is not valid JSON', { bytes: cmd.rawBody.length });
    }
    // Before anything reaches Postgres, which refuses NUL in text (a lone surrogate is not Unicode either).
    const unsafe = findUnsafeValue(body);
    if (unsafe) return reject('malformed', `${unsafe.field} ${unsafe.reason}`);
    const accountId = (body as { accountId?: unknown } | null)?.accountId;
    if (typeof accountId !== 'string' || accountId.length === 0) return reject('malformed', 'accountId is missing');

    const lookup = async (fresh: boolean): Promise<WebhookAccount | null | { failed: string }> => {
      try {
        return await this.accounts.load(accountId, fresh, cmd.traceId);
      } catch (err) {
        return { failed: (err as Error).message };
      }
    };
    // Before the account is looked up: the answer must not depend on whether the account is ours.
    if (!cmd.signature) return reject('unauthenticated', 'dojo-signature header is missing', { accountId });
    let account = await lookup(false);
    if (account && 'failed' in account) return reject('unavailable', 'the event store is unavailable', { err: account.failed });
    if (!account) return reject('unknown-account', 'unknown account', { accountId }, NOT_VERIFIED);

    let locationId = account.locationId;
    if (account.secrets.length === 0 || !verify(cmd.signature, cmd.rawBody, account.secrets)) {
      // The cached secrets may be stale (a secret added a moment ago): read them again once before refusing.
      account = await lookup(true);
      if (account && 'failed' in account) return reject('unavailable', 'the event store is unavailable', { err: account.failed });
      if (!account) return reject('unknown-account', 'unknown account', { accountId }, NOT_VERIFIED);
      if (account.secrets.length === 0) return reject('unauthenticated', 'the location has no active webhook secret', { locationId: account.locationId }, NOT_VERIFIED);
      if (!verify(cmd.signature, cmd.rawBody, account.secrets)) return reject('unauthenticated', 'dojo-signature does not match', { locationId: account.locationId }, NOT_VERIFIED);
      locationId = account.locationId;
    }

    const parsed = parseDojoEventPayload(body);
    if (!parsed.ok) return reject('malformed', parsed.reason, { locationId });

    try {
      const { eventRowId, duplicate } = await this.ingest.execute({ payload: parsed.payload, channel: 'webhook', locationId, traceId: cmd.traceId });
      return { outcome: 'stored', eventRowId, duplicate };
    } catch (err) {
      // The cached location may be gone or changed: the next delivery reads it again.
      this.accounts.forgetAccount(accountId);
      return reject('unavailable', 'the event could not be stored', { locationId, eventId: parsed.payload.id, err: (err as Error).message });
    }
  }
}
