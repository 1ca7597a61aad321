// Packs an n8n community package as `npm publish` would, for the harness's local registry, from
// which n8n's own Community Nodes installer installs it.
import { execFile, type ExecFileOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

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
 * Runs `task` while holding a lock folder, so that two test files packing the same repository in
 * parallel (Jest workers, or a test run and npm start) do not clean and rebuild its dist/ under
 * each other. A lock whose owner died is taken over.
 */
async function withPackLock<T>(lockDir: string, task: () => Promise<T>): Promise<T> {
	for (;;) {
		try {
			await mkdir(lockDir, { recursive: false });
			await writeFile(join(lockDir, 'pid'), String(process.pid));
			break;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			const owner = Number(await readFile(join(lockDir, 'pid'), 'utf8').catch(() => 'NaN'));
			let ownerAlive = Number.isNaN(owner);
			if (!ownerAlive) {
				try {
					process.kill(owner, 0);
					ownerAlive = true;
				} catch {
					ownerAlive = false;
				}
			}
			if (!ownerAlive) await rm(lockDir, { recursive: true, force: true });
			else await new Promise((resolve) => setTimeout(resolve, 250));
		}
	}
	try {
		return await task();
	} finally {
		await rm(lockDir, { recursive: true, force: true });
	}
}

/**
 * Builds the package in `repoDir` afresh (when it has a build script: dist/ is emptied first, so
 * that no file of an earlier build ships) and packs it with `npm pack` into a new temporary
 * folder. Returns the tarball's path; the caller removes its folder when done.
 */
export async function packRepository(repoDir: string): Promise<string> {
	const packageJson = await readPackageJson(join(repoDir, 'package.json'));
	const destination = await mkdtemp(join(tmpdir(), 'n8n-nodes-pack-'));
	await mkdir(join(repoDir, '.tmp'), { recursive: true });
	const { stdout } = await withPackLock(join(repoDir, '.tmp', 'pack.lock'), async () => {
		if (packageJson.scripts?.build) {
			await rm(join(repoDir, 'dist'), { recursive: true, force: true });
			await runCommand('npm', ['run', 'build'], { cwd: repoDir });
		}
		return await runCommand(
			'npm',
			['pack', '--json', '--pack-destination', destination, '--loglevel=error'],
			{ cwd: repoDir },
		);
	});
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
 * Packs the repository as it was at `commit` (a build of an earlier release, for upgrade tests):
 * its files from git, built with this checkout's devDependencies (the lockfile must not have
 * changed since), packed as `npm publish` would. The tarball's folder is the caller's to remove.
 */
export async function packRepositoryAt(repoDir: string, commit: string): Promise<string> {
	const checkout = await mkdtemp(join(tmpdir(), 'n8n-nodes-truv-at-'));
	try {
		const archive = join(checkout, 'source.tar');
		await runCommand('git', ['archive', '--format=tar', '-o', archive, commit], { cwd: repoDir });
		await runCommand('tar', ['-xf', archive, '-C', checkout], { cwd: checkout });
		await rm(archive);
		const [then, now] = await Promise.all([
			readFile(join(checkout, 'package-lock.json'), 'utf8'),
			readFile(join(repoDir, 'package-lock.json'), 'utf8'),
		]);
		if (then !== now) {
			throw new Error(`package-lock.json changed since ${commit}: its build needs its own install`);
		}
		await symlink(join(repoDir, 'node_modules'), join(checkout, 'node_modules'), 'dir');
		return await packRepository(checkout);
	} finally {
		await rm(checkout, { recursive: true, force: true });
	}
}
