import type {
	IDataObject,
	INodeExecutionData,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { claimDelivery, triggerKeyOf } from './deliveryDeduplication';
import { deliveryHeaders } from './deliveryHeaders';
import { eventTooOld } from './eventAge';
import { fetchOrderDetails } from './orderDetails';
import { refusalLog } from './refusalLog';
import { isOrderEventType, ORDER_EVENT_TYPES, validateOrderEvent } from './orderEventSchemas';
import type { OrderEventType } from './orderEventSchemas';
import {
	SAMPLE_HEADER,
	SAMPLE_REASON_HEADER,
	sampleMarker,
	sampleSource,
	samplesRequested,
} from './sampleEvents';
import type { SampleSource } from './sampleEvents';
import { verifyDeliverySignature } from './credentialCache';
import type { SignatureCheck } from './truvSignature';
import { configuredStatuses } from './statusFilter';
import { isTaskErrorStatus, TASK_STATUS_UPDATED_EVENT, validateTaskEvent } from './taskEventSchema';
import { CONNECTION_FAILED_OUTPUT, triggerOutputCount } from './triggerOutputs';
import { unreadableDeliveryItem } from './unreadableDelivery';

/**
 * Truv's order payloads are well under 2 kB; anything far larger is not a Truv delivery and is
 * refused before it is hashed or parsed.
 */
export const MAX_DELIVERY_BYTES = 256 * 1024;

export type DeliveryOutcome =
	| 'accepted'
	| 'ignored'
	| 'duplicate'
	| 'too_old'
	| 'invalid_signature'
	| 'invalid_payload'
	| 'payload_too_large'
	| 'credential_unreadable';

interface DeliveryAnswer {
	status: number;
	outcome: DeliveryOutcome;
	message: string;
	webhookId?: string;
}

// Prototype-pollution keys survive JSON.parse as own properties, but n8n later copies items with
// plain assignment, where `__proto__` would replace the prototype. They are never part of a Truv
// payload, so they are dropped. Only bodies that may contain one pay for the reviver: a key can
// also be spelled with escapes (`"\u005f_proto__"`), so any escape sends the body through it too.
const POLLUTING_KEY = /__proto__|constructor|prototype|\\u/;
const POLLUTING_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export function parseDeliveryJson(raw: string): unknown {
	if (!POLLUTING_KEY.test(raw)) return JSON.parse(raw);
	return JSON.parse(raw, (key, value: unknown) => (POLLUTING_KEYS.has(key) ? undefined : value));
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
	// An event past Maximum Event Age is acknowledged, but it starts nothing either: logged the same.
	if (reply.status >= 400 || reply.outcome === 'too_old') {
		// A refusal on the production URL starts no execution (anyone can send one): n8n's log is
		// where an operator finds it, summed up per minute when they come in a flood.
		refusalLog.warn(context.logger, {
			workflowId: context.getWorkflow().id ?? '',
			reason: reply.outcome,
			message: `Truv Order Trigger did not start the workflow for a delivery (${reply.status} ${reply.outcome}): ${reply.message}`,
		});
		// On the test URL someone is waiting in the editor, which would otherwise go on waiting
		// with no sign of the request: thrown after the answer, the error ends the test run and
		// n8n shows it on the trigger.
		if (reply.status >= 400 && context.getMode() === 'manual') {
			throw new NodeOperationError(
				context.getNode(),
				`The trigger refused a request to its test URL (${reply.status})`,
				{
					description: `${reply.message}. The sender was answered ${reply.status} and the workflow did not run. If it came from Truv, check that this credential's Access Secret belongs to the Truv environment that sent it.`,
				},
			);
		}
	}
	return { noWebhookResponse: true };
}

function tooLarge(context: IWebhookFunctions, bytes: number): IWebhookResponseData {
	return answer(context, {
		status: 413,
		outcome: 'payload_too_large',
		message: `The body has ${bytes} bytes; this trigger accepts at most ${MAX_DELIVERY_BYTES} (Truv's order events are under 2 kB)`,
	});
}

/** A delivery that passed the checks of its event type and starts the workflow. */
interface AcceptedEvent {
	webhookId: string;
	/** The output the item goes to. */
	output: number;
	/** The item: Truv's payload as sent, plus any field this trigger adds for convenience. */
	json: IDataObject;
	/** The order Include Order Details looks up; only order events name one. */
	orderId?: string;
}

/** A delivery that does not match Truv's documented format: what is wrong with it. */
interface InvalidDelivery {
	message: string;
	problems: string[];
	eventType?: string;
	webhookId?: string;
}

type Screening =
	| { accepted: AcceptedEvent }
	| { refusal: DeliveryAnswer }
	| { invalid: InvalidDelivery };

function ignored(message: string, webhookId: unknown): Screening {
	return {
		refusal: {
			status: 200,
			outcome: 'ignored',
			message,
			...(typeof webhookId === 'string' ? { webhookId } : {}),
		},
	};
}

function invalidEvent(eventType: string, payload: IDataObject, problems: string[]): Screening {
	return {
		invalid: {
			message: `Invalid ${eventType} payload: ${problems.join('; ')}`,
			problems,
			eventType,
			...(typeof payload.webhook_id === 'string' ? { webhookId: payload.webhook_id } : {}),
		},
	};
}

function screenOrderEvent(
	context: IWebhookFunctions,
	eventType: OrderEventType,
	payload: IDataObject,
	selectedEvents: string[],
): Screening {
	// Selection and filters come before validation: an event nobody waits for is acknowledged
	// whatever its shape, since refusing it would only make Truv retry it until it disables the
	// endpoint.
	if (!selectedEvents.includes(eventType)) {
		return ignored(`${eventType} is not selected in this trigger's Events`, payload.webhook_id);
	}
	if (eventType === 'order-status-updated') {
		const statuses = configuredStatuses(context);
		const { status } = payload;
		// A status that is missing or not a string is not one of the selected statuses either.
		if (statuses && !(typeof status === 'string' && statuses.has(status))) {
			return ignored(
				`Status ${JSON.stringify(status ?? null)} is not selected in this trigger's status filter`,
				payload.webhook_id,
			);
		}
	}
	const validation = validateOrderEvent(eventType, payload);
	if (!validation.success) return invalidEvent(eventType, payload, validation.problems);
	const { webhook_id: webhookId, order_id: orderId } = validation.event;
	return {
		accepted: { webhookId, output: ORDER_EVENT_TYPES.indexOf(eventType), json: payload, orderId },
	};
}

function screenTaskEvent(payload: IDataObject, selectedEvents: string[]): Screening {
	// Unselected, task events are acknowledged unread, as every event this trigger does not handle.
	if (!selectedEvents.includes(TASK_STATUS_UPDATED_EVENT)) {
		return ignored(
			`${TASK_STATUS_UPDATED_EVENT} (Connection Failed) is not selected in this trigger's Events`,
			payload.webhook_id,
		);
	}
	// A task's progress (login, parse, done) is no failure: acknowledged without checking the rest,
	// since refusing it would only make Truv retry an event nobody waits for.
	const { status } = payload;
	if (typeof status === 'string' && !isTaskErrorStatus(status)) {
		return ignored(`Task status ${status} is not a failed connection attempt`, payload.webhook_id);
	}
	const validation = validateTaskEvent(payload);
	if (!validation.success) {
		return invalidEvent(TASK_STATUS_UPDATED_EVENT, payload, validation.problems);
	}
	const { webhook_id: webhookId, tracking_info: trackingInfo } = validation.event;
	// In order flows Truv puts the suborder's employer_id in tracking_info; under the name the order
	// events use, it can be matched to them directly. A field of Truv's own by that name wins.
	const json =
		'employer_id' in payload ? payload : { ...payload, employer_id: trackingInfo ?? null };
	return { accepted: { webhookId, output: CONNECTION_FAILED_OUTPUT, json } };
}

/** Checks the body's JSON shape and routes it by event type, selection and filters. */
function screenDelivery(
	context: IWebhookFunctions,
	rawBody: Buffer,
	selectedEvents: string[],
): Screening {
	if (rawBody.length === 0) {
		return {
			invalid: {
				message: 'The request has no body: Truv always sends a JSON object',
				problems: ['body: empty'],
			},
		};
	}
	let payload: unknown;
	try {
		payload = parseDeliveryJson(rawBody.toString('utf8'));
	} catch (error) {
		const reason = (error as Error).message;
		return {
			invalid: {
				message: `The body is not valid JSON (${reason})`,
				problems: [`body: not valid JSON (${reason})`],
			},
		};
	}
	if (!isPlainObject(payload)) {
		return {
			invalid: {
				message: 'The body must be a JSON object',
				problems: ['body: expected a JSON object'],
			},
		};
	}
	const eventType = payload.event_type;
	if (typeof eventType !== 'string' || eventType.length === 0) {
		return {
			invalid: {
				message: 'Invalid Truv payload: event_type: expected a non-empty string',
				problems: ['event_type: expected a non-empty string'],
				...(typeof payload.webhook_id === 'string' ? { webhookId: payload.webhook_id } : {}),
			},
		};
	}
	if (isOrderEventType(eventType)) {
		return screenOrderEvent(context, eventType, payload, selectedEvents);
	}
	if (eventType === TASK_STATUS_UPDATED_EVENT) return screenTaskEvent(payload, selectedEvents);
	// Truv retries anything but 2xx and may disable the endpoint, so events this trigger does not
	// handle are acknowledged, not refused.
	return ignored(
		`${eventType} is not an event this trigger handles; it handles ${ORDER_EVENT_TYPES.join(', ')} and ${TASK_STATUS_UPDATED_EVENT} (Connection Failed)`,
		payload.webhook_id,
	);
}

/**
 * A delivery that does not match Truv's documented format. Signed, it came from Truv: it is
 * acknowledged and its execution fails naming the problems (see unreadableDelivery.ts). Unsigned
 * (Verify Signature off), it is refused.
 */
function invalidDelivery(
	context: IWebhookFunctions,
	rawBody: Buffer,
	invalid: InvalidDelivery,
	signatureVerified: boolean,
	selectedEvents: string[],
	answerFirst: boolean,
): IWebhookResponseData {
	if (!signatureVerified) {
		return answer(context, { status: 400, outcome: 'invalid_payload', message: invalid.message });
	}
	const reply: DeliveryAnswer = {
		status: 200,
		outcome: 'invalid_payload',
		message: `${invalid.message}. Acknowledged so that Truv does not send it again; the workflow's execution reports it as failed`,
		...(invalid.webhookId === undefined ? {} : { webhookId: invalid.webhookId }),
	};
	const item = unreadableDeliveryItem(invalid.problems, invalid.eventType, rawBody);
	const outputs = Array.from({ length: triggerOutputCount(selectedEvents) }, (_, index) =>
		index === 0 ? [item] : [],
	);
	if (answerFirst) {
		answer(context, reply);
		return { noWebhookResponse: true, workflowData: outputs };
	}
	return { workflowData: outputs, webhookResponse: acknowledgement(reply) };
}

/**
 * Settles a claimed delivery once Truv has its answer (deliveryDeduplication.ts, rule 1). By
 * default n8n answers after storing the execution: a 2xx sent means it is stored. Any other answer
 * means n8n could not store it, and a connection closed before the answer leaves it unknown: both
 * release the claim, so that Truv's retry can run; if n8n did store it after all, the execution
 * step recognises the retry. Acknowledged before the execution, the claim is final at once.
 */
function settleWithAnswer(
	context: IWebhookFunctions,
	settle: (stored: boolean) => void,
	answerFirst: boolean,
): void {
	if (answerFirst) {
		settle(true);
		return;
	}
	const response = context.getResponseObject();
	response.once('finish', () => settle(response.statusCode < 300));
	// After 'finish' this settles nothing: a claim settles once.
	response.once('close', () => settle(false));
}

/**
 * Handles one delivery: checks size, signature (over the raw bytes), the event's selection,
 * filters and schema, duplicate tracking, optionally adds the order's details, and emits the item
 * on the output of its event. Every refusal is answered here, so n8n never starts an execution for
 * it; a genuine delivery that cannot be read is acknowledged and reported as a failed execution.
 */
export async function handleTruvDelivery(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	const headers = this.getHeaderData();
	const declaredLength = Number(headers['content-length']);
	if (declaredLength > MAX_DELIVERY_BYTES) return tooLarge(this, declaredLength);
	const rawBody = (await readRawBody(this)) ?? Buffer.alloc(0);
	if (rawBody.length > MAX_DELIVERY_BYTES) return tooLarge(this, rawBody.length);

	// Read once: n8n deep-copies the node on every getNode().
	const node = this.getNode();
	const signatureVerified = this.getNodeParameter('verifySignature', true) as boolean;
	if (signatureVerified) {
		let check: SignatureCheck;
		try {
			check = await verifyDeliverySignature(this, node, rawBody, headers['x-webhook-sign']);
		} catch (error) {
			// A deleted credential, or one n8n cannot decrypt after an encryption key change: no
			// delivery can be checked. 503, so that Truv retries genuine ones once it is fixed.
			return answer(this, {
				status: 503,
				outcome: 'credential_unreadable',
				message: `The trigger's Truv API credential cannot be read, so no delivery can be checked (${(error as Error).message}). Select a working credential in the trigger`,
			});
		}
		if (!check.valid) {
			return answer(this, { status: 401, outcome: 'invalid_signature', message: check.message });
		}
	}

	const selectedEvents = this.getNodeParameter('events', []) as string[];
	const screening = screenDelivery(this, rawBody, selectedEvents);
	if ('refusal' in screening) return answer(this, screening.refusal);
	const options = this.getNodeParameter('options', {}) as IDataObject;
	const answerFirst = options.acknowledge === 'beforeExecution';
	if ('invalid' in screening) {
		return invalidDelivery(
			this,
			rawBody,
			screening.invalid,
			signatureVerified,
			selectedEvents,
			answerFirst,
		);
	}
	const { webhookId, output, orderId } = screening.accepted;
	// Truv signs no timestamp and duplicate tracking remembers only recent deliveries: this bounds
	// how old a replayed one can be. Not on the test URL, where samples are old events sent again.
	const maxEventAge = Number(options.maxEventAge ?? 0);
	if (maxEventAge > 0 && this.getMode() !== 'manual') {
		const tooOld = eventTooOld(screening.accepted.json, maxEventAge, Date.now());
		if (tooOld !== undefined) {
			return answer(this, { status: 200, outcome: 'too_old', message: tooOld, webhookId });
		}
	}
	// Test URL deliveries are often the same sample sent again while building a workflow.
	if (options.skipDuplicates !== false && this.getMode() !== 'manual') {
		const triggerKey = triggerKeyOf(this.getWorkflow().id, node);
		let claim = claimDelivery(triggerKey, webhookId);
		// A copy that arrives while the first is being answered waits for it: once n8n has stored
		// that one's execution it is a duplicate; if n8n failed to, this copy runs instead.
		while (claim.status === 'answering') {
			claim = (await claim.outcome)
				? { status: 'duplicate' }
				: claimDelivery(triggerKey, webhookId);
		}
		if (claim.status === 'duplicate') {
			return answer(this, {
				status: 200,
				outcome: 'duplicate',
				message: `Delivery ${webhookId} was already received; the workflow was not started again`,
				webhookId,
			});
		}
		settleWithAnswer(this, claim.settle, answerFirst);
	}

	const accepted: DeliveryAnswer = {
		status: 200,
		outcome: 'accepted',
		message: 'Delivery accepted',
		webhookId,
	};
	// Answered here, before n8n stores the execution (and before the order lookup, which Truv then
	// does not wait for).
	if (answerFirst) answer(this, accepted);

	let json = screening.accepted.json;
	// The trigger's own sample (sampleEvents.ts), only on a manual run that asked for one: passed the
	// same checks as a delivery, it is marked so that nobody takes it for one.
	const sample: SampleSource | undefined =
		this.getMode() === 'manual' && samplesRequested(this)
			? sampleSource(headers[SAMPLE_HEADER])
			: undefined;
	if (sample !== undefined) {
		json = { ...json, n8n_sample: sampleMarker(sample, headers[SAMPLE_REASON_HEADER]) };
	}
	// Only now, for a claimed delivery: duplicates and refusals cost Truv no request, and deliveries
	// of one order share a lookup (a burst asks once per order). By default Truv waits for the
	// lookup (n8n answers after webhook() returns), which its timeout keeps well inside Truv's 10 s;
	// it never throws, so a failed lookup still starts the workflow, as it must: the delivery is
	// claimed and acknowledged, and Truv will not send it again. A built-in sample names no order to
	// look up.
	if (options.includeOrderDetails === true && orderId !== undefined && sample !== 'builtIn') {
		json = { ...json, ...(await fetchOrderDetails(this, node, orderId)) };
	}
	if (options.includeHeaders === true) {
		// A field of Truv's own named headers is kept; the request's then go under request_headers.
		const field = 'headers' in json ? 'request_headers' : 'headers';
		json = { ...json, [field]: deliveryHeaders(headers as IDataObject) };
	}
	const item: INodeExecutionData = { json };
	const outputs: INodeExecutionData[][] = Array.from(
		{ length: triggerOutputCount(selectedEvents) },
		(_, index) => (index === output ? [item] : []),
	);
	if (answerFirst) return { noWebhookResponse: true, workflowData: outputs };
	// n8n sends this once it has stored the execution: if it fails to, Truv gets an error and
	// retries, so an acknowledged delivery always has an execution.
	return { workflowData: outputs, webhookResponse: acknowledgement(accepted) };
}
