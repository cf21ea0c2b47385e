import { DomainError } from '../../admin/errors';
import { counterRepo } from '../../repositories/counter.repository';
import type { CounterDeps } from '../ports';

/**
 * AnswerCardholderSignature (venue API): the POS accepts or declines the
 * cardholder's signature of a transaction whose terminal asked. First writer
 * wins against the venue's default (applied by VerifyCardholderSignature when
 * the POS is late): 409 signature_already_answered says what was applied;
 * 409 no_signature_request when the terminal has not asked.
 */
export class AnswerCardholderSignature {
  constructor(private readonly d: CounterDeps) {}

  async execute(locationId: string, id: string, accepted: boolean): Promise<{ accepted: boolean; by: 'pos' }> {
    const repo = counterRepo(this.d.prisma);
    const row = await repo.find(locationId, id);
    if (!row) throw DomainError.notFound('counter transaction', id);
    if (!(await repo.hasEvent(locationId, id, 'signature.requested'))) {
      throw DomainError.conflict(`the terminal has not asked to verify a signature for counter transaction ${id}`, { error: 'no_signature_request' });
    }
    if (!(await this.d.signals.decideSignature(id, { accepted, by: 'pos' }))) {
      const applied = await this.d.signals.signatureDecision(id);
      throw DomainError.conflict(`the signature of counter transaction ${id} was already answered`, { error: 'signature_already_answered', applied });
    }
    this.d.log.info({ locationId, transactionId: id, accepted }, 'signature answered by the POS');
    return { accepted, by: 'pos' };
  }
}
