import type { IDataObject } from 'n8n-workflow';

/** Suborder statuses after which nothing changes (truv-api.md); the rest (pending, sent) are open. */
const FINAL_SUBORDER_STATUSES = new Set([
	'completed',
	'error',
	'canceled',
	'expired',
	'no_data',
	'skipped',
]);

/** Order statuses after which the order no longer changes. */
const FINAL_ORDER_STATUSES = new Set(['canceled', 'expired', 'completed', 'failed']);

function suborders(order: IDataObject, field: string): IDataObject[] {
	const list = order[field];
	return Array.isArray(list)
		? list.filter((item): item is IDataObject => typeof item === 'object' && item !== null)
		: [];
}

function isSet(value: unknown): boolean {
	return value !== null && value !== undefined && value !== '';
}

/**
 * Truv's docs do not settle whether an order has a status of its own, so it is worked out from
 * the dates and the suborders (employers and financial accounts), unless Truv sends one:
 * canceled, expired, completed (every suborder final, one of them completed), failed (every
 * suborder final, none completed) or pending. A status of Truv's own that is none of these
 * counts as not final.
 */
export function orderStatus(order: IDataObject): string {
	if (typeof order.status === 'string' && order.status !== '') return order.status;
	if (isSet(order.canceled_at)) return 'canceled';
	if (isSet(order.completed_at)) return 'completed';
	if (order.is_expired === true) return 'expired';
	const all = [...suborders(order, 'employers'), ...suborders(order, 'financial_accounts')];
	if (all.length === 0 || !all.every((item) => FINAL_SUBORDER_STATUSES.has(String(item.status)))) {
		return 'pending';
	}
	return all.some((item) => item.status === 'completed') ? 'completed' : 'failed';
}

function simplifySuborder(item: IDataObject, nameField: string): IDataObject {
	return {
		id: item.id ?? null,
		[nameField]: item[nameField] ?? null,
		status: item.status ?? null,
		suborder_number: item.suborder_number ?? null,
	};
}

/** The fields a workflow acts on, with the order's status worked out. */
export function simplifyOrder(order: IDataObject): IDataObject {
	const status = orderStatus(order);
	const simplified: IDataObject = {
		id: order.id ?? null,
		order_number: order.order_number ?? null,
		first_name: order.first_name ?? null,
		last_name: order.last_name ?? null,
		email: order.email ?? null,
		products: order.products ?? [],
		status,
		is_final: FINAL_ORDER_STATUSES.has(status),
		is_expired: order.is_expired ?? false,
		share_url: order.share_url ?? null,
		created_at: order.created_at ?? null,
		updated_at: order.updated_at ?? null,
		completed_at: order.completed_at ?? null,
		canceled_at: order.canceled_at ?? null,
		expired_at: order.expired_at ?? null,
		employers: suborders(order, 'employers').map((item) => simplifySuborder(item, 'company_name')),
	};
	const accounts = suborders(order, 'financial_accounts');
	if (accounts.length > 0) {
		simplified.financial_accounts = accounts.map((item) => simplifySuborder(item, 'name'));
	}
	return simplified;
}
