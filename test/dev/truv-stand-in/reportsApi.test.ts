import {
	startTruvStandIn,
	type TruvEnvironment,
	type TruvStandIn,
} from '../../../dev/truv-stand-in/truvStandIn';
import { reportPdf } from '../../../dev/truv-stand-in/reportPdf';

let standIn: TruvStandIn;

beforeEach(async () => {
	standIn = await startTruvStandIn({ reportReadyDelayMs: 60_000, invoicePendingReads: 2 });
});
afterEach(async () => await standIn.close());

async function call(
	method: string,
	path: string,
	options: { body?: unknown; env?: TruvEnvironment; accept?: string } = {},
) {
	const response = await fetch(standIn.url + path, {
		method,
		headers: {
			...standIn.authHeaders(options.env),
			...(options.accept === undefined ? {} : { Accept: options.accept }),
			...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
		},
		body: options.body === undefined ? undefined : JSON.stringify(options.body),
	});
	const bytes = Buffer.from(await response.arrayBuffer());
	const type = response.headers.get('content-type') ?? '';
	return {
		status: response.status,
		type,
		bytes,
		json: type.startsWith('application/json') ? JSON.parse(bytes.toString('utf8')) : undefined,
	};
}

function incomeOrder(products = ['income']) {
	return standIn.addOrder({
		products,
		first_name: 'Ada',
		last_name: 'Lovelace',
		ssn: '123456789',
		employers: [{ company_name: 'Acme' }, { company_name: 'Globex' }],
		financial_institutions: [{ name: 'First Bank' }],
	});
}

/** Every object's byte offset in the cross-reference table points at that object. */
function checkPdfStructure(pdf: Buffer): void {
	const text = pdf.toString('latin1');
	expect(text.startsWith('%PDF-1.4\n')).toBe(true);
	expect(text.endsWith('%%EOF\n')).toBe(true);
	const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(text)![1]);
	expect(text.slice(startxref, startxref + 4)).toBe('xref');
	const offsets = [...text.slice(startxref).matchAll(/^(\d{10}) 00000 n $/gm)].map((match) =>
		Number(match[1]),
	);
	expect(offsets).toHaveLength(5);
	offsets.forEach((offset, index) => {
		expect(text.slice(offset).startsWith(`${index + 1} 0 obj\n`)).toBe(true);
	});
	const stream = /\/Length (\d+) >>\nstream\n([\s\S]*?)\nendstream/.exec(text)!;
	expect(Buffer.byteLength(stream[2], 'latin1')).toBe(Number(stream[1]));
}

describe('report ids on orders', () => {
	test('are null until a connection completes, and new after each further one', async () => {
		const order = incomeOrder(['income', 'assets']);
		expect(order).toMatchObject({
			voie_report_id: null,
			voa_report_id: null,
			income_insights_report_id: null,
			aim_check_report_id: null,
		});
		const [first, second] = order.employers.map((employer) => employer.id);
		const afterFirst = standIn.setSuborderStatus(order.id, 'completed', first);
		expect(afterFirst.voie_report_id).toMatch(/^[0-9a-f]{32}$/);
		expect(afterFirst.voa_report_id).toBeNull();
		const afterSecond = standIn.setSuborderStatus(order.id, 'completed', second);
		expect(afterSecond.voie_report_id).not.toBe(afterFirst.voie_report_id);
		const afterBank = standIn.setSuborderStatus(
			order.id,
			'completed',
			order.financial_accounts[0].id,
		);
		expect(afterBank.voa_report_id).toMatch(/^[0-9a-f]{32}$/);
		expect((await call('GET', `/v1/orders/${order.id}/`)).json.voie_report_id).toBe(
			afterSecond.voie_report_id,
		);

		// Both reports stay readable: a report id is never reused.
		for (const id of [afterFirst.voie_report_id, afterSecond.voie_report_id]) {
			expect((await call('GET', `/v1/users/${order.user_id}/reports/${id}/`)).status).toBe(200);
		}
	});

	test('an order whose connections fail gets none', () => {
		const order = incomeOrder();
		expect(standIn.setSuborderStatus(order.id, 'error').voie_report_id).toBeNull();
	});
});

