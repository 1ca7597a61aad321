// The applicant's personal data in the outputs of both nodes, as the stand-in answers orders, and
// the paths the nodes list in `sensitiveOutputFields`: walked the way n8n 2.41.1's
// NodeDefinedFieldRedactionStrategy walks them (dotted segments, `key[*]` for each element of an
// array), the listed paths must leave none of the applicant's values in any output item.
// test/e2e/truvNode.e2e.test.ts applies n8n's own strategy to a stored execution.
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { Truv } from '../../../nodes/Truv/Truv.node';
import { REPORT_PERSONAL_DATA_PATHS } from '../../../nodes/shared/personalData';
import { TruvOrderTrigger } from '../../../nodes/TruvOrderTrigger/TruvOrderTrigger.node';
import { forgetProcessRecords } from '../../../nodes/TruvOrderTrigger/deliveryDeduplication';
import { forgetRememberedCredentials } from '../../../nodes/TruvOrderTrigger/credentialCache';
import { deliver } from '../../../dev/n8n-core/n8nContexts';
import {
	startTruvStandIn,
	type TruvOrder,
	type TruvStandIn,
} from '../../../dev/truv-stand-in/truvStandIn';
import { fixtureJson, signedHeaders } from '../../helpers/fixtures';
import { runTruvNode, standInCredentials } from '../../helpers/truvNode';

const truvFields = new Truv().description.sensitiveOutputFields ?? [];
const triggerFields = new TruvOrderTrigger().description.sensitiveOutputFields ?? [];

const APPLICANT = {
	first_name: 'Zelda',
	last_name: 'Quintessa',
	email: 'zelda.quintessa@example.com',
	phone: '+15555550199',
};
const SSN = '987654321';
const PERSONAL_VALUES = [...Object.values(APPLICANT), SSN];

const MARKER = { __redacted: true, reason: 'node_defined_field', canReveal: false };

/** n8n 2.41.1's redactPathRecursive, on a copy: the last segment is replaced when present. */
function redacted(json: IDataObject, paths: string[]): IDataObject {
	const copy = structuredClone(json);
	const walk = (current: Record<string, unknown>, segments: string[], index: number): void => {
		const segment = segments[index];
		if (index === segments.length - 1) {
			if (segment in current) current[segment] = { ...MARKER };
			return;
		}
		if (segment.endsWith('[*]')) {
			const list = current[segment.slice(0, -3)];
			if (!Array.isArray(list)) return;
			for (const element of list) {
				if (typeof element === 'object' && element !== null) {
					walk(element as Record<string, unknown>, segments, index + 1);
				}
			}
			return;
		}
		const next = current[segment];
		if (typeof next === 'object' && next !== null) {
			walk(next as Record<string, unknown>, segments, index + 1);
		}
	};
	for (const path of paths) walk(copy, path.split('.'), 0);
	return copy;
}

/** Where in `json` one of the applicant's values is, as `a.b[0].c`. */
function personalValuePaths(json: unknown, at = ''): string[] {
	if (typeof json === 'string') return PERSONAL_VALUES.includes(json) ? [at] : [];
	if (Array.isArray(json))
		return json.flatMap((each, index) => personalValuePaths(each, `${at}[${index}]`));
	if (typeof json === 'object' && json !== null) {
		return Object.entries(json).flatMap(([key, value]) =>
			personalValuePaths(value, at ? `${at}.${key}` : key),
		);
	}
	return [];
}

describe('sensitiveOutputFields', () => {
	test("the Truv node lists the applicant's names, email, phone and SSN of its orders, and its reports' personal data", () => {
		expect(truvFields).toEqual([
			'first_name',
			'last_name',
			'email',
			'phone',
			'ssn',
			...REPORT_PERSONAL_DATA_PATHS,
		]);
	});

	test('the trigger lists the same fields of the order Include Order Details adds', () => {
		expect(triggerFields).toEqual([
			'order_details.first_name',
			'order_details.last_name',
			'order_details.email',
			'order_details.phone',
			'order_details.ssn',
		]);
	});

	test('walked as n8n walks them, a listed path replaces the value and an absent one adds nothing', () => {
		expect(redacted({ first_name: 'Zelda', id: 'o-1' }, ['first_name', 'ssn'])).toEqual({
			first_name: MARKER,
			id: 'o-1',
		});
		expect(redacted({ order_details: null }, ['order_details.first_name'])).toEqual({
			order_details: null,
		});
	});
});

