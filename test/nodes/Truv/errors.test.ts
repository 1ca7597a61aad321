// Every operation's Truv errors, in n8n-core's real execute context against the stand-in: the
// middle one of three input items fails at Truv (Truv's own 400, 404 or, for a list without
// per-item parameters, a 403 on that item's request). Without Continue on error the node stops
// with a NodeApiError carrying Truv's message and naming the item; with it, that item becomes
// {"error": "…"} paired with it and the other two items still get their results.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { IDataObject, INodeExecutionData, INodeParameters } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import {
	startTruvStandIn,
	type FaultSpec,
	type TruvStandIn,
} from '../../../dev/truv-stand-in/truvStandIn';
import { runTruvNode, truvNodeError } from '../../helpers/truvNode';

let standIn: TruvStandIn;
let receiver: Server;
let orderId: string;
let webhookId: string;

const N8N = 'https://n8n.example.com';

const REFUSED_403 =
	"Truv refused access (not_authenticated): the keys are valid but lack access to this part of Truv's API. You do not have permission to perform this action.";
const NOT_FOUND = 'Truv answered 404 Not Found: Not Found.';

beforeAll(async () => {
	standIn = await startTruvStandIn();
	orderId = standIn.addOrder({
		products: ['income'],
		first_name: 'Ada',
		last_name: 'Lovelace',
		employers: [{ company_name: 'Acme' }],
	}).id;
	webhookId = standIn.addWebhook({
		name: 'n8n',
		webhook_url: `${N8N}/webhook/a1/webhook`,
		env_type: 'sandbox',
	}).id;
	// Delivery history to list: one delivery answered 200, one 500.
	receiver = createServer((request, response) => {
		response.writeHead(request.url === '/fails' ? 500 : 200);
		response.end();
	});
	await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
	const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
	await standIn.deliver('order-created', { url: `${receiverUrl}/ok`, maxRetries: 0 });
	await standIn.deliver('order-refresh-failed', { url: `${receiverUrl}/fails`, maxRetries: 0 });
});
afterAll(async () => {
	await standIn.close();
	await new Promise<void>((done) => receiver.close(() => done()));
});
beforeEach(() => {
	standIn.clearFaults();
	standIn.resetCalls();
});

interface ErrorCase {
	operation: string;
	parameters: INodeParameters;
	/** Each input item's `value`, which the parameters map; the middle one fails. */
	values: [unknown, unknown, unknown];
	/** For an operation whose items all make the same request: Truv refuses the second one. */
	fault?: Omit<FaultSpec, 'kind' | 'after' | 'times'>;
	message: string;
	httpCode: string;
}

