// The lab's front door: 127.0.0.1 TCP ports that reach each device's SSH, with a settable round-trip
// delay (this kernel has no netem). Run as its own process so any test process can steer it.
//   node --import tsx test/lab/relay.ts STATE_DIR
// reads STATE_DIR/relay.json ([{name, socket}]: a Unix socket that reaches the device's port 22),
// writes STATE_DIR/relay-ports.json ({name: port}) when listening, and answers `delay NAME RTT_MS`
// on the control socket STATE_DIR/relay.ctl.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

interface Route {
  name: string;
  socket: string;
}

const stateDir = process.argv[2];
if (!stateDir) {
  console.error('usage: relay.ts STATE_DIR');
  process.exit(2);
}
const routes = JSON.parse(readFileSync(join(stateDir, 'relay.json'), 'utf8')) as Route[];
const delays = new Map<string, number>();

/**
 * Forwards src → dst, holding each chunk for `oneWay()` ms, in order. Nothing passes before one
 * extra one-way delay from the start: on a real link the TCP handshake costs a round trip before
 * the first byte, which loopback does not. One queue and one timer per direction: separate timers
 * per chunk could fire out of order (Node orders timers of different durations by list, not by
 * creation), and a reordered chunk breaks the SSH stream on the spot (it did, when the delay changed).
 */
function pipeDelayed(src: net.Socket, dst: net.Socket, oneWay: () => number): void {
  const queue: { due: number; chunk: Buffer | null }[] = [];
  let lastDue = Date.now() + oneWay();
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    timer = undefined;
    const now = Date.now();
    while (queue.length && (queue[0]?.due ?? Infinity) <= now) {
      const item = queue.shift();
      if (!item) break;
      if (item.chunk) dst.write(item.chunk);
      else dst.end();
    }
    const next = queue[0];
    if (next) timer = setTimeout(flush, Math.max(0, next.due - Date.now()));
  };
  const push = (chunk: Buffer | null): void => {
    const due = Math.max(lastDue, Date.now() + oneWay());
    lastDue = due;
    if (queue.length === 0 && due <= Date.now()) {
      if (chunk) dst.write(chunk);
      else dst.end();
      return;
    }
    queue.push({ due, chunk });
    timer ??= setTimeout(flush, Math.max(0, (queue[0]?.due ?? due) - Date.now()));
  };
  src.on('data', (chunk: Buffer) => push(chunk));
  src.on('end', () => push(null));
  // Queued bytes still go out after src closes; only a closed dst ends the queue.
  dst.on('close', () => {
    if (timer) clearTimeout(timer);
    queue.length = 0;
  });
}

async function listen(route: Route): Promise<number> {
  const server = net.createServer((client) => {
    client.setNoDelay(true);
    const upstream = net.connect(route.socket);
    const oneWay = (): number => (delays.get(route.name) ?? 0) / 2;
    pipeDelayed(client, upstream, oneWay);
    pipeDelayed(upstream, client, oneWay);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', () => upstream.end());
    upstream.on('close', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('relay: no port');
  return addr.port;
}

const ports: Record<string, number> = {};
for (const route of routes) ports[route.name] = await listen(route);

const control = net.createServer((conn) => {
  let buf = '';
  conn.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const [verb, name, value] = buf.slice(0, nl).trim().split(/\s+/);
      buf = buf.slice(nl + 1);
      if (verb === 'delay' && name && name in ports && value !== undefined && Number(value) >= 0) {
        delays.set(name, Number(value));
        conn.write('ok\n');
      } else {
        conn.write(`error: expected "delay NAME RTT_MS" for one of ${Object.keys(ports).join(', ')}\n`);
      }
    }
  });
  conn.on('error', () => conn.destroy());
});
await new Promise<void>((resolve) => control.listen(join(stateDir, 'relay.ctl'), resolve));

const tmp = join(stateDir, 'relay-ports.json.tmp');
writeFileSync(tmp, JSON.stringify(ports));
renameSync(tmp, join(stateDir, 'relay-ports.json'));
