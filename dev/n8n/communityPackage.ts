// Packs an n8n community package and installs it into an n8n user folder the way n8n's Community
// Nodes installer does (n8n 2.x, CommunityPackagesService.downloadPackage and
// InstalledPackagesRepository.saveInstalledPackageWithNodes), so tests run what users get from npm:
// the packed files only, without devDependencies or peerDependencies, and with `n8n-workflow` and
// `zod` coming from n8n's own install.
import { execFile, type ExecFileOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import type { N8nRuntime } from './runtimes';

export interface PackageJson {
	name: string;
	version: string;
	author?: { name?: string; email?: string } | string;
	scripts?: Record<string, string>;
	dependencies?: Record<string, string>;
	devDependencies?: Record<string, string>;
	peerDependencies?: Record<string, string>;
	optionalDependencies?: Record<string, string>;
	n8n?: { nodes?: string[]; credentials?: string[] };
	[field: string]: unknown;
}

export interface InstalledCommunityPackage {
	name: string;
	version: string;
	/** `<userFolder>/.n8n/nodes/node_modules/<name>` */
	directory: string;
	/** package.json as installed, i.e. without the dependency kinds n8n strips. */
	packageJson: PackageJson;
}

/** One row of n8n's `installed_nodes` table. */
export interface InstalledNodeRecord {
	/** The node's display name (the table's primary key). */
	name: string;
	/** `<package name>.<node name>` */
	type: string;
	latestVersion: number;
}

/** The arguments n8n 2.x passes to `npm install` inside the unpacked package, minus `--registry`. */
const n8nInstallArguments = [
	'--audit=false',
	'--fund=false',
	'--bin-links=false',
	'--install-strategy=shallow',
	'--ignore-scripts=true',
	'--package-lock=false',
];

interface CommandResult {
	stdout: string;
	stderr: string;
}

async function runCommand(
	command: string,
	args: string[],
	options: ExecFileOptions & { cwd: string },
): Promise<CommandResult> {
	return await new Promise((resolve, reject) => {
		execFile(
			command,
			args,
			{ maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', ...options },
			(error, stdout, stderr) => {
				const result = { stdout: String(stdout), stderr: String(stderr) };
				if (error) {
					const output = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-40);
					reject(
						new Error(
							`${command} ${args.join(' ')} failed in ${options.cwd}: ${error.message}\n${output.join('\n')}`,
						),
					);
					return;
				}
				resolve(result);
			},
		);
	});
}

async function readPackageJson(file: string): Promise<PackageJson> {
	return JSON.parse(await readFile(file, 'utf8')) as PackageJson;
}

/** The user folder's `.n8n/nodes`, where n8n installs community packages (`nodesDownloadDir`). */
export function communityNodesFolder(userFolder: string): string {
	return join(userFolder, '.n8n', 'nodes');
}

/**
 * Builds the package in `repoDir` (when it has a build script) and packs it with `npm pack` into a
 * new temporary folder. Returns the tarball's path; the caller removes its folder when done.
 */
export async function packRepository(repoDir: string): Promise<string> {
	const packageJson = await readPackageJson(join(repoDir, 'package.json'));
	if (packageJson.scripts?.build) {
		await runCommand('npm', ['run', 'build'], { cwd: repoDir });
	}
	const destination = await mkdtemp(join(tmpdir(), 'n8n-nodes-pack-'));
	const { stdout } = await runCommand(
		'npm',
		['pack', '--json', '--pack-destination', destination, '--loglevel=error'],
		{ cwd: repoDir },
	);
	const [packed] = JSON.parse(stdout) as Array<{ filename: string }>;
	if (!packed?.filename) throw new Error(`npm pack in ${repoDir} reported no tarball: ${stdout}`);
	const tarball = join(destination, packed.filename);
	if (!existsSync(tarball)) throw new Error(`npm pack reported ${tarball}, which does not exist`);
	return tarball;
}

/** Reads package.json out of an npm tarball without unpacking it. */
export async function readTarballPackageJson(tarballPath: string): Promise<PackageJson> {
	const { stdout } = await runCommand('tar', ['-xzOf', tarballPath, 'package/package.json'], {
		cwd: dirname(tarballPath),
	});
	return JSON.parse(stdout) as PackageJson;
}

/**
 * Creates `.n8n/nodes/package.json` as n8n does on its first start (ensurePackageJson); n8n keeps
 * each installed community package there as a dependency.
 */
async function ensureNodesPackageJson(nodesFolder: string): Promise<string> {
	const file = join(nodesFolder, 'package.json');
	if (!existsSync(file)) {
		await mkdir(nodesFolder, { recursive: true });
		const packageJson = { name: 'installed-nodes', private: true, dependencies: {} };
		await writeFile(file, JSON.stringify(packageJson, null, 2), 'utf-8');
	}
	return file;
}

/**
 * Installs a packed community package into `<userFolder>/.n8n/nodes/node_modules/<name>` with the
 * steps of n8n's installer: unpack, drop devDependencies, peerDependencies and
 * optionalDependencies from its package.json, `npm install` what is left inside the package folder
 * with n8n's flags, and list the package in `.n8n/nodes/package.json`.
 *
 * n8n loads every `n8n-nodes-*` folder there at start; its `installed_packages` table (what the
 * editor's Community Nodes settings list) needs a running n8n's database: see
 * recordInstalledPackage.
 */
export async function installCommunityPackage(
	userFolder: string,
	tarballPath: string,
): Promise<InstalledCommunityPackage> {
	const { name } = await readTarballPackageJson(tarballPath);
	const nodesFolder = communityNodesFolder(userFolder);
	const nodesPackageJsonFile = await ensureNodesPackageJson(nodesFolder);
	const directory = join(nodesFolder, 'node_modules', name);

	await rm(directory, { recursive: true, force: true });
	await mkdir(directory, { recursive: true });
	await runCommand('tar', ['-xzf', tarballPath, '-C', directory, '--strip-components=1'], {
		cwd: nodesFolder,
	});

	const packageJsonFile = join(directory, 'package.json');
	const {
		devDependencies: _devDependencies,
		peerDependencies: _peerDependencies,
		optionalDependencies: _optionalDependencies,
		...packageJson
	} = await readPackageJson(packageJsonFile);
	await writeFile(packageJsonFile, JSON.stringify(packageJson, null, 2), 'utf-8');
	await runCommand('npm', ['install', ...n8nInstallArguments, '--loglevel=error'], {
		cwd: directory,
	});

	const nodesPackageJson = await readPackageJson(nodesPackageJsonFile);
	nodesPackageJson.dependencies = { ...nodesPackageJson.dependencies, [name]: packageJson.version };
	await writeFile(nodesPackageJsonFile, JSON.stringify(nodesPackageJson, null, 2), 'utf-8');

	return { name, version: packageJson.version, directory, packageJson };
}

function authorOf(packageJson: PackageJson): { name: string | null; email: string | null } {
	const { author } = packageJson;
	if (author === undefined) return { name: null, email: null };
	if (typeof author === 'object') return { name: author.name ?? null, email: author.email ?? null };
	// npm's "Name <email> (url)" shorthand.
	const match = /^([^<(]*?)\s*(?:<([^>]*)>)?\s*(?:\([^)]*\))?$/.exec(author.trim());
	return { name: match?.[1] || null, email: match?.[2] || null };
}

// Runs inside the n8n runtime's Node.js because sqlite3 is a native module built for it. The
// timestamps are explicit: in n8n's SQLite schema their column default is a quoted string, not the
// STRFTIME expression it spells.
const recordScript = `
const [sqlite3Path, databaseFile, input] = process.argv.slice(1);
const sqlite3 = require(sqlite3Path);
const { pkg, nodes } = JSON.parse(input);
const db = new sqlite3.Database(databaseFile);
db.configure('busyTimeout', 30000);
const run = (sql, params = []) =>
	new Promise((resolve, reject) => db.run(sql, params, (error) => (error ? reject(error) : resolve())));
const now = "STRFTIME('%Y-%m-%d %H:%M:%f', 'NOW')";
(async () => {
	await run('BEGIN IMMEDIATE');
	try {
		await run('DELETE FROM installed_nodes WHERE package = ?', [pkg.name]);
		await run('DELETE FROM installed_packages WHERE packageName = ?', [pkg.name]);
		await run(
			'INSERT INTO installed_packages (packageName, installedVersion, authorName, authorEmail, createdAt, updatedAt) VALUES (?, ?, ?, ?, ' + now + ', ' + now + ')',
			[pkg.name, pkg.version, pkg.authorName, pkg.authorEmail],
		);
		for (const node of nodes) {
			await run('INSERT INTO installed_nodes (name, type, latestVersion, package) VALUES (?, ?, ?, ?)', [
				node.name,
				node.type,
				node.latestVersion,
				pkg.name,
			]);
		}
		await run('COMMIT');
	} catch (error) {
		await run('ROLLBACK').catch(() => {});
		throw error;
	}
})()
	.catch((error) => {
		console.error(error.message);
		process.exitCode = 1;
	})
	.finally(() => db.close());
`;

/**
 * Writes the `installed_packages` and `installed_nodes` rows n8n's installer writes, into the
 * SQLite database of the n8n in `userFolder` (which must have started once, to create the
 * tables). Safe while n8n runs: n8n uses WAL mode and reads these tables only on demand.
 */
export async function recordInstalledPackage(
	runtime: Pick<N8nRuntime, 'dir' | 'nodeBin' | 'env'>,
	userFolder: string,
	installed: Pick<InstalledCommunityPackage, 'name' | 'version' | 'packageJson'>,
	nodes: InstalledNodeRecord[],
): Promise<void> {
	const databaseFile = join(userFolder, '.n8n', 'database.sqlite');
	if (!existsSync(databaseFile)) {
		throw new Error(`no n8n database at ${databaseFile}: start n8n once before recording packages`);
	}
	const author = authorOf(installed.packageJson);
	const input = JSON.stringify({
		pkg: {
			name: installed.name,
			version: installed.version,
			authorName: author.name,
			authorEmail: author.email,
		},
		nodes,
	});
	await runCommand(
		runtime.nodeBin,
		['-e', recordScript, join(runtime.dir, 'node_modules', 'sqlite3'), databaseFile, input],
		{ cwd: userFolder, env: runtime.env },
	);
}
