/**
 * What one wake-up costs on this machine: a child process echoes 200-byte messages over loopback TCP while this
 * process sends them at a fixed rate, and both processes' CPU (user + system, all threads, from the scheduler's
 * exact accounting in /proc/<pid>/task/<tid>/schedstat) is divided by the messages. Each message is one wake-up of
 * the echo process (read, write) and one of this one (timer, write, then read of the echo).
 *
 * `node dist/bench/diagnostics/wakeup-cost.js [rates] [seconds]` (defaults 50,200,1000 and 5).
 *
 * Why it matters: at 200 requests/s every hop of a request (a Redis command answered, a SQL round trip, a
 * WebSocket frame) wakes a process from idle, and on this 2-core VM that costs about 0.1 ms of CPU before any
 * work is done, more than the work of most hops. So CPU per request at low rates follows the number of hops
 * (docs/performance.md, "Where the CPU goes").
 */
import { fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { connect, createServer } from 'node:net';

const MESSAGE = 'x'.repeat(200);

/** CPU seconds of every thread of a process, from the scheduler's own accounting (nanoseconds, not ticks). */
function cpuSeconds(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between the listing and the read: its time is gone with it either way
    }
  }
  return ns / 1e9;
}

function echoServer(): void {
  const server = createServer((c) => c.on('data', (d) => c.write(d)));
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    process.send!(typeof addr === 'object' && addr ? addr.port : 0);
  });
  process.on('disconnect', () => process.exit(0));
}

async function measure(socket: Socket, echoPid: number, rate: number, seconds: number): Promise<{ echo: number; sender: number; n: number }> {
  const e0 = cpuSeconds(echoPid);
  const s0 = cpuSeconds(process.pid);
  let n = 0;
  const timer = setInterval(() => {
    socket.write(MESSAGE);
    n++;
  }, 1000 / rate);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  clearInterval(timer);
  await new Promise((r) => setTimeout(r, 50)); // the last echo
  return { echo: ((cpuSeconds(echoPid) - e0) / n) * 1000, sender: ((cpuSeconds(process.pid) - s0) / n) * 1000, n };
}

async function main(): Promise<void> {
  const rates = (process.argv[2] ?? '50,200,1000').split(',').map(Number);
  const seconds = Number(process.argv[3] ?? 5);
  const child = fork(__filename, ['--echo']);
  const port = await new Promise<number>((r) => child.once('message', (m) => r(Number(m))));
  const socket = connect(port, '127.0.0.1');
  socket.on('data', () => undefined);
  await new Promise((r) => socket.once('connect', r));
  console.log('rate/s  messages  echo process CPU ms/message  sender CPU ms/message');
  for (const rate of rates) {
    const r = await measure(socket, child.pid!, rate, seconds);
    console.log(`${String(rate).padStart(6)}  ${String(r.n).padStart(8)}  ${r.echo.toFixed(3).padStart(28)}  ${r.sender.toFixed(3).padStart(21)}`);
  }
  socket.destroy();
  child.disconnect();
}

if (process.argv[2] === '--echo') echoServer();
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
