// n8n's distributed engine ("queue mode") on loopback: a main process (editor, REST API,
// publishing), webhook processes behind a round-robin proxy that WEBHOOK_URL names, and workers
// that run executions from a Redis queue, all on one PostgreSQL database and one encryption key.
// The main process is startN8n's; the others are n8nProcess's with their own user folders, as
// separate machines would have. The community package is installed the way n8n documents for
// queue mode: through the Community Nodes installer on main, which tells every other process (over
// Redis) to install the same version into its own folder.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { communityNodesFolder } from './communityPackage';
import { request, type HttpRequestOptions, type HttpResponse } from './http';
import { createN8nProcess, tailOf } from './n8nProcess';
import {
	installThroughN8n,
	startN8n,
	writeNpmProjectConfig,
	type CommunityPackage,
	type N8nInstance,
} from './n8nInstance';
import {
	startPackageRegistry,
	type PackageRegistry,
	type PublishedPackage,
} from './packageRegistry';
import { getFreePorts } from './ports';
import type { PostgresServer } from './postgresServer';
import { startRedis, type RedisServer } from './redisServer';
import { startRoundRobinProxy, type RoundRobinProxy } from './roundRobinProxy';
import { n8nRuntimeSpec, provisionN8n, type N8nVersion } from './runtimes';
import { waitFor, type WaitOptions } from './wait';

export interface StartQueueClusterOptions {
	version: N8nVersion;
	/** Packed community packages, installed through main's Community Nodes installer. */
	tarballs: string[];
	/** The cluster's one database is a new database of this server. */
	postgres: PostgresServer;
	/** How many `n8n webhook` processes stand behind the proxy (2 when omitted). */
	webhookProcesses?: number;
	/** How many `n8n worker` processes take executions from the queue (2 when omitted). */
	workers?: number;
	/** Each worker's `--concurrency` (n8n's default, 10, when omitted). */
	workerConcurrency?: number;
	/** Extra environment for every process; overrides the cluster's own settings. */
	env?: Record<string, string>;
}

/** A webhook process or worker of the cluster. */
export interface QueueModeProcess {
	role: 'webhook' | 'worker';
	/** `webhook-1`, `worker-2`, ... */
	name: string;
	/** The webhook server's port, or the worker's health-check port. */
	port: number;
	/** `http://127.0.0.1:<port>` */
	baseUrl: string;
	userFolder: string;
	/** The process's own output, appended across restarts. */
	logFile: string;
	readonly pid: number | undefined;
	isRunning(): boolean;
	/** The whole log, across restarts. */
	log(): string;
	logTail(lines?: number): string;
	/** The version of `packageName` in this process's own Community Nodes folder, if any. */
	installedVersion(packageName: string): string | undefined;
	/** Starts the process (again) and resolves once it answers its readiness check. */
	start(): Promise<void>;
	/** SIGTERM (a worker finishes its running executions first), SIGKILL after a minute. */
	stop(): Promise<void>;
	/** SIGKILL to its process group, as a crash or an OOM kill would. */
	kill(): Promise<void>;
	restart(): Promise<void>;
}

export interface N8nQueueCluster {
	version: N8nVersion;
	/** The main process: REST API, editor, publishing; production webhooks disabled. */
	main: N8nInstance;
	webhookProcesses: QueueModeProcess[];
	workers: QueueModeProcess[];
	/** The load balancer WEBHOOK_URL names, in front of the webhook processes in order. */
	proxy: RoundRobinProxy;
	redis: RedisServer;
	/** The PostgreSQL database every process uses. */
	database: string;
	/** The packages as main's Community Nodes page lists them after the install. */
	installedPackages: CommunityPackage[];
	/** The production URL through the proxy: `<proxy>/webhook/<webhookId>/<path>`. */
	webhookUrl(webhookIdAndPath: string): string;
	/** Calls a production webhook through the proxy; never throws for an HTTP error status. */
	callWebhook(webhookIdAndPath: string, options?: HttpRequestOptions): Promise<HttpResponse>;
	/** Resolves once every running webhook process serves the production webhook. */
	waitForWebhook(webhookIdAndPath: string, options?: WaitOptions): Promise<void>;
	/** The ids of the executions each worker started, from its log, by worker name. */
	executionsByWorker(): Map<string, string[]>;
	/** Stops every process (workers and webhook processes first), then starts them all again. */
	restartAll(): Promise<void>;
	/** Stops every process and server the cluster started; the database stays on `postgres`. */
	stop(): Promise<void>;
}

