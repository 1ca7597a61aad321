// npm run scan [-- --dir <package folder>]
//
// n8n's verification scan, before publishing and without the network. @n8n/scan-community-package
// (`npx @n8n/scan-community-package <name>`) only scans a published version: it checks the npm
// provenance, fetches the GitHub source the provenance attests, and lints with ESLint
//   - that source's package.json, nodes/ and credentials/ (its SOURCE_FILE_PATTERNS), and
//   - the published tarball's JavaScript and package.json,
// using its own flat config (buildScanConfig: @n8n/eslint-plugin-community-nodes' recommended rules,
// no-console, and eslint-plugin-n8n-nodes-base's community/credentials/nodes rule sets) with inline
// eslint-disable comments ignored. A package passes when no file has an error.
//
// This runs that analysis through the scanner's own exported analyzePackage, buildScanConfig and
// SOURCE_FILE_PATTERNS, so the rules and plugin versions are the ones the installed scanner
// resolves, on the package folder and on the tarball `npm pack` makes of it (what `npm publish`
// uploads; nothing is rebuilt, so build first). Offline it also runs the scanner's source lookup on
// the attestation a publish from package.json's repository would get (parseSourceRepo and
// findPackageRoot). Only the provenance check itself needs the registry: publish.yml runs the real
// CLI after publishing.
//
// Bumping the scanner: `npm install --save-dev --save-exact @n8n/scan-community-package@<version>`
// (see `npm view @n8n/scan-community-package versions`), then `npm run scan`. It stops with "the
// scanner changed" when the new analyzePackageByName no longer lints the way EXPECTED_CALLS says;
// then re-read it in node_modules/@n8n/scan-community-package/scanner/scanner.mjs and update the
// patterns and calls below to match.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';

import type { PackageJson } from '../n8n/communityPackage';
import { linkProblems, readPackageJson, repositoryOf, sameRepository } from './packageMetadata';

const run = promisify(execFile);

const scannerPackage = '@n8n/scan-community-package';

/** What the scanner lints in the unpacked tarball; inline in its analyzePackageByName. */
const TARBALL_FILE_PATTERNS = ['**/*.js', 'package.json'];

/** The scanner's two lint calls, as its source spells them; this script must follow them. */
const EXPECTED_CALLS = [
	'analyzePackage(sourceDir, SOURCE_FILE_PATTERNS)',
	"analyzePackage(packageDir, ['**/*.js', 'package.json'])",
];

interface AnalysisResult {
	passed: boolean;
	message?: string;
	details?: string;
}

interface SourceRepo {
	owner: string;
	repo: string;
	gitCommit: string;
}

/** The parts of scanner/scanner.mjs this uses; it is JavaScript without type declarations. */
interface Scanner {
	analyzePackage(packageDir: string, filePatterns: string[]): Promise<AnalysisResult>;
	SOURCE_FILE_PATTERNS: string[];
	parseSourceRepo(attestations: unknown[]): SourceRepo | null;
	findPackageRoot(sourceDir: string, packageName: string): string | null;
	NPM_PROVENANCE_PREDICATE_TYPE?: string;
}

export interface ScanLeg {
	name: string;
	passed: boolean;
	/** ESLint's stylish report when the leg failed, with folder paths shortened. */
	details?: string;
	message?: string;
	/** How many files the leg linted, for the lint legs. */
	files?: number;
}

export interface ScanReport {
	scannerVersion: string;
	lintStack: string[];
	legs: ScanLeg[];
	passed: boolean;
}

const scannerEntry = require.resolve(`${scannerPackage}/scanner/scanner.mjs`);
const scannerVersion = packageVersion(join(dirname(scannerEntry), '..'), scannerPackage);
// The scanner imports ESLint and its plugins from its own folder; versions are read from there.
const scannerRequire = createRequire(scannerEntry);

function packageVersion(folder: string, name: string): string | undefined {
	const file = join(folder, 'package.json');
	if (!existsSync(file)) return undefined;
	const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
	return manifest.name === name ? manifest.version : undefined;
}

