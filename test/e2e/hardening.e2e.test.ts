// Hostile input and load in real n8n: forged or broken deliveries never start a workflow, genuine
// ones are never lost or run twice, and n8n stays healthy.
import { rm } from 'fs/promises';
import { dirname, join } from 'path';

import { packRepository } from '../../scripts/lib/communityPackage';
import { n8nRuntimes, provisionN8n, type N8nVersion } from '../../scripts/lib/runtimes';
import { fixtureJson } from '../helpers/fixtures';
import {
	signTruvWebhookBody,
	startTruvStandIn,
	type TruvStandIn,
} from '../truv-stand-in/truvStandIn';
import { request } from './harness/http';
import { startHttpSink, type HttpSink } from './harness/httpSink';
import { startN8n, type N8nInstance } from './harness/n8nInstance';
import { outputPath, routingWorkflow } from './truvWorkflows';

const repositoryRoot = join(__dirname, '..', '..');
// E2E_N8N_VERSIONS=2.8.4 narrows a run while developing; CI runs every supported version.
const versions = (process.env.E2E_N8N_VERSIONS?.split(',') ??
	Object.keys(n8nRuntimes)) as N8nVersion[];
const minutes = (count: number): number => count * 60_000;
const LOAD_DELIVERIES = Number(process.env.E2E_LOAD_DELIVERIES ?? 1000);
const LOAD_CONCURRENCY = 20;
const EVENT_FIXTURES = ['order-created', 'order-status-updated-completed', 'order-refresh-failed'];

jest.setTimeout(minutes(10));

let tarball: string;
beforeAll(async () => {
	tarball = await packRepository(repositoryRoot);
}, minutes(3));
afterAll(async () => {
	if (tarball) await rm(dirname(tarball), { recursive: true, force: true });
});

/** Runs `task` over `items` with at most `concurrency` in flight. */
async function inPool<T, R>(
	items: T[],
	concurrency: number,
	task: (item: T) => Promise<R>,
): Promise<R[]> {
	const results: R[] = new Array(items.length);
	let next = 0;
	await Promise.all(
		Array.from({ length: concurrency }, async () => {
			while (next < items.length) {
				const index = next++;
				results[index] = await task(items[index]);
			}
		}),
	);
	return results;
}

