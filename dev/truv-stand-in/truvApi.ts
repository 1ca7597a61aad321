import {
	authenticationFailedBody,
	incorrectParametersBody,
	methodNotAllowedBody,
	notFoundBody,
	parseErrorBody,
	throttledBody,
	TruvValidationError,
	unsupportedMediaTypeBody,
} from './truvErrors';
import {
	type Answer,
	emptyAnswer,
	firstHeader,
	jsonAnswer,
	parseJsonBody,
	type ReceivedRequest,
} from './httpExchange';
import type { Caller, Route } from './apiRoute';
import { findOrdersRoute, type OrdersApiContext } from './ordersApi';
import { findReportsRoute, type ReportsApiContext } from './reportsApi';
import { pageNumberAnswer } from './pagination';
import { answerWebhookRequests, type RecordedDelivery } from './webhookHistory';
import type { WebhookStore } from './webhookStore';

export interface TruvApiContext extends OrdersApiContext, ReportsApiContext {
	baseUrl: string;
	pageSize: number;
	webhooks: WebhookStore;
	authenticate(clientId: string | undefined, secret: string | undefined): Caller | undefined;
	/** Counts a request against its secret's rate limit: the seconds to wait when over it. */
	throttle(secret: string): number | undefined;
	/** The delivery attempts Truv would show this caller. */
	deliveryHistory(caller: Caller): readonly RecordedDelivery[];
}

export interface TruvApiOutcome {
	answer: Answer;
	caller?: Caller;
}

const WEBHOOKS_PATH = /^\/v1\/webhooks\/$/;
const WEBHOOK_PATH = /^\/v1\/webhooks\/([^/]+)\/$/;
const WEBHOOK_REQUESTS_PATH = /^\/v1\/webhook-requests\/$/;
const METHODS_WITH_BODY = ['POST', 'PATCH', 'PUT'];

/**
 * Answers a request outside the control API in the order Truv's Django stack does: unknown
 * routes 404 before authentication, authentication before the method check, and the body is
 * parsed only by handlers that read it. Paths need their trailing slash, as in Truv's docs.
 */
export type { Caller, Route, RouteHandler } from './apiRoute';

export function handleTruvApiRequest(
	context: TruvApiContext,
	request: ReceivedRequest,
): TruvApiOutcome {
	const route = findRoute(context, request.url.pathname);
	if (route === undefined) return { answer: jsonAnswer(404, notFoundBody()) };

	const secret = firstHeader(request.headers, 'x-access-secret');
	const caller = context.authenticate(firstHeader(request.headers, 'x-access-client-id'), secret);
	if (caller === undefined) return { answer: jsonAnswer(401, authenticationFailedBody()) };
	// Django REST framework throttles after authentication and before the method check.
	const wait = context.throttle(secret!);
	if (wait !== undefined) {
		return {
			answer: jsonAnswer(429, throttledBody(wait), { 'Retry-After': String(wait) }),
			caller,
		};
	}

	const method = request.method === 'HEAD' ? 'GET' : request.method;
	const handler = route.methods[method];
	if (handler === undefined) {
		const allow = Object.keys(route.methods).join(', ');
		return {
			answer: jsonAnswer(405, methodNotAllowedBody(request.method), { Allow: allow }),
			caller,
		};
	}

	let body: unknown;
	if (METHODS_WITH_BODY.includes(method) && request.rawBody.length > 0) {
		const contentType = firstHeader(request.headers, 'content-type') ?? '';
		const mediaType = contentType.split(';')[0].trim().toLowerCase();
		if (mediaType !== 'application/json') {
			return { answer: jsonAnswer(415, unsupportedMediaTypeBody(contentType)), caller };
		}
		const parsed = parseJsonBody(request.rawBody);
		if (!parsed.ok) return { answer: jsonAnswer(400, parseErrorBody(parsed.message)), caller };
		body = parsed.value;
	}

	try {
		return { answer: handler(request, caller, body), caller };
	} catch (error) {
		if (error instanceof TruvValidationError) {
			return { answer: jsonAnswer(400, incorrectParametersBody(error.invalidParams)), caller };
		}
		throw error;
	}
}

function findRoute(context: TruvApiContext, pathname: string): Route | undefined {
	if (WEBHOOKS_PATH.test(pathname)) return webhooksRoute(context);
	if (WEBHOOK_REQUESTS_PATH.test(pathname)) return webhookRequestsRoute(context);
	const webhookMatch = WEBHOOK_PATH.exec(pathname);
	if (webhookMatch) {
		let id: string;
		try {
			id = decodeURIComponent(webhookMatch[1]);
		} catch {
			return undefined;
		}
		return webhookRoute(context, id);
	}
	return findOrdersRoute(context, pathname) ?? findReportsRoute(context, pathname);
}

function webhooksRoute(context: TruvApiContext): Route {
	return {
		methods: {
			GET: (request, caller) => listWebhooks(context, request.url, caller),
			// An empty body reaches validation as "no fields", which reports every required one.
			POST: (_request, caller, body) =>
				jsonAnswer(201, context.webhooks.create(caller.clientId, body === undefined ? {} : body)),
		},
	};
}

function webhookRoute(context: TruvApiContext, id: string): Route {
	const notFound = jsonAnswer(404, notFoundBody());
	return {
		methods: {
			GET: (_request, caller) => {
				const webhook = context.webhooks.find(caller.clientId, id);
				return webhook ? jsonAnswer(200, webhook) : notFound;
			},
			PATCH: (_request, caller, body) => {
				const webhook = context.webhooks.update(
					caller.clientId,
					id,
					body === undefined ? {} : body,
				);
				return webhook ? jsonAnswer(200, webhook) : notFound;
			},
			DELETE: (_request, caller) =>
				context.webhooks.remove(caller.clientId, id) ? emptyAnswer(204) : notFound,
		},
	};
}

function webhookRequestsRoute(context: TruvApiContext): Route {
	return {
		methods: {
			GET: (request, caller) =>
				answerWebhookRequests(
					context.deliveryHistory(caller),
					request.url,
					context.baseUrl,
					context.pageSize,
				),
		},
	};
}

function listWebhooks(context: TruvApiContext, url: URL, caller: Caller): Answer {
	return pageNumberAnswer(
		context.webhooks.list(caller.clientId),
		url,
		context.baseUrl,
		context.pageSize,
	);
}
