import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { startTruvStandIn, type TruvStandIn } from '../../../dev/truv-stand-in/truvStandIn';
import {
	runTruvNode,
	standInCredentials,
	truvNodeError,
	truvRequests,
} from '../../helpers/truvNode';

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

/** The instance base URL the execute context reports, as n8n gives it (with a slash). */
const N8N = 'https://n8n.example.com';

function addWebhook(
	webhookUrl: string,
	fields: { env?: 'sandbox' | 'prod'; disabled?: boolean } = {},
) {
	const webhook = standIn.addWebhook({
		webhook_url: webhookUrl,
		env_type: fields.env ?? 'sandbox',
		name: `hook ${webhookUrl}`,
	});
	return fields.disabled ? standIn.disableWebhook(webhook.id) : webhook;
}

const enabledById = () =>
	Object.fromEntries(standIn.webhooks().map((webhook) => [webhook.id, webhook.enabled]));

describe('Webhook: Get Many, Get, Re-Enable', () => {
	test("Get Many lists the credential's environment only, across pages, up to Limit", async () => {
		const sandbox = [1, 2, 3].map((index) => addWebhook(`${N8N}/webhook/${index}`));
		addWebhook(`${N8N}/webhook/prod`, { env: 'prod' });
		addWebhook(`${N8N}/webhook/prod-2`, { env: 'prod' });
		standIn.resetCalls();

		const all = await runTruvNode(standIn, {
			resource: 'webhook',
			operation: 'getAll',
			returnAll: true,
		});
		expect(all.map((item) => item.json)).toEqual(sandbox);
		expect(truvRequests(standIn)).toEqual([
			'GET /v1/webhooks/',
			'GET /v1/webhooks/?page=2',
			'GET /v1/webhooks/?page=3',
		]);

		const two = await runTruvNode(standIn, { resource: 'webhook', operation: 'getAll', limit: 2 });
		expect(two.map((item) => item.json.id)).toEqual([sandbox[0].id, sandbox[1].id]);

		const prod = await runTruvNode(
			standIn,
			{ resource: 'webhook', operation: 'getAll', returnAll: true },
			{ credentials: standInCredentials(standIn, { accessSecret: standIn.account.secrets.prod }) },
		);
		expect(prod.map((item) => item.json.env_type)).toEqual(['prod', 'prod']);
	});

	test('Get outputs the webhook; an unknown one is a NodeApiError with Truv’s message', async () => {
		const webhook = addWebhook(`${N8N}/webhook/a`);
		const [item] = await runTruvNode(standIn, {
			resource: 'webhook',
			operation: 'get',
			webhookId: webhook.id,
		});
		expect(item.json).toEqual(webhook);

		const error = await truvNodeError(standIn, {
			resource: 'webhook',
			operation: 'get',
			webhookId: 'gone',
		});
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe('Truv answered 404 Not Found: Not Found.');
		expect(error.description).toMatch(/^No webhook with ID gone/);
	});

	test('Re-Enable sends {"enabled": true} and outputs the enabled webhook', async () => {
		const webhook = addWebhook(`${N8N}/webhook/a`, { disabled: true });
		standIn.resetCalls();
		const [item] = await runTruvNode(standIn, {
			resource: 'webhook',
			operation: 'reEnable',
			webhookId: webhook.id,
		});
		expect(standIn.calls.map((call) => [call.method, call.path, call.body])).toEqual([
			['PATCH', `/v1/webhooks/${webhook.id}/`, { enabled: true }],
		]);
		expect(item.json).toMatchObject({ id: webhook.id, enabled: true });
		expect(enabledById()[webhook.id]).toBe(true);
	});

	test('a secret without an environment prefix is refused before listing', async () => {
		const error = await truvNodeError(
			standIn,
			{ resource: 'webhook', operation: 'getAll' },
			{ credentials: standInCredentials(standIn, { accessSecret: 'no-prefix' }) },
		);
		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error.message).toBe('Cannot tell the Truv environment from the Access Secret');
		expect(standIn.calls).toEqual([]);
	});
});

