import type { IDataObject } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { forgetProcessRecords } from '../../../nodes/TruvOrderTrigger/deliveryDeduplication';
import { forgetRememberedCredentials } from '../../../nodes/TruvOrderTrigger/credentialCache';
import { processedDataStore } from '../../../dev/n8n-core/processedDataStore';
import { MAX_DELIVERY_BYTES } from '../../../nodes/TruvOrderTrigger/deliveryHandler';
import { refusalLog } from '../../../nodes/TruvOrderTrigger/refusalLog';
import { signTruvPayload } from '../../../nodes/TruvOrderTrigger/truvSignature';
import { fixtureBytes, fixtureJson, signedHeaders } from '../../helpers/fixtures';
import type { DeliveryRequest, DeliveryResult } from '../../../dev/n8n-core/n8nContexts';
import {
	deliver,
	deliveryRunner,
	SANDBOX_SECRET,
	triggerExecution,
	truvCredentials,
} from '../../../dev/n8n-core/n8nContexts';
import { spyOnN8nWarnings } from '../../helpers/n8nLog';

const OUTPUT = {
	'order-created': 0,
	'order-status-updated': 1,
	'order-refresh-failed': 2,
} as const;

/** A genuine delivery of `body`, signed with the credential's secret. */
function genuine(body: Buffer | string, extra: Partial<DeliveryRequest> = {}) {
	return deliver({ rawBody: body, headers: signedHeaders(body, SANDBOX_SECRET), ...extra });
}

/** A fresh order payload with its own webhook_id, so duplicate tracking does not interfere. */
let sequence = 0;
function orderBody(fixture: string, changes: IDataObject = {}): Buffer {
	sequence += 1;
	const payload = {
		...fixtureJson(fixture),
		webhook_id: `test-${sequence}-${Date.now()}`,
		...changes,
	};
	return Buffer.from(JSON.stringify(payload));
}

function expectNoExecution(result: { workflowData: unknown }) {
	expect(result.workflowData).toBeUndefined();
}

/** What the execution n8n starts for `result` fails with, if it fails: the trigger's step. */
async function failedExecution(result: DeliveryResult): Promise<Error | undefined> {
	if (result.workflowData === undefined) return undefined;
	try {
		await triggerExecution({ outputs: result.workflowData }).run();
		return undefined;
	} catch (error) {
		return error as Error;
	}
}

beforeEach(() => {
	forgetProcessRecords();
	forgetRememberedCredentials();
	refusalLog.forget();
});

