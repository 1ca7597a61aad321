import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { IDataObject } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { unreachableReason } from '../../../nodes/TruvOrderTrigger/webhookLifecycle';
import type { HookOptions } from '../../../dev/n8n-core/n8nContexts';
import {
	hookContext,
	n8nCoreLogger,
	PRODUCTION_WEBHOOK_URL,
	TEST_WEBHOOK_BASE,
	truvCredentials,
	truvOrderTrigger,
} from '../../../dev/n8n-core/n8nContexts';
import { DEFAULT_ACCOUNT, startTruvStandIn } from '../../../dev/truv-stand-in/truvStandIn';
import type { TruvStandIn } from '../../../dev/truv-stand-in/truvStandIn';
import { spyOnN8nWarnings } from '../../helpers/n8nLog';

/** A second Truv account, for a credential edited to other keys. */
const OTHER_ACCOUNT = {
	clientId: 'other-client-id',
	secrets: ['sandbox-other-secret', 'prod-other-secret'],
};

let standIn: TruvStandIn;

beforeAll(async () => {
	standIn = await startTruvStandIn({ pageSize: 2, accounts: [DEFAULT_ACCOUNT, OTHER_ACCOUNT] });
});
afterAll(async () => await standIn.close());
beforeEach(() => {
	for (const webhook of standIn.webhooks()) standIn.removeWebhook(webhook.id);
	standIn.clearFaults();
	standIn.resetCalls();
});

function standInCredentials(overrides: IDataObject = {}) {
	return truvCredentials({
		clientId: standIn.account.clientId,
		accessSecret: standIn.account.secrets.sandbox,
		baseUrl: standIn.url,
		...overrides,
	});
}

/** One trigger node; `staticData` is the workflow's static data as n8n keeps it between hooks. */
function trigger(options: Partial<HookOptions> = {}) {
	const staticData: IDataObject = options.staticData ?? {};
	const make = () => {
		const { context } = hookContext({ credentials: standInCredentials(), ...options, staticData });
		return context;
	};
	const methods = {
		staticData,
		checkExists: async () => await lifecycle().default.checkExists.call(make()),
		create: async () => await lifecycle().default.create.call(make()),
		delete: async () => await lifecycle().default.delete.call(make()),
		/** What n8n does on activation: create only when checkExists says there is nothing. */
		activate: async () => {
			if (!(await methods.checkExists())) await methods.create();
		},
	};
	return methods;
}

function lifecycle() {
	return truvOrderTrigger.webhookMethods;
}

/**
 * Execute step as n8n's TestWebhooks runs it: checkExists (and create) for the test URL in mode
 * 'manual'; then, when registering failed or the run is over, the delete hook in mode 'internal'
 * with the static data of those hooks. An error of that delete replaces the one registering met.
 */
async function executeStep(options: Partial<HookOptions> = {}) {
	const staticData: IDataObject = {};
	let failure: unknown;
	try {
		await trigger({ ...options, staticData, isTest: true }).activate();
	} catch (error) {
		failure = error;
	}
	const ending = trigger({
		...options,
		staticData,
		isTest: true,
		mode: 'internal',
		activation: 'update',
	});
	await ending.delete();
	return { failure: failure as (Error & { description?: string }) | undefined, staticData };
}

const apiCalls = () => standIn.calls.map((call) => `${call.method} ${call.path}`);

