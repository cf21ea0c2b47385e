import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { answerTooLarge, CONFIG, LOGGER, Logger, sendJson, WebhookRejectionReason, webhookMetrics } from '@app/common';
import type { WebhookConfig } from '@app/config';
import { AcceptDojoWebhook, WebhookRejection } from '@app/domain/events';
import { BodyTooLarge, drainRequest, readRawBody } from './read-body';

/**
 * The HTTP answer to each refusal: 4xx = refused for good, 503 = not stored, Dojo should send it again. An unknown
 * account is a 401 like a signature that does not verify (with the same body), so probing cannot tell which accounts
 * are onboarded; the metric's reason and the log tell operators which it was.
 */
const REJECTION_STATUS: Record<WebhookRejection, number> = {
  malformed: 400,
  unauthenticated: 401,
  'unknown-account': 401,
  unavailable: 503,
};

/** The reason label of epos_relay_webhook_rejected_total for each refusal of the use-case. */
const REJECTION_REASON: Record<WebhookRejection, WebhookRejectionReason> = {
  malformed: 'malformed',
  unauthenticated: 'signature',
  'unknown-account': 'unknown_account',
  unavailable: 'unavailable',
};

/** How many header lines named `name` (lower case) the request had. */
function countHeaderLines(rawHeaders: string[], name: string): number {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === name) n++;
  return n;
}

/**
 * POST /webhooks/dojo: Dojo's payment-intent webhooks. Reads the exact body
 * bytes (the signature covers them), stores the event and answers; the events
 * worker applies it. 2xx = stored (or already stored), 4xx = refused, nothing
 * changed, 503 = not stored, Dojo should send it again. Served on Node's HTTP
 * server directly (serveFastRoute in main.ts), not through Express.
 */
@Injectable()
export class DojoWebhookHandler {
  private readonly metrics = webhookMetrics();

  constructor(
    @Inject(AcceptDojoWebhook) private readonly accept: AcceptDojoWebhook,
    @Inject(CONFIG) private readonly config: WebhookConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const traceId = randomUUID();
    const t0 = performance.now();
    const m = this.metrics;
    m.received.inc();
    const rejected = (reason: WebhookRejectionReason) => {
      m.rejected[reason].inc();
      m.ackRejected.observe((performance.now() - t0) / 1000);
    };
    // Two Dojo-Signature lines would reach us joined by a comma: say so instead of a puzzling 401.
    const signatureLines = countHeaderLines(req.rawHeaders, 'dojo-signature');
    if (signatureLines > 1) {
      this.logger.warn({ traceId, status: 400, reason: 'several dojo-signature headers', lines: signatureLines }, 'dojo webhook rejected');
      await drainRequest(req);
      if (!res.headersSent && !req.socket.destroyed) sendJson(res, 400, { error: 'exactly one dojo-signature header is allowed', traceId });
      rejected('headers');
      return;
    }
    let rawBody: Buffer;
    try {
      rawBody = await readRawBody(req, this.config.WEBHOOK_MAX_BODY_BYTES);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        this.logger.warn({ traceId, status: 413, reason: 'body too large', limit: this.config.WEBHOOK_MAX_BODY_BYTES }, 'dojo webhook rejected');
        await answerTooLarge(req, res, { error: 'body too large', limit: this.config.WEBHOOK_MAX_BODY_BYTES, traceId });
        rejected('size');
      } else {
        this.logger.warn({ traceId, reason: (err as Error).message }, 'dojo webhook body could not be read');
        if (!res.headersSent && !req.socket.destroyed) sendJson(res, 400, { error: 'body could not be read', traceId });
        rejected('unreadable');
      }
      return;
    }
    const signature = req.headers['dojo-signature'] as string | undefined;
    const result = await this.accept.execute({ rawBody, signature, traceId });
    if (result.outcome === 'stored') {
      sendJson(res, 200, { received: true, duplicate: result.duplicate, traceId });
      (result.duplicate ? m.duplicates : m.accepted).inc();
      (result.duplicate ? m.ackDuplicate : m.ackAccepted).observe((performance.now() - t0) / 1000);
    } else {
      sendJson(res, REJECTION_STATUS[result.rejection], { error: result.reason, traceId });
      rejected(REJECTION_REASON[result.rejection]);
    }
  }
}