describe('routing genuine deliveries', () => {
	test.each([
		['order-created', 'order-created'],
		['order-status-updated-completed', 'order-status-updated'],
		['order-status-updated-expired', 'order-status-updated'],
		['order-status-updated-minimal', 'order-status-updated'],
		['order-refresh-failed', 'order-refresh-failed'],
	] as const)('%s goes to the %s output only, as Truv sent it', async (fixture, event) => {
		const result = await genuine(fixtureBytes(fixture));
		expect(result.status).toBe(200);
		expect(result.body).toMatchObject({ received: true, outcome: 'accepted' });
		expect(result.workflowData).toHaveLength(3);
		result.workflowData!.forEach((items, output) => {
			if (output === OUTPUT[event]) {
				expect(items).toEqual([{ json: fixtureJson(fixture) }]);
			} else {
				expect(items).toEqual([]);
			}
		});
	});

	test('reads the body itself when n8n left it unread (a content type n8n does not parse)', async () => {
		const body = orderBody('order-created');
		const result = await deliver({
			rawBody: body,
			headers: {
				...signedHeaders(body, SANDBOX_SECRET),
				'content-type': 'application/octet-stream',
			},
			bodyUnread: true,
		});
		expect(result.status).toBe(200);
		expect(result.workflowData![0]).toEqual([{ json: JSON.parse(body.toString()) }]);
	});

	test('answers with a small JSON acknowledgement naming the delivery', async () => {
		const result = await genuine(fixtureBytes('order-created'));
		expect(result.body).toEqual({
			received: true,
			outcome: 'accepted',
			message: 'Delivery accepted',
			webhook_id: '0aac461e7b774a38a72fd9c7c0eef8ee',
		});
	});

	test.each(['task-status-updated', 'link-connected'])(
		'acknowledges the non-order event %s with 200 and starts nothing',
		async (fixture) => {
			const result = await genuine(fixtureBytes(fixture));
			expect(result.status).toBe(200);
			expect(result.body).toMatchObject({ received: true, outcome: 'ignored' });
			expectNoExecution(result);
		},
	);

	test.each(['order-finalized', 'certification-completed', 'employment-created'])(
		'acknowledges %s, which this trigger does not handle',
		async (eventType) => {
			const body = JSON.stringify({ webhook_id: 'x1', event_type: eventType, order_id: 'o1' });
			const result = await genuine(body);
			expect(result.status).toBe(200);
			expect(result.body.outcome).toBe('ignored');
			expectNoExecution(result);
		},
	);

	test('lets n8n send the answer to an accepted delivery, once it has stored the execution', async () => {
		const body = orderBody('order-created');
		const result = await genuine(body);
		expect(result.answeredBy).toBe('n8n');
		expect(result.status).toBe(200);
		expect(result.body).toEqual({
			received: true,
			outcome: 'accepted',
			message: 'Delivery accepted',
			webhook_id: JSON.parse(body.toString()).webhook_id,
		});
		// Refusals and duplicates start no execution: the node answers them itself.
		const duplicate = await genuine(body);
		expect([duplicate.answeredBy, duplicate.body.outcome]).toEqual(['node', 'duplicate']);
		const forged = await deliver({ rawBody: orderBody('order-created'), headers: {} });
		expect([forged.answeredBy, forged.status]).toEqual(['node', 401]);
	});

	test('with Acknowledge Deliveries before starting the execution, answers it itself', async () => {
		const body = orderBody('order-created');
		const result = await genuine(body, {
			parameters: { options: { acknowledge: 'beforeExecution' } },
		});
		expect(result.answeredBy).toBe('node');
		expect(result.body).toMatchObject({ outcome: 'accepted' });
		expect(result.workflowData![OUTPUT['order-created']]).toHaveLength(1);
	});

	test('optionally adds the request headers to the item', async () => {
		const body = fixtureBytes('order-refresh-failed');
		const result = await genuine(body, { parameters: { options: { includeHeaders: true } } });
		const item = result.workflowData![OUTPUT['order-refresh-failed']][0].json;
		expect(item).toMatchObject(fixtureJson('order-refresh-failed'));
		expect((item.headers as IDataObject)['user-agent']).toBe('Truv-Webhook-Service/2.0');
		const plain = await genuine(orderBody('order-refresh-failed'));
		expect(plain.workflowData![2][0].json.headers).toBeUndefined();
	});

	test('never copies credentials headers into the item, nor overwrites a payload field named headers', async () => {
		const body = orderBody('order-refresh-failed', { headers: { from: 'Truv' } });
		const result = await genuine(body, {
			headers: {
				...signedHeaders(body, SANDBOX_SECRET),
				authorization: 'Basic c2VjcmV0',
				cookie: 'n8n-auth=secret',
				'proxy-authorization': 'Bearer secret',
				'x-api-key': 'secret',
				'cf-access-jwt-assertion': 'eyJ.secret',
				'x-amzn-oidc-data': 'eyJ.secret',
				'x-forwarded-client-cert': 'Hash=secret',
				'x-forwarded-for': '203.0.113.7',
			},
			parameters: { options: { includeHeaders: true } },
		});
		const item = result.workflowData![OUTPUT['order-refresh-failed']][0].json;
		expect(item.headers).toEqual({ from: 'Truv' });
		const requestHeaders = item.request_headers as IDataObject;
		expect(requestHeaders['x-webhook-sign']).toEqual(expect.any(String));
		expect(requestHeaders['x-forwarded-for']).toBe('203.0.113.7');
		for (const name of [
			'authorization',
			'cookie',
			'proxy-authorization',
			'x-api-key',
			'cf-access-jwt-assertion',
			'x-amzn-oidc-data',
			'x-forwarded-client-cert',
		]) {
			expect(requestHeaders[name]).toBeUndefined();
		}
	});
});