/** The version of the copy the scanner imports; found upwards as not all export package.json. */
function lintStackVersion(moduleName: string): string {
	for (let folder = dirname(scannerRequire.resolve(moduleName)); ; folder = dirname(folder)) {
		const version = packageVersion(folder, moduleName);
		if (version) return version;
		if (dirname(folder) === folder) return 'unknown';
	}
}

async function loadScanner(): Promise<Scanner> {
	const source = readFileSync(scannerEntry, 'utf8');
	const missing = EXPECTED_CALLS.filter((call) => !source.includes(call));
	if (missing.length > 0) {
		throw new Error(
			`the scanner changed: ${scannerPackage} ${scannerVersion} no longer runs ${missing.join(' and ')}; update dev/release/scanPackage.ts to lint what its analyzePackageByName lints`,
		);
	}
	// eslint-plugin-n8n-nodes-base treats every file as Test.node.ts when NODE_ENV is test (as under
	// jest), which fails or skips its filename rules; the scanner never runs that way.
	if (process.env.NODE_ENV === 'test') delete process.env.NODE_ENV;
	// Importing scanner.mjs makes an empty temporary folder (tmp.dirSync) that it only removes at
	// exit under tmp's graceful cleanup; the scanner's CLI leaves it behind, this does not.
	(scannerRequire('tmp') as { setGracefulCleanup(): void }).setGracefulCleanup();
	return (await import(pathToFileURL(scannerEntry).href)) as Scanner;
}

/** Files the scanner's glob picks for a leg; only to report how much was linted. */
function countFiles(folder: string, patterns: string[]): number {
	const glob = scannerRequire('fast-glob') as {
		sync(patterns: string[], options: object): string[];
	};
	return glob.sync(patterns, {
		cwd: folder,
		ignore: ['node_modules/**', '**/package-lock.json'],
	}).length;
}

function shortenPaths(details: string | undefined, folder: string, label: string): string {
	return (details ?? '').split(`${folder}${sep}`).join(label);
}

async function lintLeg(
	scanner: Scanner,
	name: string,
	folder: string,
	patterns: string[],
	label: string,
): Promise<ScanLeg> {
	const files = countFiles(folder, patterns);
	const result = await scanner.analyzePackage(folder, patterns);
	// The scanner passes a folder with nothing to lint; a package with no code is not a pass here.
	const passed = result.passed && files > 0;
	return {
		name,
		passed,
		files,
		message: files > 0 ? result.message : 'no files to lint',
		details: result.details ? shortenPaths(result.details, folder, label) : undefined,
	};
}

async function packAndUnpack(packageDir: string, workDir: string): Promise<[string, string]> {
	// Without the npm_config_* that `npm run` exported to this script, so npm packs as publish does.
	const env = Object.fromEntries(
		Object.entries(process.env).filter(([variable]) => !/^npm_config_/i.test(variable)),
	);
	const { stdout } = await run(
		'npm',
		['pack', '--json', '--pack-destination', workDir, '--loglevel=error'],
		{ cwd: packageDir, env, maxBuffer: 64 * 1024 * 1024 },
	);
	const [packed] = JSON.parse(stdout) as Array<{ filename: string }>;
	const tarball = join(workDir, packed.filename);
	// Unpacked as the scanner unpacks a downloaded tarball: the package/ folder's contents.
	const unpacked = join(workDir, 'unpacked');
	await mkdir(unpacked);
	await run('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1']);
	return [packed.filename, unpacked];
}

