// Include Order Details, in n8n-core's real WebhookContext against the Truv stand-in: accepted
// order deliveries carry the order as Truv answers it, and a slow or failing Truv still lets the
// delivery through, within the lookup's time bound, with the reason in order_details_error.
import type { ICredentialDataDecryptedObject, IDataObject, INodeParameters } from 'n8n-workflow';

import { forgetProcessRecords } from '../../../nodes/TruvOrderTrigger/deliveryDeduplication';
import { ORDER_DETAILS_TIMEOUT_MS } from '../../../nodes/TruvOrderTrigger/orderDetails';
import { forgetRememberedCredentials } from '../../../nodes/TruvOrderTrigger/credentialCache';
import { fixtureJson, signedHeaders } from '../../helpers/fixtures';
import { standInCredentials } from '../../helpers/truvNode';
import type { DeliveryRequest, DeliveryResult } from '../../../dev/n8n-core/n8nContexts';
import { deliver } from '../../../dev/n8n-core/n8nContexts';
import { startTruvStandIn } from '../../../dev/truv-stand-in/truvStandIn';
import type { FaultKind, TruvOrder, TruvStandIn } from '../../../dev/truv-stand-in/truvStandIn';

const OUTPUT = {
	'order-created': 0,
	'order-status-updated': 1,
	'order-refresh-failed': 2,
} as const;
type OrderFixture =
	| 'order-created'
	| 'order-status-updated-completed'
	| 'order-refresh-failed'
	| 'order-status-updated-minimal';

/** What the lookup may add to a delivery's time: its bound, and some room for a busy machine. */
const LOOKUP_BOUND_MS = ORDER_DETAILS_TIMEOUT_MS + 1_500;

let standIn: TruvStandIn;
let order: TruvOrder;

beforeAll(async () => {
	standIn = await startTruvStandIn();
	order = standIn.addOrder({
		products: ['income'],
		first_name: 'Ada',
		last_name: 'Lovelace',
		email: 'ada@example.com',
		order_number: 'LOAN-1842',
		employers: [{ company_name: 'Analytical Engines Ltd' }],
	});
});
afterAll(async () => await standIn.close());
beforeEach(() => {
	standIn.clearFaults();
	standIn.resetCalls();
	forgetProcessRecords();
	forgetRememberedCredentials();
});

let sequence = 0;
/** A Truv sample of `fixture` about the seeded order, with its own webhook_id. */
function orderEvent(
	fixture: OrderFixture = 'order-status-updated-completed',
	changes: IDataObject = {},
): IDataObject {
	sequence += 1;
	return {
		...fixtureJson(fixture),
		webhook_id: `details-${sequence}`,
		order_id: order.id,
		...changes,
	};
}

function bytes(payload: IDataObject): Buffer {
	return Buffer.from(JSON.stringify(payload));
}

/** A genuine delivery to a trigger with Include Order Details on (unless `options` say otherwise). */
async function delivered(
	payload: IDataObject,
	options: INodeParameters = { includeOrderDetails: true },
	extra: Partial<DeliveryRequest> = {},
): Promise<DeliveryResult> {
	const body = bytes(payload);
	return await deliver({
		rawBody: body,
		headers: signedHeaders(body, standIn.account.secrets.sandbox!),
		credentials: standInCredentials(standIn),
		parameters: { options },
		...extra,
	});
}

function emitted(result: DeliveryResult, output: number): IDataObject {
	expect(result.workflowData).toBeDefined();
	result.workflowData!.forEach((items, index) => {
		expect(items).toHaveLength(index === output ? 1 : 0);
	});
	return result.workflowData![output][0].json;
}

const orderLookups = () =>
	standIn.calls.filter((call) => call.method === 'GET' && call.path.startsWith('/v1/orders/'));