describe('automatic registration', () => {
	test('activation registers the production URL with the selected events', async () => {
		const node = trigger({ parameters: { events: ['order-refresh-failed', 'order-created'] } });
		await node.activate();
		const [webhook, ...others] = standIn.webhooks();
		expect(others).toEqual([]);
		expect(webhook).toMatchObject({
			webhook_url: PRODUCTION_WEBHOOK_URL,
			env_type: 'sandbox',
			events: ['order-refresh-failed', 'order-created'],
			enabled: true,
			name: 'n8n: Truv orders (workflow wf-1)',
		});
		expect(node.staticData['node:Truv Order Trigger']).toEqual({
			truvWebhooks: {
				[PRODUCTION_WEBHOOK_URL]: {
					id: webhook.id,
					environment: 'sandbox',
					clientId: standIn.account.clientId,
				},
			},
		});
	});

	test('by default registers the three order events only, not task-status-updated', async () => {
		await trigger().activate();
		expect(standIn.webhooks()[0].events).toEqual([
			'order-created',
			'order-status-updated',
			'order-refresh-failed',
		]);
	});

	test('with Connection Failed selected, asks Truv for task-status-updated too', async () => {
		await trigger({
			parameters: { events: ['order-status-updated', 'task-status-updated'] },
		}).activate();
		expect(standIn.webhooks()[0].events).toEqual(['order-status-updated', 'task-status-updated']);
	});

	test('selecting Connection Failed later adds task-status-updated to the webhook, and removing it drops it', async () => {
		const staticData = {};
		await trigger({ staticData, parameters: { events: ['order-created'] } }).activate();
		standIn.resetCalls();
		await trigger({
			staticData,
			parameters: { events: ['order-created', 'task-status-updated'] },
		}).activate();
		expect(standIn.calls.find((call) => call.method === 'PATCH')?.body).toEqual({
			events: ['order-created', 'task-status-updated'],
		});
		await trigger({ staticData, parameters: { events: ['order-created'] } }).activate();
		expect(standIn.webhooks()).toHaveLength(1);
		expect(standIn.webhooks()[0].events).toEqual(['order-created']);
	});

	test('a second activation with the record finds the webhook and creates nothing', async () => {
		const node = trigger();
		await node.activate();
		standIn.resetCalls();
		expect(await node.checkExists()).toBe(true);
		expect(apiCalls()).toEqual([`GET /v1/webhooks/${standIn.webhooks()[0].id}/`]);
		expect(standIn.webhooks()).toHaveLength(1);
	});

	test('after a restart that lost the record, the existing webhook is adopted, not duplicated', async () => {
		await trigger().activate();
		const restarted = trigger();
		await restarted.activate();
		expect(standIn.webhooks()).toHaveLength(1);
		expect(standIn.calls.filter((call) => call.method === 'POST')).toHaveLength(1);
		const id = standIn.webhooks()[0].id;
		expect((restarted.staticData['node:Truv Order Trigger'] as IDataObject).truvWebhooks).toEqual({
			[PRODUCTION_WEBHOOK_URL]: { id, environment: 'sandbox', clientId: standIn.account.clientId },
		});
	});

	test('create adopts the webhook when Truv answers that the URL is already registered', async () => {
		const existing = standIn.addWebhook({
			webhook_url: PRODUCTION_WEBHOOK_URL,
			env_type: 'sandbox',
			events: ['order-created', 'order-status-updated', 'order-refresh-failed'],
			name: 'made in the dashboard',
		});
		const node = trigger();
		expect(await node.create()).toBe(true);
		expect(standIn.webhooks().map((webhook) => webhook.id)).toEqual([existing.id]);
		expect(standIn.calls.find((call) => call.method === 'POST')?.status).toBe(400);
		await node.delete();
		expect(standIn.webhooks()).toEqual([]);
	});

	test('a webhook deleted behind our back is registered again', async () => {
		const node = trigger();
		await node.activate();
		standIn.removeWebhook(standIn.webhooks()[0].id);
		await node.activate();
		expect(standIn.webhooks()).toHaveLength(1);
		expect(apiCalls().filter((call) => call === 'POST /v1/webhooks/')).toHaveLength(2);
	});

	test('a webhook Truv disabled is enabled again', async () => {
		const node = trigger();
		await node.activate();
		standIn.disableWebhook(standIn.webhooks()[0].id);
		standIn.resetCalls();
		expect(await node.checkExists()).toBe(true);
		expect(standIn.webhooks()[0].enabled).toBe(true);
		expect(standIn.calls.find((call) => call.method === 'PATCH')?.body).toEqual({ enabled: true });
	});

	test("a disabled webhook found by its URL (no record) is enabled again, adopted, and n8n's log says so", async () => {
		const warn = spyOnN8nWarnings();
		try {
			await trigger().activate();
			const [webhook] = standIn.webhooks();
			standIn.disableWebhook(webhook.id);
			standIn.resetCalls();
			const staticData = {};
			expect(await trigger({ staticData }).checkExists()).toBe(true);
			expect(standIn.webhooks()).toEqual([
				expect.objectContaining({ id: webhook.id, enabled: true }),
			]);
			expect(standIn.calls.filter(({ method }) => method !== 'GET')).toEqual([
				expect.objectContaining({ method: 'PATCH', body: { enabled: true } }),
			]);
			expect(JSON.stringify(staticData)).toContain(webhook.id);
			expect(warn).toHaveBeenCalledWith(
				expect.stringMatching(new RegExp(`^Truv had disabled webhook ${webhook.id} `)),
				expect.anything(),
			);
		} finally {
			warn.mockRestore();
		}
	});

	test('changed events are PATCHed onto the existing webhook', async () => {
		await trigger({ parameters: { events: ['order-created'] } }).activate();
		const staticData = {};
		await trigger({ staticData, parameters: { events: ['order-created'] } }).activate();
		standIn.resetCalls();
		await trigger({ staticData, parameters: { events: ['order-status-updated'] } }).activate();
		expect(standIn.webhooks()).toHaveLength(1);
		expect(standIn.webhooks()[0].events).toEqual(['order-status-updated']);
		expect(standIn.calls.find((call) => call.method === 'PATCH')?.body).toEqual({
			events: ['order-status-updated'],
		});
	});

	test('finds its webhook on a later page of the list', async () => {
		for (let index = 0; index < 5; index++) {
			standIn.addWebhook({
				webhook_url: `https://elsewhere.example.com/hook/${index}`,
				env_type: 'sandbox',
			});
		}
		const ours = standIn.addWebhook({
			webhook_url: PRODUCTION_WEBHOOK_URL,
			env_type: 'sandbox',
			events: ['order-created', 'order-status-updated', 'order-refresh-failed'],
		});
		expect(await trigger().checkExists()).toBe(true);
		expect(
			standIn.calls.filter((call) => call.path === '/v1/webhooks/').length,
		).toBeGreaterThanOrEqual(3);
		expect(standIn.webhooks()).toHaveLength(6);
		expect(standIn.webhooks().find((webhook) => webhook.id === ours.id)).toBeDefined();
	});

	test('reads the credential once per hook call, and n8n does not read it again to sign each request', async () => {
		for (let index = 0; index < 5; index++) {
			standIn.addWebhook({
				webhook_url: `https://elsewhere.example.com/hook/${index}`,
				env_type: 'sandbox',
			});
		}
		let reads = 0;
		const credentials = standInCredentials();
		const readCredentials = () => {
			reads += 1;
			return credentials;
		};
		const node = trigger({ readCredentials });
		expect(await node.checkExists()).toBe(false);
		await node.create();
		// Three pages of the list and the create call, signed with the credential read once.
		expect(standIn.calls).toHaveLength(4);
		expect(reads).toBe(2);
	});

	test('does not adopt a webhook of the same URL in another environment', async () => {
		standIn.addWebhook({ webhook_url: PRODUCTION_WEBHOOK_URL, env_type: 'prod' });
		await trigger().activate();
		expect(
			standIn
				.webhooks()
				.map((webhook) => webhook.env_type)
				.sort(),
		).toEqual(['prod', 'sandbox']);
	});

	test("keeps the secret's environment when the credential's Environment contradicts it", async () => {
		// Truv would sign the deliveries of a dev webhook with the dev secret, which n8n lacks.
		await trigger({ credentials: standInCredentials({ environment: 'dev' }) }).activate();
		expect(standIn.webhooks()[0].env_type).toBe('sandbox');
	});
});

