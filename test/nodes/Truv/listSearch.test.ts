import type { INodeProperties } from 'n8n-workflow';

import {
	executeContext,
	listSearchContext,
	truvActionNode,
} from '../../../dev/n8n-core/n8nContexts';
import { startTruvStandIn, type TruvStandIn } from '../../../dev/truv-stand-in/truvStandIn';
import { PAGES_PER_SEARCH } from '../../../nodes/Truv/actions/listSearch';
import { runTruvNode, standInCredentials, truvRequests } from '../../helpers/truvNode';

let standIn: TruvStandIn;

beforeAll(async () => {
	standIn = await startTruvStandIn({ pageSize: 2 });
});
afterAll(async () => await standIn.close());
beforeEach(() => {
	for (const webhook of standIn.webhooks()) standIn.removeWebhook(webhook.id);
	standIn.clearFaults();
	standIn.resetCalls();
});

function search(method: string, filter?: string, paginationToken?: string) {
	return listSearchContext({ credentials: standInCredentials(standIn) }).search(
		method,
		filter,
		paginationToken,
	);
}

/** Orders newest first: Grace, then Ada, Alan and Edsger, then Barbara. */
let orders: Record<string, string>;

beforeAll(() => {
	const seed = (first_name: string, last_name: string, order_number: string) =>
		standIn.addOrder({ products: ['income'], first_name, last_name, order_number }).id;
	orders = {
		barbara: seed('Barbara', 'Liskov', 'loan-5'),
		edsger: seed('Edsger', 'Dijkstra', 'loan-4'),
		alan: seed('Alan', 'Turing', 'loan-3'),
		ada: seed('Ada', 'Lovelace', 'loan-2'),
		grace: seed('Grace', 'Hopper', 'loan-1'),
	};
});

describe('Order ID: From List (searchOrders)', () => {
	test('without a filter: a page of orders named by order number and applicant, and a token for the next', async () => {
		const first = await search('searchOrders');
		expect(first).toEqual({
			results: [
				{ name: 'loan-1 · Grace Hopper', value: orders.grace },
				{ name: 'loan-2 · Ada Lovelace', value: orders.ada },
			],
			paginationToken: '/v1/orders/?page=2',
		});
		const second = await search('searchOrders', undefined, first.paginationToken as string);
		expect(second.results.map((result) => result.value)).toEqual([orders.alan, orders.edsger]);
		const last = await search('searchOrders', undefined, second.paginationToken as string);
		expect(last).toEqual({
			results: [{ name: 'loan-5 · Barbara Liskov', value: orders.barbara }],
		});
		expect(truvRequests(standIn)).toEqual([
			'GET /v1/orders/',
			'GET /v1/orders/?page=2',
			'GET /v1/orders/?page=3',
		]);
	});

	test('by order number or applicant name, case-insensitive, reading on until a page matches', async () => {
		expect(await search('searchOrders', 'LOAN-4')).toEqual({
			results: [{ name: 'loan-4 · Edsger Dijkstra', value: orders.edsger }],
			paginationToken: '/v1/orders/?page=3',
		});
		expect(truvRequests(standIn)).toEqual(['GET /v1/orders/', 'GET /v1/orders/?page=2']);
		expect((await search('searchOrders', 'liskov')).results).toEqual([
			{ name: 'loan-5 · Barbara Liskov', value: orders.barbara },
		]);
		expect((await search('searchOrders', 'nobody')).results).toEqual([]);
	});

	test(`reads at most ${PAGES_PER_SEARCH} pages for one answer, then hands the editor a token`, async () => {
		const many = await startTruvStandIn({ pageSize: 1 });
		try {
			for (let index = 0; index < PAGES_PER_SEARCH + 2; index++) {
				many.addOrder({ products: ['income'], first_name: 'A', last_name: `N${index}` });
			}
			const answer = await listSearchContext({ credentials: standInCredentials(many) }).search(
				'searchOrders',
				'no such applicant',
			);
			expect(answer).toEqual({
				results: [],
				paginationToken: `/v1/orders/?page=${PAGES_PER_SEARCH + 1}`,
			});
			expect(many.calls).toHaveLength(PAGES_PER_SEARCH);
		} finally {
			await many.close();
		}
	});

	test("a token that is no page of the orders list starts over at Truv's first page", async () => {
		await search('searchOrders', undefined, '/v1/webhooks/?page=2');
		await search('searchOrders', undefined, 'https://elsewhere.example/v1/orders/?page=2');
		expect(truvRequests(standIn)).toEqual(['GET /v1/orders/', 'GET /v1/orders/']);
	});
});