describe('signature', () => {
	const body = fixtureBytes('order-status-updated-completed');

	test.each([
		['no signature header', {}],
		['an empty signature', { 'x-webhook-sign': '' }],
		['a signature by another secret', { 'x-webhook-sign': signTruvPayload(body, 'sandbox-other') }],
		[
			'a v2= signature',
			{ 'x-webhook-sign': signTruvPayload(body, SANDBOX_SECRET).replace('v1=', 'v2=') },
		],
		['v1= alone', { 'x-webhook-sign': 'v1=' }],
	])('answers 401 with a JSON message to %s, and starts nothing', async (_label, headers) => {
		const result = await deliver({ rawBody: body, headers });
		expect(result.status).toBe(401);
		expect(result.body).toMatchObject({ received: false, outcome: 'invalid_signature' });
		expect(String(result.body.message)).toMatch(/X-WEBHOOK-SIGN/);
		expectNoExecution(result);
	});

	test('on the test URL, answers 401 too and ends the test run with the reason, which the editor shows', async () => {
		const result = await deliver({
			rawBody: body,
			headers: { 'x-webhook-sign': 'v1=00' },
			mode: 'manual',
		});
		expect(result.status).toBe(401);
		expect(result.body).toMatchObject({ received: false, outcome: 'invalid_signature' });
		expect(result.failedExecutionError?.message).toBe(
			'The trigger refused a request to its test URL (401)',
		);
		expect(
			(result.failedExecutionError as { description?: string } | undefined)?.description,
		).toMatch(/X-WEBHOOK-SIGN.*answered 401 and the workflow did not run/s);
		expect(result.workflowData).toBeUndefined();
	});

	test('on the production URL, a refusal ends nothing but the request', async () => {
		const result = await deliver({ rawBody: body, headers: { 'x-webhook-sign': 'v1=00' } });
		expect(result.status).toBe(401);
		expect(result.failedExecutionError).toBeUndefined();
	});

	test('answers 401 to a tampered body', async () => {
		const tampered = Buffer.from(body.toString().replace('"completed"', '"canceled"'));
		const result = await deliver({
			rawBody: tampered,
			headers: signedHeaders(body, SANDBOX_SECRET),
		});
		expect(result.status).toBe(401);
		expectNoExecution(result);
	});

	test("leaves a line in n8n's log for a refused delivery, without its body", async () => {
		const warn = spyOnN8nWarnings();
		try {
			const body = orderBody('order-created');
			await deliver({ rawBody: body, headers: { 'x-webhook-sign': 'v1=00' } });
			expect(warn).toHaveBeenCalledTimes(1);
			const [message, meta] = warn.mock.calls[0];
			expect(message).toMatch(
				/^Truv Order Trigger did not start the workflow for a delivery \(401 invalid_signature\): /,
			);
			expect(meta).toEqual(expect.objectContaining({ outcome: 'invalid_signature' }));
			expect(message).not.toContain(JSON.parse(body.toString()).webhook_id);
			// A flood of forged requests is no flood of lines: the next ones within the minute are
			// only counted, for the first line after it.
			await deliver({ rawBody: body, headers: { 'x-webhook-sign': 'v1=00' } });
			await deliver({ rawBody: body, headers: { 'x-webhook-sign': 'v1=01' } });
			expect(warn).toHaveBeenCalledTimes(1);
		} finally {
			warn.mockRestore();
		}
	});

	test('finds the header whatever its case', async () => {
		const result = await deliver({
			rawBody: body,
			headers: { 'X-Webhook-Sign': signTruvPayload(body, SANDBOX_SECRET) },
		});
		expect(result.status).toBe(200);
	});

	test('accepts the secondary secret of a rotation', async () => {
		const secondary = 'sandbox-next-secret';
		const credentials = truvCredentials({ secondaryAccessSecret: secondary });
		const result = await deliver({
			rawBody: body,
			headers: signedHeaders(body, secondary),
			credentials,
		});
		expect(result.status).toBe(200);
		expect(result.workflowData).toBeDefined();
	});

	test('checks nothing when Verify Signature is off', async () => {
		const result = await deliver({
			rawBody: orderBody('order-created'),
			parameters: { verifySignature: false },
		});
		expect(result.status).toBe(200);
		expect(result.workflowData![0]).toHaveLength(1);
	});

	test('checks the signature before looking at the body', async () => {
		const result = await deliver({ rawBody: 'not json', headers: {} });
		expect(result.status).toBe(401);
	});
});