describe('deactivation', () => {
	test('removes the webhook and the record', async () => {
		const node = trigger();
		await node.activate();
		expect(await node.delete()).toBe(true);
		expect(standIn.webhooks()).toEqual([]);
		expect((node.staticData['node:Truv Order Trigger'] as IDataObject).truvWebhooks).toEqual({});
	});

	test('succeeds when the webhook is already gone', async () => {
		const node = trigger();
		await node.activate();
		standIn.removeWebhook(standIn.webhooks()[0].id);
		expect(await node.delete()).toBe(true);
		expect(standIn.calls).toContainEqual(
			expect.objectContaining({ method: 'DELETE', status: 404 }),
		);
		expect(standIn.webhooks()).toEqual([]);
	});

	test('a recorded webhook Truv does not have under the credential is named in the log, to remove by hand', async () => {
		const warn = jest.spyOn(n8nCoreLogger().prototype, 'warn').mockImplementation(() => undefined);
		try {
			const staticData: IDataObject = {};
			await trigger({ staticData }).activate();
			const [webhook] = standIn.webhooks();
			// Out of the credential's reach now (another environment's keys went in, say): Truv answers
			// 404 for the id and lists no webhook of the URL.
			standIn.removeWebhook(webhook.id);
			const switched = trigger({
				staticData,
				credentials: standInCredentials({ accessSecret: standIn.account.secrets.prod }),
			});
			expect(await switched.delete()).toBe(true);
			expect(warn).toHaveBeenCalledTimes(1);
			const [message, meta] = warn.mock.calls[0];
			expect(message).toContain(
				`Truv has no webhook ${webhook.id} (${PRODUCTION_WEBHOOK_URL}, Sandbox environment)`,
			);
			expect(message).toContain('delete it there');
			expect(meta).toMatchObject({
				truvWebhookId: webhook.id,
				url: PRODUCTION_WEBHOOK_URL,
				environment: 'Sandbox',
			});
			expect((staticData['node:Truv Order Trigger'] as IDataObject).truvWebhooks).toEqual({});
		} finally {
			warn.mockRestore();
		}
	});

	test('a record naming a webhook Truv no longer has still deletes the one registered for the URL', async () => {
		// Queue mode: a webhook process writes back the static data it loaded before the last
		// activation, so the record names the previous registration.
		const node = trigger();
		await node.activate();
		const previous = standIn.webhooks()[0].id;
		const record = (node.staticData['node:Truv Order Trigger'] as IDataObject)
			.truvWebhooks as IDataObject;
		const stale = JSON.parse(JSON.stringify(record)) as IDataObject;
		await node.delete();
		await node.activate();
		expect(standIn.webhooks().map((webhook) => webhook.id)).not.toContain(previous);
		(node.staticData['node:Truv Order Trigger'] as IDataObject).truvWebhooks = stale;
		expect(await node.delete()).toBe(true);
		expect(standIn.webhooks()).toEqual([]);
		expect((node.staticData['node:Truv Order Trigger'] as IDataObject).truvWebhooks).toEqual({});
	});

	test('never deletes a webhook it did not create or adopt', async () => {
		const foreign = [
			standIn.addWebhook({ webhook_url: 'https://crm.example.com/truv', env_type: 'sandbox' }),
			// Its URL, but where activation would not adopt it either.
			standIn.addWebhook({ webhook_url: PRODUCTION_WEBHOOK_URL, env_type: 'prod' }),
			standIn.addWebhook({
				webhook_url: PRODUCTION_WEBHOOK_URL,
				env_type: 'sandbox',
				clientId: OTHER_ACCOUNT.clientId,
			}),
		];
		expect(await trigger().delete()).toBe(true);
		expect(standIn.calls.filter((call) => call.method !== 'GET')).toEqual([]);
		expect(standIn.webhooks().map((webhook) => webhook.id)).toEqual(
			foreign.map((webhook) => webhook.id),
		);
	});

	test("the test URL's hooks never touch the production webhook", async () => {
		const staticData = {};
		await trigger({ staticData }).activate();
		const listening = trigger({ staticData, isTest: true });
		await listening.activate();
		expect(
			standIn
				.webhooks()
				.map((webhook) => webhook.webhook_url)
				.sort(),
		).toEqual(
			[
				PRODUCTION_WEBHOOK_URL,
				PRODUCTION_WEBHOOK_URL.replace(/^https:\/\/n8n\.example\.com\/webhook/, TEST_WEBHOOK_BASE),
			].sort(),
		);
		await listening.delete();
		expect(standIn.webhooks().map((webhook) => webhook.webhook_url)).toEqual([
			PRODUCTION_WEBHOOK_URL,
		]);
	});

	test('any sequence of activations, restarts and deactivations leaves exactly one webhook per active URL', async () => {
		const staticData = {};
		await trigger({ staticData }).activate();
		await trigger({ staticData }).activate();
		await trigger().activate(); // restarted without its record
		await trigger({ staticData }).delete();
		expect(standIn.webhooks()).toEqual([]);
		await trigger().activate();
		await trigger().activate();
		expect(standIn.webhooks()).toHaveLength(1);
		const adopting = trigger();
		await adopting.activate(); // adopts it…
		await adopting.delete(); // …and deletes it by its record
		expect(standIn.webhooks()).toEqual([]);
		await trigger().activate();
		await trigger().delete(); // a copy that never saw the record finds it by its URL
		expect(standIn.webhooks()).toEqual([]);
	});
});

