// Runs a real n8n (a pinned runtime from ./runtimes) on loopback with community packages
// installed the way n8n's Community Nodes installer installs them, and drives it through the same
// REST API the editor uses and the public API (`/api/v1`).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
	installCommunityPackage,
	recordInstalledPackage,
	type InstalledCommunityPackage,
	type InstalledNodeRecord,
} from './communityPackage';
import {
	n8nRuntimes,
	provisionN8n,
	type N8nRuntime,
	type N8nVersion,
} from './runtimes';
import { HttpError, request, type HttpRequestOptions, type HttpResponse } from './http';
import { getFreePorts } from './ports';
import { sleep, waitFor, type WaitOptions } from './wait';

export interface StartN8nOptions {
	version: N8nVersion;
	/** Reused as is when given (a previous instance's data survives); a new temp folder otherwise. */
	userFolder?: string;
	/** Packed community packages (`npm pack` tarballs) to install before n8n starts. */
	tarballs: string[];
	/** Extra environment for n8n; overrides the harness's own settings. */
	env?: Record<string, string>;
	/** n8n's HTTP port; a free one when omitted. */
	port?: number;
	/** How long n8n may take to answer its readiness check. */
	startTimeoutMs?: number;
}

export interface Owner {
	email: string;
	password: string;
	firstName: string;
	lastName: string;
}

export interface CreatedCredential {
	id: string;
	name: string;
	type: string;
	/** The data the credential was created with, as the editor's form would hold it. */
	data: Record<string, unknown>;
}

export interface CredentialTestResult {
	status: 'OK' | 'Error';
	message: string;
}

export interface WorkflowJson {
	name: string;
	nodes: Array<Record<string, unknown>>;
	connections: Record<string, unknown>;
	settings?: Record<string, unknown>;
	staticData?: unknown;
	[field: string]: unknown;
}

export interface Workflow extends WorkflowJson {
	id: string;
	active: boolean;
}

export type ExecutionStatus =
	| 'canceled'
	| 'crashed'
	| 'error'
	| 'new'
	| 'running'
	| 'success'
	| 'unknown'
	| 'waiting';

export interface Execution {
	id: string;
	workflowId: string;
	status: ExecutionStatus;
	mode: string;
	finished: boolean;
	startedAt: string;
	stoppedAt: string | null;
	/** Present with includeData; `resultData.runData[nodeName][run].data.main[output][item].json`. */
	data?: ExecutionData;
	[field: string]: unknown;
}

export interface ExecutionData {
	resultData: {
		runData: Record<string, Array<{ data?: { main?: Array<Array<{ json: unknown }> | null> } }>>;
		error?: { message: string; [field: string]: unknown };
		lastNodeExecuted?: string;
	};
	[field: string]: unknown;
}

export interface ExecutionQuery {
	workflowId?: string;
	includeData?: boolean;
	status?: 'canceled' | 'error' | 'running' | 'success' | 'waiting';
}

