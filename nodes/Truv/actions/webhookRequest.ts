import type { IDataObject } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { truvListRequest } from '../../shared/truvTransport';
import {
	filledFields,
	listLimit,
	type OperationContext,
	type TruvOperation,
} from './operationContext';

const WEBHOOK_REQUESTS_PATH = '/v1/webhook-requests/';

/** Truv reads a time without an offset as UTC; n8n's date picker gives one without. */
function truvTime({ context, itemIndex }: OperationContext, value: unknown, label: string): string {
	const text = String(value).trim();
	if (Number.isNaN(Date.parse(text))) {
		throw new NodeOperationError(context.getNode(), `${label} is not a date and time: ${text}`, {
			itemIndex,
			description: 'Use a date and time such as 2024-07-11T21:40:48Z.',
		});
	}
	return text;
}

/** The delivery's payload as an object; a payload that is not JSON is left as Truv sent it. */
function parsePayload(request: IDataObject): IDataObject {
	const payload = request.webhook_payload;
	if (typeof payload !== 'string') return request;
	try {
		const parsed: unknown = JSON.parse(payload);
		return typeof parsed === 'object' && parsed !== null
			? { ...request, webhook_payload: parsed as IDataObject }
			: request;
	} catch {
		return request;
	}
}

const getAll: TruvOperation = async (operation) => {
	const { context, itemIndex, credentials } = operation;
	const filters = filledFields(context.getNodeParameter('filters', itemIndex, {}) as IDataObject);
	const options = context.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const qs: IDataObject = {};
	if (filters.eventType !== undefined) qs.event_type = filters.eventType;
	if (filters.statusCode !== undefined) qs.status_code = filters.statusCode;
	if (filters.createdAfter !== undefined) {
		qs.created_at__gte = truvTime(operation, filters.createdAfter, 'Created After');
	}
	if (filters.createdBefore !== undefined) {
		qs.created_at__lte = truvTime(operation, filters.createdBefore, 'Created Before');
	}
	const requests = await truvListRequest(context, WEBHOOK_REQUESTS_PATH, {
		qs,
		limit: listLimit(operation),
		credentials,
		itemIndex,
	});
	return options.parsePayload === false ? requests : requests.map(parsePayload);
};

export const webhookRequestActions: Record<string, TruvOperation> = { getAll };
