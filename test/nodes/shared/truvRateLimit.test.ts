// Truv's rate limit (429) in the shared transport, through n8n-core's real contexts: the waits are
// recorded by replacing n8n-workflow's sleep, the only clock the transport waits on, so that the
// tests check the waits asked for without waiting them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { NodeApiError, sleep } from 'n8n-workflow';

import { deliver } from '../../../dev/n8n-core/n8nContexts';
import { forgetRememberedCredentials } from '../../../nodes/TruvOrderTrigger/credentialCache';
import { forgetProcessRecords } from '../../../nodes/TruvOrderTrigger/deliveryDeduplication';
import {
	forgetOrderLookups,
	ORDER_DETAILS_RATE_LIMIT_WAIT_MS,
} from '../../../nodes/TruvOrderTrigger/orderDetails';
import { RATE_LIMIT_MAX_WAIT_MS, rateLimitDelayMs } from '../../../nodes/shared/truvTransport';
import { startTruvStandIn, type TruvStandIn } from '../../../dev/truv-stand-in/truvStandIn';
import { fixtureJson, signedHeaders } from '../../helpers/fixtures';
import { runTruvNode, standInCredentials, truvNodeError } from '../../helpers/truvNode';

jest.mock('n8n-workflow', () => ({
	...jest.requireActual('n8n-workflow'),
	sleep: jest.fn(async () => undefined),
}));
const sleeps = () => jest.mocked(sleep).mock.calls.map(([ms]) => ms);

interface ScriptedAnswer {
	status: number;
	headers?: Record<string, string>;
	body: unknown;
}

const ORDER = { id: 'o-1', first_name: 'Ada', last_name: 'Lovelace', employers: [] };
const throttled = (seconds: number, headers: Record<string, string> = {}): ScriptedAnswer => ({
	status: 429,
	headers,
	body: {
		error: {
			code: 'throttled',
			message: `Request was throttled. Expected available in ${seconds} seconds.`,
		},
	},
});

let server: Server;
let base = '';
let script: ScriptedAnswer[] = [];
/** Requests answered, by path. */
let requested: string[] = [];
let standIn: TruvStandIn;

beforeAll(async () => {
	standIn = await startTruvStandIn();
	server = createServer((request, response) => {
		requested.push(request.url ?? '');
		const answer = script.shift() ?? { status: 200, body: ORDER };
		response.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
		response.end(JSON.stringify(answer.body));
	});
	await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
	base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
	await standIn.close();
	await new Promise<void>((done) => server.close(() => done()));
});
beforeEach(() => {
	jest.mocked(sleep).mockClear();
	script = [];
	requested = [];
	forgetProcessRecords();
	forgetRememberedCredentials();
	forgetOrderLookups();
});

const credentials = () => standInCredentials(standIn, { baseUrl: base });
const getOrder = { resource: 'order', operation: 'get', orderId: 'o-1', simplify: false };

