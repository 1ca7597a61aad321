import type { IDataObject, IHttpRequestOptions, INode, IWebhookFunctions } from 'n8n-workflow';
import { deepCopy } from 'n8n-workflow';

import {
	describeTruvError,
	resolveEnvironment,
	sendTruvRequest,
	TRUV_CREDENTIAL_TYPE,
	truvBaseUrl,
	unansweredRequest,
} from '../shared/truvTransport';
import type { TruvCredentials } from '../shared/truvTransport';
import { forgetTruvCredential, rememberedTruvCredential } from './credentialCache';

/**
 * How long Truv gets to answer the order lookup, in one attempt. Truv needs the delivery's 2xx
 * within 10 s, and by default n8n answers only once webhook() has returned and the execution is
 * stored (which under load took over a second on n8n 2.41). 3 s is several times what Truv takes
 * to answer an order and leaves the rest of the 10 s to n8n; a second attempt would not fit.
 */
export const ORDER_DETAILS_TIMEOUT_MS = 3_000;

/**
 * The longest the lookup waits for Truv's rate limit. Truv's waits are often 7-13 s, past the
 * 10 s of the delivery, so only a wait this short is worth it: the retry still ends within the
 * lookup's own time bound, which covers both attempts.
 */
export const ORDER_DETAILS_RATE_LIMIT_WAIT_MS = 1_000;

/**
 * How long a successful lookup's answer is reused for later deliveries of the same order. Truv
 * sends `order-status-updated` once per employer (and account), so an order that moves on sends
 * several deliveries within moments, and a batch of orders a burst of them: without reuse each
 * would cost one of the 300 requests a minute the Access Secret has for everything (Truv Order
 * Triggers, Truv nodes), and a burst would run into the limit and give its executions
 * `order_details_error`. A few seconds cover the deliveries of one change; the order an execution
 * gets is then at most that much older than its delivery, whose event names the change itself.
 */
export const ORDER_LOOKUP_REUSE_MS = 5_000;

/**
 * How long a failed lookup's answer is reused. Long enough that a burst of deliveries of one order
 * does not ask Truv again right after it refused (a 429 asks to wait anyway), short enough that a
 * passing failure does not reach the deliveries after it: a second later they ask Truv again.
 * A refusal of the keys (401, 403) is not reused at all: the credential is read again for the next
 * delivery, whose keys may have been corrected.
 */
export const FAILED_ORDER_LOOKUP_REUSE_MS = 1_000;

/**
 * The most lookups remembered at once. Successful ones are bounded by Truv's limit (300 a minute,
 * 25 in {@link ORDER_LOOKUP_REUSE_MS}, per Access Secret), so this is room for many credentials;
 * past it the oldest is dropped, whatever its age, which only costs a lookup again.
 */
export const MAX_REMEMBERED_ORDER_LOOKUPS = 500;

/** What Include Order Details adds to an order item. */
export interface OrderDetailsFields extends IDataObject {
	/** The order as `GET /v1/orders/{order_id}/` answers it, or null when the lookup failed. */
	order_details: IDataObject | null;
	/** Why the lookup failed, naming Truv's answer; absent when it succeeded. */
	order_details_error?: string;
}

