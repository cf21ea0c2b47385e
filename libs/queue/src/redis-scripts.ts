/**
 * Lua shared by the Redis leases (the gateways' per-location leases, the workers' reader lease on the request stream).
 * KEYS[1]: the lease; ARGV[1]: the value its holder wrote. Deletes the key only if it still holds that value, so a
 * holder that was paused past its lease never removes the next holder's. Returns 1 when deleted, else 0.
 */
export const DELETE_IF_VALUE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;
