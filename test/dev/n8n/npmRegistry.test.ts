import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

import { packRepository, readTarballPackageJson } from '../../../dev/n8n/communityPackage';
import { request } from '../../../dev/n8n/http';
import { startNpmRegistry, type NpmRegistry } from '../../../dev/n8n/npmRegistry';
import { waitFor } from '../../../dev/n8n/wait';

// The first run provisions Verdaccio (about 15 s) and every run builds and packs the repository.
jest.setTimeout(180_000);

const repoDir = resolve(__dirname, '..', '..', '..');
const { name, version } = JSON.parse(readFileSync(join(repoDir, 'package.json'), 'utf8')) as {
	name: string;
	version: string;
};

/** Where the registry keeps its files: the one temp folder whose config listens on its port. */
function registryFolderOf(url: string): string {
	const listen = `listen: 127.0.0.1:${new URL(url).port}\n`;
	const folders = readdirSync(tmpdir())
		.filter((entry) => entry.startsWith('npm-registry-'))
		.map((entry) => join(tmpdir(), entry))
		.filter((folder) => {
			const config = join(folder, 'config.yaml');
			return existsSync(config) && readFileSync(config, 'utf8').includes(listen);
		});
	expect(folders).toHaveLength(1);
	return folders[0];
}

async function portAcceptsConnections(port: number): Promise<boolean> {
	return await new Promise((done) => {
		const socket = connect(port, '127.0.0.1');
		socket.once('connect', () => {
			socket.destroy();
			done(true);
		});
		socket.once('error', () => done(false));
	});
}

/** npm as n8n's installer runs it, without the npm_config_* that npx exported to this test. */
async function npm(args: string[], cwd: string): Promise<string> {
	const env = Object.fromEntries(
		Object.entries(process.env).filter(([variable]) => !/^npm_config_/i.test(variable)),
	);
	return await new Promise((done, fail) =>
		execFile('npm', args, { cwd, env, encoding: 'utf8' }, (error, stdout, stderr) =>
			error ? fail(new Error(`npm ${args.join(' ')}: ${error.message}\n${stderr}`)) : done(stdout),
		),
	);
}

const sha256 = async (file: string): Promise<string> =>
	createHash('sha256')
		.update(await readFile(file))
		.digest('hex');

let registry: NpmRegistry;
let tarball: string;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
	// packRepository runs `npm run build` first, so the tarball holds the current sources.
	const [started, packed] = await Promise.all([startNpmRegistry(), packRepository(repoDir)]);
	registry = started;
	tarball = packed;
	cleanups.push(() => rm(dirname(packed), { recursive: true, force: true }));
	await registry.publish(tarball);
});

afterAll(async () => {
	await registry?.stop();
	await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

test('listens on loopback with a registry URL as npm writes it, and has no uplinks', () => {
	expect(registry.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
	const config = readFileSync(join(registryFolderOf(registry.url), 'config.yaml'), 'utf8');
	expect(config).not.toMatch(/uplinks|proxy:/);
});

test('holds the published version', async () => {
	expect(await registry.versions(name)).toEqual([version]);
});

test("serves the published tarball to `npm pack <name>@<version>`, as n8n's installer fetches it", async () => {
	const folder = await mkdtemp(join(tmpdir(), 'npm-registry-pack-'));
	cleanups.push(() => rm(folder, { recursive: true, force: true }));
	// An empty cache of its own, so the bytes come from the registry and not from an earlier run.
	const stdout = await npm(
		[
			'pack',
			`${name}@${version}`,
			'--quiet',
			`--registry=${registry.url.replace(/\/+$/, '')}`,
			'--cache',
			join(folder, 'cache'),
		],
		folder,
	);
	const downloaded = join(folder, stdout.trim().split('\n').pop() ?? '');
	expect(existsSync(downloaded)).toBe(true);
	expect(await readTarballPackageJson(downloaded)).toMatchObject({ name, version });
	expect(await sha256(downloaded)).toBe(await sha256(tarball));
});

test('answers 404 at once for a package nobody published', async () => {
	const unknown = `n8n-nodes-truv-unknown-${Date.now()}`;
	const started = Date.now();
	const answer = await request(`${registry.url}${unknown}`, { timeoutMs: 10_000 });
	expect(answer.status).toBe(404);
	expect(Date.now() - started).toBeLessThan(2_000);
	expect(await registry.versions(unknown)).toEqual([]);
});

test('refuses to publish the same version twice', async () => {
	await expect(registry.publish(tarball)).rejects.toThrow(/E409|previously published|409/);
	expect(await registry.versions(name)).toEqual([version]);
});

test('stop() closes the port and removes its folder', async () => {
	const { port } = new URL(registry.url);
	const folder = registryFolderOf(registry.url);
	expect(await portAcceptsConnections(Number(port))).toBe(true);
	await registry.stop();
	expect(await portAcceptsConnections(Number(port))).toBe(false);
	expect(existsSync(folder)).toBe(false);
	// A second stop (afterAll's) is harmless.
	await registry.stop();
});

test('a registry whose process exits without stop() is killed with it', async () => {
	const scriptFolder = await mkdtemp(join(tmpdir(), 'npm-registry-orphan-'));
	cleanups.push(() => rm(scriptFolder, { recursive: true, force: true }));
	const script = join(scriptFolder, 'orphan.ts');
	const modulePath = join(repoDir, 'dev', 'n8n', 'npmRegistry.ts');
	await writeFile(
		script,
		`import { startNpmRegistry } from ${JSON.stringify(modulePath)};\n` +
			'startNpmRegistry().then(({ url }) => console.log(url));\n',
	);
	const child = spawn(process.execPath, [require.resolve('tsx/cli'), script], {
		cwd: repoDir,
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
	let url = '';
	for await (const line of createInterface({ input: child.stdout })) url ||= line;
	expect(await exited).toBe(0);
	expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
	// The temp folder outlives the kill; remove it before anything can fail.
	const folder = registryFolderOf(url);
	cleanups.push(() => rm(folder, { recursive: true, force: true }));
	await waitFor(
		async () => ((await portAcceptsConnections(Number(new URL(url).port))) ? undefined : true),
		{ timeoutMs: 10_000, description: `the orphaned registry on ${url} to be gone` },
	);
});
