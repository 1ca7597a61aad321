import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setMaxListeners } from 'node:events';

export interface DeliverySettings {
	/** How long one attempt (redirects included) may take before it counts as failed. */
	timeoutMs: number;
	/** Pause between a failed attempt and the next one. */
	retryDelayMs: number;
	/** Retries after the first attempt; 3 means up to 4 attempts. */
	maxRetries: number;
}

export const DEFAULT_DELIVERY_SETTINGS: DeliverySettings = {
	timeoutMs: 10_000,
	retryDelayMs: 30_000,
	maxRetries: 3,
};

export interface DeliveryAttempt {
	/** The target URL, before any redirect. */
	url: string;
	/** The final status after redirects, or null when no answer came. */
	status: number | null;
	/** Why the attempt counts as failed; absent on a 2xx answer. */
	error?: string;
	durationMs: number;
	responseBody: string;
}

export interface WebhookRequest {
	url: string;
	body: Buffer;
	headers: Record<string, string>;
}

const MAX_REDIRECTS = 10;
const MAX_RESPONSE_BODY_BYTES = 64 * 1024;

export function isSuccessStatus(status: number | null): boolean {
	return status !== null && status >= 200 && status < 300;
}

/**
 * Sends one webhook the way Truv does, retrying failed attempts. Every delivery started here
 * is cut short by `close()`, so no socket or timer outlives the stand-in.
 */
export class WebhookDeliverer {
	private readonly closing = new AbortController();

	constructor() {
		// Every in-flight attempt and retry pause listens for close(); many at once are expected.
		setMaxListeners(0, this.closing.signal);
	}

	get closed(): boolean {
		return this.closing.signal.aborted;
	}

	async deliver(
		request: WebhookRequest,
		settings: DeliverySettings,
		onAttempt: (attempt: DeliveryAttempt) => void,
	): Promise<DeliveryAttempt[]> {
		const attempts: DeliveryAttempt[] = [];
		for (let attemptIndex = 0; attemptIndex <= settings.maxRetries; attemptIndex++) {
			if (attemptIndex > 0) {
				const waited = await this.pause(settings.retryDelayMs);
				if (!waited) break;
			}
			const attempt = await sendWebhookAttempt(request, settings.timeoutMs, this.closing.signal);
			attempts.push(attempt);
			onAttempt(attempt);
			if (isSuccessStatus(attempt.status) || this.closed) break;
		}
		return attempts;
	}

	close(): void {
		this.closing.abort();
	}

	/** Resolves true after `ms`, or false as soon as the deliverer closes. */
	private pause(ms: number): Promise<boolean> {
		const signal = this.closing.signal;
		if (signal.aborted) return Promise.resolve(false);
		return new Promise((resolve) => {
			const onClose = () => {
				clearTimeout(timer);
				resolve(false);
			};
			const timer = setTimeout(() => {
				signal.removeEventListener('abort', onClose);
				resolve(true);
			}, ms);
			signal.addEventListener('abort', onClose, { once: true });
		});
	}
}

/**
 * One attempt: POST, then follow redirects like common HTTP clients (301/302/303 turn into a
 * body-less GET, 307/308 repeat the POST). The timeout covers the whole exchange, including
 * reading the answer, because Truv counts an endpoint that does not finish answering as failed.
 * Never rejects: every failure becomes an attempt with an error.
 */
