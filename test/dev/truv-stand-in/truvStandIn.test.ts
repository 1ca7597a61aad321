import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

import {
	readTruvFixture,
	signTruvWebhookBody,
	startTruvStandIn,
	type TruvEnvironment,
	type TruvStandIn,
	type TruvStandInOptions,
	type TruvWebhook,
} from '../../../dev/truv-stand-in/truvStandIn';
import { TRUV_SIGNATURE_VECTORS } from '../../helpers/signatureVectors';

/** Small delays keep retry tests fast; the defaults (10 s, 30 s) are Truv's. */
const FAST_DELIVERY = { timeoutMs: 1_000, retryDelayMs: 10, maxRetries: 3 };

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
	await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function start(options: TruvStandInOptions = {}): Promise<TruvStandIn> {
	const standIn = await startTruvStandIn({ delivery: FAST_DELIVERY, ...options });
	cleanups.push(() => standIn.close());
	return standIn;
}

interface ApiAnswer {
	status: number;
	text: string;
	json: any;
	headers: Headers;
}

interface ApiRequestOptions {
	body?: unknown;
	rawBody?: string;
	env?: TruvEnvironment;
	headers?: Record<string, string>;
	authenticated?: boolean;
}

async function callApi(
	standIn: TruvStandIn,
	method: string,
	pathOrUrl: string,
	options: ApiRequestOptions = {},
): Promise<ApiAnswer> {
	const body =
		options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
	const response = await fetch(pathOrUrl.startsWith('http') ? pathOrUrl : standIn.url + pathOrUrl, {
		method,
		headers: {
			...(options.authenticated === false ? {} : standIn.authHeaders(options.env)),
			...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
			...options.headers,
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

async function createWebhook(
	standIn: TruvStandIn,
	fields: Partial<TruvWebhook>,
	env: TruvEnvironment = 'sandbox',
): Promise<TruvWebhook> {
	const answer = await callApi(standIn, 'POST', '/v1/webhooks/', {
		env,
		body: { name: 'n8n', env_type: env, ...fields },
	});
	expect(answer.status).toBe(201);
	return answer.json as TruvWebhook;
}

interface ReceivedWebhook {
	method: string;
	path: string;
	headers: IncomingHttpHeaders;
	body: Buffer;
}

type Reply = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

/** A webhook endpoint on 127.0.0.1 that records what arrives and answers as told. */
async function startReceiver(
	reply: (request: ReceivedWebhook, index: number) => Reply = () => ({ status: 200 }),
): Promise<{ url: string; requests: ReceivedWebhook[] }> {
	const requests: ReceivedWebhook[] = [];
	const server = createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => {
			const received = {
				method: request.method ?? '',
				path: request.url ?? '',
				headers: request.headers,
				body: Buffer.concat(chunks),
			};
			requests.push(received);
			const answer = reply(received, requests.length - 1);
			if (answer === 'hang') return;
			response.writeHead(answer.status, answer.headers);
			response.end(answer.body ?? 'ok');
		});
	});
	await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
	cleanups.push(
		() =>
			new Promise<void>((done) => {
				server.close(() => done());
				server.closeAllConnections();
			}),
	);
	return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

describe('authentication', () => {
	const AUTHENTICATION_FAILED = {
		error: {
			code: 'authentication_failed',
			message: 'Authentication credentials were not provided or are invalid.',
		},
	};

	it('answers 401 authentication_failed without, or with wrong, credentials', async () => {
		const standIn = await start();
		const secret = standIn.account.secrets.sandbox as string;
		const attempts: Array<Record<string, string>> = [
			{},
			{ 'X-Access-Client-Id': standIn.account.clientId },
			{ 'X-Access-Client-Id': standIn.account.clientId, 'X-Access-Secret': 'sandbox-wrong' },
			{ 'X-Access-Client-Id': 'someone-else', 'X-Access-Secret': secret },
		];
		for (const headers of attempts) {
			const answer = await callApi(standIn, 'GET', '/v1/webhooks/', {
				authenticated: false,
				headers,
			});
			expect(answer.status).toBe(401);
			expect(answer.json).toEqual(AUTHENTICATION_FAILED);
		}
	});

	it('accepts header names in any case and takes the environment from the secret', async () => {
		const standIn = await start();
		const answer = await callApi(standIn, 'GET', '/v1/webhooks/', {
			authenticated: false,
			headers: {
				'x-access-client-id': standIn.account.clientId,
				'X-ACCESS-SECRET': standIn.account.secrets.dev as string,
			},
		});
		expect(answer.status).toBe(200);
		expect(standIn.calls.at(-1)).toMatchObject({
			method: 'GET',
			path: '/v1/webhooks/',
			status: 200,
			clientId: standIn.account.clientId,
			env: 'dev',
		});
	});

	it('authenticates every secret of a custom account, rotation included', async () => {
		const standIn = await start({
			accounts: [{ clientId: 'acme', secrets: ['prod-old', 'prod-new', 'sandbox-only'] }],
		});
		expect(standIn.account).toEqual({
			clientId: 'acme',
			secrets: { prod: 'prod-old', sandbox: 'sandbox-only' },
		});
		for (const secret of ['prod-old', 'prod-new']) {
			const answer = await callApi(standIn, 'GET', '/v1/webhooks/', {
				authenticated: false,
				headers: { 'X-Access-Client-Id': 'acme', 'X-Access-Secret': secret },
			});
			expect(answer.status).toBe(200);
			expect(standIn.calls.at(-1)?.env).toBe('prod');
		}
		await expect(
			startTruvStandIn({ accounts: [{ clientId: 'x', secrets: ['nope'] }] }),
		).rejects.toThrow(/prefix/);
	});
});

describe('webhook management API', () => {
	it('creates a webhook with Truv-shaped fields and defaults', async () => {
		const standIn = await start();
		const before = Date.now();
		const webhook = await createWebhook(standIn, { webhook_url: 'https://example.com/hook' });
		expect(webhook).toEqual({
			id: expect.stringMatching(/^[0-9a-f]{32}$/),
			name: 'n8n',
			webhook_url: 'https://example.com/hook',
			events: [],
			env_type: 'sandbox',
			enabled: true,
			created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
			updated_at: webhook.created_at,
		});
		expect(Date.parse(webhook.created_at)).toBeGreaterThanOrEqual(before - 1);
		expect(standIn.webhooks()).toEqual([webhook]);
		expect(standIn.calls.at(-1)?.body).toEqual({
			name: 'n8n',
			env_type: 'sandbox',
			webhook_url: 'https://example.com/hook',
		});
	});

	it('lists the account webhooks of every environment, paginated with absolute links', async () => {
		const standIn = await start({ pageSize: 2 });
		const created: TruvWebhook[] = [];
		for (const [index, env] of (['sandbox', 'dev', 'prod', 'sandbox', 'prod'] as const).entries()) {
			created.push(
				await createWebhook(standIn, { webhook_url: `https://example.com/${index}` }, env),
			);
		}
		const first = await callApi(standIn, 'GET', '/v1/webhooks/');
		expect(first.json).toEqual({
			count: 5,
			next: `${standIn.url}/v1/webhooks/?page=2`,
			previous: null,
			results: created.slice(0, 2),
		});
		const second = await callApi(standIn, 'GET', first.json.next);
		expect(second.json).toMatchObject({
			next: `${standIn.url}/v1/webhooks/?page=3`,
			previous: `${standIn.url}/v1/webhooks/`,
			results: created.slice(2, 4),
		});
		const last = await callApi(standIn, 'GET', second.json.next);
		expect(last.json).toMatchObject({ next: null, results: created.slice(4) });
		expect(await callApi(standIn, 'GET', '/v1/webhooks/?page=4')).toMatchObject({
			status: 404,
			json: { detail: 'Invalid page.' },
		});
	});

	it('refuses a second registration of a URL in the same environment', async () => {
		const standIn = await start();
		const url = 'https://example.com/hook';
		await createWebhook(standIn, { webhook_url: url });
		const duplicate = await callApi(standIn, 'POST', '/v1/webhooks/', {
			body: { name: 'again', webhook_url: url, env_type: 'sandbox' },
		});
		expect(duplicate.status).toBe(400);
		expect(duplicate.json).toEqual({
			error: {
				code: 'incorrect_parameters',
				message: 'Incorrect parameters',
				extra: {
					'invalid-params': [
						{ field: 'webhook_url', message: 'Webhook url for sandbox already registered' },
					],
				},
			},
		});

		const prod = await createWebhook(standIn, { webhook_url: url }, 'prod');
		const prodDuplicate = await callApi(standIn, 'POST', '/v1/webhooks/', {
			env: 'prod',
			body: { name: 'again', webhook_url: url, env_type: 'prod' },
		});
		expect(prodDuplicate.json.error.extra['invalid-params']).toEqual([
			{ field: 'webhook_url', message: 'Webhook url for prod already registered' },
		]);

		const other = await createWebhook(standIn, { webhook_url: 'https://example.com/other' });
		const patched = await callApi(standIn, 'PATCH', `/v1/webhooks/${other.id}/`, {
			body: { webhook_url: url },
		});
		expect(patched.status).toBe(400);
		expect(patched.json.error.extra['invalid-params'][0].message).toBe(
			'Webhook url for sandbox already registered',
		);
		const movedToProd = await callApi(standIn, 'PATCH', `/v1/webhooks/${other.id}/`, {
			body: { env_type: 'prod', webhook_url: url },
		});
		expect(movedToProd.status).toBe(400);
		expect(prod.webhook_url).toBe(url);
	});

	it('retrieves, patches and deletes a webhook, then answers 404', async () => {
		const standIn = await start();
		const webhook = await createWebhook(standIn, { webhook_url: 'https://example.com/hook' });
		const path = `/v1/webhooks/${webhook.id}/`;

		expect(await callApi(standIn, 'GET', path)).toMatchObject({ status: 200, json: webhook });

		const patched = await callApi(standIn, 'PATCH', path, {
			body: { enabled: false, events: ['order-created', 'order-status-updated'] },
		});
		expect(patched.status).toBe(200);
		expect(patched.json).toMatchObject({
			...webhook,
			enabled: false,
			events: ['order-created', 'order-status-updated'],
			updated_at: expect.any(String),
		});
		expect(standIn.webhooks()[0].enabled).toBe(false);

		const deleted = await callApi(standIn, 'DELETE', path);
		expect(deleted.status).toBe(204);
		expect(deleted.text).toBe('');
		for (const method of ['GET', 'PATCH', 'DELETE']) {
			const gone = await callApi(standIn, method, path, {
				body: method === 'PATCH' ? {} : undefined,
			});
			expect(gone.status).toBe(404);
			expect(gone.json).toEqual({ detail: 'Not Found.' });
		}
	});

	it("hides another account's webhooks", async () => {
		const standIn = await start({
			accounts: [
				{ clientId: 'first', secrets: ['sandbox-first'] },
				{ clientId: 'second', secrets: ['sandbox-second'] },
			],
		});
		const theirs = standIn.addWebhook({ clientId: 'second', webhook_url: 'https://example.com/x' });
		const answer = await callApi(standIn, 'GET', `/v1/webhooks/${theirs.id}/`);
		expect(answer).toMatchObject({ status: 404, json: { detail: 'Not Found.' } });
		expect((await callApi(standIn, 'GET', '/v1/webhooks/')).json.count).toBe(0);
		expect(standIn.webhooks('second')).toHaveLength(1);
	});

	it.each([
		[
			'an empty body',
			{},
			[
				{ field: 'name', message: 'This field is required.' },
				{ field: 'webhook_url', message: 'This field is required.' },
				{ field: 'env_type', message: 'This field is required.' },
			],
		],
		[
			'a long name, an ftp URL and an unknown environment',
			{ name: 'x'.repeat(129), webhook_url: 'ftp://example.com/x', env_type: 'staging' },
			[
				{ field: 'name', message: 'Ensure this field has no more than 128 characters.' },
				{ field: 'webhook_url', message: 'Enter a valid URL.' },
				{ field: 'env_type', message: '"staging" is not a valid choice.' },
			],
		],
		[
			'a URL over 2048 characters',
			{ name: 'n8n', webhook_url: `https://example.com/${'a'.repeat(2048)}`, env_type: 'dev' },
			[{ field: 'webhook_url', message: 'Ensure this field has no more than 2048 characters.' }],
		],
		[
			'a host without a domain (a container name)',
			{ name: 'n8n', webhook_url: 'http://n8n:5678/webhook', env_type: 'dev' },
			[{ field: 'webhook_url', message: 'Enter a valid URL.' }],
		],
		[
			'a relative URL',
			{ name: 'n8n', webhook_url: '/webhook/relative', env_type: 'dev' },
			[{ field: 'webhook_url', message: 'Enter a valid URL.' }],
		],
		[
			'a blank name and events that are not a list',
			{ name: ' ', webhook_url: 'https://example.com/', env_type: 'prod', events: 'order-created' },
			[
				{ field: 'name', message: 'This field may not be blank.' },
				{ field: 'events', message: 'Expected a list of items but got type "str".' },
			],
		],
		[
			'an event the registration API lacks and a string for enabled',
			{
				name: 'n8n',
				webhook_url: 'https://example.com/',
				env_type: 'prod',
				events: ['order-created', 'order-finalized'],
				enabled: 'true',
			},
			[
				{ field: 'events', message: '"order-finalized" is not a valid choice.' },
				{ field: 'enabled', message: 'Must be a valid boolean.' },
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
		const standIn = await start();
		const answer = await callApi(standIn, 'POST', '/v1/webhooks/', { body });
		expect(answer.status).toBe(400);
		expect(answer.json).toEqual({
			error: {
				code: 'incorrect_parameters',
				message: 'Incorrect parameters',
				extra: { 'invalid-params': invalidParams },
			},
		});
		expect(standIn.webhooks()).toEqual([]);
	});

	it('accepts every registrable event, localhost and IP URLs', async () => {
		const standIn = await start();
		const { REGISTRABLE_EVENTS } = await import('../../../dev/truv-stand-in/truvStandIn');
		expect(REGISTRABLE_EVENTS).toHaveLength(17);
		for (const url of ['http://localhost:5678/webhook/x', 'http://127.0.0.1:5678/x']) {
			const webhook = await createWebhook(standIn, {
				webhook_url: url,
				events: [...REGISTRABLE_EVENTS],
				enabled: false,
			});
			expect(webhook).toMatchObject({ events: REGISTRABLE_EVENTS, enabled: false });
		}
	});

	it('answers unknown routes, missing slashes, bad JSON and wrong methods like Truv', async () => {
		const standIn = await start();
		for (const path of ['/v1/orders-nope/', '/v1/webhooks', '/', '/v2/webhooks/']) {
			expect(await callApi(standIn, 'GET', path, { authenticated: false })).toMatchObject({
				status: 404,
				json: { detail: 'Not Found.' },
			});
		}
		const malformed = await callApi(standIn, 'POST', '/v1/webhooks/', { rawBody: '{"name": ' });
		expect(malformed.status).toBe(400);
		expect(malformed.json).toEqual({
			error: { code: 'parse_error', message: expect.stringMatching(/^JSON parse error - /) },
		});
		const notJson = await callApi(standIn, 'POST', '/v1/webhooks/', {
			rawBody: 'name=n8n',
			headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
		});
		expect(notJson.status).toBe(415);
		expect(await callApi(standIn, 'PUT', '/v1/webhook-requests/', { body: {} })).toMatchObject({
			status: 405,
			json: { detail: 'Method "PUT" not allowed.' },
		});
	});
});

describe('webhook signature', () => {
	it.each(TRUV_SIGNATURE_VECTORS)(
		'matches the documented vector for %s',
		(secret, body, signature) => {
			expect(signTruvWebhookBody(body, secret)).toBe(signature);
			expect(signTruvWebhookBody(Buffer.from(body), secret)).toBe(signature);
		},
	);
});

describe('webhook delivery', () => {
	it('POSTs the fixture bytes, signed with the environment secret, as Truv does', async () => {
		const standIn = await start();
		const receiver = await startReceiver();
		const webhook = await createWebhook(standIn, { webhook_url: `${receiver.url}/hook` });

		const result = await standIn.deliver('order-created');

		const fixture = readTruvFixture('order-created');
		expect(receiver.requests).toHaveLength(1);
		const [received] = receiver.requests;
		expect(received.method).toBe('POST');
		expect(received.path).toBe('/hook');
		expect(received.body.equals(fixture)).toBe(true);
		expect(received.headers['content-type']).toBe('application/json');
		expect(received.headers['user-agent']).toBe('Truv-Webhook-Service/2.0');
		expect(received.headers['x-webhook-sign']).toBe(
			signTruvWebhookBody(fixture, 'sandbox-stand-in-secret'),
		);
		expect(result).toMatchObject({
			eventType: 'order-created',
			signature: received.headers['x-webhook-sign'],
			targets: [
				{
					url: `${receiver.url}/hook`,
					webhookId: webhook.id,
					delivered: true,
					attempts: [{ url: `${receiver.url}/hook`, status: 200, responseBody: 'ok' }],
				},
			],
		});
		expect(result.attempts[0].error).toBeUndefined();
		expect(standIn.deliveries).toEqual([
			expect.objectContaining({ webhookId: webhook.id, env: 'sandbox', status: 200 }),
		]);
	});

	it('signs with the secret of the target environment and honours overrides', async () => {
		const standIn = await start();
		const receiver = await startReceiver();
		await createWebhook(standIn, { webhook_url: `${receiver.url}/prod` }, 'prod');
		await standIn.deliver({ event_type: 'order-created', n: 1 }, { env: 'prod' });
		const body = '{"event_type":"order-created","n":1}';
		expect(receiver.requests[0].body.toString()).toBe(body);
		expect(receiver.requests[0].headers['x-webhook-sign']).toBe(
			signTruvWebhookBody(body, 'prod-stand-in-secret'),
		);

		const url = `${receiver.url}/direct`;
		await standIn.deliver(Buffer.from('{"test":true}'), { url, secret: 'my-secret' });
		expect(receiver.requests[1].headers['x-webhook-sign']).toBe(
			'v1=9d8e125c6b7c45fe2f469f489a19934ebd0d3e9c7514134a7bceddf18dfd6e8d',
		);
		await standIn.deliver('{"test":true}', { url, signature: 'v1=forged' });
		expect(receiver.requests[2].headers['x-webhook-sign']).toBe('v1=forged');
		await standIn.deliver('{"test":true}', {
			url,
			signature: null,
			headers: { 'content-type': 'text/plain', 'X-Extra': 'yes' },
		});
		expect(receiver.requests[3].headers).not.toHaveProperty('x-webhook-sign');
		expect(receiver.requests[3].headers).toMatchObject({
			'content-type': 'text/plain',
			'x-extra': 'yes',
		});
		await expect(standIn.deliver('no-such-fixture')).rejects.toThrow(/Unknown Truv fixture/);
	});

	it('sends only to enabled webhooks of the environment subscribed to the event', async () => {
		const standIn = await start();
		const receiver = await startReceiver();
		const hook = (name: string) => `${receiver.url}/${name}`;
		await createWebhook(standIn, { webhook_url: hook('orders'), events: ['order-created'] });
		await createWebhook(standIn, { webhook_url: hook('tasks'), events: ['task-status-updated'] });
		await createWebhook(standIn, { webhook_url: hook('everything') });
		await createWebhook(standIn, { webhook_url: hook('empty-list'), events: [] });
		await createWebhook(standIn, { webhook_url: hook('disabled'), enabled: false });
		await createWebhook(standIn, { webhook_url: hook('prod') }, 'prod');
		const disabledLater = standIn.addWebhook({ webhook_url: hook('disabled-later') });
		standIn.disableWebhook(disabledLater.id);

		const result = await standIn.deliver('order-created');

		const paths = receiver.requests.map((request) => request.path).sort();
		expect(paths).toEqual(['/empty-list', '/everything', '/orders']);
		expect(result.targets.every((target) => target.delivered)).toBe(true);

		const none = await standIn.deliver('order-created', { env: 'dev' });
		expect(none.targets).toEqual([]);
	});

	it('retries a 5xx answer after the retry delay until a 2xx arrives', async () => {
		const standIn = await start({ delivery: { ...FAST_DELIVERY, retryDelayMs: 50 } });
		const receiver = await startReceiver((_request, index) =>
			index < 2 ? { status: 500, body: 'boom' } : { status: 204 },
		);
		await createWebhook(standIn, { webhook_url: `${receiver.url}/hook` });

		const result = await standIn.deliver('order-status-updated-completed');

		expect(result.attempts.map((attempt) => attempt.status)).toEqual([500, 500, 204]);
		expect(result.attempts[0]).toMatchObject({
			error: 'unexpected status 500',
			responseBody: 'boom',
		});
		expect(result.targets[0].delivered).toBe(true);
		const bodies = receiver.requests.map((request) => request.body.toString());
		expect(new Set(bodies).size).toBe(1);
		const startTimes = standIn.deliveries.map((record) => Date.parse(record.at));
		expect(startTimes[1] - startTimes[0]).toBeGreaterThanOrEqual(45);
	});

	it('gives up after maxRetries retries (per-call override)', async () => {
		const standIn = await start();
		const receiver = await startReceiver(() => ({ status: 404 }));
		await createWebhook(standIn, { webhook_url: `${receiver.url}/hook` });
		const defaults = await standIn.deliver('order-created');
		expect(defaults.attempts).toHaveLength(4);
		const once = await standIn.deliver('order-created', { maxRetries: 0 });
		expect(once.attempts).toHaveLength(1);
		expect(once.targets[0].delivered).toBe(false);
		expect(receiver.requests).toHaveLength(5);
	});

	it('counts no answer within timeoutMs as a failure and retries', async () => {
		const standIn = await start({ delivery: { ...FAST_DELIVERY, timeoutMs: 150 } });
		const receiver = await startReceiver((_request, index) =>
			index === 0 ? 'hang' : { status: 200 },
		);
		await createWebhook(standIn, { webhook_url: `${receiver.url}/hook` });

		const result = await standIn.deliver('order-created');

		expect(result.attempts).toHaveLength(2);
		expect(result.attempts[0]).toMatchObject({
			status: null,
			error: expect.stringMatching(/^timeout/),
		});
		expect(result.attempts[0].durationMs).toBeGreaterThanOrEqual(140);
		expect(result.attempts[1].status).toBe(200);
	});

	it('records connection errors and retries them', async () => {
		const standIn = await start({ delivery: { ...FAST_DELIVERY, maxRetries: 1 } });
		const closedPort = await (async () => {
			const server = createServer();
			await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
			const port = (server.address() as AddressInfo).port;
			await new Promise((done) => server.close(done));
			return port;
		})();
		const result = await standIn.deliver('order-created', {
			url: `http://127.0.0.1:${closedPort}/`,
		});
		expect(result.attempts).toEqual([
			expect.objectContaining({ status: null, error: 'connection error: ECONNREFUSED' }),
			expect.objectContaining({ status: null, error: 'connection error: ECONNREFUSED' }),
		]);
	});

	it('follows redirects: 307/308 repeat the POST, 302 turns into a GET', async () => {
		const standIn = await start();
		const receiver = await startReceiver((request) => {
			if (request.path === '/temporary')
				return { status: 307, headers: { Location: '/permanent' } };
			if (request.path === '/permanent') return { status: 308, headers: { Location: '/final' } };
			if (request.path === '/found') return { status: 302, headers: { Location: '/final' } };
			return { status: 200, body: 'landed' };
		});

		const kept = await standIn.deliver('order-created', { url: `${receiver.url}/temporary` });
		expect(kept.attempts).toEqual([
			expect.objectContaining({
				url: `${receiver.url}/temporary`,
				status: 200,
				responseBody: 'landed',
			}),
		]);
		const final = receiver.requests[2];
		expect(final).toMatchObject({ method: 'POST', path: '/final' });
		expect(final.body.equals(readTruvFixture('order-created'))).toBe(true);
		expect(final.headers['x-webhook-sign']).toBe(kept.signature);

		await standIn.deliver('order-created', { url: `${receiver.url}/found` });
		expect(receiver.requests.slice(3).map((request) => request.method)).toEqual(['POST', 'GET']);
		expect(receiver.requests[4].body.length).toBe(0);
	});
});

describe('webhook delivery history', () => {
	async function deliverSeveral(standIn: TruvStandIn) {
		const receiver = await startReceiver((request) =>
			request.body.toString().includes('task-status-updated') ? { status: 500 } : { status: 200 },
		);
		await createWebhook(standIn, { webhook_url: `${receiver.url}/hook` });
		for (const fixture of ['order-created', 'order-status-updated-completed', 'link-connected']) {
			await standIn.deliver(fixture);
		}
		await standIn.deliver('task-status-updated', { maxRetries: 1 });
		await standIn.deliver('order-status-updated-minimal', {
			env: 'prod',
			url: `${receiver.url}/p`,
		});
		return receiver;
	}

	it('lists the attempts of the caller environment, newest first, with cursor links', async () => {
		const standIn = await start({ pageSize: 2 });
		const receiver = await deliverSeveral(standIn);

		const first = await callApi(standIn, 'GET', '/v1/webhook-requests/');
		expect(first.status).toBe(200);
		expect(first.json.previous).toBeNull();
		expect(first.json.next).toMatch(new RegExp(`^${standIn.url}/v1/webhook-requests/\\?cursor=`));
		expect(first.json.results).toEqual([
			{
				webhook_id: '488f424096d3461aa0e4cf11a985f6df',
				event_type: 'task-status-updated',
				event_created_at: '2022-08-24T13:55:12.845645Z',
				status_code: 500,
				error_message: 'unexpected status 500',
				webhook_payload: readTruvFixture('task-status-updated').toString(),
				webhook_url: `${receiver.url}/hook`,
			},
			expect.objectContaining({ event_type: 'task-status-updated', status_code: 500 }),
		]);

		const second = await callApi(standIn, 'GET', first.json.next);
		expect(second.json.results.map((item: any) => item.event_type)).toEqual([
			'link-connected',
			'order-status-updated',
		]);
		const third = await callApi(standIn, 'GET', second.json.next);
		expect(third.json).toMatchObject({
			next: null,
			results: [{ event_type: 'order-created', error_message: null, status_code: 200 }],
		});
		const back = await callApi(standIn, 'GET', third.json.previous);
		expect(back.json.results).toEqual(second.json.results);

		const prod = await callApi(standIn, 'GET', '/v1/webhook-requests/', { env: 'prod' });
		expect(prod.json.results).toEqual([
			expect.objectContaining({
				event_type: 'order-status-updated',
				webhook_payload: readTruvFixture('order-status-updated-minimal').toString(),
			}),
		]);
	});

	it('filters by event_type, status_code, created_at__gte and __lte, ignoring empty filters', async () => {
		const standIn = await start();
		await deliverSeveral(standIn);
		const query = async (search: string) =>
			(await callApi(standIn, 'GET', `/v1/webhook-requests/?${search}`)).json.results;

		expect(await query('event_type=&status_code=&created_at__gte=&cursor=')).toHaveLength(5);
		expect(await query('event_type=order-status-updated')).toHaveLength(1);
		expect(await query('status_code=500')).toHaveLength(2);
		expect(await query('status_code=200&event_type=link-connected')).toHaveLength(1);
		const future = new Date(Date.now() + 60_000).toISOString();
		expect(await query(`created_at__gte=${future}`)).toEqual([]);
		expect(await query('created_at__gte=2020-01-01T00:00:00Z')).toHaveLength(5);
		expect(await query('created_at__lte=2020-01-01T00:00:00Z')).toEqual([]);
		expect(await query(`created_at__lte=${future}`)).toHaveLength(5);
		// Up to the first attempt: the order-created delivery, not the retried task one after it.
		const firstAt = encodeURIComponent(standIn.deliveries[0].at);
		const upToFirst = await query(
			`created_at__gte=2020-01-01T00:00:00Z&created_at__lte=${firstAt}`,
		);
		expect(upToFirst.map((item: any) => item.event_type)).toContain('order-created');
		expect(upToFirst.map((item: any) => item.event_type)).not.toContain('task-status-updated');

		const invalid = await callApi(standIn, 'GET', '/v1/webhook-requests/?status_code=abc');
		expect(invalid.status).toBe(400);
		expect(invalid.json.error.extra['invalid-params']).toEqual([
			{ field: 'status_code', message: 'Enter a number.' },
		]);
		const invalidTime = await callApi(standIn, 'GET', '/v1/webhook-requests/?created_at__lte=soon');
		expect(invalidTime.json.error.extra['invalid-params']).toEqual([
			{ field: 'created_at__lte', message: 'Enter a valid date/time.' },
		]);
		expect(await callApi(standIn, 'GET', '/v1/webhook-requests/?cursor=bm9wZQ==')).toMatchObject({
			status: 404,
			json: { detail: 'Invalid cursor' },
		});
	});
});

describe('fault switches', () => {
	it('answers 500 with an HTML page for `times` requests, then recovers', async () => {
		const standIn = await start();
		standIn.setFault({ method: 'post', path: '/v1/webhooks/', kind: 'status500', times: 1 });
		const body = { name: 'n8n', webhook_url: 'https://example.com/', env_type: 'sandbox' };

		expect(await callApi(standIn, 'GET', '/v1/webhooks/')).toMatchObject({ status: 200 });
		const failed = await callApi(standIn, 'POST', '/v1/webhooks/', { body });
		expect(failed.status).toBe(500);
		expect(failed.headers.get('content-type')).toMatch(/^text\/html/);
		expect(failed.text).toContain('Server Error (500)');
		expect(standIn.webhooks()).toEqual([]);
		expect((await callApi(standIn, 'POST', '/v1/webhooks/', { body })).status).toBe(201);
		expect(standIn.faults()).toEqual([]);
	});

	it('with `after`, lets that many matching requests through before it trips', async () => {
		const standIn = await start();
		standIn.setFault({ path: '/v1/webhooks/', kind: 'status403', after: 1, times: 1 });
		const statuses = [];
		for (let count = 0; count < 3; count++) {
			statuses.push((await callApi(standIn, 'GET', '/v1/webhooks/')).status);
		}
		expect(statuses).toEqual([200, 403, 200]);
		expect(standIn.faults()).toEqual([]);
		expect(() => standIn.setFault({ kind: 'status500', after: -1 })).toThrow(
			'after must be a whole number',
		);
	});

	it('answers 401, 403 and truncated JSON until cleared', async () => {
		const standIn = await start();
		standIn.setFault({ kind: 'status401' });
		expect(await callApi(standIn, 'GET', '/v1/webhooks/')).toMatchObject({
			status: 401,
			json: { error: { code: 'authentication_failed' } },
		});
		standIn.setFault({ path: '/v1/webhook-requests/', kind: 'status403' });
		expect(await callApi(standIn, 'GET', '/v1/webhook-requests/')).toMatchObject({
			status: 403,
			json: { error: { code: 'not_authenticated' } },
		});
		standIn.setFault({ path: '/v1/webhooks/', kind: 'malformedJson' });
		const truncated = await callApi(standIn, 'GET', '/v1/webhooks/');
		expect(truncated.status).toBe(200);
		expect(truncated.headers.get('content-type')).toBe('application/json');
		expect(() => JSON.parse(truncated.text)).toThrow();

		standIn.clearFaults();
		expect((await callApi(standIn, 'GET', '/v1/webhooks/')).status).toBe(200);
	});

	it('hangs without answering until the client gives up or the stand-in closes', async () => {
		const standIn = await start();
		standIn.setFault({ path: '/v1/webhooks/', kind: 'hang' });
		await expect(
			fetch(`${standIn.url}/v1/webhooks/`, {
				headers: standIn.authHeaders(),
				signal: AbortSignal.timeout(150),
			}),
		).rejects.toThrow();
		expect(standIn.calls.at(-1)).toMatchObject({ path: '/v1/webhooks/', status: null });

		const pending = fetch(`${standIn.url}/v1/webhooks/`, { headers: standIn.authHeaders() });
		await new Promise((done) => setTimeout(done, 50));
		await standIn.close();
		await expect(pending).rejects.toThrow();
	});
});

describe('behind-our-back actions', () => {
	it('adds, disables and removes webhooks as Truv or its dashboard would', async () => {
		const standIn = await start();
		const added = standIn.addWebhook({
			webhook_url: 'https://example.com/dashboard',
			id: 'a'.repeat(32),
		});
		expect(added).toMatchObject({ id: 'a'.repeat(32), name: 'Dashboard webhook', events: [] });
		expect((await callApi(standIn, 'GET', '/v1/webhooks/')).json.results).toEqual([added]);
		expect(() => standIn.addWebhook({ webhook_url: 'https://example.com/dashboard' })).toThrow(
			/already registered/,
		);

		expect(standIn.disableWebhook(added.id).enabled).toBe(false);
		expect((await callApi(standIn, 'GET', `/v1/webhooks/${added.id}/`)).json.enabled).toBe(false);

		expect(standIn.removeWebhook(added.id)).toBe(true);
		expect(standIn.removeWebhook(added.id)).toBe(false);
		expect((await callApi(standIn, 'GET', `/v1/webhooks/${added.id}/`)).status).toBe(404);
		expect(() => standIn.disableWebhook(added.id)).toThrow();
	});
});

describe('control API', () => {
	async function control(standIn: TruvStandIn, method: string, path: string, body?: unknown) {
		return callApi(standIn, method, `/_stand-in${path}`, { authenticated: false, body });
	}

	it('exposes every test hook over HTTP without authentication', async () => {
		const standIn = await start();
		const receiver = await startReceiver();

		expect((await control(standIn, 'GET', '/')).json).toEqual({
			url: standIn.url,
			clientId: 'stand-in-client-id',
			secrets: {
				sandbox: 'sandbox-stand-in-secret',
				dev: 'dev-stand-in-secret',
				prod: 'prod-stand-in-secret',
			},
		});

		const added = await control(standIn, 'POST', '/webhooks', { webhook_url: `${receiver.url}/h` });
		expect(added.status).toBe(201);
		expect((await control(standIn, 'GET', '/webhooks')).json).toEqual([added.json]);
		const invalid = await control(standIn, 'POST', '/webhooks', { webhook_url: 'nope' });
		expect(invalid.status).toBe(400);
		expect(invalid.json.error.code).toBe('incorrect_parameters');

		const delivered = await control(standIn, 'POST', '/deliver', {
			fixture: 'order-created',
			retries: 0,
		});
		expect(delivered.status).toBe(200);
		expect(delivered.json.targets[0]).toMatchObject({ webhookId: added.json.id, delivered: true });
		expect(receiver.requests[0].body.equals(readTruvFixture('order-created'))).toBe(true);

		const raw = await control(standIn, 'POST', '/deliver', {
			body: '{"event_type":"order-created", "raw": true}',
			url: `${receiver.url}/raw`,
			signature: null,
			headers: { 'X-Replay': '1' },
		});
		expect(raw.json.signature).toBeNull();
		expect(receiver.requests[1].body.toString()).toBe(
			'{"event_type":"order-created", "raw": true}',
		);
		expect(receiver.requests[1].headers).toMatchObject({ 'x-replay': '1' });
		expect(receiver.requests[1].headers).not.toHaveProperty('x-webhook-sign');
		expect((await control(standIn, 'POST', '/deliver', { fixture: 'nope' })).status).toBe(400);
		expect((await control(standIn, 'GET', '/deliveries')).json).toHaveLength(2);

		const disabled = await control(standIn, 'POST', `/webhooks/${added.json.id}/disable`);
		expect(disabled.json.enabled).toBe(false);

		expect(
			(await control(standIn, 'POST', '/faults', { kind: 'status500', times: 1 })).status,
		).toBe(201);
		expect((await control(standIn, 'POST', '/faults', { kind: 'explode' })).status).toBe(400);
		expect((await callApi(standIn, 'GET', '/v1/webhooks/')).status).toBe(500);
		await control(standIn, 'POST', '/faults', { kind: 'status403' });
		expect((await control(standIn, 'DELETE', '/faults')).status).toBe(204);
		expect((await callApi(standIn, 'GET', '/v1/webhooks/')).status).toBe(200);

		const calls = (await control(standIn, 'GET', '/calls')).json;
		expect(calls.map((call: any) => call.status)).toEqual([500, 200]);
		expect(calls.every((call: any) => call.path.startsWith('/v1/'))).toBe(true);
		expect((await control(standIn, 'DELETE', '/calls')).status).toBe(204);
		expect(standIn.calls).toEqual([]);

		expect((await control(standIn, 'DELETE', `/webhooks/${added.json.id}`)).status).toBe(204);
		expect((await control(standIn, 'DELETE', `/webhooks/${added.json.id}`)).status).toBe(404);
		expect(standIn.webhooks()).toEqual([]);
		expect((await control(standIn, 'GET', '/nothing-here')).status).toBe(404);
	});
});

describe('close', () => {
	it('ends pending retries and hanging deliveries at once', async () => {
		const standIn = await startTruvStandIn({
			delivery: { timeoutMs: 60_000, retryDelayMs: 60_000, maxRetries: 3 },
		});
		const receiver = await startReceiver((request) =>
			request.path === '/retry' ? { status: 500 } : 'hang',
		);
		standIn.addWebhook({ webhook_url: `${receiver.url}/retry` });
		const waiting = standIn.deliver('order-created');
		const hanging = standIn.deliver('order-created', { url: `${receiver.url}/hang` });
		await new Promise((done) => setTimeout(done, 100));

		const startedClosing = Date.now();
		await standIn.close();
		const [retried, hung] = await Promise.all([waiting, hanging]);
		expect(Date.now() - startedClosing).toBeLessThan(1_000);
		expect(retried.attempts.map((attempt) => attempt.status)).toEqual([500]);
		expect(hung.attempts).toEqual([
			expect.objectContaining({ status: null, error: 'stand-in closed' }),
		]);
		await expect(standIn.deliver('order-created')).rejects.toThrow(/closed/);
		await standIn.close();
	});
});

describe('command line', () => {
	it('prints one JSON line, serves the API (rate-limited by --rate-limit) and exits cleanly on SIGTERM', async () => {
		const child = spawn(
			process.execPath,
			[
				require.resolve('tsx/cli'),
				resolve(__dirname, '..', '..', '..', 'dev', 'truv-stand-in', 'cli.ts'),
				'--port',
				'0',
				'--rate-limit',
				'1',
				'--quiet',
			],
			{ stdio: ['ignore', 'pipe', 'pipe'] },
		);
		const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
		try {
			const [line] = await Promise.race([
				(async () => {
					for await (const text of createInterface({ input: child.stdout })) return [text];
					return [''];
				})(),
				exited.then(() => ['']),
			]);
			const info = JSON.parse(line);
			expect(info).toMatchObject({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
			const answer = await fetch(`${info.url}/v1/webhooks/`, {
				headers: { 'X-Access-Client-Id': info.clientId, 'X-Access-Secret': info.secrets.prod },
			});
			expect(await answer.json()).toEqual({ count: 0, next: null, previous: null, results: [] });
			// --rate-limit 1: one request a minute per secret.
			const again = await fetch(`${info.url}/v1/webhooks/`, {
				headers: { 'X-Access-Client-Id': info.clientId, 'X-Access-Secret': info.secrets.prod },
			});
			expect(again.status).toBe(429);
		} finally {
			child.kill('SIGTERM');
		}
		expect(await exited).toBe(0);
	}, 20_000);
});
