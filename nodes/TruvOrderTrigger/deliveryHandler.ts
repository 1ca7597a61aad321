import type {
	IDataObject,
	INodeExecutionData,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';

import { claimDelivery } from './deliveryDeduplication';
import { isOrderEventType, ORDER_EVENT_TYPES, validateOrderEvent } from './orderEventSchemas';
import type { OrderEventType } from './orderEventSchemas';
import { verifyDeliverySignature } from './signingSecretCache';

/**
 * Truv's order payloads are well under 2 kB; anything far larger is not a Truv delivery and is
 * refused before it is hashed or parsed.
 */
export const MAX_DELIVERY_BYTES = 256 * 1024;

export type DeliveryOutcome =
	| 'accepted'
	| 'ignored'
	| 'duplicate'
	| 'invalid_signature'
	| 'invalid_payload'
	| 'payload_too_large';

interface DeliveryAnswer {
	status: number;
	outcome: DeliveryOutcome;
	message: string;
	webhookId?: string;
}

// Prototype-pollution keys survive JSON.parse as own properties, but n8n later copies items with
// plain assignment, where `__proto__` would replace the prototype. They are never part of a Truv
// payload, so they are dropped (only bodies that contain one pay for the reviver).
const POLLUTING_KEY = /"(?:__proto__|constructor|prototype)"/;

function parseJson(raw: string): unknown {
	if (!POLLUTING_KEY.test(raw)) return JSON.parse(raw);
	return JSON.parse(raw, (key, value: unknown) =>
		key === '__proto__' || key === 'constructor' || key === 'prototype' ? undefined : value,
	);
}

function isPlainObject(value: unknown): value is IDataObject {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface RequestWithRawBody {
	rawBody?: Buffer | string;
	readRawBody?: () => Promise<void>;
}

async function readRawBody(context: IWebhookFunctions): Promise<Buffer | undefined> {
	const request = context.getRequestObject() as unknown as RequestWithRawBody;
	// n8n reads the body only for content types it parses; for any other it is still unread.
	if (request.rawBody === undefined && typeof request.readRawBody === 'function') {
		await request.readRawBody();
	}
	const { rawBody } = request;
	if (Buffer.isBuffer(rawBody)) return rawBody;
	if (typeof rawBody === 'string') return Buffer.from(rawBody, 'utf8');
	return undefined;
}

function configuredStatuses(context: IWebhookFunctions): Set<string> | undefined {
	const picked = context.getNodeParameter('orderStatuses', []) as string[];
	const typed = String(context.getNodeParameter('otherOrderStatuses', '') ?? '')
		.split(',')
		.map((status) => status.trim())
		.filter((status) => status.length > 0);
	const statuses = [...picked, ...typed];
	return statuses.length > 0 ? new Set(statuses) : undefined;
}

function acknowledgement(reply: DeliveryAnswer): IDataObject {
	const body: IDataObject = {
		received: reply.status < 300,
		outcome: reply.outcome,
		message: reply.message,
	};
	if (reply.webhookId !== undefined) body.webhook_id = reply.webhookId;
	return body;
}

/** Answers the delivery from the node itself, so that n8n sends nothing more. */
function answer(context: IWebhookFunctions, reply: DeliveryAnswer): IWebhookResponseData {
	context.getResponseObject().status(reply.status).json(acknowledgement(reply));
	return { noWebhookResponse: true };
}

function tooLarge(context: IWebhookFunctions, bytes: number): IWebhookResponseData {
	return answer(context, {
		status: 413,
		outcome: 'payload_too_large',
		message: `The body has ${bytes} bytes; this trigger accepts at most ${MAX_DELIVERY_BYTES} (Truv's order events are under 2 kB)`,
	});
}

/**
 * Handles one delivery: checks size, signature (over the raw bytes), JSON shape and the order event
 * schema, applies the event and status filters and duplicate tracking, and emits the payload on the
 * output of its event type. Every refusal is answered here, so n8n never starts an execution for it
 * and nothing is thrown.
 */
export async function handleTruvDelivery(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	const headers = this.getHeaderData();
	const declaredLength = Number(headers['content-length']);
	if (declaredLength > MAX_DELIVERY_BYTES) return tooLarge(this, declaredLength);
	const rawBody = (await readRawBody(this)) ?? Buffer.alloc(0);
	if (rawBody.length > MAX_DELIVERY_BYTES) return tooLarge(this, rawBody.length);

	// Read once: n8n deep-copies the node on every getNode().
	const node = this.getNode();
	if (this.getNodeParameter('verifySignature', true) as boolean) {
		const check = await verifyDeliverySignature(this, node, rawBody, headers['x-webhook-sign']);
		if (!check.valid) {
			return answer(this, { status: 401, outcome: 'invalid_signature', message: check.message });
		}
	}

	if (rawBody.length === 0) {
		return answer(this, {
			status: 400,
			outcome: 'invalid_payload',
			message: 'The request has no body: Truv always sends a JSON object',
		});
	}
	let payload: unknown;
	try {
		payload = parseJson(rawBody.toString('utf8'));
	} catch (error) {
		return answer(this, {
			status: 400,
			outcome: 'invalid_payload',
			message: `The body is not valid JSON (${(error as Error).message})`,
		});
	}
	if (!isPlainObject(payload)) {
		return answer(this, {
			status: 400,
			outcome: 'invalid_payload',
			message: 'The body must be a JSON object',
		});
	}
	const eventType = payload.event_type;
	if (typeof eventType !== 'string' || eventType.length === 0) {
		return answer(this, {
			status: 400,
			outcome: 'invalid_payload',
			message: 'Invalid Truv payload: event_type: expected a non-empty string',
		});
	}

	// Truv retries anything but 2xx and may disable the endpoint, so events this trigger does not
	// handle are acknowledged, not refused.
	if (!isOrderEventType(eventType)) {
		return answer(this, {
			status: 200,
			outcome: 'ignored',
			message: `${eventType} is not an order event; this trigger handles ${ORDER_EVENT_TYPES.join(', ')}`,
		});
	}
	const validation = validateOrderEvent(eventType, payload);
	if (!validation.success) {
		return answer(this, {
			status: 400,
			outcome: 'invalid_payload',
			message: `Invalid ${eventType} payload: ${validation.problems.join('; ')}`,
		});
	}
	const { webhook_id: webhookId, status } = validation.event;

	const selectedEvents = this.getNodeParameter('events', []) as OrderEventType[];
	if (!selectedEvents.includes(eventType)) {
		return answer(this, {
			status: 200,
			outcome: 'ignored',
			message: `${eventType} is not selected in this trigger's Events`,
			webhookId,
		});
	}
	if (eventType === 'order-status-updated') {
		const statuses = configuredStatuses(this);
		if (statuses && !statuses.has(status)) {
			return answer(this, {
				status: 200,
				outcome: 'ignored',
				message: `Status ${status} is not selected in this trigger's status filter`,
				webhookId,
			});
		}
	}

	const options = this.getNodeParameter('options', {}) as IDataObject;
	// Test URL deliveries are often the same sample sent again while building a workflow.
	if (options.skipDuplicates !== false && this.getMode() !== 'manual') {
		const workflowId = this.getWorkflow().id ?? '';
		const claimed = claimDelivery(
			this.getWorkflowStaticData('node'),
			`${workflowId}:${node.id ?? node.name}`,
			webhookId,
		);
		if (!claimed) {
			return answer(this, {
				status: 200,
				outcome: 'duplicate',
				message: `Delivery ${webhookId} was already received; the workflow was not started again`,
				webhookId,
			});
		}
	}

	const item: INodeExecutionData = { json: payload };
	if (options.includeHeaders === true) {
		item.json = { ...payload, headers: headers as IDataObject };
	}
	const outputs: INodeExecutionData[][] = ORDER_EVENT_TYPES.map((type) =>
		type === eventType ? [item] : [],
	);
	const accepted: DeliveryAnswer = {
		status: 200,
		outcome: 'accepted',
		message: 'Delivery accepted',
		webhookId,
	};
	if (options.acknowledge === 'beforeExecution') {
		// Answered here, before n8n stores the execution; n8n then saves the static data (with this
		// delivery's id) before it starts the execution.
		answer(this, accepted);
		return { noWebhookResponse: true, workflowData: outputs };
	}
	// n8n sends this once it has stored the execution: if it fails to, Truv gets an error and
	// retries, so an acknowledged delivery always has an execution.
	return { workflowData: outputs, webhookResponse: acknowledgement(accepted) };
}
