import { parseFaultSpec } from './faultSwitches';
import {
	type Answer,
	emptyAnswer,
	jsonAnswer,
	parseJsonBody,
	type ReceivedRequest,
} from './httpExchange';
import { incorrectParametersBody, TruvValidationError } from './truvErrors';
import { SUBORDER_STATUSES, type SuborderStatus } from './orderRules';
import type { DeliverOptions, OrderSeed, TruvStandIn, WebhookSeed } from './standInContract';
import { isTruvEnvironment } from './webhookRules';
import { readTruvFixture, type WebhookEvent } from './webhookBody';

/**
 * `/_stand-in/…`: the same test hooks as the in-process object, for tools that run the stand-in
 * as a separate process. No authentication: it only listens on 127.0.0.1.
 */
export async function handleControlRequest(
	standIn: TruvStandIn,
	request: ReceivedRequest,
): Promise<Answer> {
	const path = request.url.pathname.replace(/\/+$/, '');
	const route = `${request.method} ${path}`;
	const webhookMatch = /^\/_stand-in\/webhooks\/([^/]+)(\/disable)?$/.exec(path);
	const orderStatusMatch = /^\/_stand-in\/orders\/([^/]+)\/status$/.exec(path);

	try {
		switch (route) {
			case 'GET /_stand-in':
				return jsonAnswer(200, standInSummary(standIn));
			case 'GET /_stand-in/calls':
				return jsonAnswer(200, standIn.calls);
			case 'DELETE /_stand-in/calls':
				standIn.resetCalls();
				return emptyAnswer(204);
			case 'GET /_stand-in/deliveries':
				return jsonAnswer(200, standIn.deliveries);
			case 'GET /_stand-in/webhooks':
				return jsonAnswer(
					200,
					standIn.webhooks(request.url.searchParams.get('client_id') ?? undefined),
				);
			case 'POST /_stand-in/webhooks':
				return jsonAnswer(201, standIn.addWebhook(readObject(request) as WebhookSeed));
			case 'GET /_stand-in/orders': {
				const env = request.url.searchParams.get('env') ?? undefined;
				if (env !== undefined && !isTruvEnvironment(env)) throw new Error(`Unknown env ${env}`);
				return jsonAnswer(
					200,
					standIn.orders(request.url.searchParams.get('client_id') ?? undefined, env),
				);
			}
			case 'POST /_stand-in/orders':
				return jsonAnswer(201, standIn.addOrder(readObject(request) as OrderSeed));
			case 'GET /_stand-in/rate-limit':
				return jsonAnswer(200, standIn.rateLimit());
			case 'PUT /_stand-in/rate-limit': {
				const { requests, windowMs } = readObject(request);
				return jsonAnswer(
					200,
					standIn.setRateLimit({
						requests: requests as number | undefined,
						windowMs: windowMs as number | undefined,
					}),
				);
			}
			case 'GET /_stand-in/faults':
				return jsonAnswer(200, standIn.faults());
			case 'POST /_stand-in/faults':
				standIn.setFault(parseFaultSpec(readObject(request)));
				return jsonAnswer(201, standIn.faults());
			case 'DELETE /_stand-in/faults':
				standIn.clearFaults();
				return emptyAnswer(204);
			case 'POST /_stand-in/deliver': {
				const { event, options } = parseDeliverRequest(readObject(request));
				return jsonAnswer(200, await standIn.deliver(event, options));
			}
		}
		if (webhookMatch) {
			const id = decodeURIComponent(webhookMatch[1]);
			const known = standIn.webhooks().some((webhook) => webhook.id === id);
			if (request.method === 'DELETE' && !webhookMatch[2]) {
				return standIn.removeWebhook(id) ? emptyAnswer(204) : unknownWebhook(id);
			}
			if (request.method === 'POST' && webhookMatch[2]) {
				return known ? jsonAnswer(200, standIn.disableWebhook(id)) : unknownWebhook(id);
			}
		}
		if (orderStatusMatch && request.method === 'POST') {
			const { status, suborder_id: suborderId } = readObject(request);
			if (!(SUBORDER_STATUSES as readonly unknown[]).includes(status)) {
				throw new Error(`status must be one of ${SUBORDER_STATUSES.join(', ')}`);
			}
			if (suborderId !== undefined && typeof suborderId !== 'string') {
				throw new Error('suborder_id must be a string');
			}
			const orderId = decodeURIComponent(orderStatusMatch[1]);
			if (!standIn.orders().some((order) => order.id === orderId)) {
				return jsonAnswer(404, { error: `No order ${orderId}` });
			}
			return jsonAnswer(
				200,
				standIn.setSuborderStatus(orderId, status as SuborderStatus, suborderId),
			);
		}
		return jsonAnswer(404, { error: `No stand-in control route ${route}` });
	} catch (error) {
		if (error instanceof TruvValidationError) {
			return jsonAnswer(400, incorrectParametersBody(error.invalidParams));
		}
		return jsonAnswer(400, { error: (error as Error).message });
	}
}

