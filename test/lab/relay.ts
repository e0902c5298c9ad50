// The lab's front door: 127.0.0.1 TCP ports that reach each device's SSH. Run as its own process.
//   node --import tsx test/lab/relay.ts STATE_DIR
// reads STATE_DIR/relay.json ([{name, socket}]: a Unix socket that the hub's forwarder connects to
// the device's port 22) and writes STATE_DIR/relay-ports.json ({name: port}) when listening.
// The management link's delay is not made here but in the hub, per packet (Lab.setDelay).
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { splice } from './splice.js';

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

async function listen(route: Route): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    client.setNoDelay(true);
    splice(client, net.connect({ path: route.socket, allowHalfOpen: true }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('relay: no port');
  return addr.port;
}

const ports: Record<string, number> = {};
for (const route of routes) ports[route.name] = await listen(route);

const tmp = join(stateDir, 'relay-ports.json.tmp');
writeFileSync(tmp, JSON.stringify(ports));
renameSync(tmp, join(stateDir, 'relay-ports.json'));
