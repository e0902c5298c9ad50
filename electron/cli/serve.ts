// `portwright serve`: the renderer bundle in a browser, on 127.0.0.1 only, with the core bound over
// a WebSocket. Every request needs the per-launch token (in the printed URL, then a strict cookie);
// the Host and Origin headers must name this server, so another site cannot drive it (DNS rebinding).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EventName } from '../core/contract.js';
import type { Service } from '../core/service.js';

export const SERVE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

const COOKIE = 'portwright_token';
/** Events forwarded to every connected page. */
const EVENTS: EventName[] = ['log', 'connection', 'progress'];
/** A request larger than this is refused (plans are at most 1 MiB, and travel as text). */
const MAX_MESSAGE = 4 * 1024 * 1024;

export interface ServeOptions {
  service: Service;
  /** The built renderer (index.html and assets). */
  staticDir: string;
  port?: number;
  /** For tests: a fixed token instead of a random one. */
  token?: string;
}

export interface Served {
  url: string;
  port: number;
  token: string;
  close: () => Promise<void>;
}

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === COOKIE) return v;
  }
  return undefined;
}

function deny(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`${text}\n`);
}

/** The page tells the renderer a core is behind this server (api.ts then speaks WebSocket). */
function markServed(html: string): string {
  return html.replace('<head>', '<head>\n    <meta name="portwright-core" content="websocket" />');
}

export async function startServe(o: ServeOptions): Promise<Served> {
  const root = resolve(o.staticDir);
  const index = join(root, 'index.html');
  try {
    await stat(index);
  } catch {
    throw new Error(`no renderer build at ${root}: run npm run build first`);
  }
  const token = o.token ?? randomBytes(24).toString('base64url');
  let port = 0;
  const hostOk = (req: IncomingMessage): boolean =>
    req.headers.host === `127.0.0.1:${port}` || req.headers.host === `localhost:${port}`;

  const server = createServer((req, res) => {
    void (async () => {
      if (!hostOk(req)) {
        deny(res, 403, 'Portwright serve answers only on 127.0.0.1.');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        deny(res, 405, 'Only GET here.');
        return;
      }
      const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
      const fromQuery = url.searchParams.get('token') ?? undefined;
      const headers: Record<string, string> = {
        'Content-Security-Policy': SERVE_CSP,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cache-Control': 'no-store',
      };
      if (sameToken(fromQuery, token)) {
        // Trade the token in the address for a cookie, and drop it from the address bar.
        res.writeHead(303, {
          ...headers,
          'Set-Cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
          Location: url.pathname,
        });
        res.end();
        return;
      }
      if (!sameToken(cookieToken(req), token)) {
        deny(res, 401, 'Portwright serve: open the address printed when it started (it carries the token).');
        return;
      }
      const rel = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '');
      const file = rel === '' ? index : resolve(root, rel);
      if (file !== root && !file.startsWith(root + sep)) {
        deny(res, 404, 'Not found.');
        return;
      }
      let body: Buffer;
      try {
        body = await readFile(file);
      } catch {
        // A route of the single-page app, not a file.
        body = await readFile(index);
        res.writeHead(200, { ...headers, 'Content-Type': TYPES['.html'] ?? 'text/html' });
        res.end(req.method === 'HEAD' ? undefined : markServed(body.toString('utf8')));
        return;
      }
      const type = TYPES[extname(file)] ?? 'application/octet-stream';
      res.writeHead(200, { ...headers, 'Content-Type': type });
      if (req.method === 'HEAD') res.end();
      else res.end(file === index ? markServed(body.toString('utf8')) : body);
    })().catch(() => deny(res, 500, 'Portwright serve could not answer that.'));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE });
  server.on('upgrade', (req, socket, head) => {
    const origin = req.headers.origin;
    const originOk = origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const given = cookieToken(req) ?? url.searchParams.get('token') ?? undefined;
    if (!hostOk(req) || !originOk || url.pathname !== '/ws' || !sameToken(given, token)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => bind(ws, o.service));
  });

  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(o.port ?? 0, '127.0.0.1', () => done());
  });
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((done) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

interface Request {
  id: number;
  method: string;
  input?: unknown;
}

/** One page's socket: calls in, results and events out. The service parses every input itself. */
function bind(ws: WebSocket, service: Service): void {
  const offs = EVENTS.map((event) =>
    service.on(event, (payload) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, payload }));
    }),
  );
  ws.on('close', () => {
    for (const off of offs) off();
  });
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    let req: Request;
    try {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      req = JSON.parse(bytes.toString('utf8')) as Request;
      if (typeof req.id !== 'number' || typeof req.method !== 'string') throw new Error('shape');
    } catch {
      ws.send(
        JSON.stringify({
          id: null,
          result: { ok: false, error: { code: 'BAD_REQUEST', message: 'expected {id, method, input}' } },
        }),
      );
      return;
    }
    void service.invoke(req.method, req.input).then((result) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: req.id, result }));
    });
  });
}
