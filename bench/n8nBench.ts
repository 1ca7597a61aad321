// npm run bench:n8n — the Truv Order Trigger in a real n8n under load, next to what else a user could
// put there, in the same n8n run (ratios carry over between machines, absolute numbers do not).
//
//   npm run bench:n8n -- [--n8n 2.41.1|2.8.4]… [--modes single,queue] [--duration 20] [--rounds 5]
//                        [--warmup 5] [--connections 10] [--targets 1,2,2b,3,4] [--refused auto]
//                        [--queue-workers 1,2] [--queue-duration 12] [--queue-rounds 3]
//                        [--env NAME=VALUE]… [--dry-run] [--cpu-prof] [--ignore-others]
//
// Single mode (`single`): for each n8n version (default: 2.41.1, then 2.8.4) ONE n8n runs with both
// packages installed as n8n's Community Nodes installer would (this repository packed, and the
// bench-only trivial trigger in bench/packages), and autocannon loads, in turn:
//   1  the trivial community trigger → NoOp: the ceiling for any community trigger in that n8n
//   2  Truv Order Trigger → NoOp on each output: signature check, validation, duplicate tracking
//   2b the same with Options → Skip Duplicate Deliveries off: what the duplicate record costs
//   3  the do-it-yourself chain: Webhook (raw body) → Code (HMAC) → Switch on event_type → NoOp
//   4  Webhook → NoOp: n8n's own trigger, which n8n spares its expression sandbox
// then sends target 2 requests its trigger refuses with 401, a malformed X-WEBHOOK-SIGN and a
// well-formed but wrong one in alternating batches, for what a forged request costs n8n next to a
// malformed one (n8nBenchRefused.ts): about a minute per version, or --refused requests of each
// kind (0 skips them).
// Queue mode (`queue`, after single mode): for each version a queue-mode cluster as the e2e suite
// starts it (PostgreSQL, Redis, main, two webhook processes behind the round-robin proxy, workers),
// loaded through the proxy with targets 1 and 2, with each --queue-workers count in turn
// (n8nQueueBench.ts). --modes single skips it, --modes queue runs only it.
// Every request is a signed order-status-updated delivery with its own webhook_id. Each workflow is
// checked with one delivery (the right output, a successful execution) before it is loaded. Another
// n8n on the machine (the e2e tests, say) would skew the numbers: each target waits until none has
// run for a minute, and is measured again when one started meanwhile (--ignore-others skips both).
//
// The reports go to stdout and, unless --dry-run, into BENCHMARKS.md's `n8n` and `n8n-queue`
// sections, each as soon as its mode has run. --env passes settings to n8n (every process of the
// cluster in queue mode) for experiments (e.g. N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true; the report
// lists them). --cpu-prof runs the single-mode n8n under V8's CPU profiler
// (bench/cpuProfilePreload.cjs; the profiles stay in a temp folder, open them in Chrome DevTools;
// implies --dry-run).
//
// This file is the command line and the order of things; the targets are in n8nBenchTargets.ts,
// measuring one in n8nBenchMeasure.ts, the refused requests in n8nBenchRefused.ts, the report in
// n8nBenchReport.ts, queue mode in n8nQueueBench.ts and n8nQueueBenchReport.ts.
import { mkdtempSync } from 'fs';
import { rm } from 'fs/promises';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { parseArgs } from 'util';

