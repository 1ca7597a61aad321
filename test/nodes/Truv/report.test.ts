// Report → Get in n8n-core's real ExecuteContext against the Truv stand-in, PDF binary data
// included.
import type { IBinaryData, INodeParameters } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import {
	startTruvStandIn,
	type TruvOrder,
	type TruvStandIn,
} from '../../../dev/truv-stand-in/truvStandIn';
import { runTruvNode, truvNodeError, truvRequests } from '../../helpers/truvNode';

let standIn: TruvStandIn;

beforeAll(async () => {
	standIn = await startTruvStandIn({ reportReadyDelayMs: 0 });
});
afterAll(async () => await standIn.close());
beforeEach(() => {
	standIn.clearFaults();
	standIn.resetCalls();
});

function seedOrder(products = ['income'], fields: Record<string, unknown> = {}): TruvOrder {
	const order = standIn.addOrder({
		products,
		first_name: 'Ada',
		last_name: 'Lovelace',
		email: 'ada@example.com',
		order_number: 'LOAN 42',
		employers: [{ company_name: 'Acme' }, { company_name: 'Globex' }],
		financial_institutions: products.includes('assets') ? [{ name: 'First Bank' }] : [],
		...fields,
	});
	standIn.resetCalls();
	return order;
}

function completed(order: TruvOrder, suborderId?: string): TruvOrder {
	const updated = standIn.setSuborderStatus(order.id, 'completed', suborderId);
	standIn.resetCalls();
	return updated;
}

const getReport = (fields: INodeParameters): INodeParameters => ({
	resource: 'report',
	operation: 'get',
	...fields,
});

/** The PDF's bytes as n8n keeps them (in the item, without a binary data manager). */
function pdfBytes(file: IBinaryData): Buffer {
	return Buffer.from(file.data, 'base64');
}

