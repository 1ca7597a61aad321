// The workflows `npm run bench:n8n` loads, one per target, with node type versions that exist in
// every supported n8n (checked against the running n8n before use).
import type { WorkflowJson } from '../dev/n8n/n8nInstance';
import { TRUV_TRIGGER_VERSION, type CredentialRef } from '../dev/workflows/truvWorkflows';

export const BENCH_TRIGGER_TYPE = 'n8n-nodes-truv-bench.benchTrigger';
export const TRUV_TRIGGER_TYPE = 'n8n-nodes-truv.truvOrderTrigger';

/** Every node type (and version) the workflows use. */
export const REQUIRED_NODE_TYPES: Array<[type: string, version: number]> = [
	[BENCH_TRIGGER_TYPE, 1],
	[TRUV_TRIGGER_TYPE, TRUV_TRIGGER_VERSION],
	['n8n-nodes-base.webhook', 2.1],
	['n8n-nodes-base.code', 2],
	['n8n-nodes-base.switch', 3.4],
	['n8n-nodes-base.noOp', 1],
];

/** The trigger's outputs, and the NoOp each leads to, in output order. */
export const ORDER_OUTPUTS = [
	{ eventType: 'order-created', node: 'Order Created' },
	{ eventType: 'order-status-updated', node: 'Order Status Updated' },
	{ eventType: 'order-refresh-failed', node: 'Order Refresh Failed' },
] as const;

type Node = Record<string, unknown> & { name: string };

function noOp(name: string, x: number, y: number): Node {
	return {
		id: `no-op-${name.toLowerCase().replace(/\W+/g, '-')}`,
		name,
		type: 'n8n-nodes-base.noOp',
		typeVersion: 1,
		position: [x, y],
		parameters: {},
	};
}

function outputNoOps(x: number): Node[] {
	return ORDER_OUTPUTS.map(({ node }, index) => noOp(node, x, index * 160));
}

function toOutputNoOps(): Array<Array<{ node: string; type: string; index: number }>> {
	return ORDER_OUTPUTS.map(({ node }) => [{ node, type: 'main', index: 0 }]);
}

function workflow(name: string, nodes: Node[], connections: Record<string, unknown>): WorkflowJson {
	return { name, nodes, connections, settings: { executionOrder: 'v1' } };
}

/** 1: the cheapest community trigger there is (returns the body) → NoOp. */
export function ceilingWorkflow(webhookId: string): WorkflowJson {
	return workflow(
		'bench: trivial community trigger → NoOp',
		[
			{
				id: 'bench-trigger',
				name: 'Bench Trigger',
				type: BENCH_TRIGGER_TYPE,
				typeVersion: 1,
				position: [0, 0],
				webhookId,
				parameters: {},
			},
			noOp('No Operation', 240, 0),
		],
		{ 'Bench Trigger': { main: [[{ node: 'No Operation', type: 'main', index: 0 }]] } },
	);
}

export const TRUV_TRIGGER_NAME = 'Truv Order Trigger';

/** 2 and 2b: Truv Order Trigger (every event, signature check on) → a NoOp on each output. */
export function truvWorkflow(
	webhookId: string,
	credential: CredentialRef,
	skipDuplicates: boolean,
): WorkflowJson {
	return workflow(
		`bench: Truv Order Trigger → NoOp (duplicates ${skipDuplicates ? 'skipped' : 'not tracked'})`,
		[
			{
				id: 'truv-trigger',
				name: TRUV_TRIGGER_NAME,
				type: TRUV_TRIGGER_TYPE,
				typeVersion: TRUV_TRIGGER_VERSION,
				position: [0, 160],
				webhookId,
				parameters: skipDuplicates ? {} : { options: { skipDuplicates: false } },
				credentials: { truvApi: credential },
			},
			...outputNoOps(260),
		],
		{ [TRUV_TRIGGER_NAME]: { main: toOutputNoOps() } },
	);
}

export const DIY_CODE_NAME = 'Verify Signature';
export const DIY_SWITCH_NAME = 'Route by Event';