export async function sendWebhookAttempt(
	request: WebhookRequest,
	timeoutMs: number,
	closingSignal: AbortSignal,
): Promise<DeliveryAttempt> {
	const startedAt = Date.now();
	const finish = (
		status: number | null,
		responseBody: string,
		error?: string,
	): DeliveryAttempt => ({
		url: request.url,
		status,
		...(error === undefined ? {} : { error }),
		durationMs: Date.now() - startedAt,
		responseBody,
	});

	const attemptController = new AbortController();
	const timer = setTimeout(() => attemptController.abort(new AttemptTimeout()), timeoutMs);
	const onClose = () => attemptController.abort(new Error('stand-in closed'));
	closingSignal.addEventListener('abort', onClose, { once: true });
	if (closingSignal.aborted) onClose();

	try {
		let url = request.url;
		let method = 'POST';
		let body: Buffer | undefined = request.body;
		let headers = request.headers;
		for (let redirects = 0; ; redirects++) {
			const answer = await exchange(url, method, headers, body, attemptController.signal);
			const location = answer.headers.location;
			if (answer.status >= 300 && answer.status < 400 && location !== undefined) {
				if (redirects === MAX_REDIRECTS) {
					return finish(answer.status, answer.body, `too many redirects (${MAX_REDIRECTS})`);
				}
				url = new URL(location, url).toString();
				if (answer.status !== 307 && answer.status !== 308) {
					method = 'GET';
					body = undefined;
					headers = withoutBodyHeaders(headers);
				}
				continue;
			}
			const error = isSuccessStatus(answer.status)
				? undefined
				: `unexpected status ${answer.status}`;
			return finish(answer.status, answer.body, error);
		}
	} catch (error) {
		const reason = attemptController.signal.reason;
		if (reason instanceof AttemptTimeout) {
			return finish(null, '', `timeout: no complete answer within ${timeoutMs} ms`);
		}
		if (reason instanceof Error) return finish(null, '', reason.message);
		const code = (error as NodeJS.ErrnoException).code;
		return finish(null, '', `connection error: ${code ?? (error as Error).message}`);
	} finally {
		clearTimeout(timer);
		closingSignal.removeEventListener('abort', onClose);
	}
}

class AttemptTimeout extends Error {
	constructor() {
		super('timeout');
	}
}

interface Answer {
	status: number;
	headers: IncomingMessage['headers'];
	body: string;
}

function exchange(
	url: string,
	method: string,
	headers: Record<string, string>,
	body: Buffer | undefined,
	signal: AbortSignal,
): Promise<Answer> {
	return new Promise((resolve, reject) => {
		const target = new URL(url);
		const send =
			target.protocol === 'https:'
				? httpsRequest
				: target.protocol === 'http:'
					? httpRequest
					: undefined;
		if (send === undefined) {
			reject(new Error(`unsupported protocol ${target.protocol}`));
			return;
		}
		const outgoingHeaders: OutgoingHttpHeaders = { ...headers };
		if (body !== undefined && !hasHeader(headers, 'content-length')) {
			outgoingHeaders['Content-Length'] = body.length;
		}
		// A fresh connection per attempt, like a retrying sender, and no pooled socket left behind.
		const outgoing = send(target, { method, headers: outgoingHeaders, agent: false, signal });
		outgoing.on('error', reject);
		outgoing.on('response', (response) => {
			const chunks: Buffer[] = [];
			let kept = 0;
			response.on('data', (chunk: Buffer) => {
				if (kept < MAX_RESPONSE_BODY_BYTES) {
					chunks.push(chunk);
					kept += chunk.length;
				}
			});
			response.on('error', reject);
			response.on('close', () => {
				if (!response.complete) reject(new Error('answer cut off before its end'));
			});
			response.on('end', () => {
				resolve({
					status: response.statusCode ?? 0,
					headers: response.headers,
					body: Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BODY_BYTES).toString('utf8'),
				});
			});
		});
		outgoing.end(body);
	});
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
	return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

function withoutBodyHeaders(headers: Record<string, string>): Record<string, string> {
	return Object.fromEntries(
		Object.entries(headers).filter(
			([key]) => !['content-type', 'content-length'].includes(key.toLowerCase()),
		),
	);
}

/**
 * Merges header overrides case-insensitively, so `{'content-type': ...}` replaces the default
 * `Content-Type` instead of sending both; a null value removes the header.
 */
export function mergeHeaders(
	base: Record<string, string>,
	overrides: Record<string, string | null> = {},
): Record<string, string> {
	const merged = { ...base };
	for (const [name, value] of Object.entries(overrides)) {
		for (const key of Object.keys(merged)) {
			if (key.toLowerCase() === name.toLowerCase()) delete merged[key];
		}
		if (value !== null) merged[name] = value;
	}
	return merged;
}
