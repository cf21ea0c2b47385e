import { ConnectPac } from '@app/contracts';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { counterRepo } from '../../repositories/counter.repository';
import type { CounterSignals } from '../ports';
import { counterEventOf } from '../view';

export interface RecordTerminalNotificationCommand {
  tid: string;
  notificationValue: string;
}

/** A notification that arrives this long after its transaction was settled still belongs to it (Connect sends the last ones just before its reply). */
const LATE_NOTIFICATION_MS = 10_000;

/**
 * RecordTerminalNotification (connect-pac's terminalNotification): stores a
 * `notification` event tied to the transaction running on that terminal (if
 * any; or the one that ended on it in the last LATE_NOTIFICATION_MS) and sets
 * its last notification, in one statement, then publishes it.
 * A notification is never answered, so nothing is returned.
 */
export class RecordTerminalNotification implements UseCase<RecordTerminalNotificationCommand, Record<string, never>> {
  constructor(private readonly signals: CounterSignals) {}

  async execute(ctx: ExecContext, cmd: RecordTerminalNotificationCommand): Promise<Record<string, never>> {
    const repo = counterRepo(ctx.db);
    const open = await repo.forNotification(ctx.locationId, cmd.tid, LATE_NOTIFICATION_MS);
    const stored = await repo.appendEvents(
      ctx.locationId,
      [{ type: 'notification', ...(open ? { transactionId: open.id } : {}), tid: cmd.tid, data: { ...(open ? { transactionId: open.id } : {}), tid: cmd.tid, notificationValue: cmd.notificationValue } }],
      open ? { transactionId: open.id, value: cmd.notificationValue } : undefined,
    );
    // A value the codec does not list is still passed on (Connect adds values over time); the log says so.
    const known = (ConnectPac.NOTIFICATION_VALUES as readonly string[]).includes(cmd.notificationValue);
    ctx.log.info({ tid: cmd.tid, transactionId: open?.id, notificationValue: cmd.notificationValue, ...(known ? {} : { unknownValue: true }) }, 'terminal notification');
    await this.signals.publishEvents(ctx.locationId, stored.map(counterEventOf));
    return {};
  }
}