describe('Include Order Details', () => {
	test.each([
		['order-created', OUTPUT['order-created']],
		['order-status-updated-completed', OUTPUT['order-status-updated']],
		['order-refresh-failed', OUTPUT['order-refresh-failed']],
	] as const)(
		'adds the order to an accepted %s delivery under order_details, leaving Truv’s fields as sent',
		async (fixture, output) => {
			const payload = orderEvent(fixture);
			const result = await delivered(payload);
			expect(result.status).toBe(200);
			expect(result.body).toMatchObject({ outcome: 'accepted' });
			const item = emitted(result, output);
			expect(item).toEqual({ ...payload, order_details: standIn.orders()[0] });
			expect(item.order_details).toMatchObject({
				id: order.id,
				first_name: 'Ada',
				order_number: 'LOAN-1842',
				employers: [expect.objectContaining({ company_name: 'Analytical Engines Ltd' })],
			});
			expect(item).not.toHaveProperty('order_details_error');
		},
	);

	test('asks Truv once, for that order, with the credential’s keys', async () => {
		await delivered(orderEvent());
		expect(orderLookups()).toEqual([
			expect.objectContaining({
				path: `/v1/orders/${order.id}/`,
				status: 200,
				clientId: standIn.account.clientId,
				env: 'sandbox',
			}),
		]);
	});

	test('is off by default: the item is Truv’s payload alone and Truv is not asked', async () => {
		const payload = orderEvent();
		const item = emitted(await delivered(payload, {}), OUTPUT['order-status-updated']);
		expect(item).toEqual(payload);
		expect(standIn.calls).toEqual([]);
	});

	test('goes with Include Request Headers: the item has both', async () => {
		const payload = orderEvent('order-created');
		const item = emitted(
			await delivered(payload, { includeOrderDetails: true, includeHeaders: true }),
			OUTPUT['order-created'],
		);
		expect(item.order_details).toMatchObject({ id: order.id });
		expect((item.headers as IDataObject)['x-webhook-sign']).toMatch(/^v1=/);
	});

	test('with Acknowledge Deliveries before starting the execution, answers and still adds them', async () => {
		const result = await delivered(orderEvent(), {
			includeOrderDetails: true,
			acknowledge: 'beforeExecution',
		});
		expect([result.answeredBy, result.body.outcome]).toEqual(['node', 'accepted']);
		expect(emitted(result, OUTPUT['order-status-updated']).order_details).toMatchObject({
			id: order.id,
		});
	});

	test('looks the order up for a delivery to the test URL too', async () => {
		const result = await delivered(orderEvent(), undefined, { mode: 'manual' });
		expect(emitted(result, OUTPUT['order-status-updated']).order_details).toMatchObject({
			id: order.id,
		});
		expect(orderLookups()).toHaveLength(1);
	});
});

describe('deliveries that are not accepted are not looked up', () => {
	test('a duplicate', async () => {
		const payload = orderEvent();
		const first = await delivered(payload);
		expect(first.body.outcome).toBe('accepted');
		const second = await delivered(payload, undefined, { staticData: first.staticData });
		expect(second.body.outcome).toBe('duplicate');
		expect(second.workflowData).toBeUndefined();
		expect(orderLookups()).toHaveLength(1);
	});

	test('a forged one', async () => {
		const body = bytes(orderEvent());
		const result = await deliver({
			rawBody: body,
			headers: signedHeaders(body, 'sandbox-forged'),
			credentials: standInCredentials(standIn),
			parameters: { options: { includeOrderDetails: true } },
		});
		expect(result.status).toBe(401);
		expect(orderLookups()).toEqual([]);
	});

	test('an invalid one', async () => {
		const payload = orderEvent();
		delete payload.order_id;
		expect((await delivered(payload)).body.outcome).toBe('invalid_payload');
		expect(orderLookups()).toEqual([]);
	});

	test('an unselected event, and a status outside the status filter', async () => {
		const unselected = await delivered(orderEvent('order-created'), undefined, {
			parameters: {
				events: ['order-status-updated'],
				options: { includeOrderDetails: true },
			},
		});
		const filtered = await delivered(orderEvent(), undefined, {
			parameters: { orderStatuses: ['expired'], options: { includeOrderDetails: true } },
		});
		expect([unselected.body.outcome, filtered.body.outcome]).toEqual(['ignored', 'ignored']);
		expect(orderLookups()).toEqual([]);
	});

	test('a Connection Failed event, which names no order', async () => {
		const payload = {
			...fixtureJson('task-status-updated'),
			webhook_id: 'details-task-1',
			status: 'login_error',
			tracking_info: order.employers[0].id,
		};
		const result = await delivered(payload, undefined, {
			parameters: {
				events: ['order-status-updated', 'task-status-updated'],
				options: { includeOrderDetails: true },
			},
		});
		const item = emitted(result, 3);
		expect(item).not.toHaveProperty('order_details');
		expect(standIn.calls).toEqual([]);
	});
});

/** Truv's failures, each with what the user reads in order_details_error. */
const FAILURES: Array<[string, FaultKind | 'unknownOrder', RegExp]> = [
	[
		'404 for an order Truv does not know',
		'unknownOrder',
		/^Could not get the order details: Truv answered 404 Not Found: it has no order 0{32} in the environment of this credential's Access Secret$/,
	],
	[
		'500 with an HTML page',
		'status500',
		/^Could not get the order details: Truv answered HTTP 500$/,
	],
	[
		'401 for the keys',
		'status401',
		/^Could not get the order details: Truv rejected the credentials \(authentication_failed\): check the Client ID and Access Secret/,
	],
	[
		'403 for the keys',
		'status403',
		/^Could not get the order details: Truv refused access \(not_authenticated\)/,
	],
	[
		'a body that is not JSON',
		'malformedJson',
		/^Could not get the order details: Truv answered HTTP 200 with something that is not an order$/,
	],
	[
		'no answer at all',
		'hang',
		new RegExp(
			`^Could not get the order details: Truv did not answer within ${ORDER_DETAILS_TIMEOUT_MS / 1000} s$`,
		),
	],
];

