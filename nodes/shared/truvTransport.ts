import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteFunctions,
	IHookFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	ILoadOptionsFunctions,
	IWebhookFunctions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError, sleep } from 'n8n-workflow';

export const TRUV_CREDENTIAL_TYPE = 'truvApi';
export const TRUV_PRODUCTION_BASE_URL = 'https://prod.truv.com';

/** Truv answers within a few hundred milliseconds; a stuck call must not hold up activation. */
const TRUV_REQUEST_TIMEOUT_MS = 15_000;

/** Marks the error of a request Truv never answered (network error or timeout). */
const UNREACHED = 'truvUnreached';

/** Whether the error is truvApiRequest's for a request Truv never answered. */
export function isTruvUnreached(error: unknown): boolean {
	return error instanceof NodeApiError && error.context[UNREACHED] === true;
}

function seconds(milliseconds: number): string {
	return String(Math.round(milliseconds / 100) / 10);
}

export type TruvEnvironment = 'sandbox' | 'dev' | 'prod';

export interface TruvCredentials {
	clientId: string;
	accessSecret: string;
	environment?: 'fromSecret' | TruvEnvironment;
	secondaryAccessSecret?: string;
	baseUrl?: string;
}

export type TruvApiContext =
	| IHookFunctions
	| IWebhookFunctions
	| IExecuteFunctions
	| ILoadOptionsFunctions;

const ENVIRONMENT_PREFIXES: ReadonlyArray<[string, TruvEnvironment]> = [
	['sandbox-', 'sandbox'],
	['dev-', 'dev'],
	['prod-', 'prod'],
];

/** Truv's secrets start with the environment they belong to. */
export function environmentFromSecret(secret: string): TruvEnvironment | undefined {
	return ENVIRONMENT_PREFIXES.find(([prefix]) => secret.startsWith(prefix))?.[1];
}

/**
 * The environment of the credential's secret. Its prefix decides, whatever the Environment field
 * says: Truv signs a webhook's deliveries with the secret of the webhook's environment, so a
 * webhook registered in another environment than the secret's would never pass the signature
 * check. The field names the environment only of a secret without a known prefix.
 */
export function resolveEnvironment(credentials: TruvCredentials): TruvEnvironment | undefined {
	const fromSecret = environmentFromSecret(credentials.accessSecret ?? '');
	if (fromSecret) return fromSecret;
	return credentials.environment && credentials.environment !== 'fromSecret'
		? credentials.environment
		: undefined;
}

/** Secrets a genuine delivery may be signed with: both during a key rotation. */
export function signingSecrets(credentials: TruvCredentials): string[] {
	return [credentials.accessSecret, credentials.secondaryAccessSecret].filter(
		(secret): secret is string => typeof secret === 'string' && secret.length > 0,
	);
}

/**
 * The credential's Base URL, without trailing slashes. An address typed without its scheme
 * (prod.truv.com) is no URL for n8n's HTTP client, which reports a bare ERR_INVALID_URL; Truv's
 * API is only served over https, so https:// is what was meant. The credential test does the same.
 */
export function truvBaseUrl(credentials: TruvCredentials): string {
	const baseUrl = (credentials.baseUrl || TRUV_PRODUCTION_BASE_URL).trim().replace(/\/+$/, '');
	return /^[a-z][a-z0-9+.-]*:\/\//i.test(baseUrl) ? baseUrl : `https://${baseUrl}`;
}

export function isTruvProductionApi(credentials: TruvCredentials): boolean {
	return truvBaseUrl(credentials) === TRUV_PRODUCTION_BASE_URL;
}

interface TruvErrorBody {
	detail?: string;
	error?: {
		code?: string;
		message?: string;
		extra?: { 'invalid-params'?: Array<{ field?: string; message?: string }> };
	};
}

