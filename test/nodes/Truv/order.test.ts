import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import {
	startTruvStandIn,
	type TruvOrder,
	type TruvStandIn,
} from '../../../dev/truv-stand-in/truvStandIn';
import { truvActionNode } from '../../../dev/n8n-core/n8nContexts';
import {
	runTruvNode,
	standInCredentials,
	truvNodeError,
	truvRequests,
} from '../../helpers/truvNode';

let standIn: TruvStandIn;

beforeAll(async () => {
	standIn = await startTruvStandIn({ pageSize: 2 });
});
afterAll(async () => await standIn.close());
beforeEach(() => {
	standIn.clearFaults();
	standIn.resetCalls();
});

const APPLICANT = {
	products: ['income'],
	first_name: 'Ada',
	last_name: 'Lovelace',
	email: 'ada@example.com',
	order_number: 'loan-42',
	employers: [{ company_name: 'Acme', suborder_number: 's-1' }],
};

function seedOrder(fields: Record<string, unknown> = {}): TruvOrder {
	const order = standIn.addOrder({ ...APPLICANT, ...fields });
	standIn.resetCalls();
	return order;
}

const SIMPLIFIED_KEYS = [
	'id',
	'order_number',
	'first_name',
	'last_name',
	'email',
	'products',
	'status',
	'is_final',
	'is_expired',
	'share_url',
	'created_at',
	'updated_at',
	'completed_at',
	'canceled_at',
	'expired_at',
	'employers',
];

describe('Order: Create', () => {
	const create = (fields: Record<string, unknown> = {}) => ({
		resource: 'order',
		operation: 'create',
		products: ['income', 'assets'],
		firstName: 'Ada',
		lastName: 'Lovelace',
		...fields,
	});

	test('sends Truv the documented fields and outputs the simplified order', async () => {
		const output = await runTruvNode(
			standIn,
			create({
				additionalFields: {
					email: 'ada@example.com',
					phone: '+15555550100',
					ssn: '123456789',
					orderNumber: 'loan-42',
					externalUserId: 'crm-7',
					templateId: 'tpl-1',
					customField: 'branch 3',
					employers: {
						employer: [
							{
								companyName: 'Acme',
								suborderNumber: 's-1',
								startDate: '2020-01-31T00:00:00',
								endDate: '2023-06-30T00:00:00',
								dataSources: ['payroll'],
							},
							{ companyMappingId: 'map-9', companyName: '' },
							{ companyName: ' ', dataSources: [] },
						],
					},
					financialInstitutions: {
						financialInstitution: [
							{ id: 'fi-1', name: 'First Bank', suborderNumber: 'b-1' },
							{ id: '', name: '' },
						],
					},
				},
			}),
		);

		expect(standIn.calls).toHaveLength(1);
		expect(standIn.calls[0]).toMatchObject({ method: 'POST', path: '/v1/orders/', status: 201 });
		expect(standIn.calls[0].body).toEqual({
			products: ['income', 'assets'],
			first_name: 'Ada',
			last_name: 'Lovelace',
			email: 'ada@example.com',
			phone: '+15555550100',
			ssn: '123456789',
			order_number: 'loan-42',
			external_user_id: 'crm-7',
			template_id: 'tpl-1',
			custom_field: 'branch 3',
			employers: [
				{
					company_name: 'Acme',
					suborder_number: 's-1',
					start_date: '2020-01-31',
					end_date: '2023-06-30',
					data_sources: ['payroll'],
				},
				{ company_mapping_id: 'map-9' },
			],
			financial_institutions: [{ id: 'fi-1', name: 'First Bank', suborder_number: 'b-1' }],
		});

		const [stored] = standIn.orders();
		expect(output).toHaveLength(1);
		expect(output[0].pairedItem).toEqual({ item: 0 });
		expect(Object.keys(output[0].json)).toEqual([...SIMPLIFIED_KEYS, 'financial_accounts']);
		expect(output[0].json).toMatchObject({
			id: stored.id,
			order_number: 'loan-42',
			status: 'pending',
			is_final: false,
			share_url: stored.share_url,
			employers: [
				{
					id: stored.employers[0].id,
					company_name: 'Acme',
					status: 'pending',
					suborder_number: 's-1',
				},
				{
					id: stored.employers[1].id,
					company_name: null,
					status: 'pending',
					suborder_number: null,
				},
			],
			financial_accounts: [
				{
					id: stored.financial_accounts[0].id,
					name: 'First Bank',
					status: 'pending',
					suborder_number: 'b-1',
				},
			],
		});
		expect(output[0].json).not.toHaveProperty('bridge_token');
	});

	test('with Simplify off, outputs the whole order Truv answered', async () => {
		const output = await runTruvNode(standIn, create({ simplify: false }));
		const [stored] = standIn.orders();
		expect(output.map((item) => item.json)).toEqual([stored]);
		expect(standIn.calls[0].body).toEqual({
			products: ['income', 'assets'],
			first_name: 'Ada',
			last_name: 'Lovelace',
		});
	});

	test("Truv's validation message reaches the user as a NodeApiError", async () => {
		const error = await truvNodeError(
			standIn,
			create({ additionalFields: { email: 'not-an-email' } }),
		);
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe(
			'Truv rejected the request (incorrect_parameters): email: Enter a valid email address.',
		);
		expect(error.httpCode).toBe('400');
	});

	test('a date that is no date stops before calling Truv', async () => {
		const error = await truvNodeError(
			standIn,
			create({ additionalFields: { employers: { employer: [{ startDate: 'last spring' }] } } }),
		);
		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error.message).toBe('Start Date of employer 1 is not a date: last spring');
		expect(standIn.calls).toEqual([]);
	});

	test('no product chosen stops before calling Truv', async () => {
		const error = await truvNodeError(standIn, create({ products: [] }));
		expect(error.message).toBe('Choose at least one product');
		expect(standIn.calls).toEqual([]);
	});
});

