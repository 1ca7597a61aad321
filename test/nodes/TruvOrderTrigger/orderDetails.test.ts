// Include Order Details, in n8n-core's real WebhookContext against the Truv stand-in: accepted
// order deliveries carry the order as Truv answers it, and a slow or failing Truv still lets the
// delivery through, within the lookup's time bound, with the reason in order_details_error.
// Deliveries of one order share a lookup; the windows for reusing an answer are checked by moving
// Date.now(), the only clock the reuse reads.
import type { ICredentialDataDecryptedObject, IDataObject, INodeParameters } from 'n8n-workflow';

import { forgetProcessRecords } from '../../../nodes/TruvOrderTrigger/deliveryDeduplication';
import {
	FAILED_ORDER_LOOKUP_REUSE_MS,
	forgetOrderLookups,
	MAX_REMEMBERED_ORDER_LOOKUPS,
	ORDER_DETAILS_TIMEOUT_MS,
	ORDER_LOOKUP_REUSE_MS,
} from '../../../nodes/TruvOrderTrigger/orderDetails';
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
	forgetOrderLookups();
});
afterEach(() => jest.restoreAllMocks());

const realNow = Date.now.bind(Date);
/**
 * Moves Date.now() `ms` ahead of the real time for the rest of the test (the stand-in in this
 * process reads it too); timers and the requests' time bounds keep the real time.
 */
function clockAhead(ms: number): void {
	jest.restoreAllMocks();
	jest.spyOn(Date, 'now').mockImplementation(() => realNow() + ms);
}

/** Stops Date.now() for the rest of the test: however long it takes, no window passes. */
function clockStopped(): void {
	jest.restoreAllMocks();
	jest.spyOn(Date, 'now').mockReturnValue(realNow());
}

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