describe('payload validation', () => {
	const unreadable = [
		['text that is not JSON', 'order created!', /not valid JSON/],
		['truncated JSON', '{"event_type":"order-created",', /not valid JSON/],
		['a JSON array', '[1,2,3]', /JSON object/],
		['a JSON string', '"order-created"', /JSON object/],
		['null', 'null', /JSON object/],
		['an object without event_type', '{"webhook_id":"w"}', /event_type/],
		['a numeric event_type', '{"event_type":7}', /event_type/],
	] as const;

	test.each(unreadable)(
		'acknowledges %s when signed, and fails the execution to report it',
		async (_label, body, message) => {
			const result = await genuine(body);
			expect(result.status).toBe(200);
			expect(result.body).toMatchObject({ received: true, outcome: 'invalid_payload' });
			expect(String(result.body.message)).toMatch(message);
			expect(await failedExecution(result)).toBeInstanceOf(NodeOperationError);
			expect((await failedExecution(result))!.message).toBe(
				'Truv sent a delivery this trigger cannot read',
			);
			expect(((await failedExecution(result)) as NodeOperationError).description).toMatch(message);
		},
	);

	test.each(unreadable)('answers 400 to %s when signatures are not checked', async (_l, body) => {
		const result = await deliver({ rawBody: body, parameters: { verifySignature: false } });
		expect(result.status).toBe(400);
		expect(result.body).toMatchObject({ received: false, outcome: 'invalid_payload' });
		expectNoExecution(result);
		expect(await failedExecution(result)).toBeUndefined();
	});

	test('acknowledges an empty signed body and reports it; answers 400 to it unsigned', async () => {
		const signed = await genuine(Buffer.alloc(0));
		expect(signed.status).toBe(200);
		expect((await failedExecution(signed))?.message).toBe(
			'Truv sent a delivery this trigger cannot read',
		);
		const unsigned = await deliver({
			rawBody: Buffer.alloc(0),
			parameters: { verifySignature: false },
		});
		expect(unsigned.status).toBe(400);
		expectNoExecution(unsigned);
	});

	test('acknowledges a signed order event that fails the schema, naming each failing field where the execution fails', async () => {
		const payload = { ...fixtureJson('order-status-updated-completed') };
		delete payload.order_id;
		payload.webhook_id = 12345;
		const result = await genuine(JSON.stringify(payload));
		expect(result.status).toBe(200);
		expect(result.body.message).toBe(
			"Invalid order-status-updated payload: webhook_id: expected string, received number; order_id: expected string, received undefined. Acknowledged so that Truv does not send it again; the workflow's execution reports it as failed",
		);
		const error = (await failedExecution(result)) as NodeOperationError;
		expect(error.message).toBe('Truv sent an order-status-updated event this trigger cannot read');
		expect(error.description).toContain(
			'Problems: webhook_id: expected string, received number; order_id: expected string, received undefined.',
		);
		expect(error.description).toContain(`Received: ${JSON.stringify(payload)}`);
	});

	test('acknowledges order-refresh-failed with status null, as Truv would otherwise retry it until it disables the endpoint', async () => {
		const result = await genuine(orderBody('order-refresh-failed', { status: null }));
		expect(result.status).toBe(200);
		expect(result.body.outcome).toBe('invalid_payload');
		expect((await failedExecution(result))?.message).toBe(
			'Truv sent an order-refresh-failed event this trigger cannot read',
		);
	});

	test('reports an invalid Connection Failed event the same way', async () => {
		const body = orderBody('task-status-updated', { status: 'login_error', task_id: null });
		const result = await genuine(body, {
			parameters: { events: ['task-status-updated'] },
		});
		expect(result.status).toBe(200);
		expect((await failedExecution(result))?.message).toBe(
			'Truv sent a task-status-updated event this trigger cannot read',
		);
	});

	test('does not record an invalid delivery as received: a corrected copy still runs', async () => {
		const invalid = orderBody('order-created', { order_id: null });
		const { webhook_id: webhookId } = JSON.parse(invalid.toString()) as IDataObject;
		const runner = deliveryRunner({});
		await runner.run(invalid, signedHeaders(invalid, SANDBOX_SECRET));
		const corrected = orderBody('order-created', { webhook_id: webhookId });
		const result = await runner.run(corrected, signedHeaders(corrected, SANDBOX_SECRET));
		expect(result.body.outcome).toBe('accepted');
	});

	test('accepts unknown fields and statuses and keeps them in the item', async () => {
		const body = orderBody('order-status-updated-completed', {
			status: 'in_review',
			risk_score: 0.2,
		});
		const result = await genuine(body);
		expect(result.workflowData![1][0].json).toEqual(JSON.parse(body.toString()));
	});

	test(`answers 413 to a body over ${MAX_DELIVERY_BYTES} bytes, even when signed`, async () => {
		const huge = orderBody('order-created', { padding: 'x'.repeat(MAX_DELIVERY_BYTES) });
		const result = await genuine(huge);
		expect(result.status).toBe(413);
		expect(result.body.outcome).toBe('payload_too_large');
		expectNoExecution(result);
	});

	test('answers 413 from the declared Content-Length without reading the body', async () => {
		const result = await deliver({
			rawBody: undefined,
			bodyUnread: true,
			headers: { 'content-length': String(MAX_DELIVERY_BYTES + 1) },
		});
		expect(result.status).toBe(413);
		expectNoExecution(result);
	});

	test('drops prototype-polluting keys spelled with JSON escapes too', async () => {
		const body = Buffer.from(
			`{"\\u005f_proto__":{"polluted":true},"webhook_id":"proto-2","event_type":"order-created","order_id":"o1","status":"pending","nested":{"constructo\\u0072":{"polluted":true}}}`,
		);
		const result = await genuine(body);
		expect(result.status).toBe(200);
		const item = result.workflowData![0][0].json;
		expect(Object.prototype.hasOwnProperty.call(item, '__proto__')).toBe(false);
		expect(item.nested).toEqual({});
		expect(Object.keys(item)).not.toContain('__proto__');
	});

	test('drops prototype-polluting keys instead of passing them on', async () => {
		const body = Buffer.from(
			`{"__proto__":{"polluted":true},"webhook_id":"proto-1","event_type":"order-created","order_id":"o1","status":"pending","nested":{"constructor":{"prototype":{"polluted":true}}}}`,
		);
		const result = await genuine(body);
		expect(result.status).toBe(200);
		const item = result.workflowData![0][0].json;
		expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
		expect(Object.prototype.hasOwnProperty.call(item, '__proto__')).toBe(false);
		expect(item.nested).toEqual({});
		expect(({} as IDataObject).polluted).toBeUndefined();
	});
});

