// Test Event: Show a Sample Event. The hook n8n runs on Execute step picks a sample and sends it to
// the trigger's test URL (here an HTTP sink); that request is then handed to the real webhook() in
// a manual run, as n8n's test webhook would.
import type { IDataObject } from 'n8n-workflow';

import {
	BUILT_IN_SAMPLES,
	builtInSample,
	encodedReason,
	NO_MATCHING_EVENT,
	SAMPLE_HEADER,
	SAMPLE_HISTORY_TIMEOUT_MS,
	SAMPLE_REASON_HEADER,
	sampleMarker,
	samplePasses,
} from '../../../nodes/TruvOrderTrigger/sampleEvents';
import { signTruvPayload } from '../../../nodes/TruvOrderTrigger/truvSignature';
import {
	deliver,
	hookContext,
	truvCredentials,
	truvOrderTrigger,
} from '../../../dev/n8n-core/n8nContexts';
import { startHttpSink, type HttpSink } from '../../../dev/n8n/httpSink';
import { startSilentServer } from '../../../dev/n8n/silentServer';
import { startTruvStandIn, type TruvStandIn } from '../../../dev/truv-stand-in/truvStandIn';
import { fixtureJson } from '../../helpers/fixtures';

let standIn: TruvStandIn;
let testUrl: HttpSink;
// Where Truv's real deliveries went: they fill the delivery history the samples come from.
let elsewhere: HttpSink;

beforeAll(async () => {
	[standIn, testUrl, elsewhere] = await Promise.all([
		startTruvStandIn(),
		startHttpSink(),
		startHttpSink(),
	]);
});
afterAll(async () => await Promise.all([standIn.close(), testUrl.close(), elsewhere.close()]));
beforeEach(() => {
	testUrl.clear();
	standIn.clearFaults();
});

const credentials = () =>
	truvCredentials({
		clientId: standIn.account.clientId,
		accessSecret: standIn.account.secrets.sandbox,
		baseUrl: standIn.url,
	});

const ALL_EVENTS = [
	'order-created',
	'order-status-updated',
	'order-refresh-failed',
	'task-status-updated',
];

/** Execute step with a sample: the hook n8n runs, then the request it sent, through webhook(). */
async function executeStepWithSample(
	parameters: IDataObject,
	hookCredentials: ReturnType<typeof credentials> = credentials(),
) {
	const fullParameters = { testEvent: 'sample', ...parameters };
	testUrl.clear();
	// The test webhook's static data, which n8n hands to the delete hook that ends the test run.
	const hookStaticData: IDataObject = {};
	const { context } = hookContext({
		isTest: true,
		parameters: fullParameters,
		credentials: hookCredentials,
		webhookTestBaseUrl: testUrl.url,
		staticData: hookStaticData,
	});
	const exists = await truvOrderTrigger.webhookMethods.default.checkExists.call(context);
	const [request] = await testUrl.waitFor(1);
	const staticData: IDataObject = {};
	const delivered = await deliver({
		rawBody: request.body,
		headers: request.headers as Record<string, string>,
		mode: 'manual',
		parameters: fullParameters,
		credentials: credentials(),
		staticData,
	});
	// Once the sample has arrived, n8n runs the delete hook for the test URL in mode 'internal'
	// (TestWebhooks.deactivateWebhooks), with the static data of the hooks above.
	const { context: ending } = hookContext({
		isTest: true,
		mode: 'internal',
		activation: 'update',
		parameters: fullParameters,
		credentials: hookCredentials,
		webhookTestBaseUrl: testUrl.url,
		staticData: hookStaticData,
	});
	const deleted = await truvOrderTrigger.webhookMethods.default.delete.call(ending);
	return { exists, request, delivered, staticData, deleted };
}

/** Why the request says its sample is built-in, as the sample's note then gives it. */
function reasonOf(request: { headers: Record<string, unknown> }): string {
	return decodeURIComponent(String(request.headers[SAMPLE_REASON_HEADER]));
}

function emitted(result: { delivered: { workflowData?: Array<Array<{ json: IDataObject }>> } }) {
	const outputs = result.delivered.workflowData ?? [];
	const output = outputs.findIndex((items) => items.length > 0);
	return { output, json: outputs[output]?.[0]?.json ?? {} };
}