describe('Order: Get', () => {
	test('outputs one simplified order per input item, each paired with its item', async () => {
		const first = seedOrder({ first_name: 'Ada' });
		const second = seedOrder({ first_name: 'Grace' });
		const output = await runTruvNode(
			standIn,
			{ resource: 'order', operation: 'get', orderId: '={{ $json.truvOrderId }}' },
			{ inputItems: [{ json: { truvOrderId: first.id } }, { json: { truvOrderId: second.id } }] },
		);
		expect(output.map((item) => [item.json.id, item.json.first_name, item.pairedItem])).toEqual([
			[first.id, 'Ada', { item: 0 }],
			[second.id, 'Grace', { item: 1 }],
		]);
		expect(truvRequests(standIn)).toEqual([
			`GET /v1/orders/${first.id}/`,
			`GET /v1/orders/${second.id}/`,
		]);
	});

	test('Simplify works out the status from the employers; off, the order is whole', async () => {
		const order = seedOrder({
			employers: [{ company_name: 'Acme' }, { company_name: 'Globex' }],
		});
		standIn.setSuborderStatus(order.id, 'completed', order.employers[0].id);
		standIn.setSuborderStatus(order.id, 'no_data', order.employers[1].id);
		const parameters = { resource: 'order', operation: 'get', orderId: order.id };

		const [simplified] = await runTruvNode(standIn, parameters);
		expect(simplified.json).toMatchObject({
			status: 'completed',
			is_final: true,
			completed_at: expect.any(String),
			employers: [
				{ company_name: 'Acme', status: 'completed' },
				{ company_name: 'Globex', status: 'no_data' },
			],
		});
		const [whole] = await runTruvNode(standIn, { ...parameters, simplify: false });
		expect(whole.json).toEqual(standIn.orders().find((candidate) => candidate.id === order.id));
		expect(whole.json).toHaveProperty('bridge_token');
	});

	test("an unknown order: NodeApiError with Truv's 404 message", async () => {
		const error = await truvNodeError(standIn, {
			resource: 'order',
			operation: 'get',
			orderId: 'no-such-order',
		});
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe('Truv answered 404 Not Found: Not Found.');
		expect(error.description).toBe(
			'No order with ID no-such-order in this Truv environment (GET /v1/orders/no-such-order/ answered HTTP 404)',
		);
		expect(error.httpCode).toBe('404');
	});

	test('with Continue on error, a failing item becomes an error item paired with it', async () => {
		const order = seedOrder();
		const output = await runTruvNode(
			standIn,
			{ resource: 'order', operation: 'get', orderId: '={{ $json.id }}' },
			{
				onError: 'continueRegularOutput',
				inputItems: [
					{ json: { id: order.id } },
					{ json: { id: 'gone' } },
					{ json: { id: order.id } },
				],
			},
		);
		expect(output).toEqual([
			expect.objectContaining({
				json: expect.objectContaining({ id: order.id }),
				pairedItem: { item: 0 },
			}),
			{ json: { error: 'Truv answered 404 Not Found: Not Found.' }, pairedItem: { item: 1 } },
			expect.objectContaining({
				json: expect.objectContaining({ id: order.id }),
				pairedItem: { item: 2 },
			}),
		]);
	});

	test('an empty Order ID is refused without a call', async () => {
		const error = await truvNodeError(standIn, {
			resource: 'order',
			operation: 'get',
			orderId: ' ',
		});
		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error.message).toBe('Order ID is empty');
		expect(standIn.calls).toEqual([]);
	});

	test.each([
		['status500', /^Truv answered HTTP 500/],
		['status401', /check the Client ID and Access Secret/],
		['status403', /lack access to this part of Truv's API/],
		['malformedJson', /not JSON/],
	] as const)('Truv answering %s is reported', async (kind, message) => {
		const order = seedOrder();
		standIn.setFault({ path: '/v1/orders/', kind });
		const error = await truvNodeError(standIn, {
			resource: 'order',
			operation: 'get',
			orderId: order.id,
		});
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toMatch(message);
	});
});

