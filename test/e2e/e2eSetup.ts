// What every end-to-end suite shares: the n8n versions to run, the packed package, Truv's order
// events, the webhooks at the stand-in, and reading which output of the Truv Order Trigger an
// execution used.
import { rm } from 'fs/promises';
import type { IAuthenticateRuleResponseCode } from 'n8n-workflow';
import { dirname, join } from 'path';

import { packRepository } from '../../dev/n8n/communityPackage';
import { n8nRuntimes, type AnyN8nVersion, type N8nVersion } from '../../dev/n8n/runtimes';
import type { CreatedCredential, Execution, N8nInstance } from '../../dev/n8n/n8nInstance';
import { waitFor } from '../../dev/n8n/wait';
import type { TruvStandIn, TruvWebhook } from '../../dev/truv-stand-in/truvStandIn';
import {
	standInCredentialData,
	TRUV_NODE_VERSION,
	TRUV_TRIGGER_NAME,
	TRUV_TRIGGER_TYPE,
	TRUV_TRIGGER_VERSION,
} from '../../dev/workflows/truvWorkflows';
import { TruvApi } from '../../credentials/TruvApi.credentials';
import { fixtureJson } from '../helpers/fixtures';

export const minutes = (count: number): number => count * 60_000;

const requestedVersions = process.env.E2E_N8N_VERSIONS?.split(',');

// E2E_N8N_VERSIONS=2.8.4 narrows a run while developing; CI runs every supported version.
export const e2eVersions = (requestedVersions ?? Object.keys(n8nRuntimes)) as N8nVersion[];

/**
 * Whether this run includes `version`, for a suite on one runtime only (n8n1's on 1.123.81): it
 * runs unless E2E_N8N_VERSIONS is set and leaves the version out.
 */
export const e2eIncludes = (version: AnyN8nVersion): boolean =>
	requestedVersions === undefined || requestedVersions.includes(version);

/**
 * Packs the repository once for the suite (as `npm publish` would) and removes the tarball after;
 * returns a getter for its path.
 */
export function usePackedRepository(): () => string {
	let tarball: string | undefined;
	beforeAll(async () => {
		tarball = await packRepository(join(__dirname, '..', '..'));
	}, minutes(3));
	afterAll(async () => {
		if (tarball) await rm(dirname(tarball), { recursive: true, force: true });
	});
	return () => {
		if (!tarball) throw new Error('the repository was not packed');
		return tarball;
	};
}

/** Truv's order samples with their event type: every order event and status the trigger routes. */
export const ORDER_FIXTURES = [
	['order-created', 'order-created'],
	['order-status-updated-completed', 'order-status-updated'],
	['order-status-updated-expired', 'order-status-updated'],
	['order-status-updated-minimal', 'order-status-updated'],
	['order-refresh-failed', 'order-refresh-failed'],
] as const;

/** The trigger's output for each order event type. */
export const OUTPUT_INDEX: Record<string, number> = {
	'order-created': 0,
	'order-status-updated': 1,
	'order-refresh-failed': 2,
};

let serial = 0;
/** A Truv sample with a webhook_id of its own (two of Truv's samples share one). */
export function freshEvent(
	fixture: string,
	changes: Record<string, unknown> = {},
): Record<string, unknown> {
	serial += 1;
	return {
		...fixtureJson(fixture),
		webhook_id: `e2e${Date.now().toString(16)}${serial.toString(16).padStart(8, '0')}`,
		...changes,
	};
}

/**
 * The stand-in's webhooks once there are `count` of them. n8n 2.41 publishes and unpublishes in
 * the background: the API answers before the trigger's webhook methods have run.
 */
export async function truvWebhooks(standIn: TruvStandIn, count: number): Promise<TruvWebhook[]> {
	return await waitFor(
		async () => {
			const webhooks = standIn.webhooks();
			if (webhooks.length !== count) throw new Error(`${webhooks.length} webhooks at Truv`);
			return webhooks;
		},
		{ timeoutMs: 30_000, description: `${count} webhook(s) at Truv` },
	);
}

/** Which output of the trigger an execution used, and the item it emitted, from its run data. */
export function triggerOutput(execution: Execution): {
	output: number;
	json: Record<string, unknown>;
} {
	const run = execution.data?.resultData.runData[TRUV_TRIGGER_NAME]?.[0];
	const outputs = run?.data?.main ?? [];
	const output = outputs.findIndex((items) => (items ?? []).length > 0);
	return { output, json: (outputs[output]?.[0]?.json ?? {}) as Record<string, unknown> };
}