/** Turns Truv's documented error bodies into a sentence the user can act on. */
export function describeTruvError(statusCode: number, body: unknown): string {
	const parsed = (typeof body === 'object' && body !== null ? body : {}) as TruvErrorBody;
	const invalidParams = parsed.error?.extra?.['invalid-params'] ?? [];
	const truvText =
		invalidParams.length > 0
			? invalidParams.map(describeInvalidParam).join('; ')
			: (parsed.error?.message ?? parsed.detail ?? (typeof body === 'string' ? body : ''));
	const code = parsed.error?.code ? ` (${parsed.error.code})` : '';
	switch (statusCode) {
		case 401:
			return `Truv rejected the credentials${code}: check the Client ID and Access Secret. ${truvText}`.trim();
		case 403:
			return `Truv refused access${code}: the keys are valid but lack access to this part of Truv's API. ${truvText}`.trim();
		case 400:
			return `Truv rejected the request${code}: ${truvText}`;
		case 404:
			return `Truv answered 404 Not Found: ${truvText || 'check the Base URL'}`;
		case 429:
			return `Truv's rate limit was reached (${TRUV_RATE_LIMIT}): ${truvText || 'Truv asked to wait'}`;
		default:
			return `Truv answered HTTP ${statusCode}${code}${truvText ? `: ${truvText}` : ''}`;
	}
}

/** Django's name for a problem of the whole request is no field a user could correct. */
function describeInvalidParam({ field, message }: { field?: string; message?: string }): string {
	return !field || field === 'non_field_errors' ? (message ?? '') : `${field}: ${message}`;
}

export async function readTruvCredentials(context: TruvApiContext): Promise<TruvCredentials> {
	return (await context.getCredentials(TRUV_CREDENTIAL_TYPE)) as unknown as TruvCredentials;
}

/** Truv's limit, as a user reads it in an error. */
export const TRUV_RATE_LIMIT = '300 requests a minute per Access Secret';

/**
 * How long one operation waits in all for Truv's rate limit before it gives up: a whole minute,
 * the window Truv counts in, so a node that runs over many items paces itself through a burst.
 */
export const RATE_LIMIT_MAX_WAIT_MS = 60_000;
/** Waits when Truv says nothing of when to come back: 1, 2, 4, 8, then 16 s each. */
const RATE_LIMIT_FIRST_BACKOFF_MS = 1_000;
const RATE_LIMIT_LONGEST_BACKOFF_MS = 16_000;
/** The shortest wait, so that a `Retry-After: 0` cannot turn into a burst of retries. */
const RATE_LIMIT_SHORTEST_WAIT_MS = 250;

export interface TruvResponse<T = unknown> {
	statusCode: number;
	body: T;
	headers: Record<string, unknown>;
	/** For a 429 that outlasted the caller's bound: how long was waited and Truv's last wish. */
	rateLimit?: { waitedMs: number; retryAfterMs: number };
}

/**
 * How long Truv asks a throttled client to wait: its `Retry-After` header (seconds or an HTTP
 * date), else the seconds in its message ("Expected available in 12 seconds."), else undefined.
 * Truv's docs show neither, its demo app reads both.
 */
export function rateLimitDelayMs(
	headers: Record<string, unknown> | undefined,
	body: unknown,
	now = Date.now(),
): number | undefined {
	const header = headers?.['retry-after'];
	const retryAfter = String(Array.isArray(header) ? header[0] : (header ?? '')).trim();
	if (/^\d+(\.\d+)?$/.test(retryAfter)) return Number(retryAfter) * 1000;
	const date = retryAfter === '' ? NaN : Date.parse(retryAfter);
	if (!Number.isNaN(date)) return Math.max(0, date - now);
	const parsed = (typeof body === 'object' && body !== null ? body : {}) as TruvErrorBody;
	const message = [parsed.detail, parsed.error?.message, typeof body === 'string' ? body : '']
		.filter((text): text is string => typeof text === 'string')
		.join(' ');
	const seconds = /(\d+(?:\.\d+)?)\s*sec/i.exec(message)?.[1];
	return seconds === undefined ? undefined : Number(seconds) * 1000;
}

