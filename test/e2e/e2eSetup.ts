// What every end-to-end suite shares: the n8n versions to run, the packed package, and reading
// which output of the Truv Order Trigger an execution used.
import { rm } from 'fs/promises';
import { dirname, join } from 'path';

import { packRepository } from '../../dev/n8n/communityPackage';
import { n8nRuntimes, type N8nVersion } from '../../dev/n8n/runtimes';
import type { Execution } from '../../dev/n8n/n8nInstance';
import { TRUV_TRIGGER_NAME } from '../../dev/workflows/truvWorkflows';

export const minutes = (count: number): number => count * 60_000;

// E2E_N8N_VERSIONS=2.8.4 narrows a run while developing; CI runs every supported version.
export const e2eVersions = (process.env.E2E_N8N_VERSIONS?.split(',') ??
	Object.keys(n8nRuntimes)) as N8nVersion[];

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
