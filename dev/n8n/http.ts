import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface HttpResponse {
	status: number;
	headers: IncomingHttpHeaders;
	text: string;
	/** The body parsed as JSON, or undefined when it is not JSON. */
	json: unknown;
}

export interface HttpRequestOptions {
	method?: string;
	headers?: Record<string, string>;
	/** Sent as JSON unless it is a string or Buffer. */
	body?: unknown;
	timeoutMs?: number;
}

/**
 * One HTTP request on a fresh connection. No keep-alive on purpose: pooled sockets to an n8n that a
 * test stops would outlive the test and keep Jest from exiting.
 */
export async function request(
	url: string,
	options: HttpRequestOptions = {},
): Promise<HttpResponse> {
	const { method = 'GET', body, timeoutMs = 60_000 } = options;
	const headers: Record<string, string> = { ...options.headers };
	let payload: Buffer | undefined;
	if (body !== undefined) {
		const isRaw = typeof body === 'string' || Buffer.isBuffer(body);
		payload = isRaw ? Buffer.from(body as string | Buffer) : Buffer.from(JSON.stringify(body));
		if (!isRaw && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
			headers['content-type'] = 'application/json';
		}
		headers['content-length'] = String(payload.length);
	}
	return await new Promise((resolve, reject) => {
		const outgoing = httpRequest(url, { method, headers, agent: false }, (incoming) => {
			const chunks: Buffer[] = [];
			incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
			incoming.on('error', reject);
			incoming.on('end', () => {
				const text = Buffer.concat(chunks).toString('utf8');
				let json: unknown;
				try {
					json = JSON.parse(text);
				} catch {
					json = undefined;
				}
				resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, text, json });
			});
		});
		outgoing.setTimeout(timeoutMs, () =>
			outgoing.destroy(new Error(`${method} ${url} timed out after ${timeoutMs} ms`)),
		);
		outgoing.on('error', reject);
		outgoing.end(payload);
	});
}

export class HttpError extends Error {
	constructor(
		readonly method: string,
		readonly url: string,
		readonly response: HttpResponse,
	) {
		super(`${method} ${url} answered ${response.status}: ${response.text.slice(0, 2_000)}`);
		this.name = 'HttpError';
	}
}
