import type { z } from 'zod';
import { ConnectPac } from '@app/contracts';
import type { RecordTerminalNotificationCommand } from '../../counter/usecases/record-terminal-notification.usecase';
import type { VerifyCardholderSignatureCommand } from '../../counter/usecases/verify-cardholder-signature.usecase';
import { PacRefusal } from './errors';

/** The params as Connect's schema reads them (the gateway checked them already; a job is checked again here, at the worker's edge). */
function parse<S extends z.ZodType>(schema: S, params: unknown, method: string): z.infer<S> {
  const r = schema.safeParse(params);
  if (!r.success) throw new PacRefusal({ code: ConnectPac.PAC_ERROR_CODES.invalidParams, message: `${method}: ${r.error.issues[0]?.message ?? 'invalid params'}` });
  return r.data;
}

/** terminalNotification -> RecordTerminalNotification; a notification's answer is never sent. */
export const terminalNotification = {
  toCommand(params: unknown): RecordTerminalNotificationCommand {
    const p = parse(ConnectPac.PAC_INBOUND_PARAMS.terminalNotification, params, 'terminalNotification');
    return { tid: p.tid, notificationValue: p.notificationValue };
  },
  toWire: (r: Record<string, never>) => r,
};

/** signatureVerificationRequest -> VerifyCardholderSignature; answered `{accepted}`. */
export const signatureVerificationRequest = {
  toCommand(params: unknown): VerifyCardholderSignatureCommand {
    const p = parse(ConnectPac.PAC_INBOUND_PARAMS.signatureVerificationRequest, params, 'signatureVerificationRequest');
    return { tid: p.tid, ...(p.receiptLines ? { receiptLines: p.receiptLines } : {}) };
  },
  toWire: (r: { accepted: boolean }) => ConnectPac.signatureVerificationResultSchema.parse({ accepted: r.accepted }),
};
