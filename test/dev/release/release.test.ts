import { execFile } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';

import { packRepository } from '../../../dev/n8n/communityPackage';
import { checkReleaseTag } from '../../../dev/release/checkReleaseTag';
import { missingReleaseNotes, releaseNotes } from '../../../dev/release/releaseNotes';
import { readPackageJson, repositoryOf } from '../../../dev/release/packageMetadata';

// packRepository builds the package, and each scan packs and lints it (about 10 s each).
jest.setTimeout(180_000);

const repoDir = resolve(__dirname, '..', '..', '..');
const tsx = join(repoDir, 'node_modules', '.bin', 'tsx');
const packageJson = readPackageJson(repoDir);
const { name, version } = packageJson;
const repository = repositoryOf(packageJson);
if (typeof repository === 'string') throw new Error(repository);
const githubRepository = `${repository.owner}/${repository.repo}`;

interface Run {
	code: number;
	stdout: string;
	stderr: string;
}

/** Runs a command to its end; a non-zero exit is a result here, not an error. */
async function runCommand(
	command: string,
	args: string[],
	env: NodeJS.ProcessEnv = {},
	cwd = repoDir,
): Promise<Run> {
	// Without the GitHub Actions and npm_config_* variables this test may itself run under.
	const base = Object.fromEntries(
		Object.entries(process.env).filter(([variable]) => !/^(npm_config_|GITHUB_)/i.test(variable)),
	);
	return await new Promise((done) =>
		execFile(
			command,
			args,
			{ cwd, env: { ...base, ...env }, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
			(error, stdout, stderr) =>
				done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
		),
	);
}

const checkTag = (tag: string, env?: NodeJS.ProcessEnv) =>
	runCommand(tsx, ['dev/release/checkReleaseTag.ts', tag], env);
const scan = (dir: string) => runCommand(tsx, ['dev/release/scanPackage.ts', '--dir', dir]);

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
	for (const cleanup of cleanups.reverse()) await cleanup();
});

async function tempDir(prefix: string): Promise<string> {
	const dir = await mkdtemp(join(tmpdir(), prefix));
	cleanups.push(() => rm(dir, { recursive: true, force: true }));
	return dir;
}

describe('checkReleaseTag', () => {
	it('accepts the tag v<version>, and in GitHub Actions writes the version and dist-tag', async () => {
		const outputs = join(await tempDir('release-tag-'), 'github-output');
		const result = await checkTag(`v${version}`, {
			GITHUB_OUTPUT: outputs,
			GITHUB_REPOSITORY: githubRepository,
		});

		expect(result).toMatchObject({ code: 0, stderr: '' });
		expect(result.stdout).toContain(`tag v${version} matches ${name}@${version}`);
		expect(await readFile(outputs, 'utf8')).toBe(`version=${version}\ndist-tag=latest\n`);
	});

	it('refuses a tag that differs from the version, or one without the v', async () => {
		for (const tag of ['v9.9.9', version, `v${version}.1`]) {
			const result = await checkTag(tag);
			expect(result.code).toBe(1);
			expect(result.stderr).toContain(
				`tag ${tag} does not name package.json's version ${version} (expected v${version}); not publishing`,
			);
		}
		expect((await runCommand(tsx, ['dev/release/checkReleaseTag.ts'])).code).toBe(2);
	});

	it("refuses to publish from a repository other than package.json's (a fork)", async () => {
		const result = await checkTag(`v${version}`, { GITHUB_REPOSITORY: 'someone/n8n-nodes-truv' });

		expect(result.code).toBe(1);
		expect(result.stderr).toContain('this workflow runs in someone/n8n-nodes-truv');
	});

	it('publishes a prerelease under the next dist-tag', async () => {
		const dir = await tempDir('release-prerelease-');
		await writeFile(
			join(dir, 'package.json'),
			JSON.stringify({ ...packageJson, version: '1.0.0-rc.1' }),
		);

		expect(checkReleaseTag('v1.0.0-rc.1', dir, undefined)).toMatchObject({
			ok: true,
			distTag: 'next',
		});
		expect(checkReleaseTag('v1.0.0', dir, undefined).ok).toBe(false);
	});
});