describe('GET a report', () => {
	test('income and employment as JSON, with the completed connections and income fields', async () => {
		const order = incomeOrder();
		const completed = standIn.setSuborderStatus(order.id, 'completed', order.employers[0].id);
		const answer = await call(
			'GET',
			`/v1/users/${order.user_id}/reports/${completed.voie_report_id}/`,
		);
		expect(answer.status).toBe(200);
		expect(answer.json).toMatchObject({
			report_id: completed.voie_report_id,
			links: [
				{
					link_id: completed.employers[0].link_id,
					tracking_info: order.employers[0].id,
					employments: [
						{
							profile: { first_name: 'Ada', last_name: 'Lovelace', ssn: '123456789' },
							company: { name: 'Acme' },
							income: '85000.00',
							pay_frequency: 'BW',
						},
					],
				},
			],
		});
		expect(answer.json.links).toHaveLength(1);
	});

	test('an employment order’s report has null income fields', async () => {
		const order = incomeOrder(['employment']);
		const { voie_report_id: id } = standIn.setSuborderStatus(order.id, 'completed');
		const { json } = await call('GET', `/v1/users/${order.user_id}/reports/${id}/`);
		expect(json.links[0].employments[0]).toMatchObject({
			income: null,
			income_unit: null,
			pay_rate: null,
			pay_frequency: null,
			statements: [],
		});
	});

	test('as a real PDF with fmt=pdf; an Accept it cannot satisfy gets 406', async () => {
		const order = incomeOrder();
		const { voie_report_id: id } = standIn.setSuborderStatus(order.id, 'completed');
		const path = `/v1/users/${order.user_id}/reports/${id}/?fmt=pdf`;
		for (const accept of [undefined, 'application/pdf', '*/*']) {
			const answer = await call('GET', path, { accept });
			expect(answer.status).toBe(200);
			expect(answer.type).toBe('application/pdf');
			checkPdfStructure(answer.bytes);
			expect(answer.bytes.toString('latin1')).toContain('(Applicant: Ada Lovelace) Tj');
		}
		expect((await call('GET', path, { accept: 'application/json' })).status).toBe(406);
	});

	test('assets under the assets path only; unknown ids, other users and environments get 404', async () => {
		const order = incomeOrder(['income', 'assets']);
		const completed = standIn.setSuborderStatus(order.id, 'completed');
		const assets = await call(
			'GET',
			`/v1/users/${order.user_id}/assets/reports/${completed.voa_report_id}/`,
		);
		expect(assets.status).toBe(200);
		expect(assets.json).toMatchObject({
			report_id: completed.voa_report_id,
			days_requested: 60,
			links: [{ accounts: [{ balances: { balance: '5230.15' } }] }],
			summary: { accounts_count: 1 },
		});
		const pdf = await call(
			'GET',
			`/v1/users/${order.user_id}/assets/reports/${completed.voa_report_id}/?fmt=pdf`,
		);
		checkPdfStructure(pdf.bytes);
		for (const path of [
			`/v1/users/${order.user_id}/reports/${completed.voa_report_id}/`,
			`/v1/users/${order.user_id}/assets/reports/${completed.voie_report_id}/`,
			`/v1/users/someone-else/reports/${completed.voie_report_id}/`,
			`/v1/users/${order.user_id}/reports/unknown/`,
		]) {
			expect((await call('GET', path)).json).toEqual({ detail: 'Not Found.' });
		}
		expect(
			(
				await call('GET', `/v1/users/${order.user_id}/reports/${completed.voie_report_id}/`, {
					env: 'prod',
				})
			).status,
		).toBe(404);
	});
});

describe('POST a report', () => {
	test('answers 201 with the whole report, which then answers 404 for a while', async () => {
		const order = incomeOrder();
		standIn.setSuborderStatus(order.id, 'completed');
		const created = await call('POST', `/v1/users/${order.user_id}/reports/`, {
			body: { is_voe: true },
		});
		expect(created.status).toBe(201);
		expect(created.json.links[0].employments[0].income).toBeNull();
		const id = created.json.report_id;
		expect((await call('GET', `/v1/users/${order.user_id}/reports/${id}/`)).status).toBe(404);
	});

	test('is readable at once without the delay, and assets take days_requested 30 to 730', async () => {
		await standIn.close();
		standIn = await startTruvStandIn({ reportReadyDelayMs: 0 });
		const order = incomeOrder(['assets']);
		standIn.setSuborderStatus(order.id, 'completed');
		const created = await call('POST', `/v1/users/${order.user_id}/assets/reports/`, {
			body: { days_requested: 90 },
		});
		expect(created.json.days_requested).toBe(90);
		const read = await call(
			'GET',
			`/v1/users/${order.user_id}/assets/reports/${created.json.report_id}/`,
		);
		expect(read.json).toEqual(created.json);
		const refused = await call('POST', `/v1/users/${order.user_id}/assets/reports/`, {
			body: { days_requested: 10 },
		});
		expect(refused.status).toBe(400);
		expect((await call('POST', '/v1/users/nobody/reports/')).status).toBe(404);
	});
});

describe('one connection’s reports', () => {
	test('employment and income by link_id, once completed', async () => {
		const order = incomeOrder();
		const completed = standIn.setSuborderStatus(order.id, 'completed', order.employers[0].id);
		const linkId = completed.employers[0].link_id;
		const employmentReport = await call('GET', `/v1/links/${linkId}/employment/report/`);
		expect(employmentReport.json).toMatchObject({
			link_id: linkId,
			income: null,
			company: { name: 'Acme' },
			pdf_report: null,
		});
		const incomeReport = await call('GET', `/v1/links/${linkId}/income/report/`);
		expect(incomeReport.json.income).toBe('85000.00');
		expect((await call('GET', '/v1/links/unknown/employment/report/')).status).toBe(404);
	});
});

describe('GET an order’s invoice', () => {
	test('is pending for the first reads, then has its file', async () => {
		const order = incomeOrder();
		const path = `/v1/orders/${order.id}/invoice/`;
		const first = await call('GET', path);
		expect(first.json).toMatchObject({ status: 'pending', file: null, order_group_id: order.id });
		expect((await call('GET', path)).json.status).toBe('pending');
		const ready = await call('GET', path);
		expect(ready.json).toMatchObject({ id: first.json.id, status: 'success' });
		expect(ready.json.file).toMatch(/\/files\/invoices\/[0-9a-f]{32}\.pdf$/);
		expect((await call('GET', '/v1/orders/unknown/invoice/')).status).toBe(404);
	});
});

describe('reportPdf', () => {
	test('escapes what PDF strings need and keeps to ASCII', () => {
		const pdf = reportPdf('T', ['a (b) \\ c', 'Zoë']).toString('latin1');
		expect(pdf).toContain('(a \\(b\\) \\\\ c) Tj');
		expect(pdf).toContain('(Zo?) Tj');
		checkPdfStructure(reportPdf('T', ['x']));
	});
});