describe('when Truv fails, the delivery still starts the workflow, within the bound', () => {
	test.each(FAILURES)(
		'%s: accepted, order_details null and order_details_error naming the answer',
		async (_label, failure, message) => {
			const payload =
				failure === 'unknownOrder'
					? orderEvent('order-refresh-failed', { order_id: '0'.repeat(32) })
					: orderEvent('order-refresh-failed');
			if (failure !== 'unknownOrder') {
				standIn.setFault({ method: 'GET', path: '/v1/orders/', kind: failure });
			}
			const started = Date.now();
			const result = await delivered(payload);
			const elapsed = Date.now() - started;

			expect(result.status).toBe(200);
			expect(result.body).toMatchObject({ received: true, outcome: 'accepted' });
			const item = emitted(result, OUTPUT['order-refresh-failed']);
			expect(item).toEqual({
				...payload,
				order_details: null,
				order_details_error: expect.stringMatching(message),
			});
			expect(elapsed).toBeLessThan(LOOKUP_BOUND_MS);
			if (failure === 'hang') expect(elapsed).toBeGreaterThanOrEqual(ORDER_DETAILS_TIMEOUT_MS - 50);
			// One attempt: a retry would not fit in the time Truv gives the delivery.
			expect(orderLookups()).toHaveLength(1);
		},
		LOOKUP_BOUND_MS + 5_000,
	);

	test('an unreachable Truv names the address', async () => {
		const closed = await startTruvStandIn();
		const { url } = closed;
		await closed.close();
		const payload = orderEvent();
		const result = await delivered(payload, undefined, {
			credentials: standInCredentials(standIn, { baseUrl: url }),
		});
		expect(emitted(result, OUTPUT['order-status-updated'])).toEqual({
			...payload,
			order_details: null,
			order_details_error: `Could not get the order details: could not reach Truv at ${url} (connection refused)`,
		});
	});

	test('the workflow can branch on it: a later delivery of another event succeeds again', async () => {
		standIn.setFault({ method: 'GET', path: '/v1/orders/', kind: 'status500', times: 1 });
		const failedItem = emitted(await delivered(orderEvent()), OUTPUT['order-status-updated']);
		const nextItem = emitted(await delivered(orderEvent()), OUTPUT['order-status-updated']);
		expect(failedItem.order_details_error).toBeDefined();
		expect(nextItem.order_details).toMatchObject({ id: order.id });
		expect(nextItem).not.toHaveProperty('order_details_error');
	});
});

describe('the credential on the hot path', () => {
	/** The stand-in's credential, counting how often n8n is asked to read it. */
	function countedCredential() {
		const counted = {
			reads: 0,
			data: standInCredentials(standIn) as ICredentialDataDecryptedObject,
			read: (): ICredentialDataDecryptedObject => {
				counted.reads += 1;
				return counted.data;
			},
		};
		return counted;
	}

	test.each([true, false])(
		'is read once for many deliveries with their lookups (Verify Signature %s)',
		async (verifySignature) => {
			const credential = countedCredential();
			for (let delivery = 0; delivery < 5; delivery += 1) {
				const result = await delivered(orderEvent(), undefined, {
					readCredentials: credential.read,
					parameters: { verifySignature, options: { includeOrderDetails: true } },
				});
				expect(emitted(result, OUTPUT['order-status-updated']).order_details).toMatchObject({
					id: order.id,
				});
			}
			expect(orderLookups()).toHaveLength(5);
			expect(credential.reads).toBe(1);
		},
	);

	test('keys Truv refuses are read again for the next delivery', async () => {
		const credential = countedCredential();
		standIn.setFault({ method: 'GET', path: '/v1/orders/', kind: 'status401', times: 1 });
		const refused = await delivered(orderEvent(), undefined, { readCredentials: credential.read });
		expect(emitted(refused, OUTPUT['order-status-updated']).order_details).toBeNull();
		const next = await delivered(orderEvent(), undefined, { readCredentials: credential.read });
		expect(emitted(next, OUTPUT['order-status-updated']).order_details).toMatchObject({
			id: order.id,
		});
		expect(credential.reads).toBe(2);
	});
});
