// The workflows bench:n8n loads, as targets: each one created, published and checked with one
// genuine delivery (and, where it matters, a forged one) before any load, so that a workflow that
// misbehaves fails the run instead of being measured.
import { randomBytes } from 'crypto';

import { request } from '../dev/n8n/http';
import type { Execution, N8nInstance } from '../dev/n8n/n8nInstance';
import type { WaitOptions } from '../dev/n8n/wait';
import { readTruvFixture } from '../dev/truv-stand-in/webhookBody';
import { signTruvWebhookBody, type TruvStandIn } from '../dev/truv-stand-in/truvStandIn';
import type { Delivery } from './loadRun';
import {
	ceilingWorkflow,
	DIY_CODE_NAME,
	diyWorkflow,
	ORDER_OUTPUTS,
	REQUIRED_NODE_TYPES,
	truvWorkflow,
	webhookWorkflow,
} from './n8nBenchWorkflows';

export const FIXTURE = 'order-status-updated-completed';
const EXPECTED_OUTPUT = 'Order Status Updated';

export type TargetKey = '1' | '2' | '2b' | '3' | '4';
export const TARGET_KEYS: TargetKey[] = ['1', '2', '2b', '3', '4'];
export const TARGET_LABELS: Record<TargetKey, string> = {
	'1': 'trivial community trigger → NoOp (ceiling)',
	'2': '**Truv Order Trigger → NoOp**',
	'2b': 'Truv Order Trigger → NoOp, Skip Duplicate Deliveries off',
	'3': 'DIY: Webhook (raw body) → Code (HMAC) → Switch → NoOp',
	'4': 'Webhook → NoOp',
};

export interface Target {
	key: TargetKey;
	workflowId: string;
	url: string;
	/** One delivery through the workflow, checked; throws when the workflow misbehaves. */
	verify(): Promise<void>;
}

/**
 * Where the production webhooks answer: n8n itself, or, in queue mode, the proxy in front of the
 * webhook processes (main serves none there).
 */
export interface WebhookEndpoint {
	webhookUrl(webhookIdAndPath: string): string;
	waitForWebhook(webhookIdAndPath: string, options?: WaitOptions): Promise<void>;
}

/** Fails when n8n lacks a node type (or type version) one of the workflows uses. */
export async function expectNodeTypes(n8n: N8nInstance): Promise<void> {
	const known = await n8n.nodeTypes();
	const missing = REQUIRED_NODE_TYPES.filter(
		([type, typeVersion]) => !(known.get(type) ?? []).includes(typeVersion),
	);
	if (missing.length) {
		throw new Error(
			`n8n ${n8n.version} lacks ${missing.map(([type, typeVersion]) => `${type}@${typeVersion}`).join(', ')}`,
		);
	}
}

/**
 * Signed copies of the fixture, byte for byte, except for a webhook_id of the same length that no
 * other delivery of this run has.
 */
export function deliveryFactory(secret: string): () => Delivery {
	const template = readTruvFixture(FIXTURE).toString('utf8');
	const originalId = String((JSON.parse(template) as { webhook_id: string }).webhook_id);
	const parts = template.split(originalId);
	if (parts.length !== 2) throw new Error(`${FIXTURE}: its webhook_id must occur exactly once`);
	const runTag = randomBytes(4).toString('hex');
	let serial = 0;
	return () => {
		const id = `${runTag}${(serial++).toString(16).padStart(originalId.length - 8, '0')}`;
		const body = Buffer.from(`${parts[0]}${id}${parts[1]}`);
		return {
			body,
			headers: {
				'x-webhook-sign': signTruvWebhookBody(body, secret),
				'user-agent': 'Truv-Webhook-Service/2.0',
			},
		};
	};
}

function webhookIdOf(delivery: Delivery): string {
	return (JSON.parse(delivery.body.toString('utf8')) as { webhook_id: string }).webhook_id;
}

async function newestExecution(
	n8n: N8nInstance,
	workflowId: string,
	count: number,
): Promise<Execution> {
	const executions = await n8n.waitForExecutions({
		workflowId,
		count,
		includeData: true,
		timeoutMs: 60_000,
	});
	return executions[0];
}

function itemsReaching(execution: Execution, nodeName: string): unknown[] {
	const runs = execution.data?.resultData.runData[nodeName] ?? [];
	return runs.flatMap((run) => (run.data?.main?.[0] ?? []).map((item) => item.json));
}

function describeExecution(execution: Execution): string {
	const runData = execution.data?.resultData.runData ?? {};
	return `execution ${execution.id}: status ${execution.status}, nodes run: ${Object.keys(runData).join(', ')}${
		execution.data?.resultData.error ? `, error: ${execution.data.resultData.error.message}` : ''
	}`;
}