/**
 * Whether the trigger's step passed its delivery on to the workflow: an execution of a delivery an
 * earlier execution processed ends at the trigger, with a hint that says so.
 */
export function ranDelivery(execution: Execution): boolean {
	return triggerOutput(execution).output >= 0;
}

/** Whether the execution ended at the trigger because an earlier one processed its delivery. */
export function skippedAsProcessed(execution: Execution): boolean {
	const run = execution.data?.resultData.runData[TRUV_TRIGGER_NAME]?.[0] as
		| { hints?: Array<{ message?: string }> }
		| undefined;
	return (
		!ranDelivery(execution) &&
		(run?.hints ?? []).some((hint) => /already processed/.test(hint.message ?? ''))
	);
}

interface QueuedTriggerData {
	executionData?: {
		nodeExecutionStack?: Array<{
			data?: { main?: Array<Array<{ json?: { webhook_id?: unknown } }> | null> };
		}>;
	};
}

/**
 * The `webhook_id` an execution was started for: from the trigger's run data, or, for an execution
 * a crash stopped before the trigger ran, from the data n8n stored to start it with.
 */
export function storedWebhookId(execution: Execution): string | undefined {
	const fromRun = triggerOutput(execution).json.webhook_id;
	if (fromRun !== undefined) return String(fromRun);
	const queued = (execution.data as QueuedTriggerData | undefined)?.executionData;
	for (const entry of queued?.nodeExecutionStack ?? []) {
		for (const items of entry.data?.main ?? []) {
			const id = items?.[0]?.json?.webhook_id;
			if (id !== undefined) return String(id);
		}
	}
	return undefined;
}

/**
 * What the credential modal says when the test fails with a wrong secret (Truv answers 401).
 * n8n 2.41 words it with the credential's rule for the status; the older n8n in use (2.8, 1.123)
 * word it themselves.
 */
export function failedCredentialTestMessage(version: AnyN8nVersion): string {
	if (!version.startsWith('2.41.')) return 'Authorization failed - please check your credentials';
	const rules = (new TruvApi().test.rules ?? []) as IAuthenticateRuleResponseCode[];
	const rule = rules.find(({ properties }) => properties.value === 401);
	if (!rule) throw new Error('the Truv API credential has no rule for 401');
	return rule.properties.message;
}

/**
 * Creates the stand-in's Truv API credential in n8n and checks that the credential modal's Test
 * passes with it and fails, in each n8n version's own words, with a wrong secret.
 */
export async function createTestedStandInCredential(
	n8n: N8nInstance,
	standIn: TruvStandIn,
): Promise<CreatedCredential> {
	const credential = await n8n.createCredential(
		'truvApi',
		'Truv (stand-in)',
		standInCredentialData(standIn),
	);
	expect(await n8n.testCredential(credential)).toEqual(expect.objectContaining({ status: 'OK' }));
	expect(
		await n8n.testCredential(credential, { ...credential.data, accessSecret: 'sandbox-wrong' }),
	).toEqual({ status: 'Error', message: failedCredentialTestMessage(n8n.version) });
	expect(standIn.calls.filter((call) => call.status === 401).length).toBeGreaterThan(0);
	return credential;
}

/** The node types the package installs, each at its version, ordered by type. */
export const PACKAGE_NODE_TYPES: Array<{ type: string; latestVersion: number }> = [
	{ type: 'n8n-nodes-truv.truv', latestVersion: TRUV_NODE_VERSION },
	{ type: TRUV_TRIGGER_TYPE, latestVersion: TRUV_TRIGGER_VERSION },
];

/** The `{type, latestVersion}` of a listed package's nodes, ordered by type, to compare with PACKAGE_NODE_TYPES. */
export function installedNodeTypes(listed: {
	installedNodes: Array<{ type: string; latestVersion: number }>;
}): Array<{ type: string; latestVersion: number }> {
	return listed.installedNodes
		.map(({ type, latestVersion }) => ({ type, latestVersion }))
		.sort((a, b) => a.type.localeCompare(b.type));
}

/** Runs `task` over `items` with at most `concurrency` in flight. */
export async function inPool<T, R>(
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

/** Waits for `count` finished executions of a workflow and fails when there are more. */
export async function exactlyExecutions(
	n8n: N8nInstance,
	workflowId: string,
	count: number,
): Promise<Execution[]> {
	const executions = await n8n.waitForExecutions({ workflowId, count, includeData: true });
	expect(executions).toHaveLength(count);
	return executions;
}