describe('sample events for Execute step', () => {
	test('with no matching delivery in the history, a built-in sample arrives on its own output, marked', async () => {
		const before = standIn.webhooks().length;
		const result = await executeStepWithSample({
			events: ALL_EVENTS,
			sampleEventType: 'order-refresh-failed',
		});
		// Nothing to register at Truv: n8n is told the test webhook exists already.
		expect(result.exists).toBe(true);
		expect(standIn.webhooks()).toHaveLength(before);
		expect(result.request.path).toMatch(/\/webhook$/);
		expect(result.request.headers[SAMPLE_HEADER]).toBe('builtIn');
		expect(result.delivered.status).toBe(200);
		const { output, json } = emitted(result);
		expect(output).toBe(2);
		expect(json).toEqual({
			...BUILT_IN_SAMPLES['order-refresh-failed'],
			n8n_sample: {
				source: 'builtIn',
				note: expect.stringContaining('built-in example'),
				// The reason the trigger found, carried by the sample request.
				reason: "Truv's delivery history has no matching event in the last 30 days",
			},
		});
		// Never a delivery: nothing recorded for duplicate tracking.
		expect(result.staticData).toEqual({});
	});

	test("the newest matching event of the account's delivery history is preferred, and passes Verify Signature", async () => {
		const older = { ...fixtureJson('order-status-updated-completed'), webhook_id: 'hist0001' };
		const newer = { ...fixtureJson('order-status-updated-expired'), webhook_id: 'hist0002' };
		for (const event of [older, newer]) {
			await standIn.deliver(Buffer.from(JSON.stringify(event)), {
				url: elsewhere.url,
				maxRetries: 0,
			});
		}
		const result = await executeStepWithSample({
			events: ['order-status-updated'],
			sampleEventType: 'order-status-updated',
			verifySignature: true,
		});
		expect(result.request.headers[SAMPLE_HEADER]).toBe('deliveryHistory');
		const { output, json } = emitted(result);
		expect(output).toBe(1);
		expect(json).toEqual({
			...newer,
			n8n_sample: { source: 'deliveryHistory', note: expect.stringContaining('delivery history') },
		});
		expect(result.staticData).toEqual({});

		// With a status filter, the newest event the filter lets through.
		const filtered = await executeStepWithSample({
			events: ['order-status-updated'],
			sampleEventType: 'order-status-updated',
			orderStatuses: ['completed'],
		});
		expect(emitted(filtered).json.webhook_id).toBe('hist0001');
	});

	test('a delivery history Truv refuses to show falls back to the built-in sample', async () => {
		standIn.setFault({ path: '/v1/webhook-requests/', kind: 'status403', times: 1 });
		const result = await executeStepWithSample({
			events: ['task-status-updated'],
			sampleEventType: 'task-status-updated',
		});
		const { output, json } = emitted(result);
		expect(output).toBe(3);
		expect(json).toMatchObject({
			event_type: 'task-status-updated',
			status: 'login_error',
			employer_id: BUILT_IN_SAMPLES['task-status-updated'].tracking_info,
			n8n_sample: { source: 'builtIn' },
		});
	});

	test('a sample run calls Truv only for the delivery history, also when n8n ends the test run', async () => {
		standIn.resetCalls();
		const result = await executeStepWithSample({
			events: ALL_EVENTS,
			sampleEventType: 'order-created',
		});
		expect(result.deleted).toBe(true);
		expect(standIn.calls.map((call) => `${call.method} ${call.path}`)).toEqual([
			'GET /v1/webhook-requests/',
		]);
	});

	test('with Truv rejecting the keys, the sample run ends without another Truv call or error', async () => {
		// The test run's end used to look for the test URL's webhook in Truv's list and fail.
		standIn.resetCalls();
		const result = await executeStepWithSample(
			{ events: ALL_EVENTS, sampleEventType: 'order-created' },
			truvCredentials({
				clientId: standIn.account.clientId,
				accessSecret: 'sandbox-not-the-secret',
				baseUrl: standIn.url,
			}),
		);
		expect(result.deleted).toBe(true);
		expect(standIn.calls.map((call) => call.path)).toEqual(['/v1/webhook-requests/']);
		expect(reasonOf(result.request)).toMatch(
			/^Truv's delivery history could not be read: Truv rejected the credentials/,
		);
	});

	test('a built-in sample says why: no matching event in the history', async () => {
		const result = await executeStepWithSample({
			events: ALL_EVENTS,
			sampleEventType: 'order-refresh-failed',
		});
		expect(reasonOf(result.request)).toBe(NO_MATCHING_EVENT);
	});

	test('a built-in sample says why: the history Truv refused to show', async () => {
		standIn.setFault({ path: '/v1/webhook-requests/', kind: 'status403', times: 1 });
		const result = await executeStepWithSample({
			events: ALL_EVENTS,
			sampleEventType: 'order-created',
		});
		expect(reasonOf(result.request)).toMatch(
			/^Truv's delivery history could not be read: Truv refused access/,
		);
	});

	test(
		'with Truv not answering, the history lookup gives up after its bound and the built-in sample still arrives',
		async () => {
			const silentTruv = await startSilentServer();
			try {
				const result = await executeStepWithSample(
					{ events: ALL_EVENTS, sampleEventType: 'order-created' },
					truvCredentials({
						clientId: standIn.account.clientId,
						accessSecret: standIn.account.secrets.sandbox,
						baseUrl: silentTruv.url,
					}),
				);
				expect(result.request.headers[SAMPLE_HEADER]).toBe('builtIn');
				expect(reasonOf(result.request)).toBe(
					`Truv's delivery history could not be read: Could not reach Truv at ${silentTruv.url} (no answer within ${SAMPLE_HISTORY_TIMEOUT_MS / 1000} s)`,
				);
				expect(emitted(result).json.event_type).toBe('order-created');
				// Nothing was registered, so ending the test run waits for no Truv call.
				expect(result.deleted).toBe(true);
			} finally {
				await silentTruv.close();
			}
		},
		SAMPLE_HISTORY_TIMEOUT_MS + 15_000,
	);

	test('a sample event not selected in Events is refused with a message naming the fix', async () => {
		const { context } = hookContext({
			isTest: true,
			parameters: {
				testEvent: 'sample',
				events: ['order-created'],
				sampleEventType: 'order-refresh-failed',
			},
			credentials: credentials(),
			webhookTestBaseUrl: testUrl.url,
		});
		await expect(truvOrderTrigger.webhookMethods.default.checkExists.call(context)).rejects.toThrow(
			'The sample event is not selected in Events',
		);
		expect(testUrl.requests).toEqual([]);
	});

	test('outside a manual run the sample header means nothing: a published workflow counts the delivery', async () => {
		const event = { ...fixtureJson('order-created'), webhook_id: 'prod0001' };
		const body = Buffer.from(JSON.stringify(event));
		const staticData: IDataObject = {};
		const delivered = await deliver({
			rawBody: body,
			headers: {
				'x-webhook-sign': signTruvPayload(body, standIn.account.secrets.sandbox!),
				[SAMPLE_HEADER]: 'builtIn',
			},
			mode: 'webhook',
			parameters: { testEvent: 'sample' },
			credentials: credentials(),
			staticData,
		});
		const { json } = emitted({ delivered });
		expect(json).toEqual(event);
		// Counted as a delivery: the same one again is a duplicate.
		const again = await deliver({
			rawBody: body,
			headers: { 'x-webhook-sign': signTruvPayload(body, standIn.account.secrets.sandbox!) },
			mode: 'webhook',
			credentials: credentials(),
			staticData,
		});
		expect(again.body.outcome).toBe('duplicate');
	});

	test('with Test Event left at waiting for Truv, Execute step registers the test URL as before', async () => {
		const { context } = hookContext({
			isTest: true,
			parameters: { events: ['order-created'] },
			credentials: credentials(),
			webhookTestBaseUrl: testUrl.url,
		});
		expect(await truvOrderTrigger.webhookMethods.default.checkExists.call(context)).toBe(false);
		expect(testUrl.requests).toEqual([]);
	});
});

