// A throwaway npm registry (Verdaccio) on loopback, so that n8n's Community Nodes installer can
// install a packed package over the same `npm pack <name>@<version>` a user's n8n runs against
// npmjs.org. It has no uplinks: it knows only what a test published, and never reaches the internet.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { request } from './http';
import { getFreePort } from './ports';
import { terminateProcessGroup, trackProcessGroup } from './processGroups';
import { provisionVerdaccio } from './runtimes';
import { waitFor } from './wait';

export interface NpmRegistry {
	/** e.g. http://127.0.0.1:PORT/ (with trailing slash, as npm writes registry URLs) */
	url: string;
	/** Publishes an `npm pack` tarball; the same name@version twice is an error. */
	publish(tarballPath: string): Promise<void>;
	/** Versions of `name` the registry holds (npm view). */
	versions(name: string): Promise<string[]>;
	stop(): Promise<void>;
}

const testUser = {
	name: 'harness',
	password: 'Harness-Passw0rd',
	email: 'harness@n8n-nodes-truv.test',
};

const startTimeoutMs = 60_000;

/** JSON strings are valid YAML scalars, whatever characters the temp folder's path has. */
function verdaccioConfig(folder: string, port: number): string {
	const path = (name: string) => JSON.stringify(join(folder, name));
	return `storage: ${path('storage')}
auth:
  htpasswd:
    file: ${path('htpasswd')}
packages:
  '**':
    access: $all
    publish: $authenticated
max_body_size: 500mb
listen: 127.0.0.1:${port}
web:
  enable: false
log:
  type: file
  path: ${path('verdaccio.log')}
  format: pretty
  colors: false
  level: warn
`;
}

function tailOf(file: string, lines: number): string {
	if (!existsSync(file)) return '(no output)';
	return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * npx and `npm run` export their own settings as npm_config_*; inherited, they would apply to the
 * registry's npm commands too (a registry mirror, offline, dry-run, ...).
 */
function npmEnvironment(): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [name, value] of Object.entries(process.env)) {
		if (!/^npm_config_/i.test(name)) env[name] = value;
	}
	return env;
}

async function runNpm(args: string[], cwd: string): Promise<string> {
	return await new Promise((resolve, reject) => {
		execFile(
			'npm',
			args,
			{ cwd, env: npmEnvironment(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
			(error, stdout, stderr) => {
				if (error) {
					const output = `${stdout}\n${stderr}`.trim().split('\n').slice(-30).join('\n');
					reject(Object.assign(new Error(`npm ${args.join(' ')} failed: ${output}`), { stdout }));
					return;
				}
				resolve(stdout);
			},
		);
	});
}

/**
 * Starts an empty registry on a free loopback port with a logged-in test user. Always `stop()` it;
 * if this process exits first, an exit hook kills it.
 */
export async function startNpmRegistry(): Promise<NpmRegistry> {
	const { bin } = await provisionVerdaccio();
	const folder = await mkdtemp(join(tmpdir(), 'npm-registry-'));
	const port = await getFreePort();
	const url = `http://127.0.0.1:${port}/`;
	const configFile = join(folder, 'config.yaml');
	const logFile = join(folder, 'verdaccio.log');
	// Verdaccio's own logger goes to logFile; this catches what it prints before or instead of it.
	const outputFile = join(folder, 'verdaccio.out');
	const npmrc = join(folder, 'npmrc');
	// Our own npm cache: nothing a test published lingers in the user's, and nothing stale is read.
	const npmCache = join(folder, 'npm-cache');
	await writeFile(configFile, verdaccioConfig(folder, port));

	const output = openSync(outputFile, 'a');
	let child: ChildProcess;
	try {
		// Its own process group, so that stop() and the exit hook reach anything it forks.
		child = spawn(process.execPath, [bin, '--config', configFile], {
			cwd: folder,
			env: { ...process.env },
			detached: true,
			stdio: ['ignore', output, output],
		});
	} finally {
		closeSync(output);
	}
	// A test file that forgets stop() must not keep Jest alive; the exit hook kills it then.
	child.unref();
	const pgid = child.pid;
	const exited = new Promise<void>((resolve) => {
		child.once('exit', () => resolve());
		child.once('error', () => resolve());
	});
	if (pgid !== undefined) trackProcessGroup(pgid);

	let stopped: Promise<void> | undefined;
	const stop = async (): Promise<void> => {
		stopped ??= (async () => {
			if (pgid !== undefined) await terminateProcessGroup(pgid, exited);
			await rm(folder, { recursive: true, force: true });
		})();
		await stopped;
	};

	const failure = (message: string): Error =>
		new Error(
			`${message}\n--- ${logFile} ---\n${tailOf(logFile, 40)}\n--- ${outputFile} ---\n${tailOf(outputFile, 40)}`,
		);

	try {
		if (pgid === undefined) throw failure('could not spawn verdaccio');
		const outcome = await waitFor(
			async () => {
				if (child.exitCode !== null || child.signalCode !== null) return 'exited';
				const answer = await request(`${url}-/ping`, { timeoutMs: 2_000 });
				return answer.status === 200 ? 'ready' : undefined;
			},
			{ timeoutMs: startTimeoutMs, intervalMs: 100, description: `verdaccio on ${url}` },
		).catch((error: Error) => {
			throw failure(error.message);
		});
		if (outcome === 'exited') {
			throw failure(
				`verdaccio exited before it was ready (${child.signalCode ?? `exit code ${child.exitCode}`})`,
			);
		}

		// The CouchDB login route npm uses for `npm adduser` creates the user and returns its token.
		const userUrl = `${url}-/user/org.couchdb.user:${encodeURIComponent(testUser.name)}`;
		const signup = await request(userUrl, {
			method: 'PUT',
			body: { _id: `org.couchdb.user:${testUser.name}`, type: 'user', roles: [], ...testUser },
		});
		const token = (signup.json as { token?: unknown } | undefined)?.token;
		if (signup.status !== 201 || typeof token !== 'string') {
			throw failure(`PUT ${userUrl} answered ${signup.status}: ${signup.text.slice(0, 500)}`);
		}
		const host = `//127.0.0.1:${port}/`;
		await writeFile(npmrc, `registry=${url}\n${host}:_authToken=${token}\n`, { mode: 0o600 });
	} catch (error) {
		await stop();
		throw error;
	}

	const registryArgs = ['--registry', url, '--userconfig', npmrc, '--cache', npmCache];
	return {
		url,
		async publish(tarballPath) {
			await runNpm(
				[
					'publish',
					tarballPath,
					...registryArgs,
					'--ignore-scripts',
					'--provenance=false',
					'--loglevel=error',
				],
				folder,
			);
		},
		async versions(name) {
			let stdout: string;
			try {
				// The packument must come from the registry, not from a cached copy older than a publish.
				stdout = await runNpm(
					['view', name, 'versions', '--json', '--prefer-online', ...registryArgs],
					folder,
				);
			} catch (error) {
				const { stdout: failed } = error as { stdout?: string };
				if (failed && /"code":\s*"E404"/.test(failed)) return [];
				throw error;
			}
			const versions = JSON.parse(stdout) as string | string[];
			return typeof versions === 'string' ? [versions] : versions;
		},
		stop,
	};
}