/** The line the CLI prints: enough for a tool to configure credentials and call the API. */
export function standInSummary(standIn: TruvStandIn): {
	url: string;
	clientId: string;
	secrets: TruvStandIn['account']['secrets'];
} {
	return { url: standIn.url, clientId: standIn.account.clientId, secrets: standIn.account.secrets };
}

function unknownWebhook(id: string): Answer {
	return jsonAnswer(404, { error: `No webhook ${id}` });
}

function readObject(request: ReceivedRequest): Record<string, unknown> {
	const parsed = parseJsonBody(request.rawBody);
	if (!parsed.ok) throw new Error(`Body is not JSON: ${parsed.message}`);
	const value = parsed.value ?? {};
	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		throw new Error('Body must be a JSON object');
	}
	return value as Record<string, unknown>;
}

/**
 * `{fixture}` sends a fixture's bytes; `{body}` sends a string as-is or a JSON value
 * serialised; `retries` is `maxRetries`.
 */
function parseDeliverRequest(input: Record<string, unknown>): {
	event: WebhookEvent;
	options: DeliverOptions;
} {
	const { fixture, body, retries, ...rest } = input;
	let event: WebhookEvent;
	if (fixture !== undefined && body !== undefined)
		throw new Error('Give fixture or body, not both');
	if (typeof fixture === 'string') event = readTruvFixture(fixture);
	else if (fixture !== undefined) throw new Error('fixture must be a string');
	else if (typeof body === 'string') event = Buffer.from(body, 'utf8');
	else if (typeof body === 'object' && body !== null) event = body as Record<string, unknown>;
	else throw new Error('Give fixture (a name) or body (a string or JSON value)');

	const options: DeliverOptions = {};
	const text = (field: string) => {
		const value = rest[field];
		if (value !== undefined && typeof value !== 'string')
			throw new Error(`${field} must be a string`);
		return value as string | undefined;
	};
	const count = (field: string, value: unknown) => {
		if (
			value !== undefined &&
			!(typeof value === 'number' && Number.isInteger(value) && value >= 0)
		) {
			throw new Error(`${field} must be a non-negative integer`);
		}
		return value as number | undefined;
	};
	options.env = text('env') as DeliverOptions['env'];
	options.clientId = text('clientId');
	options.url = text('url');
	options.secret = text('secret');
	if (rest.signature === null) options.signature = null;
	else options.signature = text('signature');
	if (rest.headers !== undefined) {
		const headers = rest.headers;
		if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
			throw new Error('headers must be an object');
		}
		for (const value of Object.values(headers)) {
			if (value !== null && typeof value !== 'string')
				throw new Error('header values must be strings or null');
		}
		options.headers = headers as Record<string, string | null>;
	}
	options.maxRetries = count('retries', retries ?? rest.maxRetries);
	options.retryDelayMs = count('retryDelayMs', rest.retryDelayMs);
	options.timeoutMs = count('timeoutMs', rest.timeoutMs);
	return {
		event,
		options: Object.fromEntries(
			Object.entries(options).filter(([, value]) => value !== undefined),
		) as DeliverOptions,
	};
}