describe('Webhook: Check Webhooks', () => {
	function seedWebhooks() {
		const webhooks = {
			disabledHere: addWebhook(`${N8N}/webhook/a1/webhook`, { disabled: true }),
			enabledHere: addWebhook(`${N8N}/webhook-test/b2/webhook`),
			disabledElsewhere: addWebhook('https://other.example.com/webhook/c3', { disabled: true }),
			disabledInProd: addWebhook(`${N8N}/webhook/p4/webhook`, { env: 'prod', disabled: true }),
			lookalikeHost: addWebhook('https://n8n.example.com.evil.example/webhook', { disabled: true }),
		};
		standIn.resetCalls();
		return webhooks;
	}

	test("re-enables the disabled webhooks pointing at this n8n and reports each of this n8n's", async () => {
		const webhooks = seedWebhooks();
		const output = await runTruvNode(standIn, { resource: 'webhook', operation: 'check' });

		expect(output).toEqual([
			{
				json: {
					id: webhooks.disabledHere.id,
					name: webhooks.disabledHere.name,
					webhook_url: webhooks.disabledHere.webhook_url,
					enabled_before: false,
					re_enabled: true,
				},
				pairedItem: { item: 0 },
			},
			{
				json: {
					id: webhooks.enabledHere.id,
					name: webhooks.enabledHere.name,
					webhook_url: webhooks.enabledHere.webhook_url,
					enabled_before: true,
					re_enabled: false,
				},
				pairedItem: { item: 0 },
			},
		]);
		expect(enabledById()).toEqual({
			[webhooks.disabledHere.id]: true,
			[webhooks.enabledHere.id]: true,
			[webhooks.disabledElsewhere.id]: false,
			[webhooks.disabledInProd.id]: false,
			[webhooks.lookalikeHost.id]: false,
		});
		expect(standIn.calls.filter((call) => call.method === 'PATCH')).toEqual([
			expect.objectContaining({
				path: `/v1/webhooks/${webhooks.disabledHere.id}/`,
				body: { enabled: true },
				status: 200,
			}),
		]);
	});

	test('Only Report changes nothing', async () => {
		const webhooks = seedWebhooks();
		const output = await runTruvNode(standIn, {
			resource: 'webhook',
			operation: 'check',
			options: { onlyReport: true },
		});
		expect(
			output.map((item) => [item.json.id, item.json.enabled_before, item.json.re_enabled]),
		).toEqual([
			[webhooks.disabledHere.id, false, false],
			[webhooks.enabledHere.id, true, false],
		]);
		expect(standIn.calls.map((call) => call.method)).toEqual(['GET', 'GET', 'GET']);
		expect(enabledById()[webhooks.disabledHere.id]).toBe(false);
	});

	test('URL Prefix checks the webhooks under another address instead', async () => {
		const webhooks = seedWebhooks();
		const output = await runTruvNode(standIn, {
			resource: 'webhook',
			operation: 'check',
			urlPrefix: 'https://other.example.com/webhook',
		});
		expect(output.map((item) => item.json)).toEqual([
			expect.objectContaining({ id: webhooks.disabledElsewhere.id, re_enabled: true }),
		]);
		expect(enabledById()[webhooks.disabledElsewhere.id]).toBe(true);
		expect(enabledById()[webhooks.disabledHere.id]).toBe(false);
	});

	test("an instance base URL with a path is this n8n's address", async () => {
		const inPath = addWebhook('https://example.com/n8n/webhook/x', { disabled: true });
		addWebhook('https://example.com/other/webhook/y', { disabled: true });
		const output = await runTruvNode(
			standIn,
			{ resource: 'webhook', operation: 'check' },
			{ instanceBaseUrl: 'https://example.com/n8n/' },
		);
		expect(output.map((item) => item.json.id)).toEqual([inPath.id]);
	});

	test('a failing re-enable is an error item with Continue on error', async () => {
		seedWebhooks();
		standIn.setFault({ method: 'PATCH', path: '/v1/webhooks/', kind: 'status500' });
		const output = await runTruvNode(
			standIn,
			{ resource: 'webhook', operation: 'check' },
			{ onError: 'continueRegularOutput', inputItems: [{ json: {} }, { json: {} }] },
		);
		expect(output).toEqual([
			{
				json: { error: expect.stringMatching(/^Truv answered HTTP 500/) },
				pairedItem: { item: 0 },
			},
			{
				json: { error: expect.stringMatching(/^Truv answered HTTP 500/) },
				pairedItem: { item: 1 },
			},
		]);
	});

	test('a URL Prefix that is no URL is refused', async () => {
		const error = await truvNodeError(standIn, {
			resource: 'webhook',
			operation: 'check',
			urlPrefix: 'n8n.example.com',
		});
		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error.message).toBe('URL Prefix is not a URL: n8n.example.com');
		expect(standIn.calls).toEqual([]);
	});
});