function backoffMs(retry: number): number {
	return Math.min(RATE_LIMIT_FIRST_BACKOFF_MS * 2 ** retry, RATE_LIMIT_LONGEST_BACKOFF_MS);
}

/**
 * Sends one request to Truv with the credential the caller read, and waits out Truv's rate limit:
 * every node of this package goes through here, so a 429 is handled in one place. A 429 is retried
 * after the wait Truv asks for (see rateLimitDelayMs, else a growing backoff) as long as the waits
 * add up to no more than `maxRateLimitWaitMs`; past it, the 429 is returned with `rateLimit` set.
 * Passing the credential as already decrypted keeps n8n from reading it again for every request.
 * What n8n's request helper throws (no answer at all) is thrown on.
 */
export async function sendTruvRequest<T = unknown>(
	context: TruvApiContext,
	request: IHttpRequestOptions,
	credentials: TruvCredentials,
	options: { maxRateLimitWaitMs?: number } = {},
): Promise<TruvResponse<T>> {
	const maxWaitMs = options.maxRateLimitWaitMs ?? RATE_LIMIT_MAX_WAIT_MS;
	const reference = context.getNode().credentials?.[TRUV_CREDENTIAL_TYPE];
	let waitedMs = 0;
	for (let retry = 0; ; retry++) {
		const response = (await context.helpers.httpRequestWithAuthentication.call(
			context,
			TRUV_CREDENTIAL_TYPE,
			// A copy each time: n8n's helper changes the options it is given.
			{ ...request, headers: { ...request.headers } },
			{
				credentialsDecrypted: {
					id: reference?.id ?? '',
					name: reference?.name ?? '',
					type: TRUV_CREDENTIAL_TYPE,
					data: { ...credentials } as unknown as ICredentialDataDecryptedObject,
				},
			},
		)) as TruvResponse<T>;
		if (response.statusCode !== 429) return response;
		const asked = rateLimitDelayMs(response.headers, parseBody(response.body));
		const waitMs = Math.max(asked ?? backoffMs(retry), RATE_LIMIT_SHORTEST_WAIT_MS);
		if (waitedMs + waitMs > maxWaitMs) {
			return { ...response, rateLimit: { waitedMs, retryAfterMs: waitMs } };
		}
		await sleep(waitMs);
		waitedMs += waitMs;
	}
}

/**
 * The address of `path` under the credential's Base URL. The request carries the Truv keys, so a
 * path that would lead anywhere else (another host: `//host/x`, `https://host/x`; or above the
 * Base URL's own path: `/../x`) is refused before anything is sent.
 */
export function truvRequestUrl(
	context: TruvApiContext,
	credentials: TruvCredentials,
	path: string,
	itemIndex?: number,
): string {
	const baseUrl = truvBaseUrl(credentials);
	const refuse = (why: string) =>
		new NodeOperationError(context.getNode(), `Refused to send a request to Truv: ${why}`, {
			description: `The Truv API credential's keys are only sent to its Base URL, ${baseUrl}.`,
			itemIndex,
		});
	let base: URL;
	try {
		base = new URL(baseUrl);
	} catch {
		throw refuse(`the credential's Base URL ${baseUrl} is not a valid address`);
	}
	// Only a path that starts with one slash is read as a path: `//host` or `\\host` names a host.
	if (!/^\/(?![/\\])/.test(path) || path.includes('\\')) {
		throw refuse(`${path} is not a path under the Base URL`);
	}
	let url: URL;
	try {
		url = new URL(`${baseUrl}${path}`);
	} catch {
		throw refuse(`${path} is not a path under the Base URL`);
	}
	const basePath = base.pathname.replace(/\/+$/, '');
	if (url.origin !== base.origin || !url.pathname.startsWith(`${basePath}/`)) {
		throw refuse(`${path} leads outside the Base URL`);
	}
	return url.href;
}