describe('Order: Get Many', () => {
	// A stand-in of its own, holding exactly these five orders.
	let lists: TruvStandIn;
	let created: TruvOrder[];

	beforeAll(async () => {
		lists = await startTruvStandIn({ pageSize: 2 });
		created = ['A', 'B', 'C', 'D', 'E'].map((name) =>
			lists.addOrder({ ...APPLICANT, first_name: name }),
		);
	});
	afterAll(async () => await lists.close());
	beforeEach(() => lists.resetCalls());

	test('Return All follows next across every page, newest first', async () => {
		const output = await runTruvNode(lists, {
			resource: 'order',
			operation: 'getAll',
			returnAll: true,
		});
		expect(output.map((item) => item.json.first_name)).toEqual(['E', 'D', 'C', 'B', 'A']);
		expect(output.every((item) => (item.pairedItem as { item: number }).item === 0)).toBe(true);
		expect(truvRequests(lists)).toEqual([
			'GET /v1/orders/',
			'GET /v1/orders/?page=2',
			'GET /v1/orders/?page=3',
		]);
	});

	test('an order created while the pages are read: the one pushed onto the next page is output once, the new one is missed', async () => {
		const shifting = await startTruvStandIn({ pageSize: 2 });
		try {
			const [a, b, c] = ['A', 'B', 'C'].map((name) =>
				shifting.addOrder({ ...APPLICANT, first_name: name }),
			);
			// Between page 1 and page 2, as another workflow creating an order would.
			const server = shifting as unknown as {
				handleApiRequest(request: { url: URL }, response: unknown): void;
			};
			const serve = server.handleApiRequest.bind(shifting);
			let created: TruvOrder | undefined;
			jest.spyOn(server, 'handleApiRequest').mockImplementation((request, response) => {
				if (!created && request.url.searchParams.get('page') === '2') {
					created = shifting.addOrder({ ...APPLICANT, first_name: 'New' });
				}
				serve(request, response);
			});
			const output = await runTruvNode(shifting, {
				resource: 'order',
				operation: 'getAll',
				returnAll: true,
			});
			// Page 1 was C, B; page 2, read after New pushed every order one place on, is B, A.
			expect(truvRequests(shifting)).toEqual(['GET /v1/orders/', 'GET /v1/orders/?page=2']);
			expect(output.map((item) => item.json.id)).toEqual([c.id, b.id, a.id]);
			expect(created).toBeDefined();
		} finally {
			await shifting.close();
		}
	});

	test('Return All says what paging by position cannot promise', () => {
		const returnAll = truvActionNode.description.properties.find(
			(property) =>
				property.name === 'returnAll' &&
				property.displayOptions?.show?.resource?.[0] === 'order' &&
				property.displayOptions?.show?.operation?.includes('getAll'),
		);
		expect(returnAll?.description).toMatch(/each order is returned once/);
		expect(returnAll?.description).toMatch(/created while the pages are read .* is not returned/);
	});

	test('Limit stops reading pages once it has enough', async () => {
		const output = await runTruvNode(lists, {
			resource: 'order',
			operation: 'getAll',
			limit: 3,
		});
		expect(output.map((item) => item.json.id)).toEqual([
			created[4].id,
			created[3].id,
			created[2].id,
		]);
		expect(truvRequests(lists)).toEqual(['GET /v1/orders/', 'GET /v1/orders/?page=2']);
	});

	test('Simplify off outputs the whole orders', async () => {
		const output = await runTruvNode(lists, {
			resource: 'order',
			operation: 'getAll',
			simplify: false,
		});
		expect(output.map((item) => item.json)).toEqual(lists.orders());
	});

	test('orders of another environment are not listed', async () => {
		const output = await runTruvNode(
			standIn,
			{ resource: 'order', operation: 'getAll', returnAll: true },
			{ credentials: standInCredentials(lists, { accessSecret: lists.account.secrets.prod }) },
		);
		expect(output).toEqual([]);
	});
});

