// A real n8n (a pinned runtime from ./runtimes) on loopback, on SQLite or PostgreSQL, with community
// packages installed the way admins install them: published to a registry that stands in for npmjs.org
// and installed through the same REST call as Settings → Community Nodes → Install.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { communityNodesFolder } from './communityPackage';
import { request, type HttpRequestOptions, type HttpResponse } from './http';
import { createN8nClient, type CommunityPackage, type N8nClient } from './n8nClient';
import { createN8nProcess, tailOf } from './n8nProcess';
import {
	npmProjectConfig,
	startPackageRegistry,
	type PackageRegistry,
	type PublishedPackage,
} from './packageRegistry';
import { getFreePorts } from './ports';
import type { PostgresServer } from './postgresServer';
import { provisionN8n, type N8nRuntime, type AnyN8nVersion } from './runtimes';
import { waitFor, type WaitOptions } from './wait';

export type {
	CommunityPackage,
	CreatedCredential,
	CredentialTestResult,
	Execution,
	ExecutionData,
	ExecutionQuery,
	ExecutionStatus,
	Owner,
	Workflow,
	WorkflowJson,
} from './n8nClient';

export interface StartN8nOptions {
	version: AnyN8nVersion;
	/** Reused as is when given (a previous instance's data survives); a new temp folder otherwise. */
	userFolder?: string;
	/**
	 * Packed community packages (`npm pack` tarballs): published to the registry and installed
	 * through n8n's installer once n8n is up (updated when the user folder has them installed).
	 */
	tarballs: string[];
	/** The registry n8n installs from; a new one, stopped with n8n, when omitted. */
	registry?: PackageRegistry;
	/** Runs n8n on a new database of this server; on SQLite in the user folder when omitted. */
	postgres?: PostgresServer;
	/** Extra environment for n8n; overrides the harness's own settings. */
	env?: Record<string, string>;
	/** n8n's HTTP port; a free one when omitted. */
	port?: number;
	/** How long n8n may take to answer its readiness check. */
	startTimeoutMs?: number;
}

export interface N8nInstance extends N8nClient {
	version: AnyN8nVersion;
	runtime: N8nRuntime;
	userFolder: string;
	port: number;
	/** `http://127.0.0.1:<port>` */
	baseUrl: string;
	/** n8n's own output, appended across restarts. */
	logFile: string;
	/** `sqlite`, or the PostgreSQL database's name. */
	database: string;
	registry: PackageRegistry;
	/** The packages n8n's installer installed at start, as the Community Nodes page lists them. */
	installedPackages: CommunityPackage[];
	/** Milliseconds from spawning n8n to its REST API answering, for the last start. */
	readyAfterMs: number;
	/** The production URL of a webhook: `<baseUrl>/webhook/<webhookId>/<path>`. */
	webhookUrl(webhookIdAndPath: string): string;
	/** Calls a production webhook; never throws for an HTTP error status. */
	callWebhook(webhookIdAndPath: string, options?: HttpRequestOptions): Promise<HttpResponse>;
	/** Resolves once n8n serves the production webhook (active workflows register after start). */
	waitForWebhook(
		webhookIdAndPath: string,
		options?: WaitOptions & { method?: string },
	): Promise<void>;
	/** The last lines of n8n's log. */
	logTail(lines?: number): string;
	/** Whether n8n's main process is running. */
	isRunning(): boolean;
	/** n8n's main process id, which is also its process group id (undefined when stopped). */
	readonly pid: number | undefined;
	/** Graceful stop (SIGTERM to n8n's process group); waits until every process has exited. */
	stop(): Promise<void>;
	/** SIGKILL to n8n's process group, as a crash or an OOM kill would. */
	kill(): Promise<void>;
	/**
	 * Stops and starts again with the same user folder, database and ports; `whileStopped` runs
	 * in between, for what happens elsewhere while n8n is down (Truv disabling a webhook, say).
	 */
	restart(options?: { whileStopped?: () => Promise<void> | void }): Promise<void>;
}

/**
 * Installs each published package through n8n's installer (or updates an installed one) and returns the packages as n8n then lists them; fails when n8n did not load one.
 */
export async function installThroughN8n(
	client: N8nClient,
	packages: PublishedPackage[],
): Promise<CommunityPackage[]> {
	const installed: CommunityPackage[] = [];
	for (const { name, version } of packages) {
		const present = (await client.communityPackages()).find((each) => each.packageName === name);
		// An installed package is updated even to the same version: a kept user folder (npm start
		// --keep) must run the build just published, not the one installed last time.
		if (present === undefined) await client.installCommunityPackage(name, version);
		else await client.updateCommunityPackage(name, version);
		const listed = (await client.communityPackages()).find((each) => each.packageName === name);
		if (listed?.installedVersion !== version || listed.failedLoading) {
			throw new Error(`n8n lists ${name} as ${JSON.stringify(listed)} after installing ${version}`);
		}
		installed.push(listed);
	}
	return installed;
}

/**
 * The `.npmrc` of the folder n8n's installer runs npm in, from n8n's environment (see
 * npmProjectConfig), so that every n8n process of a user folder installs from the harness's registry.
 */
