import type { DojoEventView, LocationActivityRepository, OutboxEventView, Page } from '../../repositories/location-activity.repository';
import { DomainError } from '../errors';

/** GET /v1/locations/{id}/dojo-events */
export class ListLocationDojoEvents {
  constructor(private readonly repo: LocationActivityRepository) {}
  async execute(locationId: string, q: { limit: number; cursor?: string }): Promise<Page<DojoEventView>> {
    if (!(await this.repo.locationExists(locationId))) throw DomainError.notFound('location', locationId);
    return this.repo.dojoEvents(locationId, q.limit, q.cursor);
  }
}

/** GET /v1/locations/{id}/outbox */
export class ListLocationOutbox {
  constructor(private readonly repo: LocationActivityRepository) {}
  async execute(locationId: string, q: { limit: number; cursor?: string }): Promise<Page<OutboxEventView>> {
    if (!(await this.repo.locationExists(locationId))) throw DomainError.notFound('location', locationId);
    return this.repo.outbox(locationId, q.limit, q.cursor);
  }
}
