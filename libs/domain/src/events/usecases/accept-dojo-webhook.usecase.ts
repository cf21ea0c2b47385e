import type { Logger } from '@app/common';
import { PrismaClient, SecretBox, webhookSecretAad } from '@app/db';
import { parseDojoEventPayload } from '../dojo-event-payload';
import { IngestDojoEvent } from '../ingest-dojo-event.usecase';
import { verify } from '../webhook-signature';

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
 * again" (Postgres unavailable).
 */
export class AcceptDojoWebhook {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly secretBox: SecretBox,
    private readonly ingest: IngestDojoEvent,
    private readonly logger: Logger,
  ) {}

  async execute(cmd: AcceptDojoWebhookCommand): Promise<AcceptDojoWebhookResult> {
    const log = this.logger.child({ traceId: cmd.traceId });
    const reject = <S extends 400 | 401 | 404 | 503>(status: S, reason: string, extra: object = {}) => {
      (status === 503 ? log.error.bind(log) : log.warn.bind(log))({ status, reason, ...extra }, 'dojo webhook rejected');
      return { status, reason };
    };

    let body: unknown;
    try {
      body = JSON.parse(cmd.rawBody.toString('utf8'));
    } catch {
      return reject(400, 'body is not valid JSON', { bytes: cmd.rawBody.length });
    }
    const accountId = (body as { accountId?: unknown } | null)?.accountId;
    if (typeof accountId !== 'string' || accountId.length === 0) return reject(400, 'accountId is missing');

    let location: { id: string } | null;
    let secrets: string[];
    try {
      location = await this.prisma.location.findUnique({ where: { dojoAccountId: accountId }, select: { id: true } });
      if (!location) return reject(404, 'unknown account', { accountId });
      const rows = await this.prisma.webhookSecret.findMany({
        where: { locationId: location.id, state: 'active' },
        select: { id: true, secretCiphertext: true },
      });
      secrets = [];
      for (const row of rows) {
        try {
          secrets.push(this.secretBox.decrypt(row.secretCiphertext, webhookSecretAad(row.id)));
        } catch {
          log.error({ locationId: location.id, secretId: row.id }, 'a webhook secret does not decrypt; it is skipped');
        }
      }
    } catch (err) {
      return reject(503, 'the event store is unavailable', { err: (err as Error).message });
    }

    const locationId = location.id;
    if (!cmd.signature) return reject(401, 'dojo-signature header is missing', { locationId });
    if (secrets.length === 0) return reject(401, 'the location has no active webhook secret', { locationId });
    if (!verify(cmd.signature, cmd.rawBody, secrets)) return reject(401, 'dojo-signature does not match', { locationId });

    const parsed = parseDojoEventPayload(body);
    if (!parsed.ok) return reject(400, parsed.reason, { locationId });

    try {
      const { eventRowId, duplicate } = await this.ingest.execute({ payload: parsed.payload, channel: 'webhook', locationId });
      return { status: 200, eventRowId, duplicate };
    } catch (err) {
      return reject(503, 'the event could not be stored', { locationId, eventId: parsed.payload.id, err: (err as Error).message });
    }
  }
}