describe('event and status filters', () => {
	test('acknowledges an unselected order event as ignored even when it fails the schema', async () => {
		const result = await genuine(orderBody('order-created', { status: null }), {
			parameters: { events: ['order-refresh-failed'] },
		});
		expect(result.status).toBe(200);
		expect(result.body.outcome).toBe('ignored');
		expect(result.failedExecutionError).toBeUndefined();
	});

	test('applies the status filter before validation', async () => {
		const result = await genuine(
			orderBody('order-status-updated-completed', { status: 'pending', order_id: null }),
			{ parameters: { orderStatuses: ['completed'] } },
		);
		expect(result.body.outcome).toBe('ignored');
		expect(result.failedExecutionError).toBeUndefined();
	});

	test('acknowledges an unselected order event with 200 and starts nothing', async () => {
		const result = await genuine(orderBody('order-created'), {
			parameters: { events: ['order-refresh-failed'] },
		});
		expect(result.status).toBe(200);
		expect(result.body.outcome).toBe('ignored');
		expectNoExecution(result);
	});

	test('starts the workflow for a selected event', async () => {
		const result = await genuine(orderBody('order-refresh-failed'), {
			parameters: { events: ['order-refresh-failed'] },
		});
		expect(result.workflowData![2]).toHaveLength(1);
	});

	test('lets only the chosen statuses of Order Status Updated through', async () => {
		const parameters = { orderStatuses: ['completed'], otherOrderStatuses: ' in_review , on_hold' };
		const completed = await genuine(orderBody('order-status-updated-completed'), { parameters });
		expect(completed.workflowData![1]).toHaveLength(1);

		const expired = await genuine(orderBody('order-status-updated-expired'), { parameters });
		expect(expired.status).toBe(200);
		expect(expired.body.outcome).toBe('ignored');
		expect(expired.body.message).toMatch(/expired/);
		expectNoExecution(expired);

		const custom = await genuine(
			orderBody('order-status-updated-completed', { status: 'on_hold' }),
			{
				parameters,
			},
		);
		expect(custom.workflowData![1]).toHaveLength(1);
	});

	test('screens out a status that is null or missing when a status filter is set', async () => {
		const parameters = { orderStatuses: ['completed'] };
		for (const changes of [{ status: null }, { status: undefined }]) {
			const result = await genuine(orderBody('order-status-updated-completed', changes), {
				parameters,
			});
			expect(result.body.outcome).toBe('ignored');
			expect(result.body.message).toMatch(/status filter/);
			expectNoExecution(result);
		}
	});

	test('does not apply the status filter to the other order events', async () => {
		const parameters = { orderStatuses: ['completed'] };
		const failed = await genuine(orderBody('order-refresh-failed'), { parameters });
		expect(failed.workflowData![2]).toHaveLength(1);
	});
});