import { packRepository } from '../dev/n8n/communityPackage';
import type { N8nInstance } from '../dev/n8n/n8nInstance';
import { startN8n } from '../dev/n8n/n8nInstance';
import type { N8nQueueCluster } from '../dev/n8n/n8nQueueCluster';
import {
	postgresUnavailableReason,
	startPostgres,
	type PostgresServer,
} from '../dev/n8n/postgresServer';
import { ProcessGroupMonitor } from '../dev/n8n/processGroupUsage';
import { redisUnavailableReason } from '../dev/n8n/redisServer';
import { n8nRuntimes, type N8nVersion } from '../dev/n8n/runtimes';
import { sleep } from '../dev/n8n/wait';
import { startTruvStandIn, type TruvStandIn } from '../dev/truv-stand-in/truvStandIn';
import { writeBenchmarkSection } from './benchmarksFile';
import {
	log,
	measureInRounds,
	nodeVersionOf,
	type MeasureSettings,
	type MeasuringRig,
} from './n8nBenchMeasure';
import { measureRefused } from './n8nBenchRefused';
import { report, type VersionResult } from './n8nBenchReport';
import {
	deliveryFactory,
	expectNodeTypes,
	setUpTargets,
	TARGET_KEYS,
	TARGET_LABELS,
	type TargetKey,
} from './n8nBenchTargets';
import { benchQueueVersion, type QueueSettings } from './n8nQueueBench';
import { queueReport, type QueueVersionResult } from './n8nQueueBenchReport';

const repositoryRoot = join(__dirname, '..');
const benchPackageDir = join(__dirname, 'packages', 'n8n-nodes-truv-bench');
/** The n8n versions measured without --n8n (--n8n takes any runtime in dev/n8n/runtimes). */
const DEFAULT_VERSIONS = ['2.41.1', '2.8.4'];
type Mode = 'single' | 'queue';
const MODES: Mode[] = ['single', 'queue'];

interface Settings extends MeasureSettings {
	versions: N8nVersion[];
	modes: Mode[];
	/** Single mode's targets; queue mode always loads 1 and 2. */
	targets: TargetKey[];
	queue: QueueSettings;
	dryRun: boolean;
	cpuProfDir?: string;
	/** Extra environment for n8n (--env). */
	env: Record<string, string>;
	/** Refused requests of each kind to target 2 after the load (--refused), or about a minute's. */
	refused: number | 'auto';
}

function parseSettings(): Settings {
	const { values } = parseArgs({
		options: {
			n8n: { type: 'string', multiple: true },
			duration: { type: 'string', default: '20' },
			warmup: { type: 'string', default: '5' },
			rounds: { type: 'string', default: '5' },
			connections: { type: 'string', default: '10' },
			targets: { type: 'string', default: TARGET_KEYS.join(',') },
			refused: { type: 'string', default: 'auto' },
			modes: { type: 'string', default: MODES.join(',') },
			'queue-workers': { type: 'string', default: '1,2' },
			// Short, so that queue mode adds about 5 minutes per version: its cluster alone takes
			// 1.5 minutes to start on two cores, and drains and warm-ups double each slice.
			'queue-duration': { type: 'string', default: '12' },
			'queue-rounds': { type: 'string', default: '3' },
			'dry-run': { type: 'boolean', default: false },
			'cpu-prof': { type: 'boolean', default: false },
			env: { type: 'string', multiple: true, default: [] },
			'ignore-others': { type: 'boolean', default: false },
		},
	});
	const env: Record<string, string> = {};
	for (const assignment of values.env) {
		const at = assignment.indexOf('=');
		if (at < 1) throw new Error(`--env takes NAME=VALUE, not ${assignment}`);
		env[assignment.slice(0, at)] = assignment.slice(at + 1);
	}
	const known = Object.keys(n8nRuntimes) as N8nVersion[];
	const versions = (values.n8n ?? DEFAULT_VERSIONS) as N8nVersion[];
	for (const version of versions) {
		if (!known.includes(version)) throw new Error(`--n8n must be one of ${known.join(', ')}`);
	}
	const list = (text: string): string[] => text.split(',').map((item) => item.trim());
	const targets = list(values.targets) as TargetKey[];
	for (const key of targets) {
		if (!TARGET_KEYS.includes(key)) throw new Error(`--targets takes ${TARGET_KEYS.join(',')}`);
	}
	const modes = list(values.modes) as Mode[];
	for (const mode of modes) {
		if (!MODES.includes(mode)) throw new Error(`--modes takes ${MODES.join(',')}`);
	}
	const positive = (name: string, text: string): number => {
		const value = Number(text);
		if (!(value > 0)) throw new Error(`--${name} must be a positive number`);
		return value;
	};
	const workers = list(values['queue-workers']).map((count) => {
		const value = Number(count);
		if (!Number.isInteger(value) || value < 1) {
			throw new Error('--queue-workers takes worker counts, e.g. 1,2');
		}
		return value;
	});
	const refused = values.refused === 'auto' ? 'auto' : Number(values.refused);
	if (refused !== 'auto' && !(Number.isInteger(refused) && refused >= 0)) {
		throw new Error('--refused takes auto or a number of requests of each kind (0 skips them)');
	}
	const cpuProf = values['cpu-prof'];
	const shared = {
		connections: Math.round(positive('connections', values.connections)),
		warmupS: positive('warmup', values.warmup),
		env,
		ignoreOthers: values['ignore-others'],
	};
	return {
		...shared,
		versions,
		modes: MODES.filter((mode) => modes.includes(mode)),
		targets: TARGET_KEYS.filter((key) => targets.includes(key)),
		durationS: positive('duration', values.duration),
		rounds: Math.round(positive('rounds', values.rounds)),
		refused,
		queue: {
			...shared,
			workers: [...new Set(workers)].sort((a, b) => a - b),
			durationS: positive('queue-duration', values['queue-duration']),
			rounds: Math.round(positive('queue-rounds', values['queue-rounds'])),
		},
		dryRun: values['dry-run'] || cpuProf,
		cpuProfDir: cpuProf ? mkdtempSync(join(tmpdir(), 'n8n-bench-cpu-prof-')) : undefined,
	};
}

