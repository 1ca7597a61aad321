// Workflows the end-to-end tests (and `npm start`) run: the shipped examples, wired to local
// credentials and sinks, and a routing workflow that sends each output to its own sink path; and
// a Slack API stand-in for an HTTP sink, for the examples that post to Slack.
import { randomUUID } from 'crypto';
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';

import { Truv } from '../../nodes/Truv/Truv.node.ts';
import { TruvOrderTrigger } from '../../nodes/TruvOrderTrigger/TruvOrderTrigger.node.ts';
import type { HttpSink, SinkResponder } from '../n8n/httpSink';
import type { WorkflowJson } from '../n8n/n8nInstance';
import type { TruvStandIn } from '../truv-stand-in/truvStandIn';

export const TRUV_TRIGGER_TYPE = 'n8n-nodes-truv.truvOrderTrigger';
export const TRUV_TRIGGER_NAME = 'Truv Order Trigger';
export const TRUV_TRIGGER_VERSION = new TruvOrderTrigger().description.version as number;
export const TRUV_NODE_TYPE = 'n8n-nodes-truv.truv';
/** Every version of the Truv node n8n loads (version 1 kept for the workflows saved with it). */
export const TRUV_NODE_VERSIONS = [new Truv().description.version].flat();
/** The version a new Truv node gets. */
export const TRUV_NODE_VERSION = Math.max(...TRUV_NODE_VERSIONS);
export const EXAMPLES_DIR = join(__dirname, '..', '..', 'examples');

export interface CredentialRef {
	id: string;
	name: string;
}

/** A Truv API credential's data for the stand-in's sandbox, as the credential form would hold it. */
export function standInCredentialData(
	standIn: TruvStandIn,
	accessSecret = standIn.account.secrets.sandbox,
): Record<string, unknown> {
	return {
		clientId: standIn.account.clientId,
		accessSecret,
		environment: 'fromSecret',
		secondaryAccessSecret: '',
		baseUrl: standIn.url,
	};
}

export const exampleFiles = readdirSync(EXAMPLES_DIR).filter((file) => file.endsWith('.json'));

type WorkflowNode = Record<string, unknown> & {
	name: string;
	type: string;
	parameters: Record<string, unknown>;
	credentials?: Record<string, CredentialRef>;
};

export interface ExampleOverrides {
	/** Credential references by credential type (`truvApi`, `smtp`, `slackApi`). */
	credentials?: Record<string, CredentialRef>;
	/** Parameter values to set, by node name. */
	parameters?: Record<string, Record<string, unknown>>;
}

/** An example workflow exactly as shipped: its trigger has no webhookId. */
export function shippedExample(file: string): WorkflowJson {
	return JSON.parse(readFileSync(join(EXAMPLES_DIR, file), 'utf8')) as WorkflowJson;
}

/**
 * The workflow as n8n's editor saves it after Import from File: every Truv Order Trigger without
 * a webhookId gets a new one (n8n 2.8's editor in useCanvasOperations' resolveNodeWebhook, 2.41's
 * editor through n8n-workflow's resolveNodeWebhookId, which 2.41's server also applies when it
 * creates a workflow). The examples ship without one, so every import listens on its own URL.
 */
export function asImportedByEditor(workflow: WorkflowJson): WorkflowJson {
	return {
		...workflow,
		nodes: workflow.nodes.map((node) =>
			node.type === TRUV_TRIGGER_TYPE && node.webhookId === undefined
				? { ...node, webhookId: randomUUID() }
				: node,
		),
	};
}

/**
 * An example workflow as the editor imports it (a fresh webhookId for its trigger), with its
 * credentials and chosen parameters replaced.
 */
export function exampleWorkflow(
	file: string,
	overrides: ExampleOverrides = {},
	shipped: WorkflowJson = shippedExample(file),
): WorkflowJson {
	const workflow = asImportedByEditor(shipped) as WorkflowJson & {
		nodes: WorkflowNode[];
	};
	for (const node of workflow.nodes) {
		for (const type of Object.keys(node.credentials ?? {})) {
			const replacement = overrides.credentials?.[type];
			if (replacement) node.credentials![type] = replacement;
		}
		Object.assign(node.parameters, overrides.parameters?.[node.name] ?? {});
	}
	return workflow;
}

/** Whether the workflow starts from a Truv Order Trigger (and so holds a Truv webhook). */
export function hasTruvTrigger(workflow: WorkflowJson): boolean {
	return workflow.nodes.some((node) => node.type === TRUV_TRIGGER_TYPE);
}

/** The examples Truv delivers to, each registering one Truv webhook when published. */
export const triggerExampleFiles = exampleFiles.filter((file) =>
	hasTruvTrigger(shippedExample(file)),
);

export function triggerWebhookId(workflow: WorkflowJson): string {
	const trigger = workflow.nodes.find((node) => node.type === TRUV_TRIGGER_TYPE);
	if (typeof trigger?.webhookId !== 'string') throw new Error(`${workflow.name}: no webhookId`);
	return trigger.webhookId;
}

/** What n8n's Slack node posted to `chat.postMessage`. */
export interface SlackMessage {
	channel: string;
	text: string;
	/** The bot token the Slack credential sent (`Authorization: Bearer …`). */
	token: string;
}

let slackSerial = 0;

/**
 * Answers an HTTP sink's requests as Slack's Web API does, for a sink that the harness's proxy puts
 * behind https://slack.com (startPackageRegistry's `interceptedHosts`). `chat.postMessage` posts:
 * `ok: true` with the channel, a timestamp and the message, since the Slack node fails unless `ok`
 * is true and outputs the rest. Any other method is unknown, as the examples call no other.
 */