/** The trigger's record of its webhooks, as the hooks left it in the workflow's static data. */
const recordOf = (staticData: IDataObject) =>
	(staticData['node:Truv Order Trigger'] as IDataObject | undefined)?.truvWebhooks;

const prodCredentials = () => standInCredentials({ accessSecret: standIn.account.secrets.prod });
const otherAccountCredentials = () =>
	standInCredentials({
		clientId: OTHER_ACCOUNT.clientId,
		accessSecret: OTHER_ACCOUNT.secrets[0],
	});

const summary = (webhooks = standIn.webhooks()) =>
	webhooks.map(({ webhook_url, env_type }) => ({ webhook_url, env_type }));

describe('a credential switched to another environment', () => {
	test('between two activations: the webhook of the old environment is deleted, not forgotten', async () => {
		const staticData = {};
		await trigger({ staticData }).activate();
		const [sandbox] = standIn.webhooks();
		standIn.resetCalls();
		await trigger({ staticData, credentials: prodCredentials() }).activate();
		expect(apiCalls()).toContain(`DELETE /v1/webhooks/${sandbox.id}/`);
		expect(summary()).toEqual([{ webhook_url: PRODUCTION_WEBHOOK_URL, env_type: 'prod' }]);
		expect(recordOf(staticData)).toEqual({
			[PRODUCTION_WEBHOOK_URL]: {
				id: standIn.webhooks()[0].id,
				environment: 'prod',
				clientId: standIn.account.clientId,
			},
		});
		await trigger({ staticData, credentials: prodCredentials() }).delete();
		expect(standIn.webhooks()).toEqual([]);
	});

	test('create called without checkExists settles the record first instead of overwriting it', async () => {
		const staticData = {};
		await trigger({ staticData }).activate();
		expect(await trigger({ staticData, credentials: prodCredentials() }).create()).toBe(true);
		expect(summary()).toEqual([{ webhook_url: PRODUCTION_WEBHOOK_URL, env_type: 'prod' }]);
	});

	test('between activation and deactivation: deactivation deletes the webhook of the old environment', async () => {
		const staticData = {};
		await trigger({ staticData }).activate();
		await trigger({ staticData, credentials: prodCredentials() }).delete();
		expect(standIn.webhooks()).toEqual([]);
		expect(recordOf(staticData)).toEqual({});
	});

	test('a webhook of the old environment already deleted in the dashboard does not stop the switch', async () => {
		const staticData = {};
		await trigger({ staticData }).activate();
		const [sandbox] = standIn.webhooks();
		standIn.removeWebhook(sandbox.id);
		await trigger({ staticData, credentials: prodCredentials() }).activate();
		expect(standIn.calls).toContainEqual(
			expect.objectContaining({
				method: 'DELETE',
				path: `/v1/webhooks/${sandbox.id}/`,
				status: 404,
			}),
		);
		expect(summary()).toEqual([{ webhook_url: PRODUCTION_WEBHOOK_URL, env_type: 'prod' }]);
	});

	test('when Truv cannot delete the old webhook, activation fails and keeps the record to try again', async () => {
		const staticData = {};
		await trigger({ staticData }).activate();
		const before = recordOf(staticData);
		standIn.setFault({ method: 'DELETE', path: '/v1/webhooks/', kind: 'status500' });
		await expect(
			trigger({ staticData, credentials: prodCredentials() }).activate(),
		).rejects.toThrow(/Truv answered HTTP 500/);
		standIn.clearFaults();
		expect(recordOf(staticData)).toEqual(before);
		await trigger({ staticData, credentials: prodCredentials() }).activate();
		expect(summary()).toEqual([{ webhook_url: PRODUCTION_WEBHOOK_URL, env_type: 'prod' }]);
	});
});

