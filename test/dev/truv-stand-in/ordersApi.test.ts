import {
	REFRESHES_PER_DAY,
	startTruvStandIn,
	type TruvEnvironment,
	type TruvOrder,
	type TruvStandIn,
} from '../../../dev/truv-stand-in/truvStandIn';

let standIn: TruvStandIn;

beforeEach(async () => {
	standIn = await startTruvStandIn({ pageSize: 2 });
});
afterEach(async () => await standIn.close());

interface ApiAnswer {
	status: number;
	text: string;
	json: any;
	headers: Headers;
}

async function callApi(
	method: string,
	pathOrUrl: string,
	options: { body?: unknown; env?: TruvEnvironment; authenticated?: boolean } = {},
): Promise<ApiAnswer> {
	const body = options.body === undefined ? undefined : JSON.stringify(options.body);
	const response = await fetch(pathOrUrl.startsWith('http') ? pathOrUrl : standIn.url + pathOrUrl, {
		method,
		headers: {
			...(options.authenticated === false ? {} : standIn.authHeaders(options.env)),
			...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
		},
		body,
	});
	const text = await response.text();
	let json: unknown;
	try {
		json = text === '' ? undefined : JSON.parse(text);
	} catch {
		json = undefined;
	}
	return { status: response.status, text, json, headers: response.headers };
}

function incorrectParameters(invalidParams: Array<{ field: string; message: string }>) {
	return {
		error: {
			code: 'incorrect_parameters',
			message: 'Incorrect parameters',
			extra: { 'invalid-params': invalidParams },
		},
	};
}

const APPLICANT = {
	products: ['income'],
	first_name: 'Ada',
	last_name: 'Lovelace',
	email: 'ada@example.com',
	order_number: 'loan-42',
};

async function createOrder(body: Record<string, unknown> = APPLICANT): Promise<TruvOrder> {
	const answer = await callApi('POST', '/v1/orders/', { body });
	expect(answer.status).toBe(201);
	return answer.json as TruvOrder;
}

const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const TRUV_ID = /^[0-9a-f]{32}$/;

