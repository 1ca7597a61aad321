// One n8n process (`n8n start`, and later `webhook`/`worker`) of a pinned runtime on loopback: its
// environment, its own process group, readiness, and a graceful or hard stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';

import { request } from './http';
import { terminateProcessGroup, trackProcessGroup } from './processGroups';
import { n8nRuntimeSpec, type N8nRuntime } from './runtimes';
import { sleep } from './wait';

/** n8n binds its auth cookie to this browser id; every harness request sends it. */
export const HARNESS_BROWSER_ID = 'n8n-nodes-truv-e2e-harness';

export interface N8nProcessOptions {
	runtime: N8nRuntime;
	userFolder: string;
	port: number;
	/** The task runners' broker port (n8n's default, 5679, may be taken by another n8n). */
	brokerPort: number;
	/** Appended to across restarts. */
	logFile: string;
	/** Overrides the harness's own settings (database, registry proxy, test-specific options). */
	env: Record<string, string>;
	command?: 'start' | 'webhook' | 'worker';
	/** Arguments after the command, e.g. `--concurrency=5` for a worker. */
	args?: string[];
}

export interface N8nProcess {
	readonly pid: number | undefined;
	isRunning(): boolean;
	/** Spawns n8n and resolves once its REST API answers; a failure quotes the log's tail. */
	start(timeoutMs: number): Promise<number>;
	/** SIGTERM (n8n waits for running executions), SIGKILL after `graceMs`; 0 kills at once. */
	stop(signal: NodeJS.Signals, graceMs: number): Promise<void>;
	failWithLog(message: string): Error;
}

/**
 * Environment variables that would change how n8n runs if inherited from the caller. Jest sets
 * NODE_ENV=test, with which n8n silences its logger and refuses to load nodes.
 */
function isInheritedN8nSetting(name: string): boolean {
	return /^(N8N_|DB_|EXECUTIONS_|QUEUE_|JEST_|WEBHOOK_URL$|NODE_PATH$|NODE_OPTIONS$|NODE_ENV$|GENERIC_TIMEZONE$|HTTPS?_PROXY$|NO_PROXY$|npm_config_)/i.test(
		name,
	);
}

export function n8nEnvironment(options: N8nProcessOptions): NodeJS.ProcessEnv {
	const { runtime, userFolder, port, brokerPort } = options;
	const spec = n8nRuntimeSpec(runtime.version);
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
		[spec.webhookUrlVariable]: `http://127.0.0.1:${port}/`,
		N8N_SECURE_COOKIE: 'false',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		DB_TYPE: 'sqlite',
		N8N_RUNNERS_BROKER_PORT: String(brokerPort),
		...(spec.disabledModules ? { N8N_DISABLED_MODULES: spec.disabledModules } : {}),
		...options.env,
	});
	// An empty N8N_CUSTOM_EXTENSIONS makes n8n scan its own node_modules and crash.
	if (!env.N8N_CUSTOM_EXTENSIONS) delete env.N8N_CUSTOM_EXTENSIONS;
	return env;
}

export function tailOf(file: string, lines: number): string {
	if (!existsSync(file)) return '(no log)';
	return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

async function answers200(url: string): Promise<boolean> {
	const answer = await request(url, {
		timeoutMs: 5_000,
		headers: { 'browser-id': HARNESS_BROWSER_ID },
	}).catch(() => undefined);
	return answer?.status === 200;
}

export function createN8nProcess(options: N8nProcessOptions): N8nProcess {
	const { runtime, logFile, port } = options;
	const command = options.command ?? 'start';
	const env = n8nEnvironment(options);
	const baseUrl = `http://127.0.0.1:${port}`;
	let child: ChildProcess | undefined;
	let exited: Promise<void> = Promise.resolve();

	const failWithLog = (message: string): Error =>
		new Error(`${message}\n--- last lines of ${logFile} ---\n${tailOf(logFile, 60)}`);

	const isRunning = (): boolean =>
		child !== undefined && child.exitCode === null && child.signalCode === null;

	const spawnN8n = (): void => {
		const log = openSync(logFile, 'a');
		writeFileSync(
			log,
			`\n=== harness: n8n ${runtime.version} ${command} at ${new Date().toISOString()}\n`,
		);
		// Its own process group, so that stop() and the exit hook reach the task runners too.
		const started = spawn(runtime.nodeBin, [runtime.n8nBin, command, ...(options.args ?? [])], {
			cwd: options.userFolder,
			env,
			detached: true,
			stdio: ['ignore', log, log],
		});
		closeSync(log);
		// A test file that forgets stop() must not keep Jest alive; the exit hook kills n8n then.
		started.unref();
		if (started.pid === undefined) throw failWithLog(`could not spawn n8n ${runtime.version}`);
		trackProcessGroup(started.pid);
		exited = new Promise((resolve) => {
			started.once('exit', () => resolve());
			started.once('error', () => resolve());
		});
		child = started;
	};

	// A worker serves only its health check; the others are ready once their REST routes answer
	// (readiness reports the database, the routes are mounted a moment later).
	const readinessUrls =
		command === 'start'
			? [`${baseUrl}/healthz/readiness`, `${baseUrl}/rest/settings`]
			: [`${baseUrl}/healthz/readiness`];

	const stop = async (signal: NodeJS.Signals, graceMs: number): Promise<void> => {
		const current = child;
		if (current?.pid === undefined) return;
		await terminateProcessGroup(current.pid, exited, { signal, graceMs });
		child = undefined;
	};

	return {
		get pid() {
			return child?.pid;
		},
		isRunning,
		failWithLog,
		stop,
		async start(timeoutMs) {
			spawnN8n();
			const started = Date.now();
			try {
				for (;;) {
					if (!isRunning()) {
						throw failWithLog(
							`n8n ${runtime.version} ${command} exited before it was ready (${child?.signalCode ?? `exit code ${child?.exitCode}`})`,
						);
					}
					let ready = true;
					for (const url of readinessUrls) {
						if (!(await answers200(url))) {
							ready = false;
							break;
						}
					}
					if (ready) return Date.now() - started;
					if (Date.now() - started > timeoutMs) {
						throw failWithLog(`n8n ${runtime.version} was not ready after ${timeoutMs} ms`);
					}
					await sleep(200);
				}
			} catch (error) {
				await stop('SIGKILL', 0);
				throw error;
			}
		},
	};
}