describe('a credential edited to another Truv account', () => {
	/** Active in the first account, then the credential holds the second account's keys. */
	async function activeInFirstAccount() {
		const staticData = {};
		await trigger({ staticData }).activate();
		const [webhook] = standIn.webhooks();
		standIn.resetCalls();
		return { staticData, webhook };
	}

	test('deactivation names the webhook left in the old account, and keeps its record', async () => {
		const { staticData, webhook } = await activeInFirstAccount();
		const record = recordOf(staticData);
		const error = await trigger({ staticData, credentials: otherAccountCredentials() })
			.delete()
			.catch((caught: Error & { description?: string }) => caught);
		expect(error).toBeInstanceOf(NodeOperationError);
		const { message, description } = error as NodeOperationError;
		expect(message).toBe(
			`Truv webhook ${webhook.id} for ${PRODUCTION_WEBHOOK_URL} is in another Truv account (Client ID ${standIn.account.clientId}, Sandbox): put that account's keys back into the credential and activate and deactivate the workflow to delete it, or delete it in that account's Truv Dashboard and activate once with Registration set to Manually to forget it`,
		);
		expect(description).toContain(`now holds the keys of Client ID ${OTHER_ACCOUNT.clientId}`);
		expect(description).toContain(`delete webhook ${webhook.id} in that account's Truv Dashboard`);
		expect(description).toContain('Registration set to Manually in the Truv Dashboard');
		// Nothing was sent with the other account's keys for a webhook they cannot reach.
		expect(standIn.calls).toEqual([]);
		expect(standIn.webhooks().map((each) => each.id)).toEqual([webhook.id]);
		expect(recordOf(staticData)).toEqual(record);
	});

	test('activation fails the same way rather than leave the old webhook behind', async () => {
		const { staticData, webhook } = await activeInFirstAccount();
		await expect(
			trigger({ staticData, credentials: otherAccountCredentials() }).activate(),
		).rejects.toThrow(`Truv webhook ${webhook.id} for ${PRODUCTION_WEBHOOK_URL} is in another`);
		expect(standIn.webhooks().map((each) => each.id)).toEqual([webhook.id]);
	});

	test("with the old account's keys back, deactivation deletes it; then the new account registers its own", async () => {
		const { staticData } = await activeInFirstAccount();
		await expect(
			trigger({ staticData, credentials: otherAccountCredentials() }).delete(),
		).rejects.toThrow(NodeOperationError);
		await trigger({ staticData }).activate();
		await trigger({ staticData }).delete();
		expect(standIn.webhooks()).toEqual([]);
		await trigger({ staticData, credentials: otherAccountCredentials() }).activate();
		expect(standIn.webhooks(DEFAULT_ACCOUNT.clientId)).toEqual([]);
		expect(summary(standIn.webhooks(OTHER_ACCOUNT.clientId))).toEqual([
			{ webhook_url: PRODUCTION_WEBHOOK_URL, env_type: 'sandbox' },
		]);
	});

	test('without the old keys: deleted in the dashboard, one activation with manual registration forgets it', async () => {
		const { staticData, webhook } = await activeInFirstAccount();
		standIn.removeWebhook(webhook.id);
		await expect(
			trigger({ staticData, credentials: otherAccountCredentials() }).activate(),
		).rejects.toThrow(NodeOperationError);
		const manual = trigger({
			staticData,
			credentials: otherAccountCredentials(),
			parameters: { registration: 'manual' },
		});
		await manual.activate();
		await manual.delete();
		expect(standIn.calls).toEqual([]);
		expect(recordOf(staticData)).toEqual({});
		await trigger({ staticData, credentials: otherAccountCredentials() }).activate();
		expect(summary(standIn.webhooks(OTHER_ACCOUNT.clientId))).toEqual([
			{ webhook_url: PRODUCTION_WEBHOOK_URL, env_type: 'sandbox' },
		]);
	});

	test('a record written before the Client ID was kept is taken as this account’s and gains it', async () => {
		await trigger().activate();
		const [webhook] = standIn.webhooks();
		const staticData: IDataObject = {
			'node:Truv Order Trigger': {
				truvWebhooks: { [PRODUCTION_WEBHOOK_URL]: { id: webhook.id, environment: 'sandbox' } },
			},
		};
		expect(await trigger({ staticData }).checkExists()).toBe(true);
		expect(recordOf(staticData)).toEqual({
			[PRODUCTION_WEBHOOK_URL]: {
				id: webhook.id,
				environment: 'sandbox',
				clientId: standIn.account.clientId,
			},
		});
	});
});