describe('create', () => {
	it('answers the order with its share URL, suborders per employer and institution, no SSN', async () => {
		const order = await createOrder({
			...APPLICANT,
			products: ['income', 'assets'],
			phone: '+15555550100',
			ssn: '123456789',
			external_user_id: 'crm-7',
			template_id: 'tpl-1',
			custom_field: 'branch 3',
			employers: [
				{ company_name: 'Acme', suborder_number: 'acme-1', start_date: '2020-01-31' },
				{ company_mapping_id: 'map-9', data_sources: ['payroll', 'docs'] },
			],
			financial_institutions: [{ id: 'fi-1', name: 'First Bank', suborder_number: 'bank-1' }],
		});
		expect(order).toMatchObject({
			id: expect.stringMatching(TRUV_ID),
			products: ['income', 'assets'],
			order_number: 'loan-42',
			first_name: 'Ada',
			last_name: 'Lovelace',
			email: 'ada@example.com',
			phone: '+15555550100',
			external_user_id: 'crm-7',
			template_id: 'tpl-1',
			custom_field: 'branch 3',
			user_id: expect.stringMatching(TRUV_ID),
			share_url: expect.stringContaining(standIn.url),
			short_share_url: expect.any(String),
			bridge_token: expect.any(String),
			created_at: expect.stringMatching(TIMESTAMP),
			canceled_at: null,
			completed_at: null,
			expired_at: expect.stringMatching(TIMESTAMP),
			is_expired: false,
			initial_order: null,
			refresh_order: null,
		});
		expect(order).not.toHaveProperty('ssn');
		expect(order.employers).toEqual([
			expect.objectContaining({
				id: expect.stringMatching(TRUV_ID),
				status: 'pending',
				company_name: 'Acme',
				company_mapping_id: null,
				suborder_number: 'acme-1',
				start_date: '2020-01-31',
				link_id: null,
			}),
			expect.objectContaining({
				company_name: null,
				company_mapping_id: 'map-9',
				data_sources: ['payroll', 'docs'],
			}),
		]);
		expect(order.financial_accounts).toEqual([
			expect.objectContaining({
				status: 'pending',
				financial_institution_id: 'fi-1',
				name: 'First Bank',
				suborder_number: 'bank-1',
			}),
		]);
		expect(Date.parse(order.expired_at)).toBeGreaterThan(Date.parse(order.created_at));
		expect(standIn.orders()).toEqual([order]);
	});

	it.each([
		[
			'an empty body',
			{},
			[
				{ field: 'products', message: 'This field is required.' },
				{ field: 'first_name', message: 'This field is required.' },
				{ field: 'last_name', message: 'This field is required.' },
			],
		],
		[
			'an unknown product, a blank name and a bad email',
			{ products: ['income', 'credit'], first_name: ' ', last_name: 'L', email: 'ada' },
			[
				{ field: 'products', message: '"credit" is not a valid choice.' },
				{ field: 'first_name', message: 'This field may not be blank.' },
				{ field: 'email', message: 'Enter a valid email address.' },
			],
		],
		[
			'products that are not a list',
			{ products: 'income', first_name: 'A', last_name: 'L' },
			[{ field: 'products', message: 'Expected a list of items but got type "str".' }],
		],
		[
			'an empty product list',
			{ products: [], first_name: 'A', last_name: 'L' },
			[{ field: 'products', message: 'This list may not be empty.' }],
		],
		[
			'employers with a wrong date, a wrong data source and a string in the list',
			{
				...APPLICANT,
				employers: [{ company_name: 'Acme', end_date: '31/01/2020', data_sources: ['fax'] }, 'x'],
			},
			[
				{
					field: 'employers.0.end_date',
					message: 'Date has wrong format. Use one of these formats instead: YYYY-MM-DD.',
				},
				{ field: 'employers.0.data_sources', message: '"fax" is not a valid choice.' },
				{ field: 'employers.1', message: 'Invalid data. Expected a dictionary, but got str.' },
			],
		],
		[
			'a JSON array',
			[],
			[
				{
					field: 'non_field_errors',
					message: 'Invalid data. Expected a dictionary, but got list.',
				},
			],
		],
	])('answers 400 incorrect_parameters for %s', async (_case, body, invalidParams) => {
		const answer = await callApi('POST', '/v1/orders/', { body });
		expect(answer.status).toBe(400);
		expect(answer.json).toEqual(incorrectParameters(invalidParams));
		expect(standIn.orders()).toEqual([]);
	});
});

describe('retrieve and list', () => {
	it('retrieves an order; an unknown id, another environment or no keys do not', async () => {
		const order = await createOrder();
		expect(await callApi('GET', `/v1/orders/${order.id}/`)).toMatchObject({
			status: 200,
			json: order,
		});
		for (const answer of [
			await callApi('GET', '/v1/orders/0000/'),
			await callApi('GET', `/v1/orders/${order.id}/`, { env: 'prod' }),
		]) {
			expect(answer).toMatchObject({ status: 404, json: { detail: 'Not Found.' } });
		}
		expect((await callApi('GET', `/v1/orders/${order.id}/`, { authenticated: false })).status).toBe(
			401,
		);
	});

	it('lists the environment’s orders newest first, with page links', async () => {
		const created: TruvOrder[] = [];
		for (const name of ['A', 'B', 'C'])
			created.push(await createOrder({ ...APPLICANT, first_name: name }));
		await callApi('POST', '/v1/orders/', { body: APPLICANT, env: 'dev' });

		const first = await callApi('GET', '/v1/orders/');
		expect(first.json).toEqual({
			count: 3,
			next: `${standIn.url}/v1/orders/?page=2`,
			previous: null,
			results: [created[2], created[1]],
		});
		const second = await callApi('GET', first.json.next);
		expect(second.json).toMatchObject({ next: null, results: [created[0]] });
		expect(await callApi('GET', '/v1/orders/?page=3')).toMatchObject({
			status: 404,
			json: { detail: 'Invalid page.' },
		});
	});

	it('marks an open order past its expiry as expired', async () => {
		const old = standIn.addOrder({ ...APPLICANT, created_at: '2020-01-01T00:00:00.000000Z' });
		expect(old.is_expired).toBe(true);
		expect((await callApi('GET', `/v1/orders/${old.id}/`)).json.is_expired).toBe(true);
	});
});