describe('Webhook: Create and Delete', () => {
	const ORDER_EVENTS = ['order-created', 'order-status-updated', 'order-refresh-failed'];

	test("Create registers the URL in the credential's environment for the order events by default", async () => {
		const [item] = await runTruvNode(
			standIn,
			{
				resource: 'webhook',
				operation: 'create',
				name: ' Orders to n8n ',
				webhookUrl: `${N8N}/webhook/abc/webhook`,
			},
			{ typeVersion: 2 },
		);
		expect(standIn.calls.map((call) => [call.method, call.path, call.body])).toEqual([
			[
				'POST',
				'/v1/webhooks/',
				{
					name: 'Orders to n8n',
					webhook_url: `${N8N}/webhook/abc/webhook`,
					env_type: 'sandbox',
					events: ORDER_EVENTS,
				},
			],
		]);
		expect(item.json).toEqual(standIn.webhooks()[0]);
		expect(item.json).toMatchObject({ env_type: 'sandbox', enabled: true, events: ORDER_EVENTS });
	});

	test('Create takes the environment and events chosen; a URL taken is Truv’s error', async () => {
		const parameters = {
			resource: 'webhook',
			operation: 'create',
			name: 'Everything in production',
			webhookUrl: `${N8N}/webhook/prod/webhook`,
			environment: 'prod',
			events: ['task-status-updated'],
		};
		const [item] = await runTruvNode(standIn, parameters, { typeVersion: 2 });
		expect(item.json).toMatchObject({ env_type: 'prod', events: ['task-status-updated'] });

		const error = await truvNodeError(standIn, parameters, { typeVersion: 2 });
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe(
			'Truv rejected the request (incorrect_parameters): webhook_url: Webhook url for prod already registered',
		);
		expect(standIn.webhooks()).toHaveLength(1);
	});

	test('Create refuses an empty name or URL before sending anything', async () => {
		const error = await truvNodeError(
			standIn,
			{ resource: 'webhook', operation: 'create', name: 'x', webhookUrl: ' ' },
			{ typeVersion: 2 },
		);
		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error.message).toBe('Webhook URL is empty');
		expect(standIn.calls).toEqual([]);
	});

	test('Delete removes the webhook the locator names; an unknown one is Truv’s 404', async () => {
		const keep = addWebhook(`${N8N}/webhook/keep`);
		const gone = addWebhook(`${N8N}/webhook/gone`);
		standIn.resetCalls();
		const output = await runTruvNode(
			standIn,
			{
				resource: 'webhook',
				operation: 'delete',
				webhookId: { __rl: true, mode: 'list', value: gone.id, cachedResultName: gone.name },
			},
			{ typeVersion: 2 },
		);
		expect(output).toEqual([{ json: { id: gone.id, deleted: true }, pairedItem: { item: 0 } }]);
		expect(truvRequests(standIn)).toEqual([`DELETE /v1/webhooks/${gone.id}/`]);
		expect(standIn.webhooks().map((webhook) => webhook.id)).toEqual([keep.id]);

		const error = await truvNodeError(
			standIn,
			{ resource: 'webhook', operation: 'delete', webhookId: gone.id },
			{ typeVersion: 1 },
		);
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.description).toMatch(new RegExp(`^No webhook with ID ${gone.id}`));
	});
});