describe('deactivation without a record', () => {
	test("deletes the webhook registered for its URL in the credential's environment, found on any page", async () => {
		for (let index = 0; index < 4; index++) {
			standIn.addWebhook({
				webhook_url: `https://elsewhere.example.com/hook/${index}`,
				env_type: 'sandbox',
			});
		}
		await trigger().activate();
		expect(standIn.webhooks()).toHaveLength(5);
		await trigger({ isTest: true }).activate();
		const elsewhere = [0, 1, 2, 3].map((index) => `https://elsewhere.example.com/hook/${index}`);
		// Each call below has static data of its own: no record of either URL.
		await trigger({ isTest: true }).delete();
		expect(standIn.webhooks().map((webhook) => webhook.webhook_url)).toEqual([
			...elsewhere,
			PRODUCTION_WEBHOOK_URL,
		]);
		await trigger().delete();
		expect(standIn.webhooks().map((webhook) => webhook.webhook_url)).toEqual(elsewhere);
	});
});

interface PathProxy {
	/** `http://127.0.0.1:<port>/truv`: a Base URL with a path. */
	baseUrl: string;
	/** Every path requested of the proxy, with its query. */
	requested: string[];
}

/**
 * A reverse proxy that serves `answer` under `/truv`, as a Base URL with a path would; by default
 * it forwards to the stand-in, passing the stand-in's next-page links through `rewriteNext` (Truv
 * builds them from the address it was called on, which behind a proxy is not the Base URL).
 */
async function pathProxy(
	options: {
		rewriteNext?: (link: string, proxyOrigin: string) => string;
		/** Maps a requested path (without `/truv`) to the stand-in's. */
		inbound?: (path: string) => string;
		/** Answers instead of the stand-in. */
		answer?: (path: string) => unknown;
	} = {},
): Promise<PathProxy> {
	const requested: string[] = [];
	let origin = '';
	const server = createServer((request, response) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => {
			void (async () => {
				const url = request.url ?? '/';
				requested.push(url);
				const reply = (status: number, body: unknown) => {
					response.writeHead(status, { 'Content-Type': 'application/json' });
					response.end(body === undefined ? '' : JSON.stringify(body));
				};
				if (!url.startsWith('/truv/')) return reply(404, { detail: 'Not Found.' });
				const path = (options.inbound ?? ((same) => same))(url.slice('/truv'.length));
				if (options.answer) return reply(200, options.answer(path));
				const headers: Record<string, string> = {};
				for (const name of ['x-access-client-id', 'x-access-secret', 'content-type', 'accept']) {
					const value = request.headers[name];
					if (typeof value === 'string') headers[name] = value;
				}
				const body = Buffer.concat(chunks);
				const upstream = await fetch(`${standIn.url}${path}`, {
					method: request.method,
					headers,
					body: body.length > 0 ? body : undefined,
				});
				const text = await upstream.text();
				const json = text === '' ? undefined : (JSON.parse(text) as { next?: unknown });
				if (options.rewriteNext && typeof json?.next === 'string') {
					json.next = options.rewriteNext(json.next, origin);
				}
				reply(upstream.status, json);
			})();
		});
	});
	proxies.push(server);
	await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
	origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return { baseUrl: `${origin}/truv`, requested };
}

const proxies: Server[] = [];
afterAll(async () => {
	await Promise.all(
		proxies.map((server) => new Promise<void>((done) => server.close(() => done()))),
	);
});

