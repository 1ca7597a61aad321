import {
	createServer,
	type IncomingHttpHeaders,
	type Server,
	type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

import { waitFor, type WaitOptions } from './wait';

export interface RecordedRequest {
	method: string;
	/** Path with query string, as sent. */
	url: string;
	path: string;
	query: URLSearchParams;
	headers: IncomingHttpHeaders;
	body: Buffer;
	/** The body as UTF-8 text. */
	text: string;
	/** The body parsed as JSON, or undefined when it is not JSON. */
	json: unknown;
	receivedAt: Date;
}

export interface SinkResponse {
	status?: number;
	headers?: Record<string, string>;
	body?: unknown;
	/** Holds the response back, e.g. to exercise a caller's timeout. */
	delayMs?: number;
}

/** Decides the answer to a request; the default answers 200 `{"ok":true}`. */
export type SinkResponder = (request: RecordedRequest) => SinkResponse | Promise<SinkResponse>;

export interface HttpSink {
	/** `http://127.0.0.1:<port>` without a trailing slash. */
	url: string;
	port: number;
	/** Every request so far, oldest first. */
	requests: RecordedRequest[];
	/** Replaces the responder for subsequent requests. */
	respondWith(responder: SinkResponder): void;
	/** Resolves with all requests once at least `count` have arrived. */
	waitFor(count: number, options?: WaitOptions): Promise<RecordedRequest[]>;
	clear(): void;
	close(): Promise<void>;
}

const defaultResponder: SinkResponder = () => ({ status: 200, body: { ok: true } });

function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

async function send(response: ServerResponse, answer: SinkResponse): Promise<void> {
	if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
	const isText = typeof answer.body === 'string' || Buffer.isBuffer(answer.body);
	const payload =
		answer.body === undefined
			? ''
			: isText
				? (answer.body as string | Buffer)
				: JSON.stringify(answer.body);
	const headers: Record<string, string> = {
		...(answer.body !== undefined && !isText ? { 'content-type': 'application/json' } : {}),
		...answer.headers,
	};
	response.writeHead(answer.status ?? 200, headers);
	response.end(payload);
}

/** An HTTP server on 127.0.0.1 that records every request, for outbound calls n8n makes. */
export async function startHttpSink(
	responder: SinkResponder = defaultResponder,
): Promise<HttpSink> {
	const requests: RecordedRequest[] = [];
	let currentResponder = responder;

	const server: Server = createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => {
			const body = Buffer.concat(chunks);
			const text = body.toString('utf8');
			const url = request.url ?? '/';
			const parsed = new URL(url, 'http://127.0.0.1');
			const recorded: RecordedRequest = {
				method: request.method ?? 'GET',
				url,
				path: parsed.pathname,
				query: parsed.searchParams,
				headers: request.headers,
				body,
				text,
				json: parseJson(text),
				receivedAt: new Date(),
			};
			requests.push(recorded);
			Promise.resolve()
				.then(async () => await currentResponder(recorded))
				.then(async (answer) => await send(response, answer))
				.catch((error: unknown) => {
					response.writeHead(500, { 'content-type': 'text/plain' });
					response.end(`http sink responder failed: ${String(error)}`);
				});
		});
	});
	// Keep-alive sockets from n8n's HTTP agent would otherwise hold close() open.
	server.keepAliveTimeout = 1_000;

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => resolve());
	});
	const { port } = server.address() as AddressInfo;

	return {
		url: `http://127.0.0.1:${port}`,
		port,
		requests,
		respondWith(next) {
			currentResponder = next;
		},
		async waitFor(count, options) {
			return await waitFor(
				() => {
					if (requests.length < count) throw new Error(`${requests.length} so far`);
					return [...requests];
				},
				{ description: `${count} request(s) at the HTTP sink`, ...options },
			);
		},
		clear() {
			requests.length = 0;
		},
		async close() {
			server.closeAllConnections();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