describe('scanPackage (n8n scanner rules, offline)', () => {
	/** A copy of the package as npm would publish it, plus the sources the scanner lints. */
	let builtCopy: () => Promise<string>;

	beforeAll(async () => {
		const tarball = await packRepository(repoDir);
		cleanups.push(() => rm(dirname(tarball), { recursive: true, force: true }));
		builtCopy = async () => {
			const dir = await tempDir('release-scan-');
			await runCommand('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1']);
			// The source the scanner reads: what it lints, and the icons the sources name.
			for (const folder of ['nodes', 'credentials', 'icons']) {
				cpSync(join(repoDir, folder), join(dir, folder), { recursive: true });
			}
			expect(existsSync(join(dir, 'dist', 'nodes', 'TruvOrderTrigger'))).toBe(true);
			return dir;
		};
	});

	it('passes the package as it is', async () => {
		const result = await scan(repoDir);

		expect(result.stdout).toMatch(/✅ source: .* \((\d+) files\)/);
		expect(result.stdout).toMatch(new RegExp(`✅ tarball ${name}-${version}\\.tgz: .*files\\)`));
		expect(result.stdout).toContain('✅ provenance source and links');
		expect(result).toMatchObject({ code: 0, stderr: '' });
	});

	it('fails a tarball whose built node logs to the console, naming the file and the rule', async () => {
		const dir = await builtCopy();
		const node = join(dir, 'dist', 'nodes', 'TruvOrderTrigger', 'TruvOrderTrigger.node.js');
		await appendFile(node, "\nconsole.log('deliberate');\n");

		const result = await scan(dir);

		expect(result.code).toBe(1);
		expect(result.stdout).toMatch(/✅ source: /);
		expect(result.stdout).toMatch(/❌ tarball /);
		expect(result.stdout).toContain(
			`${name}-${version}.tgz › dist/nodes/TruvOrderTrigger/TruvOrderTrigger.node.js`,
		);
		expect(result.stdout).toMatch(/\d+:1 +error +Unexpected console statement +no-console/);
	});

	it('fails a node source that hides a forbidden call behind eslint-disable, as the scanner does', async () => {
		const dir = await builtCopy();
		const node = join(dir, 'nodes', 'TruvOrderTrigger', 'TruvOrderTrigger.node.ts');
		const source = readFileSync(node, 'utf8');
		// The repository's own lint honours the comment; n8n's scanner ignores inline config.
		writeFileSync(
			node,
			source.replace(
				'export class TruvOrderTrigger',
				"// eslint-disable-next-line no-console\nconsole.log('deliberate');\nexport class TruvOrderTrigger",
			),
		);

		const result = await scan(dir);

		expect(result.code).toBe(1);
		expect(result.stdout).toMatch(/❌ source: /);
		expect(result.stdout).toMatch(/✅ tarball /);
		expect(result.stdout).toContain('nodes/TruvOrderTrigger/TruvOrderTrigger.node.ts');
		expect(result.stdout).toMatch(/error +Unexpected console statement +no-console/);
	});

	it('fails a package.json whose links leave the repository', async () => {
		const dir = await builtCopy();
		const copied = readPackageJson(dir);
		writeFileSync(
			join(dir, 'package.json'),
			JSON.stringify({ ...copied, bugs: { url: 'https://example.com/issues' } }, null, 2),
		);

		const result = await scan(dir);

		expect(result.code).toBe(1);
		expect(result.stdout).toContain(
			`bugs.url https://example.com/issues is not in https://github.com/${githubRepository}`,
		);
	});
});

describe('the published tarball', () => {
	it('holds only dist/, README.md, LICENSE and package.json', async () => {
		const result = await runCommand('npm', ['pack', '--dry-run', '--json', '--loglevel=error']);
		expect(result.code).toBe(0);
		const [packed] = JSON.parse(result.stdout) as Array<{ files: Array<{ path: string }> }>;
		const paths = packed.files.map((file) => file.path);

		expect(paths.filter((path) => !path.startsWith('dist/')).sort()).toEqual([
			'LICENSE',
			'README.md',
			'package.json',
		]);
		expect(paths).toEqual(
			expect.arrayContaining([
				'dist/nodes/TruvOrderTrigger/TruvOrderTrigger.node.js',
				'dist/credentials/TruvApi.credentials.js',
			]),
		);
	});

	it('holds every node package.json names, with its codex and the icons its description names', async () => {
		const result = await runCommand('npm', ['pack', '--dry-run', '--json', '--loglevel=error']);
		expect(result.code).toBe(0);
		const [packed] = JSON.parse(result.stdout) as Array<{ files: Array<{ path: string }> }>;
		const paths = packed.files.map((file) => file.path);

		const nodeFiles = (packageJson as unknown as { n8n: { nodes: string[] } }).n8n.nodes;
		expect(nodeFiles).toEqual([
			'dist/nodes/Truv/Truv.node.js',
			'dist/nodes/TruvOrderTrigger/TruvOrderTrigger.node.js',
		]);
		const expected = nodeFiles.flatMap((nodeFile) => {
			const exported = Object.values(require(join(repoDir, nodeFile)) as object)[0] as new () => {
				description: { icon: { light: string; dark: string } };
			};
			const { icon } = new exported().description;
			const folder = dirname(nodeFile);
			return [
				nodeFile,
				nodeFile.replace(/\.js$/, '.json'),
				...[icon.light, icon.dark].map((file) => posix.join(folder, file.replace(/^file:/, ''))),
			];
		});
		// The credential's icons, named relative to its compiled file as n8n resolves them.
		const credentialFile = 'dist/credentials/TruvApi.credentials.js';
		const credential = Object.values(
			require(join(repoDir, credentialFile)) as object,
		)[0] as new () => {
			icon: { light: string; dark: string };
		};
		const credentialIcon = new credential().icon;
		expected.push(
			...[credentialIcon.light, credentialIcon.dark].map((file) =>
				posix.join(dirname(credentialFile), file.replace(/^file:/, '')),
			),
		);
		expect(expected).toContain('dist/nodes/Truv/Truv.node.json');
		expect(expected).toContain('dist/icons/truv.dark.svg');
		expect(expected.filter((path) => path.endsWith('.svg'))).toEqual(
			Array(3).fill(['dist/icons/truv.svg', 'dist/icons/truv.dark.svg']).flat(),
		);
		expect(paths).toEqual(expect.arrayContaining(expected));
	});
});

