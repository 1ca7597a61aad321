import type { IDataObject, IHookFunctions, IWebhookFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { readTruvCredentials, truvListRequest } from '../shared/truvTransport';
import type { TruvCredentials } from '../shared/truvTransport';
import { isOrderEventType, validateOrderEvent } from './orderEventSchemas';
import { isTaskErrorStatus, TASK_STATUS_UPDATED_EVENT, validateTaskEvent } from './taskEventSchema';
import { configuredStatuses } from './statusFilter';
import { signTruvPayload } from './truvSignature';

/*
 * Sample events for Execute step, without a public URL.
 *
 * What n8n offers a webhook trigger on a manual run (read in n8n 2.41.1 and 2.8.4):
 * - WorkflowExecutionService.executeManually (dist/workflows/workflow-execution.service.js) asks
 *   TestWebhooks.needsWebhook (dist/webhooks/test-webhooks.js) first; for a trigger with webhooks
 *   that returns true and n8n waits for a request on the test URL. It starts at once only with the
 *   trigger's pinned data or a `triggerToStartFrom.data` the editor sends, neither of which the node
 *   controls; the node's execute() only ever runs with what webhook() emitted.
 * - Pinned data goes to the first output only (WorkflowExecute.getPinnedOutput in 2.41,
 *   processRunExecutionData in 2.8.4 return `[pinData[node.name]]`), so a pinned Refresh Failed
 *   event would run the Created branch.
 * - `mockManualExecution` (n8n-workflow's INodeTypeDescription) only renames the editor's button;
 *   the triggers using it (Error Trigger, n8n Trigger) have no webhooks and produce their sample in
 *   execute().
 * - needsWebhook stores the test webhook's registration before it runs the node's checkExists and
 *   create hooks in mode 'manual' (`registrations.register` before
 *   `webhookService.createWebhookIfNotExists`, in both versions).
 *
 * So the one path that puts an event on its own output in the editor is the test URL itself: asked
 * for a sample, the checkExists hook picks one (Truv's delivery history, else a built-in one),
 * signs it with the credential's secret and sends it to the test URL, where webhook() handles it
 * as any delivery and marks it as a sample. The request is not awaited: n8n finishes registering
 * the test webhook (2.41 also holds the workflow's expression isolate) only once the hook returns.
 * Nothing is registered at Truv, so this works on a laptop. In a manual run webhook() neither
 * claims nor records webhook_ids, so a sample is never a delivery, nor a duplicate later.
 */

/** The header that marks a sample sent by the trigger to its own test URL, and where it came from. */
export const SAMPLE_HEADER = 'x-n8n-truv-sample';

/** Why a built-in sample was sent rather than one from the delivery history (URI-encoded). */
export const SAMPLE_REASON_HEADER = 'x-n8n-truv-sample-reason';

export type SampleSource = 'deliveryHistory' | 'builtIn';

const DELIVERY_HISTORY_NOTE =
	"A sample for building the workflow: a recent event from your Truv account's delivery history, sent again by this trigger. It is not a new delivery.";

export const NO_MATCHING_EVENT =
	"Truv's delivery history has no matching event in the last 30 days";

const WEBHOOK_REQUESTS_PATH = '/v1/webhook-requests/';

/** How many recent deliveries of the type are read to find one that passes the trigger's filters. */
const HISTORY_DELIVERIES_READ = 25;

/**
 * How long the delivery history may take, all pages together. Truv answers in a few hundred
 * milliseconds; n8n waits for the hook before it listens, so with Truv out of reach (a firewall
 * that drops the connection) the built-in sample still arrives within a few seconds.
 */
export const SAMPLE_HISTORY_TIMEOUT_MS = 4_000;

/** A reason goes into a request header: one line of bounded length. */
const MAX_REASON_LENGTH = 300;

/** Truv's documented payloads, one per event the trigger handles, with ids that name no order. */
export const BUILT_IN_SAMPLES: Record<string, IDataObject> = {
	'order-created': {
		webhook_id: 'sample0000000000000000000000000001',
		event_type: 'order-created',
		event_created_at: '2024-07-11T21:40:48.424610Z',
		updated_at: '2024-07-11T21:40:48.424655+00:00',
		product: 'income',
		link_id: null,
		user_id: 'sample00000000000000000000000user',
		data_source: null,
		order_id: 'sample0000000000000000000000order',
		order_number: 'SAMPLE-1001',
		employer_id: null,
		status: 'pending',
		template_id: null,
	},
	'order-status-updated': {
		webhook_id: 'sample0000000000000000000000000002',
		event_type: 'order-status-updated',
		event_created_at: '2024-07-11T22:05:12.118230Z',
		updated_at: '2024-07-11T22:05:12.118301+00:00',
		product: 'income',
		link_id: 'sample00000000000000000000000link',
		user_id: 'sample00000000000000000000000user',
		data_source: 'payroll',
		order_id: 'sample0000000000000000000000order',
		order_number: 'SAMPLE-1001',
		employer_id: 'sample000000000000000000employer',
		status: 'completed',
		template_id: null,
	},
	'order-refresh-failed': {
		webhook_id: 'sample0000000000000000000000000003',
		event_type: 'order-refresh-failed',
		event_created_at: '2024-08-02T09:15:02.118230Z',
		updated_at: '2024-08-02T09:15:02.118301+00:00',
		product: 'income',
		link_id: 'sample00000000000000000000000link',
		user_id: 'sample00000000000000000000000user',
		data_source: 'payroll',
		order_id: 'sample0000000000000000000000order',
		order_number: 'SAMPLE-1001',
		employer_id: 'sample000000000000000000employer',
		status: 'login_error',
		template_id: null,
	},
	[TASK_STATUS_UPDATED_EVENT]: {
		webhook_id: 'sample0000000000000000000000000004',
		event_type: TASK_STATUS_UPDATED_EVENT,
		event_created_at: '2024-08-02T09:14:40.845645Z',
		updated_at: '2024-08-02T09:14:40.845666+00:00',
		task_id: 'sample00000000000000000000000task',
		link_id: 'sample00000000000000000000000link',
		tracking_info: 'sample000000000000000000employer',
		product: 'income',
		data_source: 'payroll',
		status: 'login_error',
		user_id: 'sample00000000000000000000000user',
		template_id: null,
	},
};

type TriggerContext = IHookFunctions | IWebhookFunctions;

/** Whether Execute step is to show a sample: asked for in Test Event, and only in a manual run. */
export function samplesRequested(context: TriggerContext): boolean {
	return (
		context.getMode() === 'manual' && context.getNodeParameter('testEvent', 'delivery') === 'sample'
	);
}

/** Whether the trigger would start the workflow for this payload (and not acknowledge it unread). */
export function samplePasses(
	eventType: string,
	payload: unknown,
	statuses: Set<string> | undefined,
): payload is IDataObject {
	if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return false;
	const { status, event_type: type } = payload as IDataObject;
	if (type !== eventType) return false;
	if (eventType === TASK_STATUS_UPDATED_EVENT) {
		return (
			typeof status === 'string' && isTaskErrorStatus(status) && validateTaskEvent(payload).success
		);
	}
	if (!isOrderEventType(eventType) || !validateOrderEvent(eventType, payload).success) return false;
	return eventType !== 'order-status-updated' || !statuses || statuses.has(String(status));
}

function parsedPayload(payload: unknown): unknown {
	if (typeof payload !== 'string') return payload;
	try {
		return JSON.parse(payload) as unknown;
	} catch {
		return undefined;
	}
}

/** The built-in sample of the type, with a status the trigger's status filter lets through. */
export function builtInSample(eventType: string, statuses: Set<string> | undefined): IDataObject {
	const sample = { ...BUILT_IN_SAMPLES[eventType] };
	if (eventType === 'order-status-updated' && statuses && !statuses.has(String(sample.status))) {
		sample.status = [...statuses][0];
	}
	return sample;
}

export interface ChosenSample {
	payload: IDataObject;
	source: SampleSource;
	/** Why a built-in sample, for its note: no matching event, or why the history was unreadable. */
	reason?: string;
}

/**
 * The newest event of the type in Truv's delivery history that the trigger would start the workflow
 * for; the built-in sample when there is none or the history cannot be read (the reason goes into
 * the sample's note and n8n's log: a sample is still more use than an error while building a
 * workflow).
 */
export async function chooseSample(
	context: IHookFunctions,
	eventType: string,
	statuses: Set<string> | undefined,
	credentials?: TruvCredentials,
): Promise<ChosenSample> {
	let deliveries: IDataObject[];
	try {
		deliveries = await truvListRequest<IDataObject>(context, WEBHOOK_REQUESTS_PATH, {
			qs: { event_type: eventType },
			limit: HISTORY_DELIVERIES_READ,
			credentials,
			timeoutMs: SAMPLE_HISTORY_TIMEOUT_MS,
		});
	} catch (error) {
		const reason = `Truv's delivery history could not be read: ${(error as Error).message}`;
		context.logger.warn(`Truv Trigger shows a built-in sample event. ${reason}`, {
			workflowId: context.getWorkflow().id,
		});
		return { payload: builtInSample(eventType, statuses), source: 'builtIn', reason };
	}
	for (const delivery of deliveries) {
		const payload = parsedPayload(delivery.webhook_payload);
		if (samplePasses(eventType, payload, statuses)) {
			return { payload, source: 'deliveryHistory' };
		}
	}
	return {
		payload: builtInSample(eventType, statuses),
		source: 'builtIn',
		reason: NO_MATCHING_EVENT,
	};
}

/**
 * What a sample's item carries besides the event, so that nobody takes it for a delivery; a
 * built-in one says why it is built-in when the request said (SAMPLE_REASON_HEADER).
 */
export function sampleMarker(source: SampleSource, reasonHeader?: unknown): IDataObject {
	if (source === 'deliveryHistory') return { source, note: DELIVERY_HISTORY_NOTE };
	const reason = decodedReason(reasonHeader);
	const because = reason
		? `${reason}.`
		: "Truv's delivery history had no matching event in the last 30 days, or could not be read (n8n's log says which).";
	return {
		source,
		note: `A sample for building the workflow: a built-in example with made-up ids. ${because}`,
		...(reason ? { reason } : {}),
	};
}

/** The sample source a request to the test URL says it carries, if it is one of ours. */
export function sampleSource(value: unknown): SampleSource | undefined {
	return value === 'deliveryHistory' || value === 'builtIn' ? value : undefined;
}

/** A reason as a header value: ASCII on one line (an error message may hold any character). */
export function encodedReason(reason: string): string {
	const oneLine = reason.replace(/\s+/g, ' ').trim();
	const bounded =
		oneLine.length > MAX_REASON_LENGTH ? `${oneLine.slice(0, MAX_REASON_LENGTH - 1)}…` : oneLine;
	return encodeURIComponent(bounded);
}

function decodedReason(value: unknown): string | undefined {
	if (typeof value !== 'string' || value === '') return undefined;
	try {
		return decodeURIComponent(value).replace(/[.\s]+$/, '');
	} catch {
		return undefined;
	}
}

/**
 * Sends the chosen sample to this trigger's test URL, signed with the credential's Access Secret,
 * so that it passes Verify Signature and every other check of a delivery.
 */
export async function sendSampleEvent(context: IHookFunctions): Promise<void> {
	const node = context.getNode();
	const eventType = context.getNodeParameter('sampleEventType', 'order-created') as string;
	const events = context.getNodeParameter('events', []) as string[];
	if (!events.includes(eventType)) {
		throw new NodeOperationError(node, 'The sample event is not selected in Events', {
			description: `Select ${eventType} in Events, or pick one of the selected events as Sample Event.`,
		});
	}
	const url = context.getNodeWebhookUrl('default');
	if (!url) throw new NodeOperationError(node, 'n8n did not provide a test URL for this trigger');
	const credentials = await readTruvCredentials(context);
	const { payload, source, reason } = await chooseSample(
		context,
		eventType,
		configuredStatuses(context),
		credentials,
	);
	const body = JSON.stringify(payload);
	const request = context.helpers.httpRequest({
		method: 'POST',
		url,
		body,
		headers: {
			'content-type': 'application/json',
			'x-webhook-sign': signTruvPayload(body, credentials.accessSecret),
			[SAMPLE_HEADER]: source,
			...(reason ? { [SAMPLE_REASON_HEADER]: encodedReason(reason) } : {}),
		},
		json: false,
	});
	// Not awaited (see above): n8n is still registering the test URL this request goes to.
	void request.catch((error: Error) => {
		context.logger.warn(
			`Truv Trigger could not send its sample event to its test URL ${url}: ${error.message}`,
			{ workflowId: context.getWorkflow().id },
		);
	});
}