describe('the Truv node leaves no personal value outside its listed paths', () => {
	let standIn: TruvStandIn;
	let order: TruvOrder;

	beforeAll(async () => {
		standIn = await startTruvStandIn();
		order = standIn.addOrder({
			products: ['income'],
			...APPLICANT,
			ssn: SSN,
			order_number: 'loan-7',
			employers: [{ company_name: 'Acme' }],
		});
		standIn.setSuborderStatus(order.id, 'completed');
	});
	afterAll(async () => await standIn.close());

	const operations: Array<[string, INodeParameters]> = [
		[
			'Create',
			{
				resource: 'order',
				operation: 'create',
				products: ['income'],
				firstName: APPLICANT.first_name,
				lastName: APPLICANT.last_name,
				additionalFields: { email: APPLICANT.email, phone: APPLICANT.phone, ssn: SSN },
			},
		],
		['Get', { resource: 'order', operation: 'get', orderId: '' }],
		['Get Many', { resource: 'order', operation: 'getAll', returnAll: true }],
		['Refresh', { resource: 'order', operation: 'refresh', orderId: '', product: 'income' }],
	];

	test.each(
		operations.flatMap(([name, parameters]) =>
			[true, false].map((simplify) => [name, simplify, parameters] as const),
		),
	)('Order %s (Simplify %s)', async (_name, simplify, parameters) => {
		const output = await runTruvNode(standIn, {
			...parameters,
			...(parameters.orderId === undefined ? {} : { orderId: order.id }),
			simplify,
		});
		expect(output.length).toBeGreaterThan(0);
		for (const { json } of output) {
			// The values are there, so that the check below has something to find.
			expect(personalValuePaths(json)).toEqual(
				expect.arrayContaining(['first_name', 'last_name', 'email']),
			);
			expect(personalValuePaths(redacted(json, truvFields))).toEqual([]);
		}
	});

	test.each([
		['income and employment', 'incomeAndEmployment', true],
		['income and employment', 'incomeAndEmployment', false],
		['employment only', 'employment', true],
		['employment only', 'employment', false],
	])('Report Get, %s (Simplify %s)', async (_name, reportType, simplify) => {
		const output = await runTruvNode(standIn, {
			resource: 'report',
			operation: 'get',
			orderId: order.id,
			reportType,
			simplify,
		});
		expect(output.length).toBeGreaterThan(0);
		for (const { json } of output) {
			expect(personalValuePaths(json).length).toBeGreaterThan(0);
			expect(personalValuePaths(redacted(json, truvFields))).toEqual([]);
		}
	});

	test('Report Get, assets', async () => {
		const assets = standIn.addOrder({
			products: ['assets'],
			...APPLICANT,
			financial_institutions: [{ name: 'First Bank' }],
		});
		standIn.setSuborderStatus(assets.id, 'completed');
		for (const simplify of [true, false]) {
			const [{ json }] = await runTruvNode(standIn, {
				resource: 'report',
				operation: 'get',
				orderId: assets.id,
				reportType: 'assets',
				simplify,
			});
			expect(JSON.stringify(json)).toContain(`${APPLICANT.first_name} ${APPLICANT.last_name}`);
			expect(JSON.stringify(redacted(json, truvFields))).not.toContain(APPLICANT.last_name);
		}
	});

	test('Order Cancel', async () => {
		const cancelable = standIn.addOrder({ products: ['income'], ...APPLICANT, ssn: SSN });
		const [canceled] = await runTruvNode(standIn, {
			resource: 'order',
			operation: 'cancel',
			orderId: cancelable.id,
		});
		expect(personalValuePaths(canceled.json)).toEqual(
			expect.arrayContaining(['first_name', 'last_name', 'email', 'phone']),
		);
		expect(personalValuePaths(redacted(canceled.json, truvFields))).toEqual([]);
	});
});

describe('the trigger leaves no personal value of order_details outside its listed paths', () => {
	let standIn: TruvStandIn;

	beforeAll(async () => {
		standIn = await startTruvStandIn();
	});
	afterAll(async () => await standIn.close());
	beforeEach(() => {
		forgetProcessRecords();
		forgetRememberedCredentials();
	});

	test('an accepted order delivery with Include Order Details', async () => {
		const order = standIn.addOrder({ products: ['income'], ...APPLICANT, ssn: SSN });
		const body = Buffer.from(
			JSON.stringify({
				...fixtureJson('order-status-updated-completed'),
				webhook_id: 'personal-data-1',
				order_id: order.id,
			}),
		);
		const result = await deliver({
			rawBody: body,
			headers: signedHeaders(body, standIn.account.secrets.sandbox!),
			credentials: standInCredentials(standIn),
			parameters: { options: { includeOrderDetails: true } },
		});
		const items = (result.workflowData ?? []).flat();
		expect(items).toHaveLength(1);
		const { json } = items[0];
		expect(personalValuePaths(json)).toEqual(
			expect.arrayContaining([
				'order_details.first_name',
				'order_details.last_name',
				'order_details.email',
				'order_details.phone',
			]),
		);
		expect(personalValuePaths(redacted(json, triggerFields))).toEqual([]);
	});
});