describe('Webhook: defaults that change nothing', () => {
	test('a version 2 node left at its default operation lists webhooks and re-enables none', async () => {
		const disabled = addWebhook(`${N8N}/webhook/a1/webhook`, { disabled: true });
		standIn.resetCalls();
		const output = await runTruvNode(standIn, { resource: 'webhook' }, { typeVersion: 2 });
		expect(output.map((item) => item.json.id)).toEqual([disabled.id]);
		expect(standIn.calls.map((call) => call.method)).toEqual(['GET']);
		expect(enabledById()[disabled.id]).toBe(false);
	});

	test('a version 1 node left at its default operation still runs Check Webhooks', async () => {
		const disabled = addWebhook(`${N8N}/webhook/a1/webhook`, { disabled: true });
		standIn.resetCalls();
		const [item] = await runTruvNode(standIn, { resource: 'webhook' }, { typeVersion: 1 });
		expect(item.json).toMatchObject({ id: disabled.id, re_enabled: true });
		expect(enabledById()[disabled.id]).toBe(true);
	});

	test('run by an AI agent as its tool, Check Webhooks only reports unless Only Report is set', async () => {
		const disabled = addWebhook(`${N8N}/webhook/a1/webhook`, { disabled: true });
		standIn.resetCalls();
		const reported = await runTruvNode(
			standIn,
			{ resource: 'webhook', operation: 'check' },
			{ typeVersion: 2, asTool: true },
		);
		expect(reported.map((item) => [item.json.id, item.json.re_enabled])).toEqual([
			[disabled.id, false],
		]);
		expect(standIn.calls.map((call) => call.method)).toEqual(['GET']);
		expect(enabledById()[disabled.id]).toBe(false);

		const [item] = await runTruvNode(
			standIn,
			{ resource: 'webhook', operation: 'check', options: { onlyReport: false } },
			{ typeVersion: 2, asTool: true },
		);
		expect(item.json).toMatchObject({ id: disabled.id, re_enabled: true });
	});
});

describe('Webhook: Check Webhooks when no webhook matches', () => {
	test('version 2 outputs one item saying so, with how many webhooks the environment has', async () => {
		addWebhook('https://other.example.com/webhook/a');
		addWebhook('https://other.example.com/webhook/b');
		addWebhook(`${N8N}/webhook/prod`, { env: 'prod' });
		const output = await runTruvNode(
			standIn,
			{ resource: 'webhook', operation: 'check' },
			{ typeVersion: 2 },
		);
		expect(output).toEqual([
			{
				json: {
					no_matching_webhook: true,
					environment: 'sandbox',
					url_prefix: `${N8N}/`,
					webhooks_in_environment: 2,
					message: `No Truv webhook of the sandbox environment points at ${N8N}/ (the environment has 2 webhooks): Truv sends this n8n no events of that environment`,
				},
				pairedItem: { item: 0 },
			},
		]);
	});

	test('the URL Prefix is named, and an environment without webhooks says 0', async () => {
		const [item] = await runTruvNode(
			standIn,
			{ resource: 'webhook', operation: 'check', urlPrefix: 'https://proxy.example.com/n8n/' },
			{ typeVersion: 2 },
		);
		expect(item.json).toMatchObject({
			url_prefix: 'https://proxy.example.com/n8n/',
			webhooks_in_environment: 0,
		});
	});

	test('version 1 keeps its output: no item', async () => {
		addWebhook('https://other.example.com/webhook/a');
		const output = await runTruvNode(
			standIn,
			{ resource: 'webhook', operation: 'check' },
			{ typeVersion: 1 },
		);
		expect(output).toEqual([]);
	});
});
