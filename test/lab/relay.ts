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
 * the first byte, which loopback does not.
 */
function pipeDelayed(src: net.Socket, dst: net.Socket, oneWay: () => number): void {
  let lastDue = Date.now() + oneWay();
  src.on('data', (chunk: Buffer) => {
    const d = oneWay();
    if (d <= 0 && lastDue <= Date.now()) {
      dst.write(chunk);
      return;
    }
    const due = Math.max(lastDue, Date.now() + d);
    lastDue = due;
    setTimeout(() => dst.write(chunk), due - Date.now());
  });
  src.on('end', () => {
    const wait = Math.max(0, lastDue - Date.now());
    setTimeout(() => dst.end(), wait);
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
