// The bounded waits of Report → Get after creating a report and of Order → Get Invoice, with
// n8n-workflow's sleep (the clock the node waits on) replaced to record the waits.
import { sleep } from 'n8n-workflow';

import { INVOICE_WAITS_MS } from '../../../nodes/Truv/actions/order';
import { NEW_REPORT_WAITS_MS } from '../../../nodes/Truv/actions/report';
import { startTruvStandIn, type TruvStandIn } from '../../../dev/truv-stand-in/truvStandIn';
import { runTruvNode, truvNodeError } from '../../helpers/truvNode';

jest.mock('n8n-workflow', () => ({
	...jest.requireActual('n8n-workflow'),
	sleep: jest.fn(async () => undefined),
}));
const sleeps = () => jest.mocked(sleep).mock.calls.map(([ms]) => ms);

const standIns: TruvStandIn[] = [];
async function standInWith(options: Parameters<typeof startTruvStandIn>[0]) {
	const standIn = await startTruvStandIn(options);
	standIns.push(standIn);
	return standIn;
}
afterAll(async () => await Promise.all(standIns.map((standIn) => standIn.close())));
beforeEach(() => jest.mocked(sleep).mockClear());

function seed(standIn: TruvStandIn) {
	const order = standIn.addOrder({
		products: ['income'],
		first_name: 'Ada',
		last_name: 'Lovelace',
		employers: [{ company_name: 'Acme' }],
	});
	standIn.resetCalls();
	return order;
}

test('a created report Truv does not serve in time ends in an error saying how to get it later', async () => {
	const standIn = await standInWith({ reportReadyDelayMs: 600_000 });
	const order = seed(standIn);
	const error = await truvNodeError(standIn, {
		resource: 'report',
		operation: 'get',
		orderId: order.id,
		format: 'pdf',
		createIfMissing: true,
	});
	expect(sleeps()).toEqual(NEW_REPORT_WAITS_MS);
	expect(standIn.calls.map((call) => `${call.method} ${call.status}`)).toEqual([
		'GET 200',
		'POST 201',
		'GET 404',
		'GET 404',
		'GET 404',
		'GET 404',
	]);
	// GET /v1/users/{user_id}/reports/{report_id}/
	const reportId = standIn.calls[2].path.split('/')[5];
	expect(error.description).toMatch(
		new RegExp(
			`^Truv created the income and employment report ${reportId} but did not serve it within 14 s: get it later with Find By set to User ID and Report ID`,
		),
	);
});

describe('Order: Get Invoice', () => {
	test('waits while Truv makes the invoice, then outputs it', async () => {
		const standIn = await standInWith({ invoicePendingReads: 2 });
		const order = seed(standIn);
		const output = await runTruvNode(standIn, {
			resource: 'order',
			operation: 'getInvoice',
			orderId: order.id,
		});
		expect(sleeps()).toEqual(INVOICE_WAITS_MS.slice(0, 2));
		expect(standIn.calls.map((call) => call.path)).toEqual(
			Array(3).fill(`/v1/orders/${order.id}/invoice/`),
		);
		expect(output).toHaveLength(1);
		expect(output[0].json).toMatchObject({
			order_group_id: order.id,
			status: 'success',
			file: expect.stringMatching(/\/files\/invoices\/[0-9a-f]{32}\.pdf$/),
		});
	});

	test('an invoice still pending after the waits is an error saying so', async () => {
		const standIn = await standInWith({ invoicePendingReads: 100 });
		const order = seed(standIn);
		const error = await truvNodeError(standIn, {
			resource: 'order',
			operation: 'getInvoice',
			orderId: order.id,
		});
		expect(sleeps()).toEqual(INVOICE_WAITS_MS);
		expect(standIn.calls).toHaveLength(INVOICE_WAITS_MS.length + 1);
		expect(error.message).toBe(`Truv's invoice of order ${order.id} is still pending after 30 s`);
	});

	test('an unknown order is a 404 naming it', async () => {
		const standIn = await standInWith({});
		const error = await truvNodeError(standIn, {
			resource: 'order',
			operation: 'getInvoice',
			orderId: 'nope',
		});
		expect(error.description).toMatch(/^No order with ID nope in this Truv environment/);
		expect(sleeps()).toEqual([]);
	});
});