export async function writeNpmProjectConfig(
	userFolder: string,
	env: Record<string, string>,
): Promise<void> {
	const nodesFolder = communityNodesFolder(userFolder);
	await mkdir(nodesFolder, { recursive: true });
	await writeFile(join(nodesFolder, '.npmrc'), npmProjectConfig(env));
}

/**
 * Starts n8n `version` with the given community packages installed through its Community Nodes
 * installer and an owner and API key set up. Always `stop()` (or `kill()`) it, e.g. in `afterAll`.
 */
export async function startN8n(options: StartN8nOptions): Promise<N8nInstance> {
	const runtime = await provisionN8n(options.version);
	const userFolder = options.userFolder ?? (await mkdtemp(join(tmpdir(), 'n8n-e2e-')));
	await mkdir(userFolder, { recursive: true });
	const ownsRegistry = options.registry === undefined;
	const registry = options.registry ?? (await startPackageRegistry());
	const stopOwnedServers = async (): Promise<void> => {
		if (ownsRegistry) await registry.stop();
	};

	let published: PublishedPackage[];
	let databaseEnvironment: Record<string, string> = {};
	let database = 'sqlite';
	try {
		published = [];
		for (const tarball of options.tarballs) published.push(await registry.publish(tarball));
		if (options.postgres) {
			database = await options.postgres.createDatabase();
			databaseEnvironment = options.postgres.n8nEnvironment(database);
		}
	} catch (error) {
		await stopOwnedServers();
		throw error;
	}

	const [freePort, brokerPort] = await getFreePorts(2);
	const port = options.port ?? freePort;
	const baseUrl = `http://127.0.0.1:${port}`;
	const logFile = join(userFolder, 'n8n.log');
	const startTimeoutMs = options.startTimeoutMs ?? 180_000;
	const env = { ...registry.n8nEnvironment(), ...databaseEnvironment, ...options.env };
	// Written on every start: a kept user folder still names the last run's proxy and CA.
	try {
		await writeNpmProjectConfig(userFolder, env);
	} catch (error) {
		await stopOwnedServers();
		throw error;
	}
	const n8nProcess = createN8nProcess({ runtime, userFolder, port, brokerPort, logFile, env });
	const client = createN8nClient(runtime.version, baseUrl, userFolder);
	let readyAfterMs = 0;

	const start = async (): Promise<void> => {
		readyAfterMs = await n8nProcess.start(startTimeoutMs);
		try {
			await client.signIn();
		} catch (error) {
			await n8nProcess.stop('SIGKILL', 0);
			throw error;
		}
	};

	let installedPackages: CommunityPackage[];
	try {
		await start();
		installedPackages = await installThroughN8n(client, published).catch((error: Error) => {
			throw n8nProcess.failWithLog(`installing through n8n failed: ${error.message}`);
		});
	} catch (error) {
		await n8nProcess.stop('SIGKILL', 0);
		await stopOwnedServers();
		throw error;
	}

	// Start, stop and restart run one at a time even when callers overlap (e.g. a test that timed out
	// while restarting, followed by afterAll's stop()).
	let lifecycle: Promise<unknown> = Promise.resolve();
	const serialized = async (operation: () => Promise<void>): Promise<void> => {
		const next = lifecycle.then(operation, operation);
		lifecycle = next.catch(() => undefined);
		await next;
	};

	const webhookUrl = (webhookIdAndPath: string): string =>
		`${baseUrl}/webhook/${webhookIdAndPath.replace(/^\/+/, '')}`;

	return {
		...client,
		get owner() {
			return client.owner;
		},
		get apiKey() {
			return client.apiKey;
		},
		version: runtime.version,
		runtime,
		userFolder,
		port,
		baseUrl,
		logFile,
		database,
		registry,
		installedPackages,
		get readyAfterMs() {
			return readyAfterMs;
		},
		webhookUrl,
		callWebhook: async (webhookIdAndPath, requestOptions = {}) =>
			await request(webhookUrl(webhookIdAndPath), { method: 'POST', ...requestOptions }),
		async waitForWebhook(webhookIdAndPath, { method = 'POST', ...waitOptions } = {}) {
			const url = webhookUrl(webhookIdAndPath);
			// A CORS preflight looks the webhook up without running its workflow: 204 once it is
			// registered for `method`.
			await waitFor(
				async () => {
					const answer = await request(url, {
						method: 'OPTIONS',
						headers: { origin: baseUrl, 'access-control-request-method': method },
					});
					if (answer.status !== 204) throw new Error(`preflight answered ${answer.status}`);
					return true;
				},
				{ description: `webhook ${method} ${url}`, ...waitOptions },
			);
		},
		logTail: (lines = 60) => tailOf(logFile, lines),
		isRunning: () => n8nProcess.isRunning(),
		get pid() {
			return n8nProcess.pid;
		},
		stop: async () =>
			await serialized(async () => {
				await n8nProcess.stop('SIGTERM', 60_000);
				await stopOwnedServers();
			}),
		kill: async () => await serialized(async () => await n8nProcess.stop('SIGKILL', 0)),
		restart: async ({ whileStopped } = {}) =>
			await serialized(async () => {
				await n8nProcess.stop('SIGTERM', 60_000);
				await whileStopped?.();
				await start();
			}),
	};
}