export interface N8nInstance {
	version: N8nVersion;
	runtime: N8nRuntime;
	userFolder: string;
	port: number;
	/** `http://127.0.0.1:<port>` */
	baseUrl: string;
	/** n8n's own output, appended across restarts. */
	logFile: string;
	owner: Owner;
	/** A key for the public API (`X-N8N-API-KEY`) with every scope the owner may grant. */
	apiKey: string;
	installedPackages: InstalledCommunityPackage[];
	/** Milliseconds from spawning n8n to its readiness check answering 200, for the last start. */
	readyAfterMs: number;
	/** The production URL of a webhook: `<baseUrl>/webhook/<webhookId>/<path>`. */
	webhookUrl(webhookIdAndPath: string): string;
	/** Calls a production webhook; never throws for an HTTP error status. */
	callWebhook(webhookIdAndPath: string, options?: HttpRequestOptions): Promise<HttpResponse>;
	/** The editor's REST API (`/rest`) as the owner; returns the `data` of the answer. */
	rest<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
	/** The public API (`/api/v1`) with the API key; returns the answer's JSON. */
	api<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
	createCredential(
		type: string,
		name: string,
		data: Record<string, unknown>,
	): Promise<CreatedCredential>;
	/** What the credential modal's Test button does; `data` defaults to the created data. */
	testCredential(
		credential: CreatedCredential,
		data?: Record<string, unknown>,
	): Promise<CredentialTestResult>;
	createWorkflow(workflow: WorkflowJson): Promise<Workflow>;
	getWorkflow(id: string): Promise<Workflow>;
	activateWorkflow(id: string): Promise<Workflow>;
	deactivateWorkflow(id: string): Promise<Workflow>;
	/** Resolves once n8n serves the production webhook (active workflows register after start). */
	waitForWebhook(
		webhookIdAndPath: string,
		options?: WaitOptions & { method?: string },
	): Promise<void>;
	/** Every node type n8n has loaded, with the type versions it knows of each. */
	nodeTypes(): Promise<Map<string, number[]>>;
	/** Every execution matching the query, newest first. */
	executions(query?: ExecutionQuery): Promise<Execution[]>;
	/** Resolves with the matching executions once at least `count` of them have finished. */
	waitForExecutions(query: ExecutionQuery & { count: number } & WaitOptions): Promise<Execution[]>;
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
	 * Stops and starts again with the same user folder, database and ports. With `tarballs`, installs
	 * those packages (replacing installed versions) while n8n is down, as an upgrade would.
	 */
	restart(options?: { tarballs?: string[] }): Promise<void>;
}

interface HarnessState {
	owner: Owner;
	apiKey?: string;
}

const stateFileName = 'n8n-harness.json';
const browserId = 'n8n-nodes-truv-e2e-harness';
const defaultOwner: Owner = {
	email: 'owner@n8n-nodes-truv.test',
	// n8n requires 8+ characters with a digit and an upper-case letter.
	password: 'Harness-Passw0rd',
	firstName: 'Harness',
	lastName: 'Owner',
};

/** Process groups of every n8n this process started and has not yet seen exit. */
const liveProcessGroups = new Set<number>();
let exitHookInstalled = false;

function killProcessGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
	try {
		process.kill(-pgid, signal);
		return true;
	} catch {
		return false;
	}
}

function processGroupExists(pgid: number): boolean {
	return killProcessGroup(pgid, 0);
}

/**
 * A test that fails or is interrupted must not leave n8n (2 GB of RAM with its task runner)
 * running: kill whatever is left when this process exits.
 */
function installExitHook(): void {
	if (exitHookInstalled) return;
	exitHookInstalled = true;
	const killAll = () => {
		for (const pgid of liveProcessGroups) killProcessGroup(pgid, 'SIGKILL');
		liveProcessGroups.clear();
	};
	process.on('exit', killAll);
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
		process.once(signal, () => {
			// Another listener (e.g. the dev server's graceful stop) owns this signal.
			if (process.listenerCount(signal) > 0) return;
			killAll();
			process.kill(process.pid, signal);
		});
	}
}

/**
 * Environment variables that would change how n8n runs if inherited from the caller. Jest sets
 * NODE_ENV=test, with which n8n silences its logger and refuses to load nodes.
 */
function isInheritedN8nSetting(name: string): boolean {
	return /^(N8N_|DB_|EXECUTIONS_|QUEUE_|JEST_|WEBHOOK_URL$|NODE_PATH$|NODE_OPTIONS$|NODE_ENV$|GENERIC_TIMEZONE$)/.test(
		name,
	);
}