describe('the note of a sample', () => {
	test('a built-in sample gives the reason the request carried', () => {
		const header = encodedReason(
			"Truv's delivery history could not be read: Could not reach Truv at https://prod.truv.com (connection refused).",
		);
		expect(header).toMatch(/^[\x21-\x7e]+$/);
		expect(sampleMarker('builtIn', header)).toEqual({
			source: 'builtIn',
			note: "A sample for building the workflow: a built-in example with made-up ids. Truv's delivery history could not be read: Could not reach Truv at https://prod.truv.com (connection refused).",
			reason:
				"Truv's delivery history could not be read: Could not reach Truv at https://prod.truv.com (connection refused)",
		});
	});

	test('without a reason a built-in sample does not claim one', () => {
		const { note } = sampleMarker('builtIn');
		expect(note).toContain('no matching event in the last 30 days, or could not be read');
		expect(sampleMarker('builtIn', '%E0%A4%A')).toEqual(sampleMarker('builtIn'));
	});

	test('a reason travels on one bounded line', () => {
		const reason = decodeURIComponent(encodedReason(`first line\nsecond ${'x'.repeat(1000)}`));
		expect(reason).toMatch(/^first line second x+…$/);
		expect(reason.length).toBeLessThanOrEqual(300);
	});

	test('a sample from the history says so and carries no reason', () => {
		expect(sampleMarker('deliveryHistory', encodedReason('ignored'))).toEqual({
			source: 'deliveryHistory',
			note: expect.stringContaining("your Truv account's delivery history"),
		});
	});
});

describe('sample choice', () => {
	test.each(Object.keys(BUILT_IN_SAMPLES))(
		'the built-in %s sample passes the trigger checks',
		(type) => {
			expect(samplePasses(type, BUILT_IN_SAMPLES[type], undefined)).toBe(true);
		},
	);

	test('a built-in status update takes a status the status filter lets through', () => {
		const sample = builtInSample('order-status-updated', new Set(['expired', 'canceled']));
		expect(sample.status).toBe('expired');
		expect(samplePasses('order-status-updated', sample, new Set(['expired']))).toBe(true);
		expect(BUILT_IN_SAMPLES['order-status-updated'].status).toBe('completed');
	});

	test('history payloads of another type, invalid ones and task progress are passed over', () => {
		const task = { ...BUILT_IN_SAMPLES['task-status-updated'] };
		expect(samplePasses('task-status-updated', { ...task, status: 'done' }, undefined)).toBe(false);
		expect(samplePasses('order-created', BUILT_IN_SAMPLES['order-refresh-failed'], undefined)).toBe(
			false,
		);
		const { order_id: _, ...withoutOrder } = BUILT_IN_SAMPLES['order-created'];
		expect(samplePasses('order-created', withoutOrder, undefined)).toBe(false);
		expect(samplePasses('order-created', 'not an object', undefined)).toBe(false);
	});
});