describe('Order: Refresh', () => {
	function connectedOrder(): TruvOrder {
		const order = seedOrder({
			products: ['income', 'employment'],
			employers: [
				{ company_name: 'Acme', suborder_number: 's-1' },
				{ company_name: 'Globex', suborder_number: 's-2' },
			],
		});
		standIn.setSuborderStatus(order.id, 'completed');
		standIn.resetCalls();
		return order;
	}

	test('calls the documented POST /v1/orders/{id}/ with one product; with Simplify off, outputs the whole new order', async () => {
		const order = connectedOrder();
		const output = await runTruvNode(standIn, {
			resource: 'order',
			operation: 'refresh',
			orderId: order.id,
			product: 'employment',
			simplify: false,
		});
		expect(standIn.calls.map((call) => [call.method, call.path, call.body])).toEqual([
			['POST', `/v1/orders/${order.id}/`, { products: ['employment'] }],
		]);
		expect(output).toHaveLength(1);
		expect(output[0].json).toMatchObject({
			order_number: 'loan-42',
			products: ['employment'],
			initial_order: order.id,
		});
		expect(output[0].json.id).not.toBe(order.id);
		expect(output[0].json).toEqual(
			standIn.orders().find((candidate) => candidate.id === output[0].json.id),
		);
		expect(output[0].json).toHaveProperty('bridge_token');
	});

	test('Simplify, on by default, outputs the new order simplified, without its bridge token', async () => {
		const order = connectedOrder();
		const [simplified] = await runTruvNode(standIn, {
			resource: 'order',
			operation: 'refresh',
			orderId: order.id,
			product: 'income',
		});
		const newOrder = standIn.orders().find((candidate) => candidate.id === simplified.json.id);
		expect(newOrder).toBeDefined();
		expect(newOrder!.initial_order).toBe(order.id);
		expect(Object.keys(simplified.json)).toEqual(SIMPLIFIED_KEYS);
		expect(simplified.json).toMatchObject({
			id: newOrder!.id,
			order_number: 'loan-42',
			first_name: 'Ada',
			products: ['income'],
			status: 'pending',
			is_final: false,
			share_url: newOrder!.share_url,
			employers: [
				{ company_name: 'Acme', status: 'pending', suborder_number: 's-1' },
				{ company_name: 'Globex', status: 'pending', suborder_number: 's-2' },
			],
		});
		expect(simplified.json).not.toHaveProperty('bridge_token');
		expect(simplified.json).not.toHaveProperty('initial_order');
	});

	test('Employer IDs refresh only those employers', async () => {
		const order = connectedOrder();
		const [refreshed] = await runTruvNode(standIn, {
			resource: 'order',
			operation: 'refresh',
			orderId: order.id,
			product: 'income',
			additionalFields: { employerIds: ` ${order.employers[1].id} ,` },
		});
		expect(standIn.calls[0].body).toEqual({
			products: ['income'],
			employers: [{ id: order.employers[1].id }],
		});
		expect(
			(refreshed.json.employers as Array<{ company_name: string }>).map((e) => e.company_name),
		).toEqual(['Globex']);
	});

	test("Truv's limit of three refreshes a day is reported in Truv's words", async () => {
		const order = connectedOrder();
		const parameters = {
			resource: 'order',
			operation: 'refresh',
			orderId: order.id,
			product: 'income',
		};
		for (let count = 0; count < 3; count++) await runTruvNode(standIn, parameters);
		const error = await truvNodeError(standIn, parameters);
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe(
			'Truv rejected the request (incorrect_parameters): The order was refreshed 3 times in the last 24 hours, the most Truv allows.',
		);
	});
});

