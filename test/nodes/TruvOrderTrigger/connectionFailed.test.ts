// Connection Failed: Truv's task-status-updated with an error status, on its own fourth output,
// through the real webhook() in n8n-core's WebhookContext.
import type { IDataObject } from 'n8n-workflow';

import { forgetProcessRecords } from '../../../nodes/TruvOrderTrigger/deliveryDeduplication';
import { forgetRememberedCredentials } from '../../../nodes/TruvOrderTrigger/credentialCache';
import { TASK_ERROR_STATUSES } from '../../../nodes/TruvOrderTrigger/taskEventSchema';
import { fixtureJson, signedHeaders } from '../../helpers/fixtures';
import type { DeliveryRequest, DeliveryResult } from '../../../dev/n8n-core/n8nContexts';
import { deliver, SANDBOX_SECRET, triggerExecution } from '../../../dev/n8n-core/n8nContexts';

const CONNECTION_FAILED = 3;
const WITH_CONNECTION_FAILED = [
	'order-created',
	'order-status-updated',
	'order-refresh-failed',
	'task-status-updated',
];
const EMPLOYER_ID = '5f3ac3f3e28e4cc8a6e5b3c2a0e9c6a1';

beforeEach(() => {
	forgetProcessRecords();
	forgetRememberedCredentials();
});

/** The trigger's step in the execution n8n starts for `result`. */
async function executionOf(result: DeliveryResult) {
	return await triggerExecution({
		outputs: result.workflowData!,
		parameters: { events: WITH_CONNECTION_FAILED },
	}).run();
}

let sequence = 0;
/** Truv's task-status-updated sample from an order flow, with its own webhook_id. */
function taskEvent(changes: IDataObject = {}): IDataObject {
	sequence += 1;
	return {
		...fixtureJson('task-status-updated'),
		webhook_id: `task-${sequence}`,
		tracking_info: EMPLOYER_ID,
		status: 'login_error',
		...changes,
	};
}

async function delivered(
	payload: IDataObject | string,
	events: string[] = WITH_CONNECTION_FAILED,
	extra: Partial<DeliveryRequest> = {},
): Promise<DeliveryResult> {
	const body = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
	return await deliver({
		rawBody: body,
		headers: signedHeaders(body, SANDBOX_SECRET),
		parameters: { events },
		...extra,
	});
}

function expectIgnored(result: DeliveryResult, message: RegExp) {
	expect(result.status).toBe(200);
	expect(result.body).toMatchObject({ received: true, outcome: 'ignored' });
	expect(String(result.body.message)).toMatch(message);
	expect(result.workflowData).toBeUndefined();
}