describe('the Truv node under a 429', () => {
	test.each([
		['the Retry-After header', throttled(30, { 'Retry-After': '3' }), 3_000],
		['the seconds in Truv’s error message', throttled(7), 7_000],
		[
			'the seconds in a bare detail',
			{ status: 429, body: { detail: 'Request was throttled. Expected available in 12 seconds.' } },
			12_000,
		],
		['a first backoff without either', { status: 429, body: {} }, 1_000],
	])('waits as %s says, then succeeds', async (_case, answer, expectedWait) => {
		script = [answer as ScriptedAnswer];
		const output = await runTruvNode(standIn, getOrder, { credentials: credentials() });
		expect(output.map((item) => item.json)).toEqual([ORDER]);
		expect(sleeps()).toEqual([expectedWait]);
		expect(requested).toEqual(['/v1/orders/o-1/', '/v1/orders/o-1/']);
	});

	test('backs off longer each time Truv gives no wait, and paces every item', async () => {
		script = [
			{ status: 429, body: {} },
			{ status: 429, body: {} },
			{ status: 429, body: {} },
			{ status: 200, body: ORDER },
			throttled(2, { 'Retry-After': '2' }),
		];
		const output = await runTruvNode(standIn, getOrder, {
			credentials: credentials(),
			inputItems: [{ json: {} }, { json: {} }],
		});
		expect(output).toHaveLength(2);
		expect(sleeps()).toEqual([1_000, 2_000, 4_000, 2_000]);
		expect(requested).toHaveLength(6);
	});

	test(`gives up once the waits would pass ${RATE_LIMIT_MAX_WAIT_MS / 1000} s, with an error naming the limit`, async () => {
		script = Array.from({ length: 20 }, () => throttled(13, { 'Retry-After': '13' }));
		const error = await truvNodeError(standIn, getOrder, { credentials: credentials() });
		expect(sleeps()).toEqual([13_000, 13_000, 13_000, 13_000]);
		expect(requested).toHaveLength(5);
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.httpCode).toBe('429');
		expect(error.message).toBe(
			"Truv's rate limit was reached (300 requests a minute per Access Secret): Request was throttled. Expected available in 13 seconds.",
		);
		expect(error.description).toMatch(
			/^Waited 52 s for Truv's rate limit, which asked for 13 s more\. Everything that uses this Access Secret .* shares the 300 requests a minute per Access Secret/,
		);
		expect(error.description).toMatch(/\(GET \/v1\/orders\/o-1\/ answered HTTP 429\)$/);
	});

	test('does not start a wait longer than the bound', async () => {
		script = [throttled(120, { 'Retry-After': '120' })];
		const error = await truvNodeError(standIn, getOrder, { credentials: credentials() });
		expect(sleeps()).toEqual([]);
		expect(requested).toHaveLength(1);
		expect(error.description).toMatch(
			/^Waited 0 s for Truv's rate limit, which asked for 120 s more/,
		);
	});

	test('reads the credential once for the whole run, whatever the retries and pages', async () => {
		let reads = 0;
		script = [throttled(1, { 'Retry-After': '1' })];
		await runTruvNode(standIn, getOrder, {
			readCredentials: () => {
				reads += 1;
				return credentials();
			},
			inputItems: [{ json: {} }, { json: {} }, { json: {} }],
		});
		expect(requested).toHaveLength(4);
		expect(reads).toBe(1);
	});
});

describe('Include Order Details under a 429', () => {
	async function delivered() {
		const body = Buffer.from(
			JSON.stringify({ ...fixtureJson('order-status-updated-completed'), order_id: 'o-1' }),
		);
		const result = await deliver({
			rawBody: body,
			headers: signedHeaders(body, standIn.account.secrets.sandbox!),
			credentials: credentials(),
			parameters: { options: { includeOrderDetails: true } },
		});
		expect(result.status).toBe(200);
		return result.workflowData![1][0].json;
	}

	test('a wait Truv’s 10 s cannot hold becomes order_details_error naming the rate limit', async () => {
		script = [throttled(9, { 'Retry-After': '9' })];
		const item = await delivered();
		expect(item.order_details).toBeNull();
		expect(item.order_details_error).toBe(
			"Could not get the order details: Truv's rate limit was reached (300 requests a minute per Access Secret): Request was throttled. Expected available in 9 seconds.",
		);
		expect(sleeps()).toEqual([]);
		expect(requested).toHaveLength(1);
	});

	test(`a wait of up to ${ORDER_DETAILS_RATE_LIMIT_WAIT_MS} ms is waited out`, async () => {
		script = [throttled(1, { 'Retry-After': '1' })];
		const item = await delivered();
		expect(item.order_details).toEqual(ORDER);
		expect(sleeps()).toEqual([1_000]);
		expect(requested).toHaveLength(2);
	});
});

describe('rateLimitDelayMs', () => {
	test('takes Retry-After in seconds or as an HTTP date, before the message', () => {
		const now = Date.parse('2026-01-01T00:00:00Z');
		expect(rateLimitDelayMs({ 'retry-after': '2.5' }, { detail: 'in 9 seconds' })).toBe(2_500);
		expect(rateLimitDelayMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:10 GMT' }, {}, now)).toBe(
			10_000,
		);
		expect(rateLimitDelayMs({ 'retry-after': 'soon' }, { detail: 'in 9 seconds' })).toBe(9_000);
		expect(rateLimitDelayMs({}, 'Request was throttled.')).toBeUndefined();
	});
});
