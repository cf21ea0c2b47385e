import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';

/** Deletes a location and everything it owns; the gateways drop its socket. */
export class DeleteLocation {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string): Promise<void> {
    const row = await this.d.prisma.location.findUnique({ where: { id }, select: { configVersion: true } });
    if (!row) throw DomainError.notFound('location', id);
    await this.d.prisma.location.deleteMany({ where: { id } });
    await this.d.publisher.publishChanged(id, row.configVersion + 1);
  }
}
