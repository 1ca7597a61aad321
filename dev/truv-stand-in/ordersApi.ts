import { type Answer, jsonAnswer } from './httpExchange';
import type { InvoiceBook } from './invoices';
import type { OrderStore } from './orderStore';
import { pageNumberAnswer } from './pagination';
import type { Caller, Route } from './apiRoute';
import { notFoundBody } from './truvErrors';

export interface OrdersApiContext {
	baseUrl: string;
	pageSize: number;
	orders: OrderStore;
	invoices: InvoiceBook;
}

const ORDERS_PATH = /^\/v1\/orders\/$/;
const ORDER_PATH = /^\/v1\/orders\/([^/]+)\/$/;
const ORDER_CANCEL_PATH = /^\/v1\/orders\/([^/]+)\/cancel\/$/;
const ORDER_EVENTS_PATH = /^\/v1\/orders\/([^/]+)\/events\/$/;
const ORDER_INVOICE_PATH = /^\/v1\/orders\/([^/]+)\/invoice\/$/;

/**
 * The Orders API as truv-api.md documents it. `POST /v1/orders/{id}/refresh/`, which Truv's demo
 * app calls, is not among them: it answers 404 like any unknown route.
 */
export function findOrdersRoute(context: OrdersApiContext, pathname: string): Route | undefined {
	if (ORDERS_PATH.test(pathname)) return ordersRoute(context);
	for (const [pattern, route] of [
		[ORDER_CANCEL_PATH, orderCancelRoute],
		[ORDER_EVENTS_PATH, orderEventsRoute],
		[ORDER_INVOICE_PATH, orderInvoiceRoute],
		[ORDER_PATH, orderRoute],
	] as const) {
		const match = pattern.exec(pathname);
		if (!match) continue;
		try {
			return route(context, decodeURIComponent(match[1]));
		} catch {
			return undefined;
		}
	}
	return undefined;
}

function ordersRoute(context: OrdersApiContext): Route {
	return {
		methods: {
			GET: (request, caller) =>
				pageNumberAnswer(
					context.orders.list(caller.clientId, caller.env),
					request.url,
					context.baseUrl,
					context.pageSize,
				),
			// An empty body reaches validation as "no fields", which reports every required one.
			POST: (_request, caller, body) =>
				jsonAnswer(201, context.orders.create(caller.clientId, caller.env, body ?? {})),
		},
	};
}

function orderRoute(context: OrdersApiContext, id: string): Route {
	return {
		methods: {
			GET: (_request, caller) => orNotFound(context.orders.find(caller.clientId, caller.env, id)),
			// The documented refresh: the answer is the new order.
			POST: (_request, caller, body) =>
				orNotFound(context.orders.refresh(caller.clientId, caller.env, id, body ?? {}), 201),
		},
	};
}

function orderCancelRoute(context: OrdersApiContext, id: string): Route {
	return {
		methods: {
			POST: (_request, caller) =>
				orNotFound(context.orders.cancel(caller.clientId, caller.env, id)),
		},
	};
}

function orderEventsRoute(context: OrdersApiContext, id: string): Route {
	return {
		methods: {
			GET: (request, caller: Caller) => {
				const events = context.orders.events(caller.clientId, caller.env, id);
				if (events === undefined) return jsonAnswer(404, notFoundBody());
				return pageNumberAnswer(events, request.url, context.baseUrl, context.pageSize);
			},
		},
	};
}

function orderInvoiceRoute(context: OrdersApiContext, id: string): Route {
	return {
		methods: {
			GET: (_request, caller) => {
				const order = context.orders.find(caller.clientId, caller.env, id);
				return order === undefined
					? jsonAnswer(404, notFoundBody())
					: jsonAnswer(200, context.invoices.read(order));
			},
		},
	};
}

function orNotFound(value: unknown, status = 200): Answer {
	return value === undefined ? jsonAnswer(404, notFoundBody()) : jsonAnswer(status, value);
}
