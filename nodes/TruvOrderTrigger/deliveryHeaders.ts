import type { IDataObject } from 'n8n-workflow';

/**
 * The request headers Include Request Headers copies into the item: those that describe a
 * delivery (its body, its sender, the proxies it passed, its trace). An allow-list, not a
 * deny-list: a reverse proxy in front of n8n may add headers that carry someone's credentials
 * under any name (x-api-key, x-auth-token, cf-access-jwt-assertion, x-amzn-oidc-data,
 * x-forwarded-client-cert…), and execution data is readable by everyone who can open the workflow.
 *
 * X-WEBHOOK-SIGN is copied: it is an HMAC of this body, which the item holds anyway. It does not
 * reveal the Access Secret and cannot sign any other body, and a workflow may want to pass it on
 * to a system that checks it again.
 */
export const DELIVERY_HEADERS: ReadonlySet<string> = new Set([
	// The body
	'content-type',
	'content-length',
	'content-encoding',
	'x-webhook-sign',
	// The sender
	'user-agent',
	'accept',
	'accept-encoding',
	'date',
	// The way it came: addresses and protocols the proxies saw
	'forwarded',
	'via',
	'x-forwarded-for',
	'x-forwarded-host',
	'x-forwarded-port',
	'x-forwarded-proto',
	'x-real-ip',
	'true-client-ip',
	'cf-connecting-ip',
	'cf-ipcountry',
	// Request ids and traces, to find the delivery in other logs
	'x-request-id',
	'x-correlation-id',
	'traceparent',
	'tracestate',
	'x-amzn-trace-id',
	'cf-ray',
]);

/** The delivery's headers named in DELIVERY_HEADERS, under their lower-case names. */
export function deliveryHeaders(headers: IDataObject): IDataObject {
	const described: IDataObject = {};
	for (const [name, value] of Object.entries(headers)) {
		const lowerCaseName = name.toLowerCase();
		if (DELIVERY_HEADERS.has(lowerCaseName)) described[lowerCaseName] = value;
	}
	return described;
}