export const slackApiResponder: SinkResponder = (request) => {
	if (request.path !== '/api/chat.postMessage') {
		return { status: 200, body: { ok: false, error: 'unknown_method' } };
	}
	const posted = (request.json ?? {}) as Record<string, unknown>;
	slackSerial += 1;
	const ts = `${Math.floor(Date.now() / 1000)}.${String(slackSerial).padStart(6, '0')}`;
	return {
		status: 200,
		body: {
			ok: true,
			channel: posted.channel,
			ts,
			message: { type: 'message', subtype: 'bot_message', text: posted.text, ts, bot_id: 'B0N8N' },
		},
	};
};

/** The messages posted to `chat.postMessage` at a sink answering with slackApiResponder. */
export function slackMessages(sink: HttpSink): SlackMessage[] {
	return sink.requests
		.filter((request) => request.path === '/api/chat.postMessage')
		.map((request) => {
			const posted = (request.json ?? {}) as Record<string, unknown>;
			return {
				channel: String(posted.channel),
				text: String(posted.text),
				token: String(request.headers.authorization ?? '').replace(/^Bearer /, ''),
			};
		});
}

const OUTPUT_PATHS = ['order-created', 'order-status-updated', 'order-refresh-failed'];

/**
 * One path per output of a trigger with these parameters: the order outputs, and Connection
 * Failed (output 3, named after Truv's task-status-updated) when its Events select it.
 */
function outputPathsFor(triggerParameters: Record<string, unknown>): string[] {
	const events = triggerParameters.events;
	return Array.isArray(events) && events.includes('task-status-updated')
		? [...OUTPUT_PATHS, 'task-status-updated']
		: OUTPUT_PATHS;
}

/** The trigger with one node connected to each of its outputs, in order. */
function triggerWorkflow(
	name: string,
	webhookId: string,
	truvCredential: CredentialRef,
	branches: Array<Record<string, unknown> & { name: string }>,
	triggerParameters: Record<string, unknown> = {},
): WorkflowJson {
	return {
		name,
		nodes: [
			{
				id: `trigger-${webhookId}`,
				name: TRUV_TRIGGER_NAME,
				type: TRUV_TRIGGER_TYPE,
				typeVersion: TRUV_TRIGGER_VERSION,
				position: [0, 160],
				webhookId,
				parameters: triggerParameters,
				credentials: { truvApi: truvCredential },
			},
			...branches.map((branch, index) => ({ position: [320, index * 160], ...branch })),
		],
		connections: {
			[TRUV_TRIGGER_NAME]: {
				main: branches.map((branch) => [{ node: branch.name, type: 'main', index: 0 }]),
			},
		},
		settings: { executionOrder: 'v1' },
	};
}

/**
 * Truv Order Trigger (all order events unless `triggerParameters` choose Events) → one HTTP
 * Request per output, each to its own sink path: `/<webhookId>/<event type>`.
 */
export function routingWorkflow(
	webhookId: string,
	truvCredential: CredentialRef,
	sinkUrl: string,
	triggerParameters: Record<string, unknown> = {},
): WorkflowJson {
	const posts = outputPathsFor(triggerParameters).map((path) => ({
		id: `post-${path}`,
		name: `Post ${path}`,
		type: 'n8n-nodes-base.httpRequest',
		// As in the examples: a version every n8n in use knows. A workflow naming a version its n8n
		// lacks fails to activate (n8n 1.123, which stops at 4.3, with a bare TypeError).
		typeVersion: 4.2,
		parameters: {
			method: 'POST',
			url: `${sinkUrl}/${webhookId}/${path}`,
			sendBody: true,
			specifyBody: 'json',
			jsonBody: '={{ JSON.stringify($json) }}',
			options: {},
		},
	}));
	return triggerWorkflow(
		`Truv routing ${webhookId}`,
		webhookId,
		truvCredential,
		posts,
		triggerParameters,
	);
}

export function outputPath(webhookId: string, eventType: string): string {
	return `/${webhookId}/${eventType}`;
}

/**
 * Truv Order Trigger (all events) → a NoOp per output: no expressions, so n8n spends nothing on
 * its expression sandbox and each execution costs the trigger and n8n's bookkeeping only.
 */
export function noOpWorkflow(
	webhookId: string,
	truvCredential: CredentialRef,
	triggerParameters: Record<string, unknown> = {},
): WorkflowJson {
	const noOps = OUTPUT_PATHS.map((path) => ({
		id: `noop-${path}`,
		name: `NoOp ${path}`,
		type: 'n8n-nodes-base.noOp',
		typeVersion: 1,
		parameters: {},
	}));
	return triggerWorkflow(
		`Truv NoOp ${webhookId}`,
		webhookId,
		truvCredential,
		noOps,
		triggerParameters,
	);
}

/** The manual trigger's name in manualTruvWorkflow, as n8n names a new one. */
export const MANUAL_TRIGGER_NAME = 'When clicking ‘Execute workflow’';

/**
 * A manual trigger → one Truv node (the version a new node gets) named `nodeName`, with these
 * parameters: a workflow a user builds to try an operation in the editor.
 */
export function manualTruvWorkflow(
	name: string,
	truvCredential: CredentialRef,
	parameters: Record<string, unknown>,
	nodeName = 'Truv',
): WorkflowJson {
	return {
		name,
		nodes: [
			{
				id: 'manual-trigger',
				name: MANUAL_TRIGGER_NAME,
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: 'truv',
				name: nodeName,
				type: TRUV_NODE_TYPE,
				typeVersion: TRUV_NODE_VERSION,
				position: [240, 0],
				parameters,
				credentials: { truvApi: truvCredential },
			},
		],
		connections: {
			[MANUAL_TRIGGER_NAME]: { main: [[{ node: nodeName, type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}