/** An order of its own in the stand-in's sandbox, with `employers` employers. */
function newOrder(employers = 1): TruvOrder {
	return standIn.addOrder({
		products: ['income'],
		first_name: 'Grace',
		last_name: 'Hopper',
		employers: Array.from({ length: employers }, (_, index) => ({
			company_name: `Employer ${index + 1}`,
		})),
	});
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

	test(`the workflow can branch on it: a delivery ${FAILED_ORDER_LOOKUP_REUSE_MS / 1000} s later succeeds again`, async () => {
		standIn.setFault({ method: 'GET', path: '/v1/orders/', kind: 'status500', times: 1 });
		const failedItem = emitted(await delivered(orderEvent()), OUTPUT['order-status-updated']);
		clockAhead(FAILED_ORDER_LOOKUP_REUSE_MS);
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
			// Five orders, so that each delivery has a lookup of its own.
			for (const { id } of Array.from({ length: 5 }, () => newOrder())) {
				const result = await delivered(orderEvent(undefined, { order_id: id }), undefined, {
					readCredentials: credential.read,
					parameters: { verifySignature, options: { includeOrderDetails: true } },
				});
				expect(emitted(result, OUTPUT['order-status-updated']).order_details).toMatchObject({ id });
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

describe('deliveries of one order share its lookup, so that a burst asks Truv once per order', () => {
	/** Deliveries of `order` to the trigger at once, one per employer as Truv sends them. */
	async function togetherPerEmployer(
		{ id, employers }: TruvOrder,
		extra: Partial<DeliveryRequest> = {},
	): Promise<IDataObject[]> {
		const results = await Promise.all(
			employers.map(
				async (employer) =>
					await delivered(
						orderEvent(undefined, { order_id: id, employer_id: employer.id }),
						undefined,
						extra,
					),
			),
		);
		return results.map((result) => emitted(result, OUTPUT['order-status-updated']));
	}
	const lookupsOf = (orderId: string) =>
		orderLookups().filter((call) => call.path === `/v1/orders/${orderId}/`);

	test('deliveries that arrive together wait for one lookup, and each gets the order as a copy of its own', async () => {
		const fourEmployers = newOrder(4);
		const items = await togetherPerEmployer(fourEmployers);
		const answered = standIn.orders().find(({ id }) => id === fourEmployers.id);
		expect(items.map((item) => item.order_details)).toEqual(Array(4).fill(answered));
		expect(lookupsOf(fourEmployers.id)).toHaveLength(1);
		// A node that changes its item in place changes no other execution's.
		expect(items[0].order_details).not.toBe(items[1].order_details);
	});

	test(`a delivery within ${ORDER_LOOKUP_REUSE_MS / 1000} s of the answer reuses it; one after asks Truv again`, async () => {
		const { id } = newOrder(2);
		const first = emitted(
			await delivered(orderEvent(undefined, { order_id: id })),
			OUTPUT['order-status-updated'],
		);
		expect(first.order_details).toMatchObject({ id, completed_at: null });
		// Truv's order moves on meanwhile: a reused answer still shows it as it was.
		standIn.setSuborderStatus(id, 'completed');

		clockAhead(ORDER_LOOKUP_REUSE_MS - 1_000);
		const reused = emitted(
			await delivered(orderEvent(undefined, { order_id: id })),
			OUTPUT['order-status-updated'],
		);
		expect(reused.order_details).toEqual(first.order_details);
		expect(lookupsOf(id)).toHaveLength(1);

		clockAhead(ORDER_LOOKUP_REUSE_MS);
		const asked = emitted(
			await delivered(orderEvent(undefined, { order_id: id })),
			OUTPUT['order-status-updated'],
		);
		expect(asked.order_details).toMatchObject({ id, completed_at: expect.any(String) });
		expect(lookupsOf(id)).toHaveLength(2);
	});

	test('deliveries of other orders, or for other credentials, have lookups of their own', async () => {
		const [first, second] = [newOrder(), newOrder()];
		const sandboxSecret = standIn.account.secrets.sandbox!;
		const devSecret = standIn.account.secrets.dev!;
		/** A delivery of `orderId` to a trigger with the credential `credentialId`, its keys `secret`. */
		const deliveredFor = async (orderId: string, credentialId: string, secret = sandboxSecret) => {
			const body = bytes(orderEvent(undefined, { order_id: orderId }));
			const result = await deliver({
				rawBody: body,
				headers: signedHeaders(body, secret),
				credentials: standInCredentials(standIn, { accessSecret: secret }),
				credentialId,
				parameters: { options: { includeOrderDetails: true } },
			});
			return emitted(result, OUTPUT['order-status-updated']);
		};
		const [firstAgain, firstOnce, secondOrder, otherCredential] = await Promise.all([
			deliveredFor(first.id, 'cred-1'),
			deliveredFor(first.id, 'cred-1'),
			deliveredFor(second.id, 'cred-1'),
			deliveredFor(first.id, 'cred-2'),
		]);
		for (const item of [firstAgain, firstOnce, otherCredential]) {
			expect(item.order_details).toMatchObject({ id: first.id });
		}
		expect(secondOrder.order_details).toMatchObject({ id: second.id });

		// The credential now holds the account's dev secret, read again as after a change: the dev
		// environment, where the sandbox's order does not exist, gets Truv's answer for it.
		forgetRememberedCredentials();
		expect(await deliveredFor(first.id, 'cred-1', devSecret)).toMatchObject({
			order_details: null,
			order_details_error: expect.stringMatching(/404 Not Found: it has no order/),
		});
		expect(
			orderLookups()
				.map(({ path, env }) => `${env} ${path}`)
				.sort(),
		).toEqual(
			[
				`sandbox /v1/orders/${first.id}/`,
				`sandbox /v1/orders/${first.id}/`,
				`sandbox /v1/orders/${second.id}/`,
				`dev /v1/orders/${first.id}/`,
			].sort(),
		);
	});

	test(`a failed lookup is shared by the deliveries waiting for it and reused for ${FAILED_ORDER_LOOKUP_REUSE_MS / 1000} s only`, async () => {
		const fourEmployers = newOrder(4);
		const { id } = fourEmployers;
		standIn.setFault({ method: 'GET', path: `/v1/orders/${id}/`, kind: 'status500', times: 1 });
		const failedTogether = await togetherPerEmployer(fourEmployers);
		expect(failedTogether).toEqual(
			Array(4).fill(
				expect.objectContaining({
					order_details: null,
					order_details_error: 'Could not get the order details: Truv answered HTTP 500',
				}),
			),
		);
		expect(lookupsOf(id)).toHaveLength(1);

		clockAhead(FAILED_ORDER_LOOKUP_REUSE_MS - 500);
		const soonAfter = emitted(
			await delivered(orderEvent(undefined, { order_id: id })),
			OUTPUT['order-status-updated'],
		);
		expect(soonAfter.order_details_error).toBe(failedTogether[0].order_details_error);
		expect(lookupsOf(id)).toHaveLength(1);

		// Well inside the window a success would be reused for, the failure is not.
		expect(FAILED_ORDER_LOOKUP_REUSE_MS).toBeLessThan(ORDER_LOOKUP_REUSE_MS);
		clockAhead(FAILED_ORDER_LOOKUP_REUSE_MS);
		const later = emitted(
			await delivered(orderEvent(undefined, { order_id: id })),
			OUTPUT['order-status-updated'],
		);
		expect(later.order_details).toMatchObject({ id });
		expect(later).not.toHaveProperty('order_details_error');
		expect(lookupsOf(id)).toHaveLength(2);
	});

	test("over Truv's rate limit, an order not looked up yet starts its deliveries at once with order_details_error naming the limit (one request refused); an order looked up within the window still gets its details", async () => {
		// One request a minute left on the Access Secret: the first order's lookup takes it.
		standIn.setRateLimit({ requests: 1 });
		try {
			const looked = newOrder(2);
			const notYet = newOrder(3);
			const [before] = await togetherPerEmployer(looked);
			expect(before.order_details).toMatchObject({ id: looked.id });

			const started = Date.now();
			const [lookedAgain, limited] = await Promise.all([
				togetherPerEmployer(looked),
				togetherPerEmployer(notYet),
			]);
			const elapsed = Date.now() - started;
			for (const item of lookedAgain) expect(item.order_details).toEqual(before.order_details);
			expect(limited).toEqual(
				Array(3).fill(
					expect.objectContaining({
						order_details: null,
						order_details_error: expect.stringMatching(
							/^Could not get the order details: Truv's rate limit was reached \(300 requests a minute per Access Secret\): Request was throttled\. Expected available in \d+ seconds\.$/,
						),
					}),
				),
			);
			// Truv asked for most of a minute: the deliveries did not wait for it.
			expect(elapsed).toBeLessThan(LOOKUP_BOUND_MS);
			expect(orderLookups().map(({ path, status }) => `${status} ${path}`)).toEqual([
				`200 /v1/orders/${looked.id}/`,
				`429 /v1/orders/${notYet.id}/`,
			]);
		} finally {
			standIn.setRateLimit({});
		}
	});

	test(`remembers at most ${MAX_REMEMBERED_ORDER_LOOKUPS} lookups: past that, the oldest is asked for again even within the window`, async () => {
		clockStopped();
		standIn.setRateLimit({ requests: 100_000 });
		try {
			const oldest = newOrder();
			const deliverOf = async ({ id }: TruvOrder) =>
				emitted(
					await delivered(orderEvent(undefined, { order_id: id })),
					OUTPUT['order-status-updated'],
				);
			await deliverOf(oldest);
			await deliverOf(oldest);
			expect(lookupsOf(oldest.id)).toHaveLength(1);

			const others = Array.from({ length: MAX_REMEMBERED_ORDER_LOOKUPS }, () => newOrder());
			for (let start = 0; start < others.length; start += 50) {
				await Promise.all(others.slice(start, start + 50).map(deliverOf));
			}
			const newest = others[others.length - 1];
			expect((await deliverOf(newest)).order_details).toMatchObject({ id: newest.id });
			expect(lookupsOf(newest.id)).toHaveLength(1);
			expect((await deliverOf(oldest)).order_details).toMatchObject({ id: oldest.id });
			expect(lookupsOf(oldest.id)).toHaveLength(2);
		} finally {
			standIn.setRateLimit({});
		}
	}, 60_000);
});