/** Problems that would stop the scanner finding this source, or npm accepting the provenance. */
function provenanceProblems(
	scanner: Scanner,
	packageDir: string,
	packageJson: PackageJson,
): string[] {
	const repository = repositoryOf(packageJson);
	if (typeof repository === 'string') return [repository];
	const problems = linkProblems(packageJson, repository);

	// The attestation a tag build in that repository gets; the scanner reads the source from it.
	const statement = {
		predicate: {
			buildDefinition: {
				resolvedDependencies: [
					{
						uri: `git+https://github.com/${repository.owner}/${repository.repo}@refs/tags/v${packageJson.version}`,
						digest: { gitCommit: '0'.repeat(40) },
					},
				],
			},
		},
	};
	const attested = scanner.parseSourceRepo([
		{
			predicateType: scanner.NPM_PROVENANCE_PREDICATE_TYPE ?? 'https://slsa.dev/provenance/v1',
			bundle: {
				dsseEnvelope: { payload: Buffer.from(JSON.stringify(statement)).toString('base64') },
			},
		},
	]);
	if (!attested || !sameRepository(attested, repository)) {
		problems.push(
			`the scanner would not find github.com/${repository.owner}/${repository.repo} in this package's provenance`,
		);
	}
	const root = scanner.findPackageRoot(packageDir, packageJson.name);
	if (!root || resolve(root) !== resolve(packageDir)) {
		problems.push(
			`the scanner would take ${root ? relative(packageDir, root) || '.' : 'nothing'} for the source of ${packageJson.name}: the first package.json it finds with that name must be this one`,
		);
	}
	return problems;
}

export async function scanPackage(packageDir: string): Promise<ScanReport> {
	const scanner = await loadScanner();
	const packageJson = readPackageJson(packageDir);
	const legs: ScanLeg[] = [];

	legs.push(
		await lintLeg(
			scanner,
			`source: ${scanner.SOURCE_FILE_PATTERNS.join(', ')}`,
			packageDir,
			scanner.SOURCE_FILE_PATTERNS,
			'',
		),
	);

	const workDir = await mkdtemp(join(tmpdir(), 'n8n-scan-'));
	try {
		const [tarballName, unpacked] = await packAndUnpack(packageDir, workDir);
		const declared = [...(packageJson.n8n?.nodes ?? []), ...(packageJson.n8n?.credentials ?? [])];
		const absent = declared.filter((file) => !existsSync(join(unpacked, file)));
		const leg = await lintLeg(
			scanner,
			`tarball ${tarballName}: ${TARBALL_FILE_PATTERNS.join(', ')}`,
			unpacked,
			TARBALL_FILE_PATTERNS,
			`${tarballName} › `,
		);
		if (absent.length > 0) {
			leg.passed = false;
			leg.message = `the tarball lacks ${absent.join(', ')} from package.json's n8n block; run npm run build first`;
		}
		legs.push(leg);
	} finally {
		await rm(workDir, { recursive: true, force: true });
	}

	const problems = provenanceProblems(scanner, packageDir, packageJson);
	legs.push({
		name: 'provenance source and links: package.json repository, homepage, bugs, author',
		passed: problems.length === 0,
		message: problems.length > 0 ? problems.join('; ') : undefined,
	});

	return {
		scannerVersion: scannerVersion ?? 'unknown',
		lintStack: [
			'eslint',
			'@n8n/eslint-plugin-community-nodes',
			'eslint-plugin-n8n-nodes-base',
			'@typescript-eslint/parser',
		].map((name) => `${name} ${lintStackVersion(name)}`),
		legs,
		passed: legs.every((leg) => leg.passed),
	};
}

async function main(): Promise<void> {
	const { values } = parseArgs({ options: { dir: { type: 'string' } } });
	const packageDir = resolve(values.dir ?? join(__dirname, '..', '..'));
	const report = await scanPackage(packageDir);

	console.log(`n8n community-package scan, offline: ${scannerPackage} ${report.scannerVersion}`);
	console.log(`  with ${report.lintStack.join(', ')}`);
	for (const leg of report.legs) {
		const count = leg.files === undefined ? '' : ` (${leg.files} files)`;
		console.log(`${leg.passed ? '✅' : '❌'} ${leg.name}${count}`);
		if (!leg.passed && leg.message) console.log(`   ${leg.message}`);
		if (leg.details) console.log(leg.details.replace(/^\n/, ''));
	}
	if (!report.passed) {
		console.log('❌ the scan failed: fix the findings above before publishing');
		process.exitCode = 1;
		return;
	}
	console.log('✅ the package passes the checks of n8n’s scanner that run before publishing');
}

if (require.main === module) {
	main().catch((error: unknown) => {
		console.error(error instanceof Error ? error.message : error);
		process.exitCode = 2;
	});
}
