import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';

/** Deletes a location and everything it owns; the gateways drop its socket. */
export class DeleteLocation {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string): Promise<void> {
    const configVersion = await this.d.locations.configVersion(id);
    if (configVersion === null) throw DomainError.notFound('location', id);
    await this.d.locations.delete(id);
    await this.d.publisher.publishChanged(id, configVersion + 1);
  }
}
