import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a test webhook received. */
export interface ReceivedRequest {
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  /** The body parsed as JSON. */
  readonly body: unknown;
}

/** What the webhook answers: a status, optionally after a delay. */
export interface WebhookAnswer {
  readonly status: number;
  readonly delayMs?: number;
}

/**
 * A local HTTP server standing in for webhook subscribers, on a free loopback port: every request's
 * JSON body goes to `answer`, which decides the response. `close` also drops kept-alive connections.
 */
export async function startWebhookServer(answer: (request: ReceivedRequest) => WebhookAnswer): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { status, delayMs = 0 } = answer({ path: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      setTimeout(() => res.writeHead(status).end(), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
