import type Redis from 'ioredis';
import type { CounterTerminalsSnapshot } from '@app/contracts';
import { COUNTER_TERMINALS_TTL_S, counterTerminalsKey } from '@app/contracts';
import type { TerminalsStore } from './counter-pump';

/** The terminals snapshot in Redis (counterTerminalsKey, JSON, expiring after COUNTER_TERMINALS_TTL_S), read by the venue API. */
export class RedisTerminalsStore implements TerminalsStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async write(snapshot: CounterTerminalsSnapshot): Promise<void> {
    await this.redis.set(counterTerminalsKey(this.prefix, snapshot.locationId), JSON.stringify(snapshot), 'EX', COUNTER_TERMINALS_TTL_S);
  }
}
