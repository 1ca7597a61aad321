import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { NodeApiError } from 'n8n-workflow';

import { executeContext } from '../../../dev/n8n-core/n8nContexts';
import { startTruvStandIn, type TruvStandIn } from '../../../dev/truv-stand-in/truvStandIn';
import {
	MAX_LIST_PAGES,
	nextPagePath,
	resolveEnvironment,
	truvApiRequest,
	truvListRequest,
} from '../../../nodes/shared/truvTransport';
import { runTruvNode, standInCredentials, truvNodeError } from '../../helpers/truvNode';

const servers: Server[] = [];
let standIn: TruvStandIn;

beforeAll(async () => {
	standIn = await startTruvStandIn({ pageSize: 2 });
	for (const name of ['A', 'B', 'C', 'D', 'E']) {
		standIn.addOrder({ products: ['income'], first_name: name, last_name: 'L' });
	}
});
afterAll(async () => {
	await standIn.close();
	await Promise.all(
		servers.map((server) => new Promise<void>((done) => server.close(() => done()))),
	);
});

async function listen(
	handle: (request: IncomingMessage, respond: (status: number, body: unknown) => void) => void,
): Promise<string> {
	const server = createServer((request, response) =>
		handle(request, (status, body) => {
			response.writeHead(status, { 'Content-Type': 'application/json' });
			response.end(JSON.stringify(body));
		}),
	);
	servers.push(server);
	await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
	return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A Truv stand-in whose answers are `page(url)`, recording each requested path. */
async function fakeTruv(page: (url: URL, base: string) => unknown) {
	const requested: string[] = [];
	let base = '';
	base = await listen((request, respond) => {
		requested.push(request.url ?? '');
		respond(200, page(new URL(request.url ?? '/', base), base));
	});
	return { base, requested };
}

describe('resolveEnvironment', () => {
	const keys = { clientId: 'client', accessSecret: 'sandbox-secret' };

	test("takes the secret's environment, whatever the Environment field says", () => {
		expect(resolveEnvironment({ ...keys, environment: 'fromSecret' })).toBe('sandbox');
		expect(resolveEnvironment({ ...keys, environment: 'prod' })).toBe('sandbox');
		expect(resolveEnvironment({ ...keys, accessSecret: 'prod-secret' })).toBe('prod');
	});

	test('takes the Environment field for a secret without a known prefix, or none', () => {
		expect(resolveEnvironment({ ...keys, accessSecret: 'legacy', environment: 'dev' })).toBe('dev');
		expect(resolveEnvironment({ ...keys, accessSecret: 'legacy', environment: 'fromSecret' })).toBe(
			undefined,
		);
	});
});

describe('requests carry the keys only to the Base URL', () => {
	test.each([
		['a protocol-relative address', '//evil.example/v1/orders/'],
		['a full URL', 'http://evil.example/v1/orders/'],
		['a full https URL', 'https://evil.example/v1/orders/'],
		['a path without its leading slash', 'evil.example/v1/orders/'],
		['a backslash, which some clients read as a slash', '/\\evil.example/v1/orders/'],
		['a path above the Base URL', '/../v1/orders/'],
		['an escaped path above the Base URL', '/v1/%2e%2e/%2e%2e/v1/orders/'],
	])('%s is refused before anything is sent', async (_, path) => {
		const truv = await fakeTruv(() => ({}));
		const { context } = executeContext({
			credentials: standInCredentials(standIn, { baseUrl: `${truv.base}/truv` }),
		});
		await expect(truvApiRequest(context, 'GET', path)).rejects.toThrow(
			/^Refused to send a request to Truv: .* (is not a path under|leads outside) the Base URL$/,
		);
		expect(truv.requested).toEqual([]);
	});

	test('a path under the Base URL, dot segments inside it included, is sent there', async () => {
		const truv = await fakeTruv(() => ({ id: 'o-1' }));
		const { context } = executeContext({
			credentials: standInCredentials(standIn, { baseUrl: `${truv.base}/truv/` }),
		});
		await truvApiRequest(context, 'GET', '/v1/orders/?page=2');
		await truvApiRequest(context, 'GET', '/v1/webhooks/../orders/o-1/');
		expect(truv.requested).toEqual(['/truv/v1/orders/?page=2', '/truv/v1/orders/o-1/']);
	});
});

describe('nextPagePath', () => {
	const base = 'https://proxy.example.com/truv';
	test.each([
		['the Base URL with its path', `${base}/v1/orders/?page=2`],
		[
			"Truv's own origin, as Truv behind a proxy sees it",
			'https://prod.truv.com/v1/orders/?page=2',
		],
		['an origin-relative link', '/v1/orders/?page=2'],
		['a query-only link', '?page=2'],
	])('maps %s onto the Base URL, never doubling its path', (_case, next) => {
		expect(nextPagePath(base, '/v1/orders/', next)).toBe('/v1/orders/?page=2');
	});

	test.each([
		['another list', 'https://prod.truv.com/v1/webhooks/?page=2'],
		['no http address', 'javascript:alert(1)'],
		['a path under the list', `${base}/v1/orders/abc/?page=2`],
	])('refuses a link to %s', (_case, next) => {
		expect(nextPagePath(base, '/v1/orders/', next)).toBeUndefined();
	});
});

describe('reading a list through a proxy with a path', () => {
	test("every page goes through the Base URL, though Truv's next links name its own origin", async () => {
		const forwarded: string[] = [];
		const proxy = await listen(() => undefined);
		// Replace the placeholder handler: forward /truv/* to the stand-in, unchanged otherwise.
		const server = servers[servers.length - 1];
		server.removeAllListeners('request');
		server.on('request', (incoming: IncomingMessage, outgoing) => {
			const path = (incoming.url ?? '/').replace(/^\/truv/, '');
			forwarded.push(incoming.url ?? '');
			const upstream = httpRequest(
				`${standIn.url}${path}`,
				{ method: incoming.method, headers: incoming.headers },
				(answer) => {
					outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
					answer.pipe(outgoing);
				},
			);
			incoming.pipe(upstream);
		});

		const output = await runTruvNode(
			standIn,
			{ resource: 'order', operation: 'getAll', returnAll: true },
			{ credentials: standInCredentials(standIn, { baseUrl: `${proxy}/truv/` }) },
		);
		expect(output.map((item) => item.json.first_name)).toEqual(['E', 'D', 'C', 'B', 'A']);
		expect(forwarded).toEqual([
			'/truv/v1/orders/',
			'/truv/v1/orders/?page=2',
			'/truv/v1/orders/?page=3',
		]);
	});
});

describe('guards of the list reader', () => {
	test('a next link back to a page already read stops with an error after one request', async () => {
		const truv = await fakeTruv((url, base) => ({
			results: [{ id: 1 }],
			next: `${base}${url.pathname}`,
		}));
		const error = await truvNodeError(
			standIn,
			{ resource: 'order', operation: 'getAll', returnAll: true },
			{ credentials: standInCredentials(standIn, { baseUrl: truv.base }) },
		);
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe(
			"Truv's link to the next page of /v1/orders/ leads back to a page already read",
		);
		expect(truv.requested).toEqual(['/v1/orders/']);
	});

	test('pages that alternate are caught too', async () => {
		const truv = await fakeTruv((url) => ({
			results: [],
			next: url.searchParams.get('page') === '2' ? '?page=1' : '?page=2',
		}));
		const error = await truvNodeError(
			standIn,
			{ resource: 'webhookRequest', operation: 'getAll', returnAll: true },
			{ credentials: standInCredentials(standIn, { baseUrl: truv.base }) },
		);
		expect(error.message).toMatch(/leads back to a page already read/);
		expect(truv.requested).toEqual([
			'/v1/webhook-requests/',
			'/v1/webhook-requests/?page=2',
			'/v1/webhook-requests/?page=1',
		]);
	});

	test('a next link to another list is not followed', async () => {
		const truv = await fakeTruv(() => ({ results: [{ id: 1 }], next: '/v1/webhooks/?page=2' }));
		const error = await truvNodeError(
			standIn,
			{ resource: 'order', operation: 'getAll', returnAll: true },
			{ credentials: standInCredentials(standIn, { baseUrl: truv.base }) },
		);
		expect(error.message).toBe(
			"Truv's link to the next page of /v1/orders/ points to another address",
		);
		expect(error.description).toBe("Truv's link to the next page was /v1/webhooks/?page=2");
		expect(truv.requested).toHaveLength(1);
	});

	test(`a list that never ends stops after ${MAX_LIST_PAGES} pages`, async () => {
		const truv = await fakeTruv((url) => ({
			results: [],
			next: `?page=${Number(url.searchParams.get('page') ?? 1) + 1}`,
		}));
		const { context } = executeContext({
			credentials: standInCredentials(standIn, { baseUrl: truv.base }),
		});
		await expect(truvListRequest(context, '/v1/orders/')).rejects.toThrow(
			`Truv's list /v1/orders/ goes on for more than ${MAX_LIST_PAGES} pages: use a limit or filters`,
		);
		expect(truv.requested).toHaveLength(MAX_LIST_PAGES);
	}, 60_000);

	test('an answer that is a bare array is the whole list; one that is no list is an error', async () => {
		const truv = await fakeTruv((url) =>
			url.pathname.endsWith('/events/')
				? [{ type: 'order_created' }, { type: 'order_canceled' }]
				: { detail: 'surprise' },
		);
		const credentials = standInCredentials(standIn, { baseUrl: truv.base });
		const events = await runTruvNode(
			standIn,
			{ resource: 'order', operation: 'getEvents', orderId: 'o-1', returnAll: true },
			{ credentials },
		);
		expect(events.map((item) => item.json.type)).toEqual(['order_created', 'order_canceled']);

		const error = await truvNodeError(
			standIn,
			{ resource: 'order', operation: 'getAll', returnAll: true },
			{ credentials },
		);
		expect(error.message).toBe('Truv answered GET /v1/orders/ with something that is not a list');
	});
});

describe("Truv's rate limit, waited out for real", () => {
	test('a run over more items than the limit allows waits for the slot Truv names, then goes on', async () => {
		const limited = await startTruvStandIn({ rateLimit: { requests: 2, windowMs: 1_000 } });
		try {
			const order = limited.addOrder({ products: ['income'], first_name: 'A', last_name: 'L' });
			const output = await runTruvNode(
				limited,
				{ resource: 'order', operation: 'get', orderId: order.id },
				{ inputItems: [{ json: {} }, { json: {} }, { json: {} }] },
			);
			expect(output.map((item) => item.json.id)).toEqual([order.id, order.id, order.id]);
			const statuses = limited.calls.map((call) => call.status);
			expect(statuses).toEqual([200, 200, 429, 200]);
			// Truv said 1 s: the retry came no sooner.
			const [throttled, retried] = limited.calls.slice(2).map((call) => Date.parse(call.at));
			expect(retried - throttled).toBeGreaterThanOrEqual(1_000);
		} finally {
			await limited.close();
		}
	});
});
