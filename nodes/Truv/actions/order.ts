import type { IDataObject } from 'n8n-workflow';
import { NodeOperationError, sleep } from 'n8n-workflow';

import { truvApiRequest, truvListRequest } from '../../shared/truvTransport';
import {
	filledFields,
	listLimit,
	type OperationContext,
	pathId,
	type TruvOperation,
} from './operationContext';
import { simplifyOrder } from './simplifyOrder';

const ORDERS_PATH = '/v1/orders/';

/** Additional Fields of Create, by Truv's name for each. */
const CREATE_FIELD_NAMES: Record<string, string> = {
	customField: 'custom_field',
	email: 'email',
	externalUserId: 'external_user_id',
	orderNumber: 'order_number',
	phone: 'phone',
	ssn: 'ssn',
	templateId: 'template_id',
};

function notFoundHint(orderId: string): string {
	return `No order with ID ${decodeURIComponent(orderId)} in this Truv environment`;
}

function maybeSimplify({ context, itemIndex }: OperationContext, order: IDataObject): IDataObject {
	return context.getNodeParameter('simplify', itemIndex, true) ? simplifyOrder(order) : order;
}

/** Truv takes dates as YYYY-MM-DD; n8n's date picker and expressions give a date and time. */
function truvDate({ context, itemIndex }: OperationContext, value: unknown, label: string): string {
	const text = typeof value === 'string' ? value.trim() : String(value);
	const date = /^(\d{4}-\d{2}-\d{2})/.exec(text)?.[1];
	if (!date || Number.isNaN(Date.parse(date))) {
		throw new NodeOperationError(context.getNode(), `${label} is not a date: ${text}`, {
			itemIndex,
			description: 'Use a date such as 2024-01-31.',
		});
	}
	return date;
}

function employersBody(operation: OperationContext, employers: unknown): IDataObject[] {
	const list =
		((employers as IDataObject | undefined)?.employer as IDataObject[] | undefined) ?? [];
	// An employer left blank in the editor is no employer to verify: Truv would refuse it.
	const filledIn = list.map(filledFields).filter((employer) => Object.keys(employer).length > 0);
	return filledIn.map((filled, index) => {
		const body: IDataObject = {};
		if (filled.companyName !== undefined) body.company_name = filled.companyName;
		if (filled.companyMappingId !== undefined) body.company_mapping_id = filled.companyMappingId;
		if (filled.suborderNumber !== undefined) body.suborder_number = filled.suborderNumber;
		if (filled.dataSources !== undefined) body.data_sources = filled.dataSources;
		if (filled.startDate !== undefined) {
			body.start_date = truvDate(
				operation,
				filled.startDate,
				`Start Date of employer ${index + 1}`,
			);
		}
		if (filled.endDate !== undefined) {
			body.end_date = truvDate(operation, filled.endDate, `End Date of employer ${index + 1}`);
		}
		return body;
	});
}

function financialInstitutionsBody(institutions: unknown): IDataObject[] {
	const list =
		((institutions as IDataObject | undefined)?.financialInstitution as
			| IDataObject[]
			| undefined) ?? [];
	const filledIn = list
		.map(filledFields)
		.filter((institution) => Object.keys(institution).length > 0);
	return filledIn.map((filled) => {
		const body: IDataObject = {};
		if (filled.id !== undefined) body.id = filled.id;
		if (filled.name !== undefined) body.name = filled.name;
		if (filled.suborderNumber !== undefined) body.suborder_number = filled.suborderNumber;
		return body;
	});
}

const create: TruvOperation = async (operation) => {
	const { context, itemIndex, credentials } = operation;
	const products = context.getNodeParameter('products', itemIndex, []) as string[];
	if (products.length === 0) {
		throw new NodeOperationError(context.getNode(), 'Choose at least one product', { itemIndex });
	}
	const body: IDataObject = {
		products,
		first_name: context.getNodeParameter('firstName', itemIndex) as string,
		last_name: context.getNodeParameter('lastName', itemIndex) as string,
	};
	const additional = filledFields(
		context.getNodeParameter('additionalFields', itemIndex, {}) as IDataObject,
	);
	for (const [parameter, field] of Object.entries(CREATE_FIELD_NAMES)) {
		if (additional[parameter] !== undefined) body[field] = additional[parameter];
	}
	const employers = employersBody(operation, additional.employers);
	if (employers.length > 0) body.employers = employers;
	const institutions = financialInstitutionsBody(additional.financialInstitutions);
	if (institutions.length > 0) body.financial_institutions = institutions;

	const { body: order } = await truvApiRequest(context, 'POST', ORDERS_PATH, {
		body,
		credentials,
		itemIndex,
	});
	return [maybeSimplify(operation, order)];
};