describe('reading the webhook list through a Base URL with a path', () => {
	beforeEach(() => {
		for (let index = 0; index < 5; index++) {
			standIn.addWebhook({
				webhook_url: `https://elsewhere.example.com/hook/${index}`,
				env_type: 'sandbox',
			});
		}
		// Last of three pages.
		standIn.addWebhook({
			webhook_url: PRODUCTION_WEBHOOK_URL,
			env_type: 'sandbox',
			events: ['order-created', 'order-status-updated', 'order-refresh-failed'],
		});
	});

	const pageOf = (link: string) => new URL(link).searchParams.get('page');

	test.each([
		[
			'the proxy address with its path',
			(link: string, proxyOrigin: string) =>
				`${proxyOrigin}/truv/v1/webhooks/?page=${pageOf(link)}`,
			undefined,
			['/truv/v1/webhooks/', '/truv/v1/webhooks/?page=2', '/truv/v1/webhooks/?page=3'],
		],
		[
			"Truv's own origin, with a cursor",
			(link: string) => `https://prod.truv.com/v1/webhooks/?cursor=p${pageOf(link)}`,
			(path: string) => path.replace(/\?cursor=p(\d+)$/, '?page=$1'),
			['/truv/v1/webhooks/', '/truv/v1/webhooks/?cursor=p2', '/truv/v1/webhooks/?cursor=p3'],
		],
	])(
		'next links naming %s: every page is read through the Base URL, path not doubled',
		async (_case, rewriteNext, inbound, expected) => {
			const proxy = await pathProxy({ rewriteNext, inbound });
			const node = trigger({ credentials: standInCredentials({ baseUrl: proxy.baseUrl }) });
			expect(await node.checkExists()).toBe(true);
			expect(proxy.requested).toEqual(expected);
			expect(standIn.calls.map((call) => call.query.page ?? '1')).toEqual(['1', '2', '3']);
		},
	);

	test('a next link on another origin that never ends stops at the first page read twice', async () => {
		const proxy = await pathProxy({
			answer: () => ({ results: [], next: 'https://prod.truv.com/v1/webhooks/?page=2' }),
		});
		const node = trigger({ credentials: standInCredentials({ baseUrl: proxy.baseUrl }) });
		await expect(node.activate()).rejects.toThrow(
			"Truv's link to the next page of /v1/webhooks/ leads back to a page already read",
		);
		expect(proxy.requested).toEqual(['/truv/v1/webhooks/', '/truv/v1/webhooks/?page=2']);
	});
});

describe('Execute step (the test URL)', () => {
	test('registering fails on Truv 401: the end of the test run makes no second Truv call, so the 401 is what the user sees', async () => {
		const { failure } = await executeStep({
			credentials: standInCredentials({ accessSecret: 'sandbox-wrong' }),
		});
		expect(failure?.message).toMatch(/check the Client ID and Access Secret/);
		expect(apiCalls()).toEqual(['GET /v1/webhooks/']);
	});

	test('Truv out of reach: the error is the advice (a public URL, or Show a Sample Event), and ending the test run calls nobody', async () => {
		const closed = await startTruvStandIn();
		const url = closed.url;
		await closed.close();
		const { failure } = await executeStep({ credentials: standInCredentials({ baseUrl: url }) });
		expect(failure).toBeInstanceOf(NodeOperationError);
		expect(failure?.message).toBe(
			`Could not reach Truv at ${url} (connection refused): the test URL could not be registered with Truv`,
		);
		expect(failure?.description).toContain('set Test Event to Show a Sample Event');
		expect(failure?.description).toContain('N8N_WEBHOOK_URL');
	});

	test('a test run that registered its URL deletes that webhook at its end, and only it', async () => {
		const { failure, staticData } = await executeStep();
		expect(failure).toBeUndefined();
		expect(standIn.webhooks()).toEqual([]);
		expect(apiCalls()).toEqual([
			'GET /v1/webhooks/',
			'POST /v1/webhooks/',
			expect.stringMatching(/^DELETE \/v1\/webhooks\/\w+\/$/),
		]);
		expect(staticData['node:Truv Order Trigger']).toEqual({ truvWebhooks: {} });
	});

	test("outside a test run the same failure is not rewritten: activation shows Truv's error", async () => {
		const closed = await startTruvStandIn();
		const url = closed.url;
		await closed.close();
		await expect(
			trigger({ credentials: standInCredentials({ baseUrl: url }) }).activate(),
		).rejects.toThrow(
			new RegExp(
				`^Could not reach Truv at ${url.replace(/[.:/]/g, '\\$&')} \\(connection refused\\)$`,
			),
		);
	});
});

describe('manual registration', () => {
	test('makes no Truv API call at all', async () => {
		// Pasted into the dashboard by the user: not the trigger's to find or delete.
		standIn.addWebhook({ webhook_url: PRODUCTION_WEBHOOK_URL, env_type: 'sandbox' });
		const node = trigger({ parameters: { registration: 'manual' } });
		expect(await node.checkExists()).toBe(true);
		expect(await node.create()).toBe(true);
		expect(await node.delete()).toBe(true);
		expect(standIn.calls).toEqual([]);
		expect(standIn.webhooks()).toHaveLength(1);
	});
});