describe('workflow validation', () => {
	it('accepts both workflows and rejects a misspelled key', async () => {
		const validator = join(repoDir, 'node_modules', '.bin', 'action-validator');
		for (const workflow of ['ci.yml', 'publish.yml']) {
			const result = await runCommand(validator, [join('.github', 'workflows', workflow)]);
			expect(result).toMatchObject({ code: 0, stderr: '' });
		}

		const broken = join(await tempDir('release-workflow-'), 'ci.yml');
		const ci = readFileSync(join(repoDir, '.github', 'workflows', 'ci.yml'), 'utf8');
		writeFileSync(broken, ci.replace('runs-on:', 'run-on:'));
		const result = await runCommand(validator, [broken]);
		expect(result.code).toBe(1);
		expect(result.stderr).toContain("Additional property 'run-on' is not allowed");
	});
});

describe('releaseNotes (the GitHub release takes its notes from CHANGELOG.md)', () => {
	const changelog = readFileSync(join(repoDir, 'CHANGELOG.md'), 'utf8');

	it("finds the dated section of package.json's version, and nothing of the next one", () => {
		const notes = releaseNotes(changelog, version);
		expect(notes).toMatch(/^### Added\n/);
		expect(notes).not.toContain('## [');
	});

	it('has no notes for a version without a dated section, and the CLI refuses it', async () => {
		expect(releaseNotes(changelog, '99.0.0')).toBeUndefined();
		expect(releaseNotes('## [Unreleased]\n- something\n', 'Unreleased')).toBeUndefined();
		expect(
			releaseNotes('## [1.0.0] - 2026-01-01\n\n## [0.9.0] - 2025-12-01\n- x\n', '1.0.0'),
		).toBeUndefined();
		const refused = await runCommand(tsx, ['dev/release/releaseNotes.ts', '99.0.0']);
		expect(refused.code).toBe(1);
		expect(refused.stderr).toContain('no dated section "## [99.0.0] - YYYY-MM-DD"');
		const printed = await runCommand(tsx, ['dev/release/releaseNotes.ts', version]);
		expect(printed).toMatchObject({ code: 0 });
		expect(printed.stdout.trim()).toBe(releaseNotes(changelog, version));
	});

	it('refuses a tag cut while the notes are under [Unreleased], or under an undated heading, saying what to change', () => {
		const unreleased =
			'# Changelog\n\n## [Unreleased]\n\n### Added\n- x\n\n## [0.1.0] - 2026-12-01\n- y\n';
		expect(missingReleaseNotes(unreleased, '0.2.0')).toBe(
			'CHANGELOG.md has no dated section "## [0.2.0] - YYYY-MM-DD": its notes are still under [Unreleased]; rename that heading to "## [0.2.0] - YYYY-MM-DD" (with the release date), commit, and tag that commit',
		);
		expect(missingReleaseNotes(unreleased, '0.1.0')).toBeUndefined();
		for (const heading of ['## [0.2.0]', '## [0.2.0] - 2026-1-5', '## [0.2.0] - TBD']) {
			expect(missingReleaseNotes(`${heading}\n- x\n`, '0.2.0')).toBe(
				'CHANGELOG.md\'s section for 0.2.0 is not dated: its heading must read "## [0.2.0] - YYYY-MM-DD"',
			);
		}
		expect(
			missingReleaseNotes('## [0.2.0] - 2026-12-02\n\n## [0.1.0] - 2026-12-01\n- y\n', '0.2.0'),
		).toBe('CHANGELOG.md\'s section "## [0.2.0] - YYYY-MM-DD" is empty');
		expect(missingReleaseNotes('## [Unreleased]\n\n## [0.1.0] - 2026-12-01\n- y\n', '0.2.0')).toBe(
			'CHANGELOG.md has no dated section "## [0.2.0] - YYYY-MM-DD" with notes',
		);
	});
});