/** The line n8n's job processor logs on a worker as it takes an execution (2.8 and 2.41). */
const WORKER_STARTED_EXECUTION = /Worker started execution (\d+)/g;

function installedVersionIn(userFolder: string, packageName: string): string | undefined {
	const manifest = join(
		communityNodesFolder(userFolder),
		'node_modules',
		packageName,
		'package.json',
	);
	if (!existsSync(manifest)) return undefined;
	return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version;
}

/**
 * Starts a queue-mode cluster of n8n `version` and installs the packages through main's installer;
 * resolves once every process has the packages in its own folder. Always `stop()` it.
 */
export async function startQueueCluster(
	options: StartQueueClusterOptions,
): Promise<N8nQueueCluster> {
	const runtime = await provisionN8n(options.version);
	const spec = n8nRuntimeSpec(options.version);
	const webhookCount = options.webhookProcesses ?? 2;
	const workerCount = options.workers ?? 2;
	const cleanups: Array<() => Promise<void>> = [];
	const cleanUp = async (): Promise<void> => {
		for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
	};

	try {
		const redis = await startRedis();
		cleanups.push(async () => await redis.stop());
		const registry: PackageRegistry = await startPackageRegistry();
		cleanups.push(async () => await registry.stop());
		const published: PublishedPackage[] = [];
		for (const tarball of options.tarballs) published.push(await registry.publish(tarball));

		const ports = await getFreePorts(2 * (webhookCount + workerCount));
		const webhookPorts = ports.slice(0, webhookCount);
		const workerPorts = ports.slice(webhookCount, webhookCount + workerCount);
		const brokerPorts = ports.slice(webhookCount + workerCount);
		const proxy = await startRoundRobinProxy(
			webhookPorts.map((port) => `http://127.0.0.1:${port}`),
		);
		cleanups.push(async () => await proxy.close());

		// What every process shares: one queue, one key for the credentials, one public webhook URL.
		const sharedEnv: Record<string, string> = {
			EXECUTIONS_MODE: 'queue',
			N8N_ENCRYPTION_KEY: randomBytes(24).toString('hex'),
			...redis.n8nEnvironment(),
			[spec.webhookUrlVariable]: `${proxy.url}/`,
			...options.env,
		};
		const main = await startN8n({
			version: options.version,
			tarballs: [],
			registry,
			postgres: options.postgres,
			// Production webhooks go to the webhook processes only, as n8n recommends.
			env: { ...sharedEnv, N8N_DISABLE_PRODUCTION_MAIN_PROCESS: 'true' },
		});
		cleanups.push(async () => await rm(main.userFolder, { recursive: true, force: true }));
		cleanups.push(async () => await main.stop());
		const processEnv: Record<string, string> = {
			...registry.n8nEnvironment(),
			...options.postgres.n8nEnvironment(main.database),
			...sharedEnv,
		};

		const createProcess = async (
			role: 'webhook' | 'worker',
			index: number,
		): Promise<QueueModeProcess> => {
			const name = `${role}-${index + 1}`;
			const port = role === 'webhook' ? webhookPorts[index] : workerPorts[index];
			const userFolder = await mkdtemp(join(tmpdir(), `n8n-e2e-${name}-`));
			cleanups.push(async () => await rm(userFolder, { recursive: true, force: true }));
			const env: Record<string, string> =
				role === 'worker'
					? {
							...processEnv,
							// The worker's only server: its health check, which readiness polls.
							QUEUE_HEALTH_CHECK_ACTIVE: 'true',
							QUEUE_HEALTH_CHECK_PORT: String(port),
							N8N_WORKER_SERVER_ADDRESS: '127.0.0.1',
						}
					: processEnv;
			await writeNpmProjectConfig(userFolder, env);
			const logFile = join(userFolder, 'n8n.log');
			const n8nProcess = createN8nProcess({
				runtime,
				userFolder,
				port,
				brokerPort: brokerPorts[role === 'webhook' ? index : webhookCount + index],
				logFile,
				env,
				command: role,
				args:
					role === 'worker' && options.workerConcurrency !== undefined
						? [`--concurrency=${options.workerConcurrency}`]
						: [],
			});
			cleanups.push(async () => await n8nProcess.stop('SIGKILL', 0));
			const start = async (): Promise<void> => {
				await n8nProcess.start(180_000);
			};
			const stop = async (): Promise<void> => await n8nProcess.stop('SIGTERM', 60_000);
			return {
				role,
				name,
				port,
				baseUrl: `http://127.0.0.1:${port}`,
				userFolder,
				logFile,
				get pid() {
					return n8nProcess.pid;
				},
				isRunning: () => n8nProcess.isRunning(),
				log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
				logTail: (lines = 60) => tailOf(logFile, lines),
				installedVersion: (packageName) => installedVersionIn(userFolder, packageName),
				start,
				stop,
				kill: async () => await n8nProcess.stop('SIGKILL', 0),
				async restart() {
					await stop();
					await start();
				},
			};
		};

		const webhookProcesses: QueueModeProcess[] = [];
		for (let index = 0; index < webhookCount; index++) {
			webhookProcesses.push(await createProcess('webhook', index));
		}
		const workers: QueueModeProcess[] = [];
		for (let index = 0; index < workerCount; index++) {
			workers.push(await createProcess('worker', index));
		}
		const others = [...webhookProcesses, ...workers];
		// Before the install: n8n tells the processes that are running, it does not catch up later.
		await Promise.all(others.map(async (each) => await each.start()));

		const installedPackages = await installThroughN8n(main, published);
		for (const { name, version } of published) {
			await waitFor(
				() => {
					const missing = others.filter((each) => each.installedVersion(name) !== version);
					if (missing.length > 0) {
						throw new Error(`not yet on ${missing.map((each) => each.name).join(', ')}`);
					}
					return true;
				},
				{ timeoutMs: 180_000, description: `n8n to install ${name}@${version} on every process` },
			);
		}

		const webhookUrl = (webhookIdAndPath: string): string =>
			`${proxy.url}/webhook/${webhookIdAndPath.replace(/^\/+/, '')}`;
		const stopOthers = async (): Promise<void> => {
			await Promise.all(others.map(async (each) => await each.stop()));
		};
		let stopping: Promise<void> | undefined;
		return {
			version: options.version,
			main,
			webhookProcesses,
			workers,
			proxy,
			redis,
			database: main.database,
			installedPackages,
			webhookUrl,
			callWebhook: async (webhookIdAndPath, requestOptions = {}) =>
				await request(webhookUrl(webhookIdAndPath), { method: 'POST', ...requestOptions }),
			async waitForWebhook(webhookIdAndPath, waitOptions = {}) {
				for (const each of webhookProcesses.filter((process) => process.isRunning())) {
					const url = `${each.baseUrl}/webhook/${webhookIdAndPath.replace(/^\/+/, '')}`;
					// A CORS preflight looks the webhook up without running its workflow.
					await waitFor(
						async () => {
							const answer = await request(url, {
								method: 'OPTIONS',
								headers: { origin: each.baseUrl, 'access-control-request-method': 'POST' },
							});
							if (answer.status !== 204) throw new Error(`preflight answered ${answer.status}`);
							return true;
						},
						{ description: `webhook POST ${url}`, ...waitOptions },
					);
				}
			},
			executionsByWorker: () =>
				new Map(
					workers.map((worker) => [
						worker.name,
						[...worker.log().matchAll(WORKER_STARTED_EXECUTION)].map((match) => match[1]),
					]),
				),
			async restartAll() {
				await stopOthers();
				await main.restart();
				await Promise.all(others.map(async (each) => await each.start()));
			},
			stop: async () =>
				await (stopping ??= (async () => {
					await stopOthers();
					await cleanUp();
				})()),
		};
	} catch (error) {
		await cleanUp();
		throw error;
	}
}