/**
 * Calls Truv's API with the node's Truv API credential. HTTP errors are turned into NodeApiErrors
 * carrying Truv's own explanation; `allowStatus` lists statuses the caller handles itself.
 */
export async function truvApiRequest<T = IDataObject>(
	context: TruvApiContext,
	method: IHttpRequestMethods,
	path: string,
	options: {
		body?: IDataObject;
		qs?: IDataObject;
		allowStatus?: number[];
		/** The credential when the caller has read it already: it is not read again. */
		credentials?: TruvCredentials;
		/** The input item the request is made for, named in the error. */
		itemIndex?: number;
		/** Said in the error's description when Truv answers 404, e.g. "No order with ID …". */
		notFoundHint?: string;
		/** How long to wait for Truv's answer; TRUV_REQUEST_TIMEOUT_MS when absent. */
		timeoutMs?: number;
		/** The longest this call waits in all for Truv's rate limit; RATE_LIMIT_MAX_WAIT_MS by default. */
		maxRateLimitWaitMs?: number;
		/** Answer the body as bytes (a PDF, say) instead of parsing it as JSON. */
		binary?: { accept: string };
	} = {},
): Promise<{ statusCode: number; body: T }> {
	const credentials = options.credentials ?? (await readTruvCredentials(context));
	const timeoutMs = options.timeoutMs ?? TRUV_REQUEST_TIMEOUT_MS;
	const request: IHttpRequestOptions = {
		method,
		url: truvRequestUrl(context, credentials, path, options.itemIndex),
		qs: options.qs,
		body: options.body,
		json: !options.binary,
		headers: { Accept: options.binary?.accept ?? 'application/json' },
		...(options.binary ? { encoding: 'arraybuffer' as const } : {}),
		timeout: timeoutMs,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
	};
	let response: TruvResponse;
	try {
		response = await sendTruvRequest(context, request, credentials, {
			maxRateLimitWaitMs: options.maxRateLimitWaitMs,
		});
	} catch (error) {
		const unanswered = unansweredRequest(error);
		const { code } = unanswered;
		const reason = unanswered.timedOut
			? `no answer within ${seconds(timeoutMs)} s`
			: unanswered.reason;
		// Given the original error (or its code), NodeApiError would replace this message with a
		// generic one such as "perhaps the server is offline".
		const unreached = new NodeApiError(context.getNode(), {} as JsonObject, {
			message: `Could not reach Truv at ${truvBaseUrl(credentials)} (${reason})`,
			description: `${method} ${path} failed before Truv answered${code ? ` (${code})` : ''}. Check the Base URL and that this n8n can reach it.`,
			itemIndex: options.itemIndex,
		});
		unreached.context[UNREACHED] = true;
		throw unreached;
	}
	const { statusCode } = response;
	if (options.binary && statusCode >= 200 && statusCode < 300) {
		const bytes = response.body;
		return { statusCode, body: (Buffer.isBuffer(bytes) ? bytes : Buffer.from([])) as T };
	}
	const body = parseBody(response.body);
	if (statusCode >= 200 && statusCode < 300) {
		if (body === INVALID_JSON) {
			throw new NodeApiError(context.getNode(), {} as JsonObject, {
				message: `Truv answered ${method} ${path} with a body that is not JSON`,
				httpCode: String(statusCode),
				itemIndex: options.itemIndex,
			});
		}
		return { statusCode, body: body as T };
	}
	if (options.allowStatus?.includes(statusCode)) return { statusCode, body: body as T };
	throw truvApiError(
		context,
		method,
		path,
		statusCode,
		body === INVALID_JSON ? response.body : body,
		{
			itemIndex: options.itemIndex,
			hint:
				statusCode === 404
					? options.notFoundHint
					: response.rateLimit && rateLimitHint(response.rateLimit),
		},
	);
}