describe('cancel', () => {
	it('cancels the open suborders, keeps the final ones, and a second cancel changes nothing', async () => {
		const order = await createOrder({
			...APPLICANT,
			employers: [{ company_name: 'Acme' }, { company_name: 'Globex' }],
		});
		standIn.setSuborderStatus(order.id, 'completed', order.employers[0].id);

		const canceled = await callApi('POST', `/v1/orders/${order.id}/cancel/`);
		expect(canceled.status).toBe(200);
		expect(canceled.json.canceled_at).toMatch(TIMESTAMP);
		expect(canceled.json.employers.map((employer: any) => employer.status)).toEqual([
			'completed',
			'canceled',
		]);
		const again = await callApi('POST', `/v1/orders/${order.id}/cancel/`);
		expect(again.json.canceled_at).toBe(canceled.json.canceled_at);
		expect((await callApi('POST', '/v1/orders/0000/cancel/')).status).toBe(404);
		expect((await callApi('GET', `/v1/orders/${order.id}/cancel/`)).status).toBe(405);
	});
});

describe('refresh', () => {
	async function connectedOrder(): Promise<TruvOrder> {
		const order = await createOrder({
			...APPLICANT,
			products: ['income', 'employment'],
			employers: [
				{ company_name: 'Acme', suborder_number: 's-1' },
				{ company_name: 'Globex', suborder_number: 's-2' },
			],
		});
		return standIn.setSuborderStatus(order.id, 'completed', order.employers[0].id);
	}

	it('makes a new order with the same order_number over the connected employers', async () => {
		const order = await connectedOrder();
		const answer = await callApi('POST', `/v1/orders/${order.id}/`, {
			body: { products: ['employment'] },
		});
		expect(answer.status).toBe(201);
		const refresh = answer.json as TruvOrder;
		expect(refresh).toMatchObject({
			products: ['employment'],
			order_number: 'loan-42',
			first_name: 'Ada',
			initial_order: order.id,
			canceled_at: null,
			completed_at: null,
		});
		expect(refresh.id).not.toBe(order.id);
		expect(refresh.employers).toEqual([
			expect.objectContaining({
				status: 'pending',
				company_name: 'Acme',
				suborder_number: 's-1',
				link_id: order.employers[0].link_id,
			}),
		]);
		expect(refresh.employers[0].id).not.toBe(order.employers[0].id);
		expect((await callApi('GET', `/v1/orders/${order.id}/`)).json.refresh_order).toBe(refresh.id);
		const events = (await callApi('GET', `/v1/orders/${refresh.id}/events/`)).json.results;
		expect(events).toEqual([
			expect.objectContaining({ type: 'order_created', is_refresh: true, order_id: refresh.id }),
		]);
	});

	it.each([
		[
			'two products',
			{ products: ['income', 'employment'] },
			[{ field: 'products', message: 'A refresh takes exactly one product.' }],
		],
		['no product', {}, [{ field: 'products', message: 'This field is required.' }]],
		[
			'an employer of another order',
			{ products: ['income'], employers: [{ id: 'someone-else' }] },
			[{ field: 'employers', message: 'Employer "someone-else" is not part of this order.' }],
		],
	])('refuses %s', async (_case, body, invalidParams) => {
		const order = await connectedOrder();
		const answer = await callApi('POST', `/v1/orders/${order.id}/`, { body });
		expect(answer).toMatchObject({ status: 400, json: incorrectParameters(invalidParams) });
		expect(standIn.orders()).toHaveLength(1);
	});

	it('needs an active connection: not for a never-connected employer or a canceled order', async () => {
		const order = await connectedOrder();
		const unconnected = await callApi('POST', `/v1/orders/${order.id}/`, {
			body: { products: ['income'], employers: [{ id: order.employers[1].id }] },
		});
		expect(unconnected.json).toEqual(
			incorrectParameters([
				{
					field: 'non_field_errors',
					message: 'The order has no active income connection to refresh.',
				},
			]),
		);
		await callApi('POST', `/v1/orders/${order.id}/cancel/`);
		const canceled = await callApi('POST', `/v1/orders/${order.id}/`, {
			body: { products: ['income'] },
		});
		expect(canceled.json.error.extra['invalid-params'][0].message).toBe(
			'A canceled order cannot be refreshed.',
		);
	});

	it(`allows ${REFRESHES_PER_DAY} refreshes of a chain in 24 hours, then answers 400`, async () => {
		const order = await connectedOrder();
		let latest = order;
		for (let count = 0; count < REFRESHES_PER_DAY; count++) {
			const answer = await callApi('POST', `/v1/orders/${latest.id}/`, {
				body: { products: ['income'] },
			});
			expect(answer.status).toBe(201);
			expect(answer.json.initial_order).toBe(order.id);
			latest = answer.json;
		}
		const refused = await callApi('POST', `/v1/orders/${order.id}/`, {
			body: { products: ['income'] },
		});
		expect(refused.status).toBe(400);
		expect(refused.json.error.extra['invalid-params']).toEqual([
			{
				field: 'non_field_errors',
				message: `The order was refreshed ${REFRESHES_PER_DAY} times in the last 24 hours, the most Truv allows.`,
			},
		]);
		expect(standIn.orders()).toHaveLength(1 + REFRESHES_PER_DAY);
	});

	it("answers 404 for an unknown order and for the demo app's /refresh/ path", async () => {
		const order = await connectedOrder();
		const body = { products: ['income'] };
		expect((await callApi('POST', '/v1/orders/0000/', { body })).status).toBe(404);
		expect((await callApi('POST', `/v1/orders/${order.id}/refresh/`, { body })).status).toBe(404);
	});
});