function buildEnvironment(
	runtime: N8nRuntime,
	userFolder: string,
	port: number,
	brokerPort: number,
	extra: Record<string, string>,
): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [name, value] of Object.entries(runtime.env)) {
		if (!isInheritedN8nSetting(name)) env[name] = value;
	}
	Object.assign(env, {
		N8N_USER_FOLDER: userFolder,
		N8N_PORT: String(port),
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_HOST: '127.0.0.1',
		N8N_PROTOCOL: 'http',
		[n8nRuntimes[runtime.version].webhookUrlVariable]: `http://127.0.0.1:${port}/`,
		N8N_SECURE_COOKIE: 'false',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		DB_TYPE: 'sqlite',
		// The broker's default port (5679) may be taken by another n8n; n8n exits when it is.
		N8N_RUNNERS_BROKER_PORT: String(brokerPort),
		...(n8nRuntimes[runtime.version].disabledModules
			? { N8N_DISABLED_MODULES: n8nRuntimes[runtime.version].disabledModules }
			: {}),
		// n8n runs npm in .n8n/nodes (e.g. `npm outdated` when the editor lists community packages);
		// the packages under test are not in any registry, and tests stay on loopback.
		npm_config_offline: 'true',
		...extra,
	});
	// An empty N8N_CUSTOM_EXTENSIONS makes n8n scan its own node_modules and crash.
	if (!env.N8N_CUSTOM_EXTENSIONS) delete env.N8N_CUSTOM_EXTENSIONS;
	return env;
}

function tailOf(file: string, lines: number): string {
	if (!existsSync(file)) return '(no log)';
	return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

function readState(userFolder: string): HarnessState | undefined {
	const file = join(userFolder, stateFileName);
	return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as HarnessState) : undefined;
}

function writeState(userFolder: string, state: HarnessState): void {
	writeFileSync(join(userFolder, stateFileName), JSON.stringify(state, null, 2));
}

function highestVersion(identifiers: string[], type: string): number | undefined {
	const versions = identifiers
		.filter((identifier) => identifier.startsWith(`${type}@`))
		.map((identifier) => Number(identifier.slice(type.length + 1)));
	return versions.length ? Math.max(...versions) : undefined;
}

async function answers200(url: string): Promise<boolean> {
	const answer = await request(url, {
		timeoutMs: 5_000,
		headers: { 'browser-id': browserId },
	}).catch(() => undefined);
	return answer?.status === 200;
}

const finishedStatuses: ExecutionStatus[] = ['success', 'error', 'crashed', 'canceled'];

/** Keys the public API accepts when creating a workflow; it rejects any other. */
const workflowCreateKeys = ['name', 'nodes', 'connections', 'settings', 'staticData'];

/**
 * Starts n8n `version` with the given community packages installed into its user folder and an
 * owner and API key set up. Always `stop()` (or `kill()`) it, e.g. in `afterAll`.
 */