function isPlainObject(value: unknown): value is IDataObject {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function failed(reason: string): OrderDetailsFields {
	return { order_details: null, order_details_error: `Could not get the order details: ${reason}` };
}

/** Why the request got no answer, from the error n8n's request helper threw. */
function unansweredReason(error: unknown, baseUrl: string): string {
	const { timedOut, reason } = unansweredRequest(error);
	return timedOut
		? `Truv did not answer within ${ORDER_DETAILS_TIMEOUT_MS / 1000} s`
		: `could not reach Truv at ${baseUrl} (${reason})`;
}

function describeRefusal(statusCode: number, body: unknown, orderId: string): string {
	if (statusCode === 404) {
		return `Truv answered 404 Not Found: it has no order ${orderId} in the environment of this credential's Access Secret`;
	}
	if (statusCode === 429) return describeTruvError(statusCode, isPlainObject(body) ? body : {});
	// Truv's error bodies are JSON; anything else (an HTML error page, say) is not worth quoting.
	return isPlainObject(body)
		? describeTruvError(statusCode, body)
		: `Truv answered HTTP ${statusCode}`;
}

/**
 * Looks up an accepted delivery's order in Truv, for Include Order Details. Never throws: the
 * delivery has been claimed and must still start the workflow, so any failure becomes
 * `order_details: null` with `order_details_error` saying why, and the workflow can branch on it
 * (or look the order up again later with the Truv node).
 *
 * Deliveries of one order share a lookup: one under way is joined, a recent answer reused (see
 * {@link ORDER_LOOKUP_REUSE_MS}), so a burst costs Truv's rate limit one request per order rather
 * than one per delivery. A joined lookup ends within the bound of the one that started it, so
 * Truv's 10 s for the answer hold for every delivery that waits for it.
 *
 * The keys come from the credential the signature check remembers, passed to
 * httpRequestWithAuthentication as already decrypted, so that n8n applies the credential's own
 * headers without reading the credential again: on n8n 2.41 a read costs an expression isolate of
 * its own (~50-60 ms of CPU, ~95 ms of wall time), applying the headers ~1-2 ms of CPU in the
 * isolate the webhook call already holds (`npx tsx bench/credentialCostBench.ts`). Setting the
 * headers by hand would save those 1-2 ms but copy the credential's authentication here.
 */
export async function fetchOrderDetails(
	context: IWebhookFunctions,
	node: INode,
	orderId: string,
): Promise<OrderDetailsFields> {
	let credentials: TruvCredentials;
	try {
		credentials = await rememberedTruvCredential(context, node);
	} catch (error) {
		return failed(`the Truv API credential could not be read (${(error as Error).message})`);
	}
	const key = lookupKey(node, credentials, orderId);
	const now = Date.now();
	forgetStaleLookups(now);
	let lookup = orderLookups.get(key);
	if (lookup === undefined || !reusable(lookup, now)) {
		lookup = startLookup(key, lookUpOrder(context, node, credentials, orderId));
	}
	const { fields } = await lookup.answer;
	// Each delivery gets a copy of its own: several executions share the answer, and a node that
	// changes its item in place must not change another execution's.
	return deepCopy(fields);
}

/**
 * Lookups under way and recent ones, per process (each n8n webhook process has its own). Deliveries
 * of an order being looked up wait for that lookup instead of starting their own; later ones reuse
 * its answer for {@link ORDER_LOOKUP_REUSE_MS}, or {@link FAILED_ORDER_LOOKUP_REUSE_MS} when it
 * failed. Ages are read from Date.now() when a lookup is needed: no timer runs. In insertion order,
 * which is the order the lookups started in, so the oldest come first.
 */
const orderLookups = new Map<string, OrderLookup>();

interface OrderLookup {
	answer: Promise<LookupAnswer>;
	/** When the answer came; undefined while the lookup is under way. */
	settledAt?: number;
	/** How long after settledAt the answer is reused. */
	reuseMs?: number;
}

interface LookupAnswer {
	fields: OrderDetailsFields;
	reuseMs: number;
}

/**
 * Who asks (the credential, its Client ID and the environment of its secret), where (Base URL)
 * and for which order: Truv answers each of these differently, so they share no lookup.
 */
function lookupKey(node: INode, credentials: TruvCredentials, orderId: string): string {
	return JSON.stringify([
		node.credentials?.[TRUV_CREDENTIAL_TYPE]?.id ?? '',
		credentials.clientId,
		resolveEnvironment(credentials) ?? '',
		truvBaseUrl(credentials),
		orderId,
	]);
}

/** Under way (it ends within its own time bound), or answered recently enough to reuse. */
function reusable(lookup: OrderLookup, now: number): boolean {
	return lookup.settledAt === undefined || now - lookup.settledAt < (lookup.reuseMs ?? 0);
}

/**
 * Drops the oldest lookups while they can no longer be reused, then any beyond
 * {@link MAX_REMEMBERED_ORDER_LOOKUPS}. It stops at the first that can still be: a later one past
 * its age is dropped when it comes first, or replaced when its order is looked up again.
 */
function forgetStaleLookups(now: number): void {
	for (const [key, lookup] of orderLookups) {
		if (reusable(lookup, now)) break;
		orderLookups.delete(key);
	}
	for (const key of orderLookups.keys()) {
		if (orderLookups.size < MAX_REMEMBERED_ORDER_LOOKUPS) break;
		// A delivery waiting for a dropped lookup still gets its answer; later ones ask Truv again.
		orderLookups.delete(key);
	}
}

function startLookup(key: string, lookingUp: Promise<LookupAnswer>): OrderLookup {
	// lookUpOrder does not throw; should it all the same, the failure is an answer like any other
	// rather than a rejection every later delivery of the order would get.
	const answer = lookingUp.catch((error: unknown) =>
		failedLookup(`the lookup failed (${(error as Error)?.message ?? String(error)})`),
	);
	const lookup: OrderLookup = { answer };
	// Deleted first, so that a lookup started again goes to the end, among the newest.
	orderLookups.delete(key);
	orderLookups.set(key, lookup);
	void answer.then(({ reuseMs }) => {
		lookup.settledAt = Date.now();
		lookup.reuseMs = reuseMs;
	});
	return lookup;
}

/** Forgets every order lookup, as a restart of n8n does. For tests. */
export function forgetOrderLookups(): void {
	orderLookups.clear();
}

function succeeded(fields: OrderDetailsFields): LookupAnswer {
	return { fields, reuseMs: ORDER_LOOKUP_REUSE_MS };
}

function failedLookup(reason: string, reuseMs = FAILED_ORDER_LOOKUP_REUSE_MS): LookupAnswer {
	return { fields: failed(reason), reuseMs };
}

/** Asks Truv for the order, once (see fetchOrderDetails); never throws. */
async function lookUpOrder(
	context: IWebhookFunctions,
	node: INode,
	credentials: TruvCredentials,
	orderId: string,
): Promise<LookupAnswer> {
	const baseUrl = truvBaseUrl(credentials);
	const request: IHttpRequestOptions = {
		method: 'GET',
		url: `${baseUrl}/v1/orders/${encodeURIComponent(orderId)}/`,
		json: true,
		headers: { Accept: 'application/json' },
		// The timeout only bounds the waits between bytes; the signal bounds the whole exchange.
		timeout: ORDER_DETAILS_TIMEOUT_MS,
		abortSignal: AbortSignal.timeout(ORDER_DETAILS_TIMEOUT_MS),
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
	};
	let response: { statusCode: number; body: unknown };
	try {
		response = await sendTruvRequest(context, request, credentials, {
			maxRateLimitWaitMs: ORDER_DETAILS_RATE_LIMIT_WAIT_MS,
		});
	} catch (error) {
		return failedLookup(unansweredReason(error, baseUrl));
	}
	const { statusCode, body } = response;
	if (statusCode >= 200 && statusCode < 300) {
		if (isPlainObject(body)) return succeeded({ order_details: body });
		return failedLookup(`Truv answered HTTP ${statusCode} with something that is not an order`);
	}
	// Keys Truv refuses may be remembered ones the user has since changed in the credential: the
	// next delivery reads it again, and asks Truv again.
	if (statusCode === 401 || statusCode === 403) {
		forgetTruvCredential(node);
		return failedLookup(describeRefusal(statusCode, body, orderId), 0);
	}
	return failedLookup(describeRefusal(statusCode, body, orderId));
}