describe('event log', () => {
	it('lists what happened to the order, oldest first, paginated', async () => {
		const order = await createOrder({ ...APPLICANT, employers: [{ company_name: 'Acme' }] });
		standIn.setSuborderStatus(order.id, 'sent');
		standIn.setSuborderStatus(order.id, 'completed');
		const first = await callApi('GET', `/v1/orders/${order.id}/events/`);
		expect(first.json).toMatchObject({ count: 3, previous: null });
		const second = await callApi('GET', first.json.next);
		const events = [...first.json.results, ...second.json.results];
		expect(events.map((event: any) => event.type)).toEqual([
			'order_created',
			'suborder_sent',
			'suborder_completed',
		]);
		expect(events[2]).toEqual({
			object: 'order_event',
			type: 'suborder_completed',
			is_refresh: false,
			order_id: order.id,
			timestamp: expect.stringMatching(TIMESTAMP),
			suborder_id: order.employers[0].id,
			task_id: null,
			link_id: expect.stringMatching(TRUV_ID),
		});
		expect(standIn.orders()[0].completed_at).toMatch(TIMESTAMP);
		expect((await callApi('GET', '/v1/orders/0000/events/')).status).toBe(404);
	});
});

describe('fault switches on the Orders API', () => {
	it('fail order calls by method and path prefix, changing nothing', async () => {
		const order = await createOrder();
		standIn.setFault({ path: '/v1/orders/', kind: 'status500', times: 2 });
		const failed = await callApi('POST', '/v1/orders/', { body: APPLICANT });
		expect(failed.status).toBe(500);
		expect(failed.text).toContain('Server Error (500)');
		expect((await callApi('GET', `/v1/orders/${order.id}/`)).status).toBe(500);
		expect(standIn.orders()).toHaveLength(1);

		standIn.setFault({ method: 'POST', path: `/v1/orders/${order.id}/cancel/`, kind: 'status403' });
		expect((await callApi('POST', `/v1/orders/${order.id}/cancel/`)).json.error.code).toBe(
			'not_authenticated',
		);
		expect(standIn.orders()[0].canceled_at).toBeNull();
		standIn.setFault({ method: 'GET', path: '/v1/orders/', kind: 'malformedJson', times: 1 });
		const truncated = await callApi('GET', '/v1/orders/');
		expect(truncated.status).toBe(200);
		expect(truncated.json).toBeUndefined();
		expect((await callApi('GET', '/v1/orders/')).json.count).toBe(1);
	});

	it('noContent and emptyObject let a cancel through and answer 204 or {} in place of the order', async () => {
		const first = await createOrder();
		const second = await createOrder();
		standIn.setFault({ method: 'POST', path: '/v1/orders/', kind: 'noContent', times: 1 });
		const noContent = await callApi('POST', `/v1/orders/${first.id}/cancel/`);
		expect({ status: noContent.status, text: noContent.text }).toEqual({ status: 204, text: '' });
		standIn.setFault({ method: 'POST', path: '/v1/orders/', kind: 'emptyObject', times: 1 });
		const empty = await callApi('POST', `/v1/orders/${second.id}/cancel/`);
		expect({ status: empty.status, json: empty.json }).toEqual({ status: 200, json: {} });
		const canceledAt = (id: string) =>
			standIn.orders().find((order) => order.id === id)?.canceled_at;
		expect(canceledAt(first.id)).toEqual(expect.any(String));
		expect(canceledAt(second.id)).toEqual(expect.any(String));

		// An error answer is left as the API gave it.
		standIn.setFault({ method: 'POST', path: '/v1/orders/', kind: 'noContent', times: 1 });
		expect((await callApi('POST', '/v1/orders/missing/cancel/')).status).toBe(404);
	});
});