describe('errors the user sees', () => {
	test('wrong keys: Truv 401 asks to check the Client ID and Access Secret', async () => {
		const node = trigger({ credentials: standInCredentials({ accessSecret: 'sandbox-wrong' }) });
		await expect(node.activate()).rejects.toThrow(/check the Client ID and Access Secret/);
		expect(standIn.webhooks()).toEqual([]);
	});

	test('invalid parameters: the field and Truv text', async () => {
		const longName = 'x'.repeat(3000);
		const node = trigger({
			webhookBaseUrl: `https://n8n.example.com/${longName}`,
		});
		await expect(node.activate()).rejects.toThrow(/webhook_url: .+/);
		expect(standIn.webhooks()).toEqual([]);
	});

	test('an unreachable Truv names the address', async () => {
		const closed = await startTruvStandIn();
		const url = closed.url;
		await closed.close();
		const node = trigger({ credentials: standInCredentials({ baseUrl: url }) });
		await expect(node.activate()).rejects.toThrow(
			`Could not reach Truv at ${url} (connection refused)`,
		);
	});

	test('a secret without an environment prefix asks to choose the environment', async () => {
		const node = trigger({ credentials: standInCredentials({ accessSecret: 'no-prefix-secret' }) });
		await expect(node.activate()).rejects.toThrow(/Cannot tell the Truv environment/);
		expect(standIn.calls).toEqual([]);
	});
});

/** What the user reads for each fault of Truv's, whichever call of (de)activation meets it. */
const FAULT_MESSAGES = [
	['status500', /Truv answered HTTP 500/],
	['status401', /check the Client ID and Access Secret/],
	['malformedJson', /not JSON/],
	['hang', /Could not reach Truv at .* \(no answer within 15 s\)/],
] as const;
// A hang costs the transport's whole 15 s timeout.
const FAULT_TEST_TIMEOUT_MS = 30_000;

describe('Truv faults during activation and deactivation', () => {
	test.each(
		(['list', 'create'] as const).flatMap((call) =>
			FAULT_MESSAGES.map(([kind, message]) => [call, kind, message] as const),
		),
	)(
		'%s call answered with %s: activation fails with a message naming it, leaving no webhook',
		async (call, kind, message) => {
			standIn.setFault({ method: call === 'list' ? 'GET' : 'POST', path: '/v1/webhooks/', kind });
			await expect(trigger().activate()).rejects.toThrow(message);
			standIn.clearFaults();
			expect(standIn.webhooks()).toEqual([]);
			// Nothing half-done is remembered: the next activation registers normally.
			await trigger().activate();
			expect(standIn.webhooks()).toHaveLength(1);
		},
		FAULT_TEST_TIMEOUT_MS,
	);

	test.each(FAULT_MESSAGES)(
		'%s on the delete call is reported; the next activation and deactivation leave no webhook',
		async (kind, message) => {
			const staticData = {};
			await trigger({ staticData }).activate();
			standIn.setFault({ method: 'DELETE', path: '/v1/webhooks/', kind });
			await expect(trigger({ staticData }).delete()).rejects.toThrow(message);
			standIn.clearFaults();
			expect(standIn.webhooks()).toHaveLength(1);
			await trigger({ staticData }).activate();
			expect(standIn.webhooks()).toHaveLength(1);
			await trigger({ staticData }).delete();
			expect(standIn.webhooks()).toEqual([]);
		},
		FAULT_TEST_TIMEOUT_MS,
	);
});

describe('public URL guard', () => {
	test.each([
		'http://localhost:5678/webhook',
		'http://127.0.0.1:5678/webhook',
		'https://192.168.1.20/webhook',
		'https://10.0.0.5/webhook',
		'https://172.20.1.1/webhook',
		'http://n8n.example.com/webhook',
		'https://[::1]:5678/webhook',
	])('%s is not reachable by Truv', (url) => {
		expect(unreachableReason(url)).toBeDefined();
	});

	test('a public https URL is fine', () => {
		expect(unreachableReason('https://n8n.example.com/webhook/abc/webhook')).toBeUndefined();
	});

	test("stops activation against Truv's real API with a message about WEBHOOK_URL", async () => {
		const node = trigger({
			credentials: truvCredentials(),
			webhookBaseUrl: 'http://localhost:5678/webhook',
		});
		const error = await node.activate().catch((caught: Error & { description?: string }) => caught);
		expect(error).toBeInstanceOf(Error);
		expect((error as Error).message).toMatch(
			/Truv cannot deliver webhooks to http:\/\/localhost:5678/,
		);
		const { description } = error as { description?: string };
		// n8n up to 2.8 reads WEBHOOK_URL; 2.41 reads N8N_WEBHOOK_URL and deprecates WEBHOOK_URL.
		expect(description).toContain('WEBHOOK_URL environment variable');
		expect(description).toContain('N8N_WEBHOOK_URL');
		// Publishing: sample events are no way out.
		expect(description).not.toContain('Show a Sample Event');
	});

	test('on Execute step the same stop also points to Test Event: Show a Sample Event', async () => {
		const { failure } = await executeStep({
			credentials: truvCredentials(),
			webhookTestBaseUrl: 'http://localhost:5678/webhook-test',
		});
		expect(failure?.message).toMatch(/Truv cannot deliver webhooks to http:\/\/localhost:5678/);
		expect(failure?.description).toContain('set Test Event to Show a Sample Event');
	});

	test('allows a local URL when the Base URL is a stand-in', async () => {
		await trigger({ webhookBaseUrl: 'http://127.0.0.1:5678/webhook' }).activate();
		expect(standIn.webhooks()).toHaveLength(1);
	});
});