describe('Maximum Event Age', () => {
	const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
	const parameters = { options: { maxEventAge: 60 } };

	test('off by default: an event of 2024 starts the workflow', async () => {
		const result = await genuine(orderBody('order-created'));
		expect(result.body.outcome).toBe('accepted');
		expect(result.workflowData![OUTPUT['order-created']]).toHaveLength(1);
	});

	test("acknowledges an older event with 200 too_old, starts nothing, and notes it in n8n's log", async () => {
		const warn = spyOnN8nWarnings();
		try {
			const body = orderBody('order-created', { event_created_at: minutesAgo(61) });
			const result = await genuine(body, { parameters });
			expect(result.status).toBe(200);
			expect(result.body).toMatchObject({
				received: true,
				outcome: 'too_old',
				webhook_id: JSON.parse(body.toString()).webhook_id,
			});
			expect(String(result.body.message)).toMatch(
				/^The event was created at .*, 61 minutes ago, longer ago than this trigger's Maximum Event Age of 60 minutes/,
			);
			expectNoExecution(result);
			expect(result.failedExecutionError).toBeUndefined();
			expect(warn).toHaveBeenCalledTimes(1);
			expect(warn.mock.calls[0][0]).toMatch(
				/^Truv Order Trigger did not start the workflow for a delivery \(200 too_old\): /,
			);
		} finally {
			warn.mockRestore();
		}
	});

	test('starts the workflow for a recent event, a Connection Failed one too', async () => {
		const recent = await genuine(orderBody('order-created', { event_created_at: minutesAgo(5) }), {
			parameters,
		});
		expect(recent.body.outcome).toBe('accepted');
		const task = Buffer.from(
			JSON.stringify({
				...fixtureJson('task-status-updated'),
				webhook_id: `task-${Date.now()}`,
				status: 'error',
				event_created_at: minutesAgo(61),
			}),
		);
		const oldTask = await genuine(task, {
			parameters: { ...parameters, events: ['task-status-updated'] },
		});
		expect(oldTask.body.outcome).toBe('too_old');
	});

	test('an event without a readable event_created_at is never skipped', async () => {
		for (const eventCreatedAt of [undefined, null, 'yesterday']) {
			const result = await genuine(
				orderBody('order-created', { event_created_at: eventCreatedAt }),
				{ parameters },
			);
			expect(result.body.outcome).toBe('accepted');
		}
	});

	test('not on the test URL, where samples are old events sent again', async () => {
		const result = await genuine(
			orderBody('order-created', { event_created_at: minutesAgo(24 * 60) }),
			{ parameters, mode: 'manual' },
		);
		expect(result.body.outcome).toBe('accepted');
		expect(result.workflowData![OUTPUT['order-created']]).toHaveLength(1);
	});
});

