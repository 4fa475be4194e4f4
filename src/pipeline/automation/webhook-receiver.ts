/**
 * A local alert receiver: an HTTP server on loopback that records every webhook POSTed to it (the
 * alert engine's JSON payload) and answers 200. The main job points the alert rules at it to show the
 * webhooks arriving; anything Alertmanager-like can take its place.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface ReceivedWebhook {
  /** When it arrived (epoch ms). */
  at: number;
  /** The `x-modelauto-event` header (firing / resolved). */
  event: string | null;
  body: unknown;
}

export interface WebhookReceiver {
  url: string;
  readonly received: readonly ReceivedWebhook[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(host = '127.0.0.1'): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: unknown = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = Buffer.concat(chunks).toString('utf8');
      }
      const header = req.headers['x-modelauto-event'];
      received.push({ at: Date.now(), event: typeof header === 'string' ? header : null, body });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${host}:${port}/hook`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
