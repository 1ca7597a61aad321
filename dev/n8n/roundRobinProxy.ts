// The load balancer in front of n8n's webhook processes in queue mode: a small reverse proxy on
// loopback that hands each request to the next upstream in turn and counts what each one got, so a
// test can show that deliveries really spread over the processes. It behaves like nginx's
// defaults where tests depend on it: a request whose upstream refuses the connection goes to the
// next one (nothing was sent yet), an upstream that fails after that gives the client a 502, and
// one that does not answer within UPSTREAM_TIMEOUT_MS a 504 (nginx's proxy_read_timeout), so that
// no request through it can hang; close() ends the requests still in flight.
import {
	createServer,
	request as httpRequest,
	type IncomingMessage,
	type OutgoingHttpHeaders,
	type Server,
	type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';

import { getFreePort } from './ports';

export interface RoundRobinProxy {
	/** `http://127.0.0.1:<port>` */
	url: string;
	port: number;
	/** The upstreams' base URLs, in turn order. */
	upstreams: string[];
	/** Requests each upstream answered (any status), by upstream index. */
	answeredBy(): number[];
	/** Requests no upstream answered (every one refused, or the one chosen failed midway). */
	failed(): number;
	/** Starts counting from zero again. */
	resetCounts(): void;
	close(): Promise<void>;
}

/** How long an upstream may stay silent before the client gets a 504 (nginx's default: 60 s). */
export const UPSTREAM_TIMEOUT_MS = 60_000;

/** The response header naming the index of the upstream that answered. */
export const UPSTREAM_HEADER = 'x-upstream-index';

/** Hop-by-hop headers a proxy must not forward (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
	'connection',
	'keep-alive',
	'proxy-connection',
	'transfer-encoding',
	'te',
	'trailer',
	'upgrade',
]);

function forwardedHeaders(headers: IncomingMessage['headers']): OutgoingHttpHeaders {
	const forwarded: OutgoingHttpHeaders = {};
	for (const [name, value] of Object.entries(headers)) {
		if (!HOP_BY_HOP.has(name) && value !== undefined) forwarded[name] = value;
	}
	return forwarded;
}

export async function startRoundRobinProxy(
	upstreams: string[],
	{ upstreamTimeoutMs = UPSTREAM_TIMEOUT_MS }: { upstreamTimeoutMs?: number } = {},
): Promise<RoundRobinProxy> {
	if (upstreams.length === 0) throw new Error('a proxy needs at least one upstream');
	const targets = upstreams.map((upstream) => new URL(upstream));
	let answered = targets.map(() => 0);
	let failedRequests = 0;
	let turn = 0;
	const inFlight = new Set<ReturnType<typeof httpRequest>>();

	const handle = (incoming: IncomingMessage, outgoing: ServerResponse): void => {
		// The body is read first so that a refused upstream can be replaced by the next one.
		const chunks: Buffer[] = [];
		incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
		incoming.on('end', () => {
			const body = Buffer.concat(chunks);
			const first = turn;
			turn = (turn + 1) % targets.length;
			const attempt = (tried: number): void => {
				const index = (first + tried) % targets.length;
				const target = targets[index];
				const headers = forwardedHeaders(incoming.headers);
				headers['content-length'] = String(body.length);
				headers['x-forwarded-for'] = incoming.socket.remoteAddress ?? '127.0.0.1';
				let responded = false;
				const upstream = httpRequest(
					{
						host: target.hostname,
						port: target.port,
						method: incoming.method,
						path: incoming.url,
						headers,
						// A connection per request, as nginx without upstream keepalive.
						agent: false,
					},
					(answer) => {
						responded = true;
						answered[index] += 1;
						// As nginx's `add_header X-Upstream $upstream_addr`: which upstream answered.
						outgoing.writeHead(answer.statusCode ?? 502, {
							...forwardedHeaders(answer.headers),
							[UPSTREAM_HEADER]: String(index),
						});
						answer.pipe(outgoing);
						answer.on('error', () => outgoing.destroy());
					},
				);
				inFlight.add(upstream);
				upstream.once('close', () => inFlight.delete(upstream));
				upstream.setTimeout(upstreamTimeoutMs, () => {
					const timedOut: NodeJS.ErrnoException = new Error('upstream timed out');
					timedOut.code = 'ETIMEDOUT';
					upstream.destroy(timedOut);
				});
				upstream.on('error', (error: NodeJS.ErrnoException) => {
					if (responded) {
						outgoing.destroy();
						return;
					}
					if (error.code === 'ECONNREFUSED' && tried + 1 < targets.length) {
						attempt(tried + 1);
						return;
					}
					failedRequests += 1;
					if (outgoing.headersSent) outgoing.destroy();
					else if (error.code === 'ETIMEDOUT') {
						outgoing.writeHead(504, { 'content-type': 'text/plain' }).end('gateway timeout');
					} else outgoing.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
				});
				upstream.end(body);
			};
			attempt(0);
		});
	};

	const port = await getFreePort();
	const server: Server = createServer(handle);
	const sockets = new Set<Socket>();
	server.on('connection', (socket) => {
		sockets.add(socket);
		socket.once('close', () => sockets.delete(socket));
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, '127.0.0.1', () => resolve());
	});
	const url = `http://127.0.0.1:${port}`;
	return {
		url,
		port,
		upstreams: [...upstreams],
		answeredBy: () => [...answered],
		failed: () => failedRequests,
		resetCounts() {
			answered = targets.map(() => 0);
			failedRequests = 0;
		},
		close: async () =>
			await new Promise<void>((resolve) => {
				for (const upstream of inFlight) upstream.destroy();
				for (const socket of sockets) socket.destroy();
				server.close(() => resolve());
			}),
	};
}
