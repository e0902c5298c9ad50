// Runs inside the lab's hub namespace: forwards each Unix socket to a device's TCP port 22. (socat
// did this before and, once in a while, closed a busy connection mid-session.)
//   node --import tsx test/lab/hub-forward.ts SOCKET=ADDRESS:PORT ...
import { unlinkSync } from 'node:fs';
import net from 'node:net';
import { splice } from './splice.js';

for (const arg of process.argv.slice(2)) {
  const m = /^(.+)=([^=:]+):(\d+)$/.exec(arg);
  if (!m?.[1] || !m[2]) {
    console.error(`hub-forward: expected SOCKET=ADDRESS:PORT, got ${arg}`);
    process.exit(2);
  }
  const [, socket, host, port] = m;
  try {
    unlinkSync(socket);
  } catch {
    // not there yet
  }
  net
    .createServer({ allowHalfOpen: true }, (client) => {
      const upstream = net.connect({ host, port: Number(port), allowHalfOpen: true });
      upstream.setNoDelay(true);
      splice(client, upstream);
    })
    .listen(socket);
}