/** What a user can do when Truv's rate limit outlasts the wait. */
export function rateLimitHint({
	waitedMs,
	retryAfterMs,
}: {
	waitedMs: number;
	retryAfterMs: number;
}) {
	const seconds = (ms: number) => `${Math.ceil(ms / 1000)} s`;
	return `Waited ${seconds(waitedMs)} for Truv's rate limit, which asked for ${seconds(retryAfterMs)} more. Everything that uses this Access Secret (Truv Order Triggers, Truv nodes) shares the ${TRUV_RATE_LIMIT}: spread the work out, for example with Loop Over Items and a Wait node, or ask Truv to raise the limit`;
}

/** The NodeApiError for an HTTP error answer of Truv's, carrying Truv's explanation. */
export function truvApiError(
	context: TruvApiContext,
	method: IHttpRequestMethods,
	path: string,
	statusCode: number,
	body: unknown,
	details: { itemIndex?: number; hint?: string } = {},
): NodeApiError {
	const errorResponse = (typeof body === 'object' && body !== null ? body : {}) as JsonObject;
	const answered = `${method} ${path} answered HTTP ${statusCode}`;
	return new NodeApiError(context.getNode(), errorResponse, {
		message: describeTruvError(statusCode, body),
		description: details.hint ? `${details.hint} (${answered})` : answered,
		httpCode: String(statusCode),
		itemIndex: details.itemIndex,
	});
}

/** Pages one list is read across at most: a guard against a `next` that never ends. */
export const MAX_LIST_PAGES = 1_000;

export interface TruvListOptions<T> {
	/** Query of the first page; later pages take theirs from Truv's `next` link. */
	qs?: IDataObject;
	/** Stop once this many items are collected; every item when absent. */
	limit?: number;
	/** Keeps only the items the caller wants; `limit` counts these. */
	include?: (item: T) => boolean;
	credentials?: TruvCredentials;
	itemIndex?: number;
	notFoundHint?: string;
	/** How long the whole list may take, across its pages; each page's own timeout when absent. */
	timeoutMs?: number;
}

/**
 * Reads a Truv list page by page, following `next`: page numbers for most lists
 * (`{count, next, previous, results}`), opaque cursors for the delivery history. An answer that
 * is a bare array is taken as the whole list, since Truv documents some lists only by example.
 */
export async function truvListRequest<T = IDataObject>(
	context: TruvApiContext,
	endpoint: string,
	options: TruvListOptions<T> = {},
): Promise<T[]> {
	const credentials = options.credentials ?? (await readTruvCredentials(context));
	const { limit, include, itemIndex, notFoundHint } = options;
	const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
	const items: T[] = [];
	const requested = new Set<string>();
	let path = endpoint;
	let qs = options.qs;
	for (let page = 1; ; page++) {
		// Each page waits only for what is left of the list's time, at least a moment.
		const timeoutMs = deadline === undefined ? undefined : Math.max(deadline - Date.now(), 1);
		const { body } = await truvApiRequest<unknown>(context, 'GET', path, {
			qs,
			credentials,
			itemIndex,
			notFoundHint,
			timeoutMs,
		});
		const listPage = readListPage<T>(body);
		if (!listPage) {
			throw new NodeApiError(context.getNode(), {} as JsonObject, {
				message: `Truv answered GET ${path} with something that is not a list`,
				description: 'Expected a list of results, or a page of them under "results".',
				itemIndex,
			});
		}
		for (const item of listPage.results) {
			if (include && !include(item)) continue;
			items.push(item);
			if (limit !== undefined && items.length >= limit) return items;
		}
		if (!listPage.next) return items;

		requested.add(pageKey(path, qs));
		const nextPath = nextPagePath(truvBaseUrl(credentials), endpoint, listPage.next);
		const stop = (message: string) =>
			new NodeApiError(context.getNode(), {} as JsonObject, {
				message,
				description: `Truv's link to the next page was ${listPage.next}`,
				itemIndex,
			});
		if (nextPath === undefined) {
			throw stop(`Truv's link to the next page of ${endpoint} points to another address`);
		}
		if (requested.has(pageKey(nextPath))) {
			throw stop(`Truv's link to the next page of ${endpoint} leads back to a page already read`);
		}
		if (page >= MAX_LIST_PAGES) {
			throw stop(
				`Truv's list ${endpoint} goes on for more than ${MAX_LIST_PAGES} pages: use a limit or filters`,
			);
		}
		path = nextPath;
		qs = undefined;
	}
}