const CASES: ErrorCase[] = [
	{
		operation: 'Order Create',
		parameters: {
			resource: 'order',
			operation: 'create',
			products: ['income'],
			firstName: 'Ada',
			lastName: 'Lovelace',
			additionalFields: { email: '={{ $json.value }}' },
		},
		values: ['ada@example.com', 'not-an-email', 'grace@example.com'],
		message:
			'Truv rejected the request (incorrect_parameters): email: Enter a valid email address.',
		httpCode: '400',
	},
	{
		operation: 'Order Get Many',
		parameters: { resource: 'order', operation: 'getAll', limit: 5 },
		values: [1, 2, 3],
		fault: { method: 'GET', path: '/v1/orders/' },
		message: REFUSED_403,
		httpCode: '403',
	},
	{
		operation: 'Order Refresh',
		parameters: {
			resource: 'order',
			operation: 'refresh',
			orderId: '={{ $json.value }}',
			product: 'income',
		},
		values: ['CONNECTED_ORDER', 'gone', 'CONNECTED_ORDER'],
		message: NOT_FOUND,
		httpCode: '404',
	},
	{
		operation: 'Order Cancel',
		parameters: { resource: 'order', operation: 'cancel', orderId: '={{ $json.value }}' },
		values: ['ORDER', 'gone', 'ORDER'],
		message: NOT_FOUND,
		httpCode: '404',
	},
	{
		operation: 'Order Get Events',
		parameters: { resource: 'order', operation: 'getEvents', orderId: '={{ $json.value }}' },
		values: ['ORDER', 'gone', 'ORDER'],
		message: NOT_FOUND,
		httpCode: '404',
	},
	{
		operation: 'Webhook Get',
		parameters: { resource: 'webhook', operation: 'get', webhookId: '={{ $json.value }}' },
		values: ['WEBHOOK', 'gone', 'WEBHOOK'],
		message: NOT_FOUND,
		httpCode: '404',
	},
	{
		operation: 'Webhook Get Many',
		parameters: { resource: 'webhook', operation: 'getAll', returnAll: true },
		values: [1, 2, 3],
		fault: { method: 'GET', path: '/v1/webhooks/' },
		message: REFUSED_403,
		httpCode: '403',
	},
	{
		operation: 'Webhook Re-Enable',
		parameters: { resource: 'webhook', operation: 'reEnable', webhookId: '={{ $json.value }}' },
		values: ['WEBHOOK', 'gone', 'WEBHOOK'],
		message: NOT_FOUND,
		httpCode: '404',
	},
	{
		operation: 'Webhook Check Webhooks',
		parameters: { resource: 'webhook', operation: 'check' },
		values: [1, 2, 3],
		fault: { method: 'GET', path: '/v1/webhooks/' },
		message: REFUSED_403,
		httpCode: '403',
	},
	{
		operation: 'Webhook Request Get Many',
		parameters: {
			resource: 'webhookRequest',
			operation: 'getAll',
			returnAll: true,
			filters: { statusCode: '={{ $json.value }}' },
		},
		values: [200, 'abc', 500],
		message: 'Truv rejected the request (incorrect_parameters): status_code: Enter a number.',
		httpCode: '400',
	},
];

/** An order whose connection is active, refreshed at most twice a run (Truv allows 3 a day). */
function connectedOrderId(): string {
	const order = standIn.addOrder({
		products: ['income'],
		first_name: 'Grace',
		last_name: 'Hopper',
		employers: [{ company_name: 'Remington Rand' }],
	});
	standIn.setSuborderStatus(order.id, 'completed');
	return order.id;
}

/** The input items, with the placeholders for the seeded order and webhook filled in. */
function inputItems({ values }: ErrorCase): INodeExecutionData[] {
	const ids: Record<string, string> = {
		ORDER: orderId,
		CONNECTED_ORDER: connectedOrderId(),
		WEBHOOK: webhookId,
	};
	return values.map((value) => ({
		json: { value: typeof value === 'string' ? (ids[value] ?? value) : value } as IDataObject,
	}));
}

/** Arms the case's fault, if any, for the second matching request of the run. */
function armFault({ fault }: ErrorCase): void {
	if (fault) standIn.setFault({ ...fault, kind: 'status403', after: 1, times: 1 });
}

const byOperation = CASES.map((each) => [each.operation, each] as const);

describe.each(byOperation)('%s', (_operation, errorCase) => {
	test("without Continue on error: a NodeApiError with Truv's message, naming the item", async () => {
		armFault(errorCase);
		const error = await truvNodeError(standIn, errorCase.parameters, {
			inputItems: inputItems(errorCase),
		});
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe(errorCase.message);
		expect(error.httpCode).toBe(errorCase.httpCode);
		expect(error.context?.itemIndex).toBe(1);
	});

	test('with Continue on error: the failed item is an error item paired with it, the others succeed', async () => {
		armFault(errorCase);
		const output = await runTruvNode(standIn, errorCase.parameters, {
			onError: 'continueRegularOutput',
			inputItems: inputItems(errorCase),
		});
		const pairedWith = (index: number) =>
			output.filter((item) => (item.pairedItem as { item: number }).item === index);

		expect(pairedWith(1)).toEqual([
			{ json: { error: errorCase.message }, pairedItem: { item: 1 } },
		]);
		for (const index of [0, 2]) {
			const results = pairedWith(index);
			expect(results.length).toBeGreaterThan(0);
			for (const { json } of results) expect(json).not.toHaveProperty('error');
		}
		// Items in input order: the error sits between the two items' results.
		expect(output.map((item) => (item.pairedItem as { item: number }).item)).toEqual(
			[...output.map((item) => (item.pairedItem as { item: number }).item)].sort(),
		);
	});
});