describe('Report: Get from an order', () => {
	test('reads the order, then its current income and employment report, simplified', async () => {
		const fresh = seedOrder();
		const done = completed(fresh, fresh.employers[0].id);
		const output = await runTruvNode(standIn, getReport({ orderId: fresh.id }));
		expect(truvRequests(standIn)).toEqual([
			`GET /v1/orders/${fresh.id}/`,
			`GET /v1/users/${fresh.user_id}/reports/${done.voie_report_id}/?fmt=json`,
		]);
		expect(output).toHaveLength(1);
		expect(output[0].json).toEqual({
			order_id: fresh.id,
			order_number: 'LOAN 42',
			report_id: done.voie_report_id,
			created_at: expect.any(String),
			completed_at: expect.any(String),
			employments: [
				{
					link_id: done.employers[0].link_id,
					provider_name: 'ADP',
					first_name: 'Ada',
					last_name: 'Lovelace',
					employer: 'Acme',
					job_title: 'Analyst',
					is_active: true,
					start_date: '2019-03-01',
					end_date: null,
					income: '85000.00',
					income_unit: 'YEARLY',
					pay_rate: '3269.23',
					pay_frequency: 'BW',
				},
			],
		});
	});

	test('takes the report id afresh each run: another completed connection, another report', async () => {
		const order = seedOrder();
		const first = completed(order, order.employers[0].id);
		const before = await runTruvNode(standIn, getReport({ orderId: order.id }));
		const second = completed(order, order.employers[1].id);
		const after = await runTruvNode(standIn, getReport({ orderId: order.id }));
		expect(before[0].json.report_id).toBe(first.voie_report_id);
		expect(after[0].json.report_id).toBe(second.voie_report_id);
		expect((after[0].json.employments as unknown[]).length).toBe(2);
	});

	test("whole, it is Truv's report as Truv answers it", async () => {
		const order = seedOrder(['income', 'assets']);
		const done = completed(order);
		const output = await runTruvNode(
			standIn,
			getReport({ orderId: order.id, reportType: 'assets', simplify: false }),
		);
		const whole = await fetch(
			`${standIn.url}/v1/users/${order.user_id}/assets/reports/${done.voa_report_id}/`,
			{ headers: standIn.authHeaders() },
		).then((response) => response.json());
		expect(output.map((item) => item.json)).toEqual([whole]);
	});

	test('assets, simplified: one entry per account', async () => {
		const order = seedOrder(['assets']);
		const done = completed(order);
		const [item] = await runTruvNode(
			standIn,
			getReport({ orderId: order.id, reportType: 'assets' }),
		);
		expect(item.json).toMatchObject({
			order_id: order.id,
			report_id: done.voa_report_id,
			days_requested: 60,
			accounts: [
				{
					link_id: done.financial_accounts[0].link_id,
					provider_name: 'First Bank',
					type: 'CHECKING',
					balance: '5230.15',
					transactions_count: 2,
				},
			],
		});
	});

	test('as a PDF in binary data, named from the order number and report type', async () => {
		const order = seedOrder();
		const done = completed(order);
		const [item] = await runTruvNode(standIn, getReport({ orderId: order.id, format: 'pdf' }));
		const file = item.binary!.data;
		expect(file).toMatchObject({
			mimeType: 'application/pdf',
			fileName: 'LOAN_42-income-and-employment.pdf',
			fileExtension: 'pdf',
		});
		const bytes = pdfBytes(file);
		expect(bytes.subarray(0, 8).toString('latin1')).toBe('%PDF-1.4');
		expect(bytes.toString('latin1')).toContain(`(Report ${done.voie_report_id}) Tj`);
		expect(item.json).toEqual({
			order_id: order.id,
			order_number: 'LOAN 42',
			user_id: order.user_id,
			report_id: done.voie_report_id,
			report_type: 'income and employment',
			file_name: 'LOAN_42-income-and-employment.pdf',
		});
		expect(standIn.calls[1]).toMatchObject({
			query: { fmt: 'pdf' },
			headers: expect.objectContaining({ accept: 'application/pdf' }),
		});
	});

	test('an answer that is not a PDF is an error, not a file', async () => {
		const order = seedOrder();
		completed(order);
		standIn.setFault({ path: '/v1/users/', kind: 'emptyObject' });
		const error = await truvNodeError(standIn, getReport({ orderId: order.id, format: 'pdf' }));
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toMatch(
			/^Truv answered GET \/v1\/users\/.* with something that is not a PDF$/,
		);
	});

	test('puts the PDF in the field named, and pairs it with its input item', async () => {
		const order = seedOrder(['assets']);
		completed(order);
		const output = await runTruvNode(
			standIn,
			getReport({
				orderId: order.id,
				reportType: 'assets',
				format: 'pdf',
				binaryPropertyName: 'report',
			}),
			{ inputItems: [{ json: { n: 1 } }, { json: { n: 2 } }] },
		);
		expect(output.map((item) => Object.keys(item.binary ?? {}))).toEqual([['report'], ['report']]);
		expect(output.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
		expect(output[0].binary!.report.fileName).toBe('LOAN_42-assets.pdf');
	});

	test("a report not made yet is an error naming the order's state, and nothing is created", async () => {
		const order = seedOrder();
		standIn.setSuborderStatus(order.id, 'sent', order.employers[0].id);
		standIn.resetCalls();
		const error = await truvNodeError(standIn, getReport({ orderId: order.id }));
		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error.message).toBe(
			`Order ${order.id} has no income and employment report yet: the order is pending (Acme: sent, Globex: pending)`,
		);
		expect(error.description).toMatch(/turn on Create If Missing .*Truv may bill it/);
		expect(truvRequests(standIn)).toEqual([`GET /v1/orders/${order.id}/`]);
	});

	test('Create If Missing POSTs a new report and outputs what Truv answers', async () => {
		const order = seedOrder();
		standIn.setSuborderStatus(order.id, 'completed', order.employers[0].id);
		standIn.setSuborderStatus(order.id, 'pending', order.employers[0].id);
		const assets = seedOrder(['assets']);
		standIn.setSuborderStatus(assets.id, 'sent');
		standIn.resetCalls();
		// The order's completed connection was reset: it holds a report id, so nothing is created.
		await runTruvNode(standIn, getReport({ orderId: order.id, createIfMissing: true }));
		expect(truvRequests(standIn)).toHaveLength(2);
		standIn.resetCalls();

		const [item] = await runTruvNode(
			standIn,
			getReport({ orderId: assets.id, reportType: 'assets', createIfMissing: true }),
		);
		expect(truvRequests(standIn)).toEqual([
			`GET /v1/orders/${assets.id}/`,
			`POST /v1/users/${assets.user_id}/assets/reports/`,
		]);
		// n8n sends no empty body; Truv's is optional (60 days of assets by default).
		expect(standIn.calls[1].body).toBeUndefined();
		expect(item.json).toMatchObject({ order_id: assets.id, days_requested: 60, accounts: [] });
	});

	test('an unknown order is a 404 naming it', async () => {
		const error = await truvNodeError(standIn, getReport({ orderId: 'nope' }));
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.description).toMatch(/^No order with ID nope in this Truv environment/);
	});
});

