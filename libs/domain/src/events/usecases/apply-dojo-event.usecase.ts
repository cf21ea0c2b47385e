import type { Logger } from '@app/common';
import type { PrismaClient } from '@app/db';
import { ApplyResult, applyLockedEvent, lockPaymentIntent } from '../event-effects';

export interface ApplyDojoEventCommand {
  eventRowId: string;
}

/**
 * Applies one stored Dojo event (a dojo_events row) in one transaction: links
 * it to the recorded payment by payment intent id, moves the payment's status
 * forward by rank (never back), marks undone payments (Reversed, Refunded,
 * Canceled), recomputes the order and tells the venue. Safe to run any number
 * of times for the same row: only the first run has effects.
 */
export class ApplyDojoEvent {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly logger: Logger,
  ) {}

  async execute(cmd: ApplyDojoEventCommand): Promise<ApplyResult> {
    const result = await this.prisma.$transaction(
      async (tx) => {
        const head = await tx.dojoEvent.findUnique({
          where: { id: cmd.eventRowId },
          select: { locationId: true, paymentIntentId: true, state: true },
        });
        if (!head) return { outcome: 'missing' } as ApplyResult;
        if (head.state === 'applied') return { outcome: 'already_applied' } as ApplyResult;
        if (head.paymentIntentId) await lockPaymentIntent(tx, head.locationId, head.paymentIntentId);
        await tx.$executeRaw`SELECT 1 FROM dojo_events WHERE id = ${cmd.eventRowId}::uuid FOR UPDATE`;
        const ev = await tx.dojoEvent.findUniqueOrThrow({ where: { id: cmd.eventRowId } });
        return applyLockedEvent(tx, ev);
      },
      { maxWait: 10_000, timeout: 30_000 },
    );
    this.logger.debug({ eventRowId: cmd.eventRowId, ...result }, 'dojo event processed');
    return result;
  }
}
