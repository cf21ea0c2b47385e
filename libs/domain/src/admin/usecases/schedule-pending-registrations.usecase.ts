import type { AdminDeps } from '../ports';

/**
 * Schedules a registration for every location still `pending`: the recovery
 * path behind a schedule that was lost (Redis down when the location was saved,
 * or a restart before Redis had it). Scheduling is idempotent per location.
 */
export class SchedulePendingRegistrations {
  constructor(private readonly deps: Pick<AdminDeps, 'prisma' | 'registration'>) {}

  /** Returns how many locations were pending. */
  async execute(): Promise<number> {
    const pending = await this.deps.prisma.location.findMany({ where: { registrationState: 'pending' }, select: { id: true } });
    for (const l of pending) await this.deps.registration.schedule(l.id);
    return pending.length;
  }
}