describe('control API for orders', () => {
	const control = (method: string, path: string, body?: unknown) =>
		callApi(method, `/_stand-in${path}`, { authenticated: false, body });

	it('seeds orders, lists them and moves suborders on', async () => {
		const seeded = await control('POST', '/orders', {
			...APPLICANT,
			env: 'prod',
			id: 'seeded-order',
			employers: [{ company_name: 'Acme' }],
		});
		expect(seeded.status).toBe(201);
		expect(seeded.json.id).toBe('seeded-order');
		expect((await control('GET', '/orders?env=prod')).json).toEqual([seeded.json]);
		expect((await control('GET', '/orders?env=sandbox')).json).toEqual([]);
		expect((await callApi('GET', '/v1/orders/seeded-order/', { env: 'prod' })).status).toBe(200);

		const invalid = await control('POST', '/orders', { products: ['income'] });
		expect(invalid.status).toBe(400);
		expect(invalid.json.error.code).toBe('incorrect_parameters');

		const moved = await control('POST', '/orders/seeded-order/status', { status: 'completed' });
		expect(moved.json.employers[0]).toMatchObject({
			status: 'completed',
			link_id: expect.any(String),
		});
		expect(moved.json.completed_at).toMatch(TIMESTAMP);
		expect((await control('POST', '/orders/seeded-order/status', { status: 'done' })).status).toBe(
			400,
		);
		expect((await control('POST', '/orders/nope/status', { status: 'sent' })).status).toBe(404);
	});
});
