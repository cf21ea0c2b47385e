/**
 * What one wake-up costs on this machine (bench/lib/wakeup.ts), at several rates.
 *
 * `node dist/bench/diagnostics/wakeup-cost.js [rates] [seconds]` (defaults 50,200,1000 and 5).
 */
import { wakeupCost } from '../lib/wakeup';

async function main(): Promise<void> {
  const rates = (process.argv[2] ?? '50,200,1000').split(',').map(Number);
  const seconds = Number(process.argv[3] ?? 5);
  console.log('rate/s  messages  echo process CPU ms/message  sender CPU ms/message');
  for (const r of await wakeupCost(rates, seconds)) {
    console.log(`${String(r.rate).padStart(6)}  ${String(r.messages).padStart(8)}  ${r.echoMs.toFixed(3).padStart(28)}  ${r.senderMs.toFixed(3).padStart(21)}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
