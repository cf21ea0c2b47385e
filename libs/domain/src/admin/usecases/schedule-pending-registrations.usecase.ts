import type { AdminDeps } from '../ports';

/**
 * Schedules a registration for every location still `pending`: the recovery
 * path behind a schedule that was lost (Redis down when the location was saved,
 * or a restart before Redis had it). Scheduling is idempotent per location.
 */
export class SchedulePendingRegistrations {
  constructor(private readonly deps: Pick<AdminDeps, 'locations' | 'registration'>) {}

  /** Returns how many locations were pending. */
  async execute(): Promise<number> {
    const pending = await this.deps.locations.idsInRegistrationState('pending');
    for (const id of pending) await this.deps.registration.schedule(id);
    return pending.length;
  }
}
