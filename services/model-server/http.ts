import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { PumpwatchError } from '../../shared/errors';

/**
 * Small HTTP helpers shared by the model container and the local SageMaker runtime endpoint
 * (both plain `node:http` servers: a handful of routes, no framework needed).
 */

/** A request body over the server's limit. */
export class PayloadTooLargeError extends PumpwatchError {
  constructor(readonly limitBytes: number) {
    super(`request body exceeds ${limitBytes} bytes`, { code: 'PAYLOAD_TOO_LARGE' });
  }
}

/** Reads a whole request body, failing fast (before reading) when Content-Length is over `limitBytes`. */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) throw new PayloadTooLargeError(limitBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.byteLength;
    if (size > limitBytes) throw new PayloadTooLargeError(limitBytes);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Sends a body with a status and headers (Content-Length set). */
export function send(res: ServerResponse, status: number, contentType: string, body: string | Uint8Array, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': String(bytes.byteLength) });
  res.end(bytes);
}

/** Sends `value` as JSON. */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, 'application/json', JSON.stringify(value), headers);
}

/** Path segments of a request URL, percent-decoded one by one (so `%2F` stays inside a segment). */
export function pathSegments(url: URL): string[] | undefined {
  try {
    return url.pathname.split('/').slice(1).map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

/**
 * A listening server with request tracking and a graceful, idempotent close: stop accepting,
 * let in-flight requests finish for up to `drainMs`, then cut remaining connections.
 */
export class HttpServerLifecycle {
  private inFlight = 0;
  private closing: Promise<void> | undefined;

  constructor(private readonly server: Server) {
    server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
      this.inFlight++;
      res.once('close', () => {
        this.inFlight--;
      });
    });
  }

  /** Listens on `host:port` (0 = any free port) and returns the base URL to reach it. */
  async listen(port: number, host: string): Promise<{ url: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('server is not listening on a TCP port');
    return { url: `http://${urlHost(address, host)}:${address.port}`, port: address.port };
  }

  /** Requests being served. */
  get activeRequests(): number {
    return this.inFlight;
  }

  /** Stops the server; safe to call more than once (every call gets the same promise). */
  close(drainMs: number): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      const deadline = Date.now() + drainMs;
      const tick = setInterval(() => {
        this.server.closeIdleConnections();
        if (this.inFlight === 0 || Date.now() >= deadline) this.server.closeAllConnections();
      }, 20);
      this.server.close(() => {
        clearInterval(tick);
        resolve();
      });
      this.server.closeIdleConnections();
      if (this.inFlight === 0) this.server.closeAllConnections();
    });
    return this.closing;
  }
}

function urlHost(address: AddressInfo, requested: string): string {
  const wildcard = requested === '0.0.0.0' || requested === '::' || requested === '';
  if (wildcard) return address.family === 'IPv6' && requested === '::' ? '[::1]' : '127.0.0.1';
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}
