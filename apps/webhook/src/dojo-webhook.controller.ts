import { randomUUID } from 'node:crypto';
import { Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CONFIG, LOGGER, Logger } from '@app/common';
import type { WebhookConfig } from '@app/config';
import { AcceptDojoWebhook } from '@app/domain/events/usecases/accept-dojo-webhook.usecase';
import { BodyTooLarge, readRawBody } from './read-body';

/**
 * POST /webhooks/dojo: Dojo's payment-intent webhooks. Reads the exact body
 * bytes (the signature covers them), stores the event and answers; the events
 * worker applies it. 2xx = stored (or already stored), 4xx = refused, nothing
 * changed, 503 = not stored, Dojo should send it again.
 */
@Controller('webhooks')
export class DojoWebhookController {
  constructor(
    @Inject(AcceptDojoWebhook) private readonly accept: AcceptDojoWebhook,
    @Inject(CONFIG) private readonly config: WebhookConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Post('dojo')
  @HttpCode(200)
  async receive(@Req() req: Request, @Res() res: Response): Promise<void> {
    const traceId = randomUUID();
    let rawBody: Buffer;
    try {
      rawBody = await readRawBody(req, this.config.WEBHOOK_MAX_BODY_BYTES);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        this.logger.warn({ traceId, status: 413, reason: 'body too large', limit: this.config.WEBHOOK_MAX_BODY_BYTES }, 'dojo webhook rejected');
        if (!res.headersSent && !req.socket.destroyed) res.status(413).json({ error: 'body too large', traceId });
      } else {
        this.logger.warn({ traceId, reason: (err as Error).message }, 'dojo webhook body could not be read');
        if (!res.headersSent && !req.socket.destroyed) res.status(400).json({ error: 'body could not be read', traceId });
      }
      return;
    }
    // Node lower-cases header names, so Dojo-Signature and dojo-signature both land here.
    const header = req.headers['dojo-signature'];
    const signature = Array.isArray(header) ? header.join(',') : header;
    const result = await this.accept.execute({ rawBody, signature, traceId });
    if (result.status === 200) {
      res.status(200).json({ received: true, duplicate: result.duplicate, traceId });
    } else {
      res.status(result.status).json({ error: result.reason, traceId });
    }
  }
}
