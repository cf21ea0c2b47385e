import type { ConnectPac } from '@app/contracts';
import type { CounterSignals } from '../../counter/ports';
import { RecordTerminalNotification } from '../../counter/usecases/record-terminal-notification.usecase';
import { VerifyCardholderSignature } from '../../counter/usecases/verify-cardholder-signature.usecase';
import type { MethodEntry } from '../../rpc/dialect';
import { methodEntry as entry } from '../../rpc/dialect';
import * as pac from './pac.mapping';

/** Connect pay at counter: what Connect sends the EPOS -> (mapping, use-case). The EPOS's own requests go out through the gateway's counter pump. */
export const connectPacMethods = (signals: CounterSignals): Record<ConnectPac.PacInboundMethod, MethodEntry> => ({
  terminalNotification: entry(pac.terminalNotification, new RecordTerminalNotification(signals)),
  signatureVerificationRequest: entry(pac.signatureVerificationRequest, new VerifyCardholderSignature(signals)),
});
