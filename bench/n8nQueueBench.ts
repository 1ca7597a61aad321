// bench:n8n in queue mode: n8n's distributed engine as the e2e suite starts it (one PostgreSQL
// database, Redis, main, webhook processes behind the round-robin proxy, workers), loaded through
// the proxy with the trivial community trigger and the Truv Order Trigger, at each worker count.
// One cluster per version serves every worker count: starting one costs minutes on two cores, and
// a worker stopped between measurements takes no jobs while the other processes stay as they were.
import type { N8nQueueCluster } from '../dev/n8n/n8nQueueCluster';
import { startQueueCluster } from '../dev/n8n/n8nQueueCluster';
import type { PostgresServer } from '../dev/n8n/postgresServer';
import { ProcessGroupsMonitor } from '../dev/n8n/processGroupUsage';
import type { N8nVersion } from '../dev/n8n/runtimes';
import { sleep } from '../dev/n8n/wait';
import type { TruvStandIn } from '../dev/truv-stand-in/truvStandIn';
import {
	log,
	measureInRounds,
	nodeVersionOf,
	type MeasureSettings,
	type MeasuringRig,
} from './n8nBenchMeasure';
import {
	deliveryFactory,
	expectNodeTypes,
	setUpTargets,
	TARGET_LABELS,
	type TargetKey,
} from './n8nBenchTargets';
import type { QueueVersionResult, WorkersResult } from './n8nQueueBenchReport';

/** The ceiling and the Truv Order Trigger: what the ratio per worker count compares. */
const QUEUE_TARGETS: TargetKey[] = ['1', '2'];
/** As many as the e2e suite runs, so that the proxy spreads the load over more than one. */
const WEBHOOK_PROCESSES = 2;

export interface QueueSettings extends MeasureSettings {
	/** The worker counts to measure, ascending; the cluster starts with the largest. */
	workers: number[];
	/** Extra environment for every process of the cluster (--env). */
	env: Record<string, string>;
}

/** Runs exactly `count` of the cluster's workers: the first ones, stopping or starting the rest. */
async function runWorkers(cluster: N8nQueueCluster, count: number): Promise<void> {
	await Promise.all(
		cluster.workers.map(async (worker, index) => {
			if (index < count && !worker.isRunning()) await worker.start();
			if (index >= count && worker.isRunning()) await worker.stop();
		}),
	);
}

/** The process groups of the cluster's n8n processes that run now. */
function clusterGroups(cluster: N8nQueueCluster): number[] {
	return [
		cluster.main.pid,
		...[...cluster.webhookProcesses, ...cluster.workers].map((each) => each.pid),
	].filter((pid): pid is number => pid !== undefined);
}

export async function benchQueueVersion(
	version: N8nVersion,
	settings: QueueSettings,
	tarballs: string[],
	standIn: TruvStandIn,
	postgres: PostgresServer,
	signal: AbortSignal,
	othersSeen: Set<number>,
	track: { started(cluster: N8nQueueCluster): void },
): Promise<QueueVersionResult> {
	const mostWorkers = Math.max(...settings.workers);
	log(
		`n8n ${version}, queue mode: starting Redis, main, ${WEBHOOK_PROCESSES} webhook processes and ${mostWorkers} workers`,
	);
	const startedAt = Date.now();
	const cluster = await startQueueCluster({
		version,
		tarballs,
		postgres,
		webhookProcesses: WEBHOOK_PROCESSES,
		workers: mostWorkers,
		env: settings.env,
	});
	const readyAfterMs = Date.now() - startedAt;
	track.started(cluster);
	const ownGroups = () => clusterGroups(cluster);
	const monitor = new ProcessGroupsMonitor(ownGroups);
	try {
		monitor.start();
		await expectNodeTypes(cluster.main);
		const secret = standIn.account.secrets.sandbox!;
		const nextDelivery = deliveryFactory(secret);
		const targets = await setUpTargets(
			cluster.main,
			standIn,
			secret,
			QUEUE_TARGETS,
			nextDelivery,
			cluster,
		);
		for (const target of targets) {
			await target.verify();
			log(`  ${target.key}: verified (${TARGET_LABELS[target.key].replace(/\*/g, '')})`);
		}
		const rig: MeasuringRig = {
			n8n: cluster.main,
			ownGroups,
			monitor,
			settings,
			nextDelivery,
			signal,
			othersSeen,
		};
		const byWorkers: WorkersResult[] = [];
		for (const workers of settings.workers) {
			signal.throwIfAborted();
			log(`n8n ${version}, queue mode: ${workers} of ${mostWorkers} workers running`);
			await runWorkers(cluster, workers);
			await sleep(3_000);
			const idleRssBytes = monitor.sample().rssBytes;
			byWorkers.push({ workers, idleRssBytes, results: await measureInRounds(rig, targets) });
		}
		return {
			version,
			nodeVersion: nodeVersionOf(cluster.main.runtime.nodeBin),
			webhookProcesses: WEBHOOK_PROCESSES,
			readyAfterMs,
			byWorkers,
		};
	} finally {
		monitor.stop();
		log(`n8n ${version}, queue mode: stopping the cluster`);
		await cluster.stop();
		await postgres.dropDatabase(cluster.database).catch(() => undefined);
	}
}