/**
 * What the Code node of the do-it-yourself chain runs (in n8n's task runner): the HMAC of the raw
 * body, which the Webhook node hands over as binary property `data`. In n8n 2.x's task runner
 * `this.helpers` is the global `helpers` (in its insecure mode `this` is not the context); n8n 1.x
 * runs the code in-process, with `this.helpers` only.
 */
export function diyVerifyCode(secret: string): string {
	return [
		"const crypto = require('crypto');",
		`const secret = ${JSON.stringify(secret)};`,
		"const binary = typeof helpers === 'undefined' ? this.helpers : helpers;",
		"const raw = await binary.getBinaryDataBuffer(0, 'data');",
		"const received = String($input.first().json.headers['x-webhook-sign'] ?? '');",
		"const expected = 'v1=' + crypto.createHmac('sha256', secret).update(raw).digest('hex');",
		'if (',
		'\treceived.length !== expected.length ||',
		'\t!crypto.timingSafeEqual(Buffer.from(received), Buffer.from(expected))',
		') {',
		"\tthrow new Error('Invalid X-WEBHOOK-SIGN: not signed by Truv');",
		'}',
		"return [{ json: JSON.parse(raw.toString('utf8')) }];",
	].join('\n');
}

function switchRule(eventType: string, outputKey: string, index: number): Record<string, unknown> {
	return {
		conditions: {
			options: { caseSensitive: true, leftValue: '', typeValidation: 'strict', version: 3 },
			conditions: [
				{
					id: `rule-${index}`,
					leftValue: '={{ $json.event_type }}',
					rightValue: eventType,
					operator: { type: 'string', operation: 'equals' },
				},
			],
			combinator: 'and',
		},
		renameOutput: true,
		outputKey,
	};
}

/**
 * 3: the chain users build today: Webhook (raw body, answers at once) → Code verifying the HMAC →
 * Switch on event_type (three outputs) → NoOp on each.
 */
export function diyWorkflow(webhookId: string, path: string, secret: string): WorkflowJson {
	return workflow(
		'bench: Webhook → Code (HMAC) → Switch → NoOp',
		[
			{
				id: 'diy-webhook',
				name: 'Webhook',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2.1,
				position: [0, 160],
				webhookId,
				parameters: {
					httpMethod: 'POST',
					path,
					responseMode: 'onReceived',
					options: { rawBody: true },
				},
			},
			{
				id: 'diy-code',
				name: DIY_CODE_NAME,
				type: 'n8n-nodes-base.code',
				typeVersion: 2,
				position: [240, 160],
				parameters: {
					mode: 'runOnceForAllItems',
					language: 'javaScript',
					jsCode: diyVerifyCode(secret),
				},
			},
			{
				id: 'diy-switch',
				name: DIY_SWITCH_NAME,
				type: 'n8n-nodes-base.switch',
				typeVersion: 3.4,
				position: [480, 160],
				parameters: {
					mode: 'rules',
					rules: {
						values: ORDER_OUTPUTS.map(({ eventType, node }, index) =>
							switchRule(eventType, node, index),
						),
					},
					options: {},
				},
			},
			...outputNoOps(720),
		],
		{
			Webhook: { main: [[{ node: DIY_CODE_NAME, type: 'main', index: 0 }]] },
			[DIY_CODE_NAME]: { main: [[{ node: DIY_SWITCH_NAME, type: 'main', index: 0 }]] },
			[DIY_SWITCH_NAME]: { main: toOutputNoOps() },
		},
	);
}

/** 4: core Webhook → NoOp, the reference (n8n spares its own Webhook node the expression sandbox). */
export function webhookWorkflow(webhookId: string, path: string): WorkflowJson {
	return workflow(
		'bench: Webhook → NoOp',
		[
			{
				id: 'plain-webhook',
				name: 'Webhook',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2.1,
				position: [0, 0],
				webhookId,
				parameters: { httpMethod: 'POST', path, responseMode: 'onReceived', options: {} },
			},
			noOp('No Operation', 240, 0),
		],
		{ Webhook: { main: [[{ node: 'No Operation', type: 'main', index: 0 }]] } },
	);
}
