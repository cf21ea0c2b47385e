/**
 * What one wake-up costs on this machine: a child process echoes 200-byte messages over loopback TCP while this
 * process sends them at a fixed rate, and both processes' CPU (user + system, all threads, from the scheduler's
 * exact accounting in /proc/<pid>/task/<tid>/schedstat) is divided by the messages. Each message is one wake-up of
 * the echo process (read, write) and one of this one (timer, write, then read of the echo).
 *
 * Why it matters: at 200 requests/s every hop of a request (a Redis command answered, a SQL round trip, a
 * WebSocket frame) wakes a process from idle, and on this 2-core VM that costs about 0.1 ms of CPU before any
 * work is done, more than the work of most hops, and the cost moves with the VM's hour by a factor of two. So
 * CPU per request at low rates follows the number of hops and the machine's speed (docs/performance.md, "Where
 * the CPU goes"); `npm run bench` measures it before and after its scenarios and prints it with the goals.
 * `dist/bench/diagnostics/wakeup-cost.js` prints it at several rates.
 */
import { fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { connect, createServer } from 'node:net';

const MESSAGE = 'x'.repeat(200);
const ECHO_ARG = '--wakeup-echo';

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

/** CPU ms per message of the echo process and of the sender, at one rate. */
export interface WakeupCost {
  rate: number;
  messages: number;
  echoMs: number;
  senderMs: number;
}

async function measure(socket: Socket, echoPid: number, rate: number, seconds: number): Promise<WakeupCost> {
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
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { rate, messages: n, echoMs: round(((cpuSeconds(echoPid) - e0) / n) * 1000), senderMs: round(((cpuSeconds(process.pid) - s0) / n) * 1000) };
}

/** Measures the wake-up cost at each rate for `seconds` each, with an echo child of its own (ended before it returns). */
export async function wakeupCost(rates: number[], seconds: number): Promise<WakeupCost[]> {
  const child = fork(__filename, [ECHO_ARG]);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m) => resolve(Number(m)));
      child.once('exit', (code) => reject(new Error(`the echo process exited (${code}) before listening`)));
    });
    const socket = connect(port, '127.0.0.1');
    socket.on('data', () => undefined);
    await new Promise((r) => socket.once('connect', r));
    const out: WakeupCost[] = [];
    for (const rate of rates) out.push(await measure(socket, child.pid!, rate, seconds));
    socket.destroy();
    return out;
  } finally {
    if (child.connected) child.disconnect();
  }
}

if (process.argv[2] === ECHO_ARG) echoServer();
