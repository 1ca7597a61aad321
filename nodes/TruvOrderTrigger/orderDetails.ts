import type { IDataObject, IHttpRequestOptions, INode, IWebhookFunctions } from 'n8n-workflow';

import {
	describeTruvError,
	sendTruvRequest,
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
		return failed(unansweredReason(error, baseUrl));
	}
	const { statusCode, body } = response;
	if (statusCode >= 200 && statusCode < 300) {
		if (isPlainObject(body)) return { order_details: body };
		return failed(`Truv answered HTTP ${statusCode} with something that is not an order`);
	}
	// Keys Truv refuses may be remembered ones the user has since changed in the credential.
	if (statusCode === 401 || statusCode === 403) forgetTruvCredential(node);
	return failed(describeRefusal(statusCode, body, orderId));
}
