import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/** What a route decided to answer; the server writes it and records the status. */
export interface Answer {
	status: number;
	body?: string | Buffer;
	contentType?: string;
	headers?: Record<string, string>;
}

export interface ReceivedRequest {
	method: string;
	url: URL;
	headers: IncomingHttpHeaders;
	rawBody: Buffer;
}

export function jsonAnswer(
	status: number,
	value: unknown,
	headers?: Record<string, string>,
): Answer {
	return { status, body: JSON.stringify(value), contentType: 'application/json', headers };
}

export function emptyAnswer(status: number): Answer {
	return { status };
}

export function readRequestBody(request: IncomingMessage): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => resolve(Buffer.concat(chunks)));
		request.on('error', reject);
	});
}

export function writeAnswer(response: ServerResponse, answer: Answer): void {
	const headers: Record<string, string | number> = { ...answer.headers };
	if (answer.body !== undefined) {
		headers['Content-Type'] = answer.contentType ?? 'application/json';
		headers['Content-Length'] = Buffer.byteLength(answer.body);
	}
	response.writeHead(answer.status, headers);
	response.end(answer.body);
}

/** Query parameters as Django reads them for filters: the last value of a repeated name wins. */
export function queryRecord(url: URL): Record<string, string> {
	return Object.fromEntries(url.searchParams.entries());
}

/** Header names lower-cased (Node already does), repeated values joined. */
export function headerRecord(headers: IncomingHttpHeaders): Record<string, string> {
	const record: Record<string, string> = {};
	for (const [name, value] of Object.entries(headers)) {
		if (value !== undefined) record[name] = Array.isArray(value) ? value.join(', ') : value;
	}
	return record;
}

export function firstHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
	const value = headers[name.toLowerCase()];
	return Array.isArray(value) ? value[0] : value;
}

export type ParsedJson = { ok: true; value: unknown } | { ok: false; message: string };

/** An empty body parses as "no data", as Django REST framework treats it. */
export function parseJsonBody(rawBody: Buffer): ParsedJson {
	const text = rawBody.toString('utf8');
	if (text.trim() === '') return { ok: true, value: undefined };
	try {
		return { ok: true, value: JSON.parse(text) };
	} catch (error) {
		return { ok: false, message: (error as Error).message };
	}
}