export async function startN8n(options: StartN8nOptions): Promise<N8nInstance> {
	const runtime = await provisionN8n(options.version);
	const userFolder = options.userFolder ?? (await mkdtemp(join(tmpdir(), 'n8n-e2e-')));
	await mkdir(userFolder, { recursive: true });
	const installedPackages: InstalledCommunityPackage[] = [];
	const installAll = async (tarballs: string[]): Promise<InstalledCommunityPackage[]> => {
		const installed: InstalledCommunityPackage[] = [];
		for (const tarball of tarballs) {
			const result = await installCommunityPackage(userFolder, tarball);
			const previous = installedPackages.findIndex(({ name }) => name === result.name);
			if (previous === -1) installedPackages.push(result);
			else installedPackages[previous] = result;
			installed.push(result);
		}
		return installed;
	};
	await installAll(options.tarballs);

	const [freePort, brokerPort] = await getFreePorts(2);
	const port = options.port ?? freePort;
	const baseUrl = `http://127.0.0.1:${port}`;
	const env = buildEnvironment(runtime, userFolder, port, brokerPort, options.env ?? {});
	const logFile = join(userFolder, 'n8n.log');
	const startTimeoutMs = options.startTimeoutMs ?? 180_000;
	const state: HarnessState = readState(userFolder) ?? { owner: defaultOwner };

	let child: ChildProcess | undefined;
	let exited: Promise<void> = Promise.resolve();
	let authCookie = '';
	let readyAfterMs = 0;

	const failWithLog = (message: string): Error =>
		new Error(`${message}\n--- last lines of ${logFile} ---\n${tailOf(logFile, 60)}`);

	const spawnN8n = (): void => {
		const log = openSync(logFile, 'a');
		writeFileSync(
			log,
			`\n=== harness: starting n8n ${runtime.version} at ${new Date().toISOString()}\n`,
		);
		// Its own process group, so that stop() and the exit hook reach the task runners too.
		const started = spawn(runtime.nodeBin, [runtime.n8nBin, 'start'], {
			cwd: userFolder,
			env,
			detached: true,
			stdio: ['ignore', log, log],
		});
		closeSync(log);
		// A test file that forgets stop() must not keep Jest alive; the exit hook kills n8n then.
		started.unref();
		const pgid = started.pid;
		if (pgid === undefined) throw failWithLog(`could not spawn n8n ${runtime.version}`);
		installExitHook();
		liveProcessGroups.add(pgid);
		exited = new Promise((resolve) => {
			started.once('exit', () => resolve());
			started.once('error', () => resolve());
		});
		child = started;
	};

	const isRunning = (): boolean =>
		child !== undefined && child.exitCode === null && child.signalCode === null;

	const waitUntilReady = async (): Promise<void> => {
		const started = Date.now();
		const deadline = started + startTimeoutMs;
		for (;;) {
			if (!isRunning()) {
				throw failWithLog(
					`n8n ${runtime.version} exited before it was ready (${child?.signalCode ?? `exit code ${child?.exitCode}`})`,
				);
			}
			if (await answers200(`${baseUrl}/healthz/readiness`)) {
				// Readiness reports the database; the REST routes are mounted a moment later.
				if (await answers200(`${baseUrl}/rest/settings`)) break;
			}
			if (Date.now() > deadline) {
				throw failWithLog(`n8n ${runtime.version} was not ready after ${startTimeoutMs} ms`);
			}
			await sleep(200);
		}
		readyAfterMs = Date.now() - started;
	};

	const terminate = async (signal: NodeJS.Signals, graceMs: number): Promise<void> => {
		const current = child;
		if (current?.pid === undefined) return;
		const pgid = current.pid;
		killProcessGroup(pgid, signal);
		// n8n gets graceMs to shut down (it waits for running executions) before it is killed.
		const escalation = setTimeout(() => killProcessGroup(pgid, 'SIGKILL'), graceMs);
		await exited;
		clearTimeout(escalation);
		// The task runner may outlive the main process by a moment; after that, it is killed.
		const runnerDeadline = Date.now() + Math.min(graceMs, 5_000);
		await waitFor(
			() => {
				if (!processGroupExists(pgid)) return true;
				if (Date.now() > runnerDeadline) killProcessGroup(pgid, 'SIGKILL');
				return undefined;
			},
			{ timeoutMs: 30_000, intervalMs: 100, description: `n8n process group ${pgid} to exit` },
		);
		liveProcessGroups.delete(pgid);
		child = undefined;
	};

	const restRaw = async (method: string, path: string, body?: unknown): Promise<HttpResponse> => {
		const url = `${baseUrl}/rest${path}`;
		const answer = await request(url, {
			method,
			body,
			// n8n binds the auth cookie to the browser id sent when it was issued.
			headers: { 'browser-id': browserId, ...(authCookie ? { cookie: authCookie } : {}) },
		});
		if (answer.status >= 400) throw new HttpError(method, url, answer);
		return answer;
	};

	const rest = async <T = unknown>(method: string, path: string, body?: unknown): Promise<T> => {
		const answer = await restRaw(method, path, body);
		return (answer.json as { data: T }).data;
	};

	const rememberCookie = (answer: HttpResponse): void => {
		const cookies = answer.headers['set-cookie'] ?? [];
		const auth = cookies.find((cookie) => cookie.startsWith('n8n-auth='));
		if (!auth) throw new Error(`n8n set no auth cookie: ${JSON.stringify(answer.headers)}`);
		authCookie = auth.split(';')[0];
	};

	const api = async <T = unknown>(method: string, path: string, body?: unknown): Promise<T> => {
		if (!state.apiKey) throw new Error('no API key yet');
		const url = `${baseUrl}/api/v1${path}`;
		const answer = await request(url, {
			method,
			body,
			headers: { 'x-n8n-api-key': state.apiKey },
		});
		if (answer.status >= 400) throw new HttpError(method, url, answer);
		return answer.json as T;
	};

	const signIn = async (): Promise<void> => {
		const settings = await request(`${baseUrl}/rest/settings`, {
			headers: { 'browser-id': browserId },
		});
		const showSetupOnFirstLoad = (
			settings.json as { data?: { userManagement?: { showSetupOnFirstLoad?: boolean } } }
		)?.data?.userManagement?.showSetupOnFirstLoad;
		if (showSetupOnFirstLoad) {
			rememberCookie(await restRaw('POST', '/owner/setup', state.owner));
		} else {
			rememberCookie(
				await restRaw('POST', '/login', {
					emailOrLdapLoginId: state.owner.email,
					password: state.owner.password,
				}),
			);
		}
		if (!state.apiKey) {
			// Without the API-key-scopes licence n8n grants every scope of the role whatever is asked;
			// asking for exactly those works with and without it.
			const scopes = await rest<string[]>('GET', '/api-keys/scopes');
			const created = await rest<{ rawApiKey: string }>('POST', '/api-keys', {
				label: 'e2e harness',
				expiresAt: null,
				scopes,
			});
			state.apiKey = created.rawApiKey;
		}
		writeState(userFolder, state);
	};

	/** `<type>@<version>` of every node type n8n loaded, from the file the editor reads. */
	const nodeVersionIdentifiers = async (): Promise<string[]> => {
		const headers = { 'browser-id': browserId, cookie: authCookie };
		const url = `${baseUrl}/types/node-versions.json`;
		const answer = await request(url, { headers });
		if (answer.status === 200) return answer.json as string[];
		// n8n 1.x has no node-versions.json: the full descriptions list the same.
		const fullUrl = `${baseUrl}/types/nodes.json`;
		const full = await request(fullUrl, { headers });
		if (full.status !== 200) throw new HttpError('GET', fullUrl, full);
		return (full.json as Array<{ name: string; version: number | number[] }>).flatMap(
			({ name, version }) =>
				(Array.isArray(version) ? version : [version]).map((each) => `${name}@${each}`),
		);
	};

	/**
	 * Writes the installed_packages rows n8n's installer would have written, from the node types
	 * n8n actually loaded, and fails when n8n did not load a package.
	 */
	const recordPackages = async (packages: InstalledCommunityPackage[]): Promise<void> => {
		for (const installed of packages) {
			const identifiers = await waitFor(
				async () => {
					const own = (await nodeVersionIdentifiers()).filter((identifier) =>
						identifier.startsWith(`${installed.name}.`),
					);
					return own.length ? own : undefined;
				},
				{ timeoutMs: 30_000, description: `node types of ${installed.name}` },
			).catch((error: Error) => {
				throw failWithLog(`n8n did not load community package ${installed.name}: ${error.message}`);
			});
			const types = [...new Set(identifiers.map((identifier) => identifier.split('@')[0]))];
			const descriptions = await rest<Array<{ displayName: string; name: string }>>(
				'POST',
				'/node-types',
				{
					nodeInfos: types.map((type) => ({
						name: type,
						version: highestVersion(identifiers, type),
					})),
				},
			);
			const nodes: InstalledNodeRecord[] = types.map((type, index) => ({
				name: descriptions[index]?.displayName ?? type,
				type,
				latestVersion: highestVersion(identifiers, type) ?? 1,
			}));
			await recordInstalledPackage(runtime, userFolder, installed, nodes);
		}
	};

	const start = async (): Promise<void> => {
		spawnN8n();
		try {
			await waitUntilReady();
			await signIn();
		} catch (error) {
			await terminate('SIGKILL', 0);
			throw error;
		}
	};

	await start();
	try {
		await recordPackages(installedPackages);
	} catch (error) {
		await terminate('SIGKILL', 0);
		throw error;
	}

	const listExecutions = async (query: ExecutionQuery = {}): Promise<Execution[]> => {
		const all: Execution[] = [];
		let cursor: string | undefined;
		do {
			const parameters = new URLSearchParams({ limit: '250' });
			if (query.workflowId) parameters.set('workflowId', query.workflowId);
			if (query.includeData) parameters.set('includeData', 'true');
			if (query.status) parameters.set('status', query.status);
			if (cursor) parameters.set('cursor', cursor);
			const page = await api<{ data: Execution[]; nextCursor: string | null }>(
				'GET',
				`/executions?${parameters.toString()}`,
			);
			all.push(...page.data);
			cursor = page.nextCursor ?? undefined;
		} while (cursor);
		return all;
	};

	const [publishRoute, unpublishRoute] = n8nRuntimes[runtime.version].publishRoutes;

	// Start, stop and restart run one at a time even when callers overlap (e.g. a test that timed out
	// while restarting, followed by afterAll's stop()).
	let lifecycle: Promise<unknown> = Promise.resolve();
	const serialized = async (operation: () => Promise<void>): Promise<void> => {
		const next = lifecycle.then(operation, operation);
		lifecycle = next.catch(() => undefined);
		await next;
	};

	const instance: N8nInstance = {
		version: runtime.version,
		runtime,
		userFolder,
		port,
		baseUrl,
		logFile,
		owner: state.owner,
		get apiKey() {
			return state.apiKey ?? '';
		},
		installedPackages,
		get readyAfterMs() {
			return readyAfterMs;
		},
		webhookUrl: (webhookIdAndPath) => `${baseUrl}/webhook/${webhookIdAndPath.replace(/^\/+/, '')}`,
		callWebhook: async (webhookIdAndPath, requestOptions = {}) =>
			await request(instance.webhookUrl(webhookIdAndPath), { method: 'POST', ...requestOptions }),
		rest,
		api,
		async createCredential(type, name, data) {
			const created = await rest<{ id: string; name: string; type: string }>(
				'POST',
				'/credentials',
				{ type, name, data },
			);
			return { id: created.id, name: created.name, type: created.type, data };
		},
		async testCredential(credential, data = credential.data) {
			return await rest<CredentialTestResult>('POST', '/credentials/test', {
				credentials: { id: credential.id, name: credential.name, type: credential.type, data },
			});
		},
		async createWorkflow(workflow) {
			const body: Record<string, unknown> = { settings: {} };
			for (const key of workflowCreateKeys) {
				if (workflow[key] !== undefined) body[key] = workflow[key];
			}
			return await api<Workflow>('POST', '/workflows', body);
		},
		getWorkflow: async (id) => await api<Workflow>('GET', `/workflows/${id}`),
		activateWorkflow: async (id) =>
			await api<Workflow>('POST', `/workflows/${id}/${publishRoute}`, {}),
		deactivateWorkflow: async (id) =>
			await api<Workflow>('POST', `/workflows/${id}/${unpublishRoute}`, {}),
		async waitForWebhook(webhookIdAndPath, { method = 'POST', ...waitOptions } = {}) {
			const url = instance.webhookUrl(webhookIdAndPath);
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
		async nodeTypes() {
			const known = new Map<string, number[]>();
			for (const identifier of await nodeVersionIdentifiers()) {
				const at = identifier.lastIndexOf('@');
				const type = identifier.slice(0, at);
				known.set(type, [...(known.get(type) ?? []), Number(identifier.slice(at + 1))]);
			}
			return known;
		},
		executions: listExecutions,
		async waitForExecutions({ count, timeoutMs, intervalMs, description, ...query }) {
			return await waitFor(
				async () => {
					const executions = await listExecutions(query);
					const finished = executions.filter((execution) =>
						finishedStatuses.includes(execution.status),
					);
					if (finished.length < count) {
						throw new Error(`${finished.length} finished of ${executions.length} so far`);
					}
					return finished;
				},
				{
					timeoutMs,
					intervalMs: intervalMs ?? 500,
					description: description ?? `${count} finished execution(s)`,
				},
			);
		},
		logTail: (lines = 60) => tailOf(logFile, lines),
		isRunning,
		get pid() {
			return child?.pid;
		},
		stop: async () => await serialized(async () => await terminate('SIGTERM', 60_000)),
		kill: async () => await serialized(async () => await terminate('SIGKILL', 0)),
		restart: async ({ tarballs = [] } = {}) =>
			await serialized(async () => {
				await terminate('SIGTERM', 60_000);
				const upgraded = await installAll(tarballs);
				await start();
				if (upgraded.length) await recordPackages(upgraded);
			}),
	};
	return instance;
}