describe('duplicate deliveries', () => {
	/** A delivery, and (when n8n stored and answered it) the trigger's step in its execution. */
	async function deliverAndRun(body: Buffer, extra: Partial<DeliveryRequest> = {}) {
		const result = await genuine(body, extra);
		const passedOn =
			result.workflowData === undefined
				? undefined
				: await triggerExecution({
						outputs: result.workflowData,
						parameters: extra.parameters,
					}).run();
		return { result, ran: passedOn !== undefined && passedOn.some((items) => items.length > 0) };
	}

	beforeEach(() => processedDataStore().clear());

	test('start the workflow once per webhook_id', async () => {
		const body = orderBody('order-created');
		const first = await genuine(body);
		expect(first.workflowData).toBeDefined();
		const second = await genuine(body);
		expect(second.status).toBe(200);
		expect(second.body.outcome).toBe('duplicate');
		expectNoExecution(second);
	});

	test("are recognised after n8n restarts, in n8n's processed-data store", async () => {
		const body = orderBody('order-refresh-failed');
		expect((await deliverAndRun(body)).ran).toBe(true);
		forgetProcessRecords();
		const afterRestart = await deliverAndRun(body);
		// Accepted for an execution, which passes nothing on: the store knows the delivery.
		expect(afterRestart.result.body.outcome).toBe('accepted');
		expect(afterRestart.ran).toBe(false);
	});

	test('write nothing to the static data of the webhook call', async () => {
		const first = await genuine(orderBody('order-created'));
		expect(first.staticData).toEqual({});
	});

	test('are tracked per trigger node and workflow', async () => {
		const body = orderBody('order-created');
		expect((await genuine(body, { workflowId: 'wf-a' })).workflowData).toBeDefined();
		expect((await genuine(body, { workflowId: 'wf-b' })).workflowData).toBeDefined();
	});

	test('run again when Skip Duplicate Deliveries is off', async () => {
		const body = orderBody('order-created');
		const parameters = { options: { skipDuplicates: false } };
		await deliverAndRun(body, { parameters });
		const second = await deliverAndRun(body, { parameters });
		expect(second.ran).toBe(true);
	});

	test('are not tracked on the test URL, where the same sample is sent again and again', async () => {
		const body = orderBody('order-created');
		await genuine(body, { mode: 'manual' });
		const again = await genuine(body, { mode: 'manual' });
		expect(again.workflowData).toBeDefined();
	});

	test('run when Truv retries a delivery whose execution n8n failed to store', async () => {
		const body = orderBody('order-created');
		const failed = await genuine(body, { storeExecution: async () => false });
		expect(failed.status).toBe(500);
		const retry = await deliverAndRun(body);
		expect(retry.result.body.outcome).toBe('accepted');
		expect(retry.ran).toBe(true);
		expect((await genuine(body)).body.outcome).toBe('duplicate');
	});

	test('Truv gives up waiting while n8n stores the execution, n8n then fails to store it: the retry runs, once', async () => {
		const body = orderBody('order-created');
		const failed = await genuine(body, {
			clientHangsUpWhileStoring: true,
			storeExecution: async () => false,
		});
		expect(failed.status).toBe(500);
		const retry = await deliverAndRun(body);
		expect(retry.ran).toBe(true);
		forgetProcessRecords();
		expect((await deliverAndRun(body)).ran).toBe(false);
	});

	test('Truv gives up waiting while n8n stores the execution, which n8n then stores: the retry is accepted and passes nothing on', async () => {
		const body = orderBody('order-created');
		const first = await deliverAndRun(body, { clientHangsUpWhileStoring: true });
		expect(first.ran).toBe(true);
		// Truv saw no answer: its retry is not answered as a duplicate from memory...
		const retry = await deliverAndRun(body);
		expect(retry.result.body.outcome).toBe('accepted');
		// ...and its execution finds the first in the store.
		expect(retry.ran).toBe(false);
	});

	test('a copy that arrives while the first is being stored waits, and is a duplicate once it is', async () => {
		const body = orderBody('order-created');
		let storeFirst: (stored: boolean) => void = () => undefined;
		const first = genuine(body, {
			storeExecution: async () => await new Promise<boolean>((resolve) => (storeFirst = resolve)),
		});
		await new Promise((resolve) => setImmediate(resolve));
		let copyAnswered = false;
		const copy = genuine(body).then((result) => {
			copyAnswered = true;
			return result;
		});
		await new Promise((resolve) => setImmediate(resolve));
		expect(copyAnswered).toBe(false);
		storeFirst(true);
		expect((await first).body.outcome).toBe('accepted');
		const copyResult = await copy;
		expect(copyResult.body.outcome).toBe('duplicate');
		expectNoExecution(copyResult);
	});

	test('a copy that arrives while n8n fails to store the first runs instead of it', async () => {
		const body = orderBody('order-created');
		let storeFirst: (stored: boolean) => void = () => undefined;
		const first = genuine(body, {
			storeExecution: async () => await new Promise<boolean>((resolve) => (storeFirst = resolve)),
		});
		await new Promise((resolve) => setImmediate(resolve));
		const copy = genuine(body);
		await new Promise((resolve) => setImmediate(resolve));
		storeFirst(false);
		expect((await first).status).toBe(500);
		const copyResult = await copy;
		expect(copyResult.body.outcome).toBe('accepted');
		expect(copyResult.workflowData).toBeDefined();
	});

	test('acknowledged before the execution, a delivery is final at once: a copy is a duplicate', async () => {
		const body = orderBody('order-created');
		const parameters = { options: { acknowledge: 'beforeExecution' } };
		const first = await genuine(body, { parameters, storeExecution: async () => false });
		expect(first.body.outcome).toBe('accepted');
		const copy = await genuine(body, { parameters });
		expect(copy.body.outcome).toBe('duplicate');
	});

	test('are not recorded when the delivery was refused', async () => {
		const body = orderBody('order-created');
		const refused = await deliver({ rawBody: body, headers: {} });
		expect(refused.status).toBe(401);
		const genuineCopy = await genuine(body);
		expect(genuineCopy.workflowData).toBeDefined();
	});
});