describe('Order: Cancel and Get Events', () => {
	test('Cancel calls POST /v1/orders/{id}/cancel/ and outputs the canceled order', async () => {
		const order = seedOrder();
		const [canceled] = await runTruvNode(standIn, {
			resource: 'order',
			operation: 'cancel',
			orderId: order.id,
		});
		expect(truvRequests(standIn)).toEqual([`POST /v1/orders/${order.id}/cancel/`]);
		expect(canceled.json).toMatchObject({ id: order.id, canceled_at: expect.any(String) });
		const stored = standIn.orders().find((candidate) => candidate.id === order.id);
		expect(stored?.employers[0].status).toBe('canceled');
	});

	test.each(['noContent', 'emptyObject'] as const)(
		'Cancel answered without the order (%s) outputs the order ID and canceled: true',
		async (kind) => {
			const order = seedOrder();
			standIn.setFault({ method: 'POST', path: `/v1/orders/${order.id}/cancel/`, kind });
			const output = await runTruvNode(standIn, {
				resource: 'order',
				operation: 'cancel',
				orderId: ` ${order.id} `,
			});
			expect(output).toEqual([{ json: { id: order.id, canceled: true }, pairedItem: { item: 0 } }]);
			expect(standIn.calls.map((call) => [call.path, call.status])).toEqual([
				[`/v1/orders/${order.id}/cancel/`, kind === 'noContent' ? 204 : 200],
			]);
			expect(standIn.orders().find((candidate) => candidate.id === order.id)?.canceled_at).toEqual(
				expect.any(String),
			);
		},
	);

	test('Get Events outputs the log across pages, or up to Limit', async () => {
		const order = seedOrder();
		standIn.setSuborderStatus(order.id, 'sent');
		standIn.setSuborderStatus(order.id, 'completed');
		const parameters = { resource: 'order', operation: 'getEvents', orderId: order.id };

		const all = await runTruvNode(standIn, { ...parameters, returnAll: true });
		expect(all.map((item) => item.json.type)).toEqual([
			'order_created',
			'suborder_sent',
			'suborder_completed',
		]);
		expect(all.every((item) => item.json.order_id === order.id)).toBe(true);
		standIn.resetCalls();
		const one = await runTruvNode(standIn, { ...parameters, limit: 1 });
		expect(one.map((item) => item.json.type)).toEqual(['order_created']);
		expect(truvRequests(standIn)).toEqual([`GET /v1/orders/${order.id}/events/`]);
	});

	test('Cancel of an unknown order names it', async () => {
		const error = await truvNodeError(standIn, {
			resource: 'order',
			operation: 'cancel',
			orderId: 'missing',
		});
		expect(error.description).toMatch(/^No order with ID missing in this Truv environment/);
	});
});