/** Checks that the delivery's webhook_id reached `reached` (and, for routed workflows, only it). */
function expectRouted(
	execution: Execution,
	webhookId: string,
	reached: string,
	pick: (json: unknown) => unknown,
	routed: boolean,
): void {
	const problems: string[] = [];
	if (execution.status !== 'success') problems.push('not successful');
	const items = itemsReaching(execution, reached);
	if (items.length !== 1 || pick(items[0]) !== webhookId) {
		problems.push(`${reached} did not get exactly the delivery ${webhookId}`);
	}
	if (routed) {
		for (const { node } of ORDER_OUTPUTS) {
			if (node !== reached && itemsReaching(execution, node).length > 0) {
				problems.push(`${node} ran as well`);
			}
		}
	}
	if (problems.length) {
		throw new Error(`${problems.join('; ')} (${describeExecution(execution)})`);
	}
}

async function post(url: string, delivery: Delivery): Promise<number> {
	const answer = await request(url, {
		method: 'POST',
		body: delivery.body,
		headers: { 'content-type': 'application/json', ...delivery.headers },
	});
	return answer.status;
}

export async function setUpTargets(
	n8n: N8nInstance,
	standIn: TruvStandIn,
	secret: string,
	keys: TargetKey[],
	nextDelivery: () => Delivery,
	webhooks: WebhookEndpoint = n8n,
): Promise<Target[]> {
	const tag = randomBytes(3).toString('hex');
	const credential = await n8n.createCredential('truvApi', 'Truv (bench stand-in)', {
		clientId: standIn.account.clientId,
		accessSecret: secret,
		environment: 'fromSecret',
		baseUrl: standIn.url,
	});
	const credentialRef = { id: credential.id, name: credential.name };

	const create = async (
		key: TargetKey,
		workflow: Parameters<N8nInstance['createWorkflow']>[0],
		webhookPath: string,
		verify: (target: Omit<Target, 'verify'>) => Promise<void>,
	): Promise<Target> => {
		const { id } = await n8n.createWorkflow(workflow);
		await n8n.activateWorkflow(id);
		await webhooks.waitForWebhook(webhookPath, { timeoutMs: 60_000 });
		const target = { key, workflowId: id, url: webhooks.webhookUrl(webhookPath) };
		return { ...target, verify: async () => await verify(target) };
	};

	/** One genuine delivery: answered 2xx, one successful execution that took `reached`. */
	const verifyOne = async (
		target: Omit<Target, 'verify'>,
		reached: string,
		pick: (json: unknown) => unknown,
		routed: boolean,
	): Promise<void> => {
		const delivery = nextDelivery();
		const status = await post(target.url, delivery);
		if (status < 200 || status >= 300) throw new Error(`a signed delivery got HTTP ${status}`);
		const execution = await newestExecution(n8n, target.workflowId, 1);
		expectRouted(execution, webhookIdOf(delivery), reached, pick, routed);
	};
	const field = (json: unknown): unknown => (json as { webhook_id?: unknown }).webhook_id;
	const bodyField = (json: unknown): unknown => field((json as { body?: unknown }).body ?? {});

	const targets: Target[] = [];
	for (const key of keys) {
		const webhookId = `bench-${key}-${tag}`;
		switch (key) {
			case '1':
				targets.push(
					await create(key, ceilingWorkflow(webhookId), `${webhookId}/webhook`, async (target) => {
						await verifyOne(target, 'No Operation', field, false);
					}),
				);
				break;
			case '2':
			case '2b':
				targets.push(
					await create(
						key,
						truvWorkflow(webhookId, credentialRef, key === '2'),
						`${webhookId}/webhook`,
						async (target) => {
							await verifyOne(target, EXPECTED_OUTPUT, field, true);
							// A forged delivery is refused by the trigger and starts nothing.
							const forged = nextDelivery();
							forged.headers['x-webhook-sign'] = signTruvWebhookBody(forged.body, 'sandbox-forged');
							const status = await post(target.url, forged);
							if (status !== 401) throw new Error(`a forged delivery got HTTP ${status}, not 401`);
						},
					),
				);
				break;
			case '3':
				targets.push(
					await create(
						key,
						diyWorkflow(webhookId, `bench-diy-${tag}`, secret),
						`bench-diy-${tag}`,
						async (target) => {
							await verifyOne(target, EXPECTED_OUTPUT, field, true);
							// The Webhook node has answered before the Code node runs: a forged delivery gets
							// 200 too, but its execution stops in the Code node.
							const forged = nextDelivery();
							forged.headers['x-webhook-sign'] = signTruvWebhookBody(forged.body, 'sandbox-forged');
							await post(target.url, forged);
							const execution = await newestExecution(n8n, target.workflowId, 2);
							const lastNode = execution.data?.resultData.lastNodeExecuted;
							if (execution.status !== 'error' || lastNode !== DIY_CODE_NAME) {
								throw new Error(
									`a forged delivery was not stopped by the Code node (${describeExecution(execution)})`,
								);
							}
						},
					),
				);
				break;
			case '4':
				targets.push(
					await create(
						key,
						webhookWorkflow(webhookId, `bench-webhook-${tag}`),
						`bench-webhook-${tag}`,
						async (target) => {
							await verifyOne(target, 'No Operation', bodyField, false);
						},
					),
				);
				break;
		}
	}
	return targets;
}