describe('Webhook ID: From List (searchWebhooks)', () => {
	test("by name or URL, among the credential's environment's webhooks", async () => {
		const orders = standIn.addWebhook({
			webhook_url: 'https://n8n.example.com/webhook/orders',
			env_type: 'sandbox',
			name: 'Orders to CRM',
		});
		const slack = standIn.addWebhook({
			webhook_url: 'https://n8n.example.com/webhook/slack',
			env_type: 'sandbox',
			name: 'Refresh failed',
		});
		standIn.addWebhook({
			webhook_url: 'https://n8n.example.com/webhook/prod',
			env_type: 'prod',
			name: 'Orders in production',
		});
		expect((await search('searchWebhooks')).results).toEqual([
			{ name: 'Orders to CRM · https://n8n.example.com/webhook/orders', value: orders.id },
			{ name: 'Refresh failed · https://n8n.example.com/webhook/slack', value: slack.id },
		]);
		expect((await search('searchWebhooks', 'orders')).results.map((r) => r.value)).toEqual([
			orders.id,
		]);
		expect((await search('searchWebhooks', '/slack')).results.map((r) => r.value)).toEqual([
			slack.id,
		]);
	});
});

describe('resource locators (version 2) and plain IDs (version 1)', () => {
	const idProperties = (name: string) =>
		truvActionNode.description.properties.filter(
			(property): property is INodeProperties => property.name === name,
		);

	test.each([
		['orderId', 'searchOrders'],
		['webhookId', 'searchWebhooks'],
	])(
		'every %s is text for version 1 and a locator (From List, By ID) from version 2',
		(name, method) => {
			const properties = idProperties(name);
			expect(properties.length).toBeGreaterThan(0);
			for (const property of properties) {
				const versions = property.displayOptions?.show?.['@version'];
				if (property.type === 'string') {
					expect(versions).toEqual([1]);
					continue;
				}
				expect(property.type).toBe('resourceLocator');
				expect(versions).toEqual([{ _cnd: { gte: 2 } }]);
				expect(property.default).toEqual({ mode: 'list', value: '' });
				expect(property.modes?.map((mode) => [mode.name, mode.type])).toEqual([
					['list', 'list'],
					['id', 'string'],
				]);
				expect(property.modes?.[0].typeOptions?.searchListMethod).toBe(method);
			}
			expect(properties.filter((property) => property.type === 'string')).toHaveLength(
				properties.length / 2,
			);
			expect(Object.keys(truvActionNode.methods.listSearch)).toContain(method);
		},
	);

	test('the node offers versions 1 and 2, and 2 is what a new node gets', () => {
		expect(truvActionNode.description.version).toEqual([1, 2]);
		expect(truvActionNode.description.defaultVersion).toBe(2);
	});

	test('a version 2 node reads the ID its locator holds, picked from the list or typed', async () => {
		const order = standIn.orders(standIn.account.clientId, 'sandbox')[0];
		for (const mode of ['list', 'id']) {
			const [item] = await runTruvNode(
				standIn,
				{
					resource: 'order',
					operation: 'get',
					orderId: { __rl: true, mode, value: order.id, cachedResultName: 'loan-1' },
				},
				{ typeVersion: 2 },
			);
			expect(item.json.id).toBe(order.id);
		}
		const webhook = standIn.addWebhook({
			webhook_url: 'https://n8n.example.com/webhook/a',
			env_type: 'sandbox',
		});
		const [item] = await runTruvNode(
			standIn,
			{
				resource: 'webhook',
				operation: 'get',
				webhookId: { __rl: true, mode: 'id', value: ` ${webhook.id} ` },
			},
			{ typeVersion: 2 },
		);
		expect(item.json.id).toBe(webhook.id);
	});

	test('a version 1 node saved with a plain Order ID still runs, its parameter still text', async () => {
		const order = standIn.orders(standIn.account.clientId, 'sandbox')[0];
		const { run, context } = executeContext({
			credentials: standInCredentials(standIn),
			typeVersion: 1,
			parameters: { resource: 'report', operation: 'get', orderId: order.id, format: 'json' },
		});
		expect(context.getNode().parameters.orderId).toBe(order.id);
		// The order has no report yet: the error names it, so the plain ID reached Truv.
		await expect(run()).rejects.toThrow(`Order ${order.id} has no income and employment report`);
		expect(truvRequests(standIn)).toEqual([`GET /v1/orders/${order.id}/`]);
	});

	test('an empty locator is refused before anything is sent', async () => {
		const { run } = executeContext({
			credentials: standInCredentials(standIn),
			typeVersion: 2,
			parameters: { resource: 'order', operation: 'get' },
		});
		await expect(run()).rejects.toThrow('Order ID is empty');
		expect(standIn.calls).toEqual([]);
	});
});
