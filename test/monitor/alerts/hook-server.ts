/**
 * A real HTTP webhook receiver on a free local port, answering each request as the test's script
 * says (status, headers, or no answer at all), and keeping what it received.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  body: string;
  headers: IncomingMessage['headers'];
  path: string;
}

/** A status, a status with headers, or 'hang' (read the request, never answer). */
export type Answer = number | { status: number; headers?: Record<string, string> } | 'hang';

export interface HookServer {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** `answers[i]` answers the i-th request; requests after the last get the last answer. */
export async function startHookServer(answers: Answer[]): Promise<HookServer> {
  const received: Received[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const answer = answers[Math.min(received.length, answers.length - 1)] ?? 200;
      received.push({ body, headers: req.headers, path: req.url ?? '' });
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      const { status, headers } = typeof answer === 'number' ? { status: answer, headers: {} } : answer;
      res.writeHead(status, { 'content-type': 'text/plain', ...headers });
      res.end(`answer ${status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