/**
 * The path (under the Base URL) of the page Truv's `next` link names, or undefined when it names
 * another list. Truv builds `next` from the address it was called on, which behind a proxy is not
 * the Base URL (`https://proxy/truv` may see `https://prod.truv.com/v1/...` or `/v1/...`): only
 * the page's query is taken from it, so the path is never doubled and the keys never go to an
 * origin other than the Base URL's.
 */
export function nextPagePath(baseUrl: string, endpoint: string, next: string): string | undefined {
	let url: URL;
	try {
		url = new URL(next, `${baseUrl}${endpoint}`);
	} catch {
		return undefined;
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
	if (!url.pathname.endsWith(endpoint)) return undefined;
	return `${endpoint}${url.search}`;
}

/** The same page whatever the order of its query parameters. */
function pageKey(path: string, qs?: IDataObject): string {
	const [pathname, search = ''] = path.split('?', 2);
	const params = new URLSearchParams(search);
	for (const [name, value] of Object.entries(qs ?? {})) {
		if (value !== undefined && value !== null) params.append(name, String(value));
	}
	params.sort();
	return `${pathname}?${params.toString()}`;
}

function readListPage<T>(body: unknown): { results: T[]; next: string | null } | undefined {
	if (Array.isArray(body)) return { results: body as T[], next: null };
	if (typeof body !== 'object' || body === null) return undefined;
	const { results, next } = body as { results?: unknown; next?: unknown };
	if (!Array.isArray(results)) return undefined;
	return { results: results as T[], next: typeof next === 'string' && next !== '' ? next : null };
}

const INVALID_JSON = Symbol('invalid JSON');

const NETWORK_FAILURES: Record<string, string> = {
	ECONNREFUSED: 'connection refused',
	ENOTFOUND: 'host not found',
	EAI_AGAIN: 'host not found',
	ECONNRESET: 'connection reset',
	EHOSTUNREACH: 'host unreachable',
	CERT_HAS_EXPIRED: 'TLS certificate expired',
};

/**
 * Why a request got no answer: a timeout (including an aborted request), or the network error in
 * words. NodeApiError rewrites any message that contains an error code into its own generic text
 * ("perhaps the server is offline", even for a timeout), so callers word it themselves.
 */
export function unansweredRequest(error: unknown): {
	timedOut: boolean;
	reason: string;
	code?: string;
} {
	// n8n-core hands over a NodeApiError: the network error's code is its httpCode.
	const { cause, code, httpCode, message, messages } = error as {
		cause?: { code?: string; message?: string };
		code?: string;
		httpCode?: string;
		message?: string;
		messages?: string[];
	};
	const errorCode = cause?.code ?? code ?? httpCode;
	const details = [message, cause?.message, ...(messages ?? [])].filter(Boolean).join(' ');
	const timedOut =
		['ECONNABORTED', 'ETIMEDOUT', 'ERR_CANCELED'].includes(errorCode ?? '') ||
		/timeout|timed out|aborted|canceled/i.test(details);
	return {
		timedOut,
		reason: timedOut ? 'no answer in time' : (NETWORK_FAILURES[errorCode ?? ''] ?? 'no answer'),
		code: errorCode,
	};
}

function parseBody(body: unknown): unknown {
	if (Buffer.isBuffer(body)) body = body.toString('utf8');
	if (typeof body !== 'string') return body;
	if (body.trim() === '') return undefined;
	try {
		return JSON.parse(body);
	} catch {
		return INVALID_JSON;
	}
}