const get: TruvOperation = async (operation) => {
	const { context, itemIndex, credentials } = operation;
	const orderId = pathId(operation, 'orderId', 'Order ID');
	const { body: order } = await truvApiRequest(context, 'GET', `${ORDERS_PATH}${orderId}/`, {
		credentials,
		itemIndex,
		notFoundHint: notFoundHint(orderId),
	});
	return [maybeSimplify(operation, order)];
};

const getAll: TruvOperation = async (operation) => {
	const { context, itemIndex, credentials } = operation;
	// Truv documents no query parameters for this list, so there are no filters to offer.
	// Truv pages by position, newest first: an order created while the pages are read pushes the
	// others one place on, so the next page starts with one already read (output once here), and
	// the new order itself lands on a page already read (missed: the field's description says so).
	const seen = new Set<unknown>();
	const orders = await truvListRequest(context, ORDERS_PATH, {
		include: (order) => {
			if (seen.has(order.id)) return false;
			seen.add(order.id);
			return true;
		},
		limit: listLimit(operation),
		credentials,
		itemIndex,
	});
	return orders.map((order) => maybeSimplify(operation, order));
};

/**
 * Truv's docs refresh an order with `POST /v1/orders/{id}/` and exactly one product; Truv's demo
 * app calls `POST /v1/orders/{id}/refresh/` instead. The docs are Truv's commitment to API users,
 * the demo app is sample code that may lean on an undocumented route, so the docs win.
 */
const refresh: TruvOperation = async (operation) => {
	const { context, itemIndex, credentials } = operation;
	const orderId = pathId(operation, 'orderId', 'Order ID');
	const product = context.getNodeParameter('product', itemIndex) as string;
	const additional = context.getNodeParameter('additionalFields', itemIndex, {}) as IDataObject;
	const employerIds = String(additional.employerIds ?? '')
		.split(',')
		.map((id) => id.trim())
		.filter((id) => id !== '');
	const body: IDataObject = { products: [product] };
	if (employerIds.length > 0) body.employers = employerIds.map((id) => ({ id }));
	const { body: newOrder } = await truvApiRequest(context, 'POST', `${ORDERS_PATH}${orderId}/`, {
		body,
		credentials,
		itemIndex,
		notFoundHint: notFoundHint(orderId),
	});
	return [maybeSimplify(operation, newOrder)];
};

const cancel: TruvOperation = async (operation) => {
	const { context, itemIndex, credentials } = operation;
	const orderId = pathId(operation, 'orderId', 'Order ID');
	const { body } = await truvApiRequest<IDataObject | undefined>(
		context,
		'POST',
		`${ORDERS_PATH}${orderId}/cancel/`,
		{ credentials, itemIndex, notFoundHint: notFoundHint(orderId) },
	);
	// Truv's docs do not show the answer: the order when it has one, else what was done.
	if (typeof body === 'object' && body !== null && !Array.isArray(body) && body.id !== undefined) {
		return [body];
	}
	return [{ id: decodeURIComponent(orderId), canceled: true }];
};

const getEvents: TruvOperation = async (operation) => {
	const { context, itemIndex, credentials } = operation;
	const orderId = pathId(operation, 'orderId', 'Order ID');
	return await truvListRequest(context, `${ORDERS_PATH}${orderId}/events/`, {
		limit: listLimit(operation),
		credentials,
		itemIndex,
		notFoundHint: notFoundHint(orderId),
	});
};

/** Waits between reads of an invoice Truv is still making: 30 s in all. */
export const INVOICE_WAITS_MS = [2_000, 4_000, 8_000, 8_000, 8_000];

/** Truv makes an order's invoice on request: `pending` until its file is ready. */
const getInvoice: TruvOperation = async (operation) => {
	const { context, itemIndex, credentials } = operation;
	const orderId = pathId(operation, 'orderId', 'Order ID');
	for (let attempt = 0; ; attempt++) {
		const { body: invoice } = await truvApiRequest(
			context,
			'GET',
			`${ORDERS_PATH}${orderId}/invoice/`,
			{ credentials, itemIndex, notFoundHint: notFoundHint(orderId) },
		);
		if (invoice.status !== 'pending') return [invoice];
		if (attempt >= INVOICE_WAITS_MS.length) {
			const waited = INVOICE_WAITS_MS.reduce((sum, wait) => sum + wait, 0) / 1000;
			throw new NodeOperationError(
				context.getNode(),
				`Truv's invoice of order ${decodeURIComponent(orderId)} is still pending after ${waited} s`,
				{ itemIndex, description: 'Truv is still making the invoice: get it again later.' },
			);
		}
		await sleep(INVOICE_WAITS_MS[attempt]);
	}
};

export const orderActions: Record<string, TruvOperation> = {
	cancel,
	create,
	get,
	getAll,
	getEvents,
	getInvoice,
	refresh,
};