describe('Report: Get, employment only', () => {
	test('from an order: one item per completed connection, from its employment report', async () => {
		const order = seedOrder(['employment']);
		const done = completed(order);
		const output = await runTruvNode(
			standIn,
			getReport({ orderId: order.id, reportType: 'employment' }),
		);
		expect(truvRequests(standIn)).toEqual([
			`GET /v1/orders/${order.id}/`,
			`GET /v1/links/${done.employers[0].link_id}/employment/report/`,
			`GET /v1/links/${done.employers[1].link_id}/employment/report/`,
		]);
		expect(output.map((item) => item.json)).toEqual(
			done.employers.map((employer) =>
				expect.objectContaining({
					order_id: order.id,
					employer_id: employer.id,
					link_id: employer.link_id,
					employer: employer.company_name,
					income: null,
				}),
			),
		);
	});

	test('as a PDF only with Create If Missing, which creates an employment-only report', async () => {
		const order = seedOrder(['employment']);
		completed(order);
		const refused = await truvNodeError(
			standIn,
			getReport({ orderId: order.id, reportType: 'employment', format: 'pdf' }),
		);
		expect(refused.message).toBe('Truv keeps no employment-only PDF on an order');
		standIn.resetCalls();

		const [item] = await runTruvNode(
			standIn,
			getReport({
				orderId: order.id,
				reportType: 'employment',
				format: 'pdf',
				createIfMissing: true,
			}),
		);
		expect(standIn.calls[1]).toMatchObject({
			method: 'POST',
			path: `/v1/users/${order.user_id}/reports/`,
			body: { is_voe: true },
		});
		expect(item.binary!.data.fileName).toBe('LOAN_42-employment.pdf');
		expect(pdfBytes(item.binary!.data).toString('latin1')).toContain(
			'(Verification of Employment) Tj',
		);
	});

	test('an order without a completed connection is an error naming its state', async () => {
		const order = seedOrder(['employment']);
		const error = await truvNodeError(
			standIn,
			getReport({ orderId: order.id, reportType: 'employment', createIfMissing: true }),
		);
		expect(error.message).toBe(
			`Order ${order.id} has no completed employment connection yet: the order is pending (Acme: pending, Globex: pending)`,
		);
	});
});

describe('Report: Get by User ID and Report ID', () => {
	test('reads the report without the order', async () => {
		const order = seedOrder();
		const done = completed(order);
		const [item] = await runTruvNode(
			standIn,
			getReport({ source: 'ids', userId: order.user_id, reportId: done.voie_report_id }),
		);
		expect(truvRequests(standIn)).toEqual([
			`GET /v1/users/${order.user_id}/reports/${done.voie_report_id}/?fmt=json`,
		]);
		expect(item.json).toMatchObject({ report_id: done.voie_report_id });
		expect(item.json).not.toHaveProperty('order_id');

		const [pdf] = await runTruvNode(
			standIn,
			getReport({
				source: 'ids',
				userId: order.user_id,
				reportId: done.voie_report_id,
				format: 'pdf',
			}),
		);
		expect(pdf.binary!.data.fileName).toBe(`${done.voie_report_id}-income-and-employment.pdf`);
	});

	test('a report of another type or user is a 404 naming it', async () => {
		const order = seedOrder();
		const done = completed(order);
		const error = await truvNodeError(
			standIn,
			getReport({
				source: 'ids',
				userId: order.user_id,
				reportId: done.voie_report_id,
				reportType: 'assets',
			}),
		);
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.description).toMatch(
			new RegExp(`^Truv has no assets report ${done.voie_report_id} of user ${order.user_id}`),
		);
	});

	test('empty IDs are refused before Truv is asked', async () => {
		const error = await truvNodeError(
			standIn,
			getReport({ source: 'ids', userId: ' ', reportId: 'r' }),
		);
		expect(error.message).toBe('User ID is empty');
		expect(standIn.calls).toEqual([]);
	});
});

describe("waiting out Truv's 404 after creating a report", () => {
	test('the PDF of a new report is read again until Truv serves it', async () => {
		const slow = await startTruvStandIn({ reportReadyDelayMs: 1_000 });
		try {
			const order = slow.addOrder({
				products: ['income'],
				first_name: 'Ada',
				last_name: 'Lovelace',
				employers: [{ company_name: 'Acme' }],
			});
			slow.setSuborderStatus(order.id, 'sent');
			const [item] = await runTruvNode(
				slow,
				getReport({ orderId: order.id, format: 'pdf', createIfMissing: true }),
			);
			expect(slow.calls.map((call) => `${call.method} ${call.status}`)).toEqual([
				'GET 200',
				'POST 201',
				'GET 404',
				'GET 200',
			]);
			expect(pdfBytes(item.binary!.data).subarray(0, 5).toString('latin1')).toBe('%PDF-');
		} finally {
			await slow.close();
		}
	});
});