describe('Connection Failed selected', () => {
	test.each(TASK_ERROR_STATUSES)(
		'task status %s goes to output 3, with employer_id copied from tracking_info',
		async (status) => {
			const payload = taskEvent({ status });
			const result = await delivered(payload);
			expect(result.status).toBe(200);
			expect(result.body).toMatchObject({ outcome: 'accepted', webhook_id: payload.webhook_id });
			expect(result.workflowData).toHaveLength(4);
			result.workflowData!.forEach((items, output) => {
				expect(items).toEqual(
					output === CONNECTION_FAILED ? [{ json: { ...payload, employer_id: EMPLOYER_ID } }] : [],
				);
			});
		},
	);

	test('takes a status Truv adds later that ends in _error as a failure too', async () => {
		const result = await delivered(taskEvent({ status: 'captcha_error' }));
		expect(result.workflowData![CONNECTION_FAILED]).toHaveLength(1);
	});

	test.each(['new', 'login', 'mfa', 'parse', 'full_parse', 'done', 'queued'])(
		'acknowledges task status %s with 200 and starts nothing',
		async (status) => {
			expectIgnored(
				await delivered(taskEvent({ status })),
				new RegExp(`Task status ${status} is not a failed connection attempt`),
			);
		},
	);

	test('acknowledges a progress update even when it lacks fields a failure needs', async () => {
		const payload = taskEvent({ status: 'done' });
		delete payload.task_id;
		expectIgnored(await delivered(payload), /not a failed connection attempt/);
	});

	test('acknowledges a signed failure that is not a valid task event and reports each field where the execution fails', async () => {
		const payload = taskEvent();
		delete payload.task_id;
		payload.tracking_info = 42;
		const result = await delivered(payload);
		expect(result.status).toBe(200);
		expect(result.body).toMatchObject({ received: true, outcome: 'invalid_payload' });
		expect(result.body.message).toMatch(
			/^Invalid task-status-updated payload: task_id: expected string, received undefined; tracking_info: expected string, received number\./,
		);
		await expect(executionOf(result)).rejects.toThrow(
			'Truv sent a task-status-updated event this trigger cannot read',
		);
	});

	test('acknowledges a signed task event without a status and reports it', async () => {
		const payload = taskEvent();
		delete payload.status;
		const result = await delivered(payload);
		expect(result.status).toBe(200);
		expect(result.body.message).toMatch(/status: expected string/);
		await expect(executionOf(result)).rejects.toThrow(/cannot read/);
	});

	test('a task outside an order flow (no tracking_info) has employer_id null', async () => {
		const payload = taskEvent({ tracking_info: null });
		const item = (await delivered(payload)).workflowData![CONNECTION_FAILED][0].json;
		expect(item).toEqual({ ...payload, employer_id: null });
		const { tracking_info: _omitted, ...withoutTracking } = taskEvent();
		const bare = (await delivered(withoutTracking)).workflowData![CONNECTION_FAILED][0].json;
		expect(bare).toEqual({ ...withoutTracking, employer_id: null });
	});

	test('keeps an employer_id Truv sends itself', async () => {
		const payload = taskEvent({ employer_id: 'truv-own-value' });
		const item = (await delivered(payload)).workflowData![CONNECTION_FAILED][0].json;
		expect(item).toEqual(payload);
	});

	test('keeps unknown fields as Truv sent them', async () => {
		const payload = taskEvent({ error_message: 'Invalid credentials', provider: { id: 'adp' } });
		const item = (await delivered(payload)).workflowData![CONNECTION_FAILED][0].json;
		expect(item).toEqual({ ...payload, employer_id: EMPLOYER_ID });
	});

	test('order events keep outputs 0 to 2; output 3 stays empty for them', async () => {
		const payload = { ...fixtureJson('order-refresh-failed'), webhook_id: 'task-order-1' };
		const result = await delivered(payload);
		expect(result.workflowData).toEqual([[], [], [{ json: payload }], []]);
	});

	test('starts the workflow once per webhook_id', async () => {
		const payload = taskEvent();
		const first = await delivered(payload);
		const second = await delivered(payload, undefined, { staticData: first.staticData });
		expect(first.workflowData![CONNECTION_FAILED]).toHaveLength(1);
		expect(second.body.outcome).toBe('duplicate');
		expect(second.workflowData).toBeUndefined();
	});

	test('adds the request headers when asked', async () => {
		const result = await delivered(taskEvent(), undefined, {
			parameters: { events: WITH_CONNECTION_FAILED, options: { includeHeaders: true } },
		});
		const item = result.workflowData![CONNECTION_FAILED][0].json;
		expect((item.headers as IDataObject)['user-agent']).toBe('Truv-Webhook-Service/2.0');
	});

	test('can be the only selected event', async () => {
		const result = await delivered(taskEvent(), ['task-status-updated']);
		expect(result.workflowData).toEqual([[], [], [], [expect.anything()]]);
		expectIgnored(
			await delivered({ ...fixtureJson('order-created'), webhook_id: 'task-order-2' }, [
				'task-status-updated',
			]),
			/order-created is not selected/,
		);
	});
});

describe('Connection Failed not selected', () => {
	test.each([
		['by default', undefined],
		['with other events chosen', ['order-refresh-failed']],
	])(
		'%s, a failed connection attempt is acknowledged with 200 and starts nothing',
		async (_label, events) => {
			const body = JSON.stringify(taskEvent());
			const result = await deliver({
				rawBody: body,
				headers: signedHeaders(body, SANDBOX_SECRET),
				parameters: events === undefined ? {} : { events },
			});
			expectIgnored(result, /task-status-updated \(Connection Failed\) is not selected/);
		},
	);

	test('a malformed task event is acknowledged too, not refused', async () => {
		expectIgnored(
			await delivered({ event_type: 'task-status-updated', status: 7 }, ['order-created']),
			/not selected/,
		);
	});

	test('order events have the three outputs only', async () => {
		const payload = { ...fixtureJson('order-created'), webhook_id: 'task-order-3' };
		const result = await delivered(payload, ['order-created']);
		expect(result.workflowData).toEqual([[{ json: payload }], [], []]);
	});
});