async function benchVersion(
	version: N8nVersion,
	settings: Settings,
	tarballs: string[],
	standIn: TruvStandIn,
	signal: AbortSignal,
	othersSeen: Set<number>,
	track: { userFolder(folder: string): void; started(n8n: N8nInstance): void },
): Promise<VersionResult> {
	log(`n8n ${version}: starting (provisioning it first if needed)`);
	const env: Record<string, string> = { NODE_FUNCTION_ALLOW_BUILTIN: 'crypto', ...settings.env };
	if (settings.cpuProfDir) {
		env.NODE_OPTIONS = `--require "${join(__dirname, 'cpuProfilePreload.cjs')}"`;
		env.BENCH_CPU_PROF_DIR = join(settings.cpuProfDir, version);
	}
	// A folder of our own, so that an interrupted start leaves nothing behind either.
	const userFolder = mkdtempSync(join(tmpdir(), 'n8n-bench-'));
	track.userFolder(userFolder);
	const n8n = await startN8n({ version, tarballs, env, userFolder });
	track.started(n8n);
	const monitor = new ProcessGroupMonitor(n8n.pid!);
	try {
		monitor.start();
		await expectNodeTypes(n8n);
		const secret = standIn.account.secrets.sandbox!;
		const nextDelivery = deliveryFactory(secret);
		const targets = await setUpTargets(n8n, standIn, secret, settings.targets, nextDelivery);
		for (const target of targets) {
			await target.verify();
			log(`  ${target.key}: verified (${TARGET_LABELS[target.key].replace(/\*/g, '')})`);
		}
		await sleep(3_000);
		const idleRssBytes = monitor.sample().rssBytes;
		const rig: MeasuringRig = {
			n8n,
			ownGroups: () => [n8n.pid ?? -1],
			monitor,
			settings,
			nextDelivery,
			signal,
			othersSeen,
		};
		const results = await measureInRounds(rig, targets);
		const truv = targets.find((target) => target.key === '2');
		const sendRefused = settings.refused !== 0;
		if (sendRefused && !truv) log('  refused requests skipped: they go to target 2');
		const refused =
			sendRefused && truv
				? await measureRefused(rig, truv, {
						refused: settings.refused,
						connections: settings.connections,
					})
				: undefined;
		return {
			version,
			nodeVersion: nodeVersionOf(n8n.runtime.nodeBin),
			readyAfterMs: n8n.readyAfterMs,
			idleRssBytes,
			results,
			refused,
		};
	} finally {
		monitor.stop();
		log(`n8n ${version}: stopping`);
		await n8n.stop();
		await rm(n8n.userFolder, { recursive: true, force: true });
	}
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
	const settings = parseSettings();
	const aborter = new AbortController();
	const started: N8nInstance[] = [];
	const clusters: N8nQueueCluster[] = [];
	let postgres: PostgresServer | undefined;
	let standIn: TruvStandIn | undefined;
	const tarballs: string[] = [];
	let stopping: Promise<void> | undefined;

	const userFolders: string[] = [];
	const cleanUp = async (): Promise<void> => {
		stopping ??= (async () => {
			for (const n8n of started) await n8n.stop().catch(async () => await n8n.kill());
			for (const cluster of clusters) await cluster.stop().catch(() => undefined);
			await postgres?.stop().catch(() => undefined);
			for (const folder of userFolders) await rm(folder, { recursive: true, force: true });
			await standIn?.close().catch(() => undefined);
			for (const tarball of tarballs) await rm(dirname(tarball), { recursive: true, force: true });
		})();
		await stopping;
	};
	let interruptedAt = 0;
	for (const signal of ['SIGINT', 'SIGTERM'] as const) {
		process.on(signal, () => {
			// Ctrl-C reaches this process twice (directly, and relayed by tsx): only a later one counts.
			if (interruptedAt && Date.now() - interruptedAt > 2_000) {
				log(`${signal} again: killing n8n`);
				// The harness's exit hooks SIGKILL every process group it started and quit PostgreSQL.
				process.exit(130);
			}
			if (interruptedAt) return;
			interruptedAt = Date.now();
			log(`${signal}: stopping the load and n8n (once more to kill)`);
			aborter.abort(new Error(`interrupted by ${signal}`));
			void cleanUp().finally(() => process.exit(130));
		});
	}

	try {
		// Before minutes of single mode, not after them.
		if (settings.modes.includes('queue')) {
			const missing = postgresUnavailableReason() ?? redisUnavailableReason();
			if (missing) {
				throw new Error(
					`queue mode needs PostgreSQL and Redis (--modes single skips it): ${missing}`,
				);
			}
		}
		log('building and packing n8n-nodes-truv and the bench package');
		tarballs.push(await packRepository(repositoryRoot));
		tarballs.push(await packRepository(benchPackageDir));
		standIn = await startTruvStandIn();
		if (settings.modes.includes('single')) {
			const versions: VersionResult[] = [];
			const othersSeen = new Set<number>();
			for (const version of settings.versions) {
				versions.push(
					await benchVersion(version, settings, tarballs, standIn, aborter.signal, othersSeen, {
						userFolder: (folder) => userFolders.push(folder),
						started: (n8n) => started.push(n8n),
					}),
				);
			}
			const text = report(versions, settings, [...othersSeen]);
			process.stdout.write(`\n${text}\n`);
			if (settings.cpuProfDir)
				log(`CPU profiles (.cpuprofile, open in Chrome DevTools): ${settings.cpuProfDir}`);
			if (!settings.dryRun) {
				writeBenchmarkSection('n8n', text);
				log('BENCHMARKS.md: n8n section rewritten');
			}
		}
		if (settings.modes.includes('queue')) {
			log('starting PostgreSQL for queue mode');
			postgres = await startPostgres();
			const versions: QueueVersionResult[] = [];
			const othersSeen = new Set<number>();
			for (const version of settings.versions) {
				versions.push(
					await benchQueueVersion(
						version,
						settings.queue,
						tarballs,
						standIn,
						postgres,
						aborter.signal,
						othersSeen,
						{ started: (cluster) => clusters.push(cluster) },
					),
				);
			}
			const text = queueReport(versions, settings.queue, [...othersSeen]);
			process.stdout.write(`\n${text}\n`);
			if (!settings.dryRun) {
				writeBenchmarkSection('n8n-queue', text, 'npm run bench:n8n');
				log('BENCHMARKS.md: n8n-queue section rewritten');
			}
		}
	} finally {
		await cleanUp();
	}
}

main().catch((error: Error) => {
	process.stderr.write(`${error.stack ?? error.message}\n`);
	process.exit(1);
});