describe.each(versions)('hardening in n8n %s', (version) => {
	let n8n: N8nInstance;
	let standIn: TruvStandIn;
	let httpSink: HttpSink;
	let workflowId: string;
	const webhookId = `truv-hardening-${version.replace(/\./g, '-')}`;
	let secret: string;

	const post = async (body: Buffer | string, headers: Record<string, string>) =>
		await request(n8n.webhookUrl(`${webhookId}/webhook`), {
			method: 'POST',
			body: Buffer.isBuffer(body) ? body : Buffer.from(body),
			headers: { 'content-type': 'application/json', ...headers },
		});
	const signed = (body: Buffer | string) => ({
		'x-webhook-sign': signTruvWebhookBody(body, secret),
		'user-agent': 'Truv-Webhook-Service/2.0',
	});

	beforeAll(async () => {
		await provisionN8n(version);
		[standIn, httpSink] = await Promise.all([startTruvStandIn(), startHttpSink()]);
		secret = standIn.account.secrets.sandbox!;
		n8n = await startN8n({ version, tarballs: [tarball] });
		const credential = await n8n.createCredential('truvApi', 'Truv (stand-in)', {
			clientId: standIn.account.clientId,
			accessSecret: secret,
			environment: 'fromSecret',
			baseUrl: standIn.url,
		});
		workflowId = (
			await n8n.createWorkflow(
				routingWorkflow(webhookId, { id: credential.id, name: credential.name }, httpSink.url),
			)
		).id;
		await n8n.activateWorkflow(workflowId);
		await n8n.waitForWebhook(`${webhookId}/webhook`);
	}, minutes(30));

	afterAll(async () => {
		const userFolder = n8n?.userFolder;
		await n8n?.stop();
		await Promise.all([standIn?.close(), httpSink?.close()]);
		if (userFolder) await rm(userFolder, { recursive: true, force: true });
	}, minutes(3));

	test('the nastiest inputs get their documented status, start nothing, and leave n8n healthy', async () => {
		const order = JSON.stringify({
			...fixtureJson('order-created'),
			webhook_id: 'nasty-genuine-control',
		});
		const deep = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
		const deepObject = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
		const huge = JSON.stringify({
			...fixtureJson('order-created'),
			padding: 'x'.repeat(300 * 1024),
		});
		const polluted = `{"__proto__":{"polluted":true},${order.slice(1)}`;
		const random = Buffer.from(Array.from({ length: 2048 }, (_, index) => (index * 7919) % 256));
		const cases: Array<[string, Buffer | string, Record<string, string>, number[]]> = [
			['unsigned order', order, {}, [401]],
			['v1= alone', order, { 'x-webhook-sign': 'v1=' }, [401]],
			[
				'v2 prefix',
				order,
				{ 'x-webhook-sign': signTruvWebhookBody(order, secret).replace('v1=', 'v2=') },
				[401],
			],
			[
				'two signatures',
				order,
				{
					'x-webhook-sign': `${signTruvWebhookBody(order, secret)}, ${signTruvWebhookBody(order, secret)}`,
				},
				[401],
			],
			[
				'forged __proto__ payload',
				polluted,
				{ 'x-webhook-sign': signTruvWebhookBody(polluted, 'sandbox-x') },
				[401],
			],
			['deep array, signed', deep, signed(deep), [400]],
			['deep object, signed', deepObject, signed(deepObject), [400]],
			['300 kB body, signed', huge, signed(huge), [413]],
			// n8n parses application/json itself and answers 422 before the node runs for non-JSON.
			['random bytes, signed', random, signed(random), [400, 422]],
			['truncated JSON, signed', order.slice(0, 40), signed(order.slice(0, 40)), [400, 422]],
			[
				'wrong types, signed',
				JSON.stringify({ webhook_id: 1, event_type: 'order-created', order_id: [] }),
				signed(JSON.stringify({ webhook_id: 1, event_type: 'order-created', order_id: [] })),
				[400],
			],
		];
		for (const [label, body, headers, statuses] of cases) {
			const answer = await post(body, headers);
			expect({
				label,
				status: statuses.includes(answer.status) ? 'as documented' : answer.status,
			}).toEqual({
				label,
				status: 'as documented',
			});
		}
		// A genuine delivery after them: when it has run, nothing else may have.
		expect((await post(order, signed(order))).status).toBe(200);
		const executions = await n8n.waitForExecutions({ workflowId, count: 1, includeData: true });
		expect(executions).toHaveLength(1);
		expect((await request(`${n8n.baseUrl}/healthz`)).status).toBe(200);
		expect(n8n.isRunning()).toBe(true);
	});

	test(`${LOAD_DELIVERIES} distinct deliveries at concurrency ${LOAD_CONCURRENCY}: exactly one execution each, on the right output; a replay adds none`, async () => {
		const before = (await n8n.executions({ workflowId })).length;
		httpSink.clear();
		const bodies = Array.from({ length: LOAD_DELIVERIES }, (_, index) =>
			Buffer.from(
				JSON.stringify({
					...fixtureJson(EVENT_FIXTURES[index % EVENT_FIXTURES.length]),
					webhook_id: `load-${version}-${index.toString().padStart(6, '0')}`,
				}),
			),
		);
		const answers = await inPool(
			bodies,
			LOAD_CONCURRENCY,
			async (body) => (await post(body, signed(body))).status,
		);
		expect(answers.filter((status) => status !== 200)).toEqual([]);
		const executions = await n8n.waitForExecutions({
			workflowId,
			count: before + LOAD_DELIVERIES,
			timeoutMs: minutes(8),
		});
		expect(executions).toHaveLength(before + LOAD_DELIVERIES);
		expect(executions.filter((execution) => execution.status !== 'success')).toEqual([]);
		const posted = await httpSink.waitFor(LOAD_DELIVERIES, { timeoutMs: minutes(2) });
		const perOutput = (eventType: string) =>
			posted.filter((request) => request.path === outputPath(webhookId, eventType)).length;
		expect([
			perOutput('order-created'),
			perOutput('order-status-updated'),
			perOutput('order-refresh-failed'),
		]).toEqual([
			Math.ceil(LOAD_DELIVERIES / 3),
			Math.ceil((LOAD_DELIVERIES - 1) / 3),
			Math.ceil((LOAD_DELIVERIES - 2) / 3),
		]);
		const ids = new Set(
			posted.map((request) => (request.json as { webhook_id: string }).webhook_id),
		);
		expect(ids.size).toBe(LOAD_DELIVERIES);

		// The same deliveries again, as Truv's retries would: all acknowledged as duplicates.
		const replayed = await inPool(bodies, LOAD_CONCURRENCY, async (body) => {
			const answer = await post(body, signed(body));
			return `${answer.status} ${(answer.json as { outcome?: string })?.outcome}`;
		});
		expect(new Set(replayed)).toEqual(new Set(['200 duplicate']));
		const control = JSON.stringify({
			...fixtureJson('order-created'),
			webhook_id: `load-${version}-control`,
		});
		expect((await post(control, signed(control))).status).toBe(200);
		const after = await n8n.waitForExecutions({ workflowId, count: before + LOAD_DELIVERIES + 1 });
		expect(after).toHaveLength(before + LOAD_DELIVERIES + 1);
	});
});
