// What the two GitHub workflows must keep, read from their YAML: publish.yml publishes only from a
// v* tag, with provenance, after the tag check, the release notes and every gate; ci.yml runs
// .ci/run on every push and pull request with the n8n runtimes cached by their lockfiles.
// action-validator (release.test.ts) checks the schema; this checks the meaning.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { parse } from 'yaml';

const repoDir = resolve(__dirname, '..', '..', '..');
const readWorkflow = (name: string) =>
	readFileSync(join(repoDir, '.github', 'workflows', name), 'utf8');

interface Step {
	name?: string;
	uses?: string;
	run?: string;
	with?: Record<string, unknown>;
}

interface Workflow {
	on?: Record<string, unknown>;
	permissions?: Record<string, string>;
	jobs?: Record<string, { steps?: Step[] }>;
}

/** Every step of every job, in order, each with its job's name. */
function stepsOf(workflow: Workflow): Array<{ job: string; index: number; step: Step }> {
	return Object.entries(workflow.jobs ?? {}).flatMap(([job, { steps = [] }]) =>
		steps.map((step, index) => ({ job, index, step })),
	);
}

const runs = (step: Step, command: RegExp) => command.test(step.run ?? '');

// .ci/run is the CI suite; it ends with the README's test command.
const CI_RUN = /^\s*bash \.ci\/run\s*$/m;
const RUNTIMES_CACHE_KEY =
	"n8n-runtimes-${{ runner.os }}-${{ hashFiles('dev/runtimes/**/package-lock.json', 'dev/runtimes/**/package.json') }}";

/** What is wrong with publish.yml's text, one sentence each; [] when nothing. */
function publishProblems(text: string): string[] {
	const workflow = parse(text) as Workflow;
	const problems: string[] = [];
	const triggers = JSON.stringify(workflow.on);
	if (triggers !== JSON.stringify({ push: { tags: ['v*'] } })) {
		problems.push(`triggered by ${triggers}, not only by pushed v* tags`);
	}
	if (workflow.permissions?.['id-token'] !== 'write') {
		problems.push('no `permissions: id-token: write` (provenance and trusted publishing need it)');
	}

	const steps = stepsOf(workflow);
	const publishes = steps.filter(({ step }) => runs(step, /\bnpm publish\b/));
	if (publishes.length !== 1) {
		problems.push(`${publishes.length} steps run npm publish, not one`);
		return problems;
	}
	const [publish] = publishes;
	const publishCommand = publish.step.run?.split('\n').find((line) => /\bnpm publish\b/.test(line));
	if (!/\s--provenance(\s|$)/.test(publishCommand ?? '')) {
		problems.push(`npm publish runs without --provenance: ${publishCommand?.trim()}`);
	}

	const before = steps.filter(({ job, index }) => job === publish.job && index < publish.index);
	const last = (command: RegExp) =>
		before.reduce((found, { index, step }) => (runs(step, command) ? index : found), -1);
	const required: Array<[string, RegExp]> = [
		['the tag check (dev/release/checkReleaseTag.ts)', /\bdev\/release\/checkReleaseTag\.ts\b/],
		['the release notes (dev/release/releaseNotes.ts)', /\bdev\/release\/releaseNotes\.ts\b/],
		['the test suite (bash .ci/run)', CI_RUN],
		['npm run build', /^\s*npm run build\s*$/m],
		['npm run lint', /^\s*npm run lint\s*$/m],
		['npm run scan', /^\s*npm run scan\s*$/m],
	];
	for (const [what, command] of required) {
		if (last(command) === -1) problems.push(`${what} does not run before npm publish`);
	}
	// The tag check comes first: a mistyped tag fails before anything else is spent on it.
	const tagCheck = last(required[0][1]);
	const firstRun = before.find(({ step }) => step.run !== undefined && !runs(step, /^npm ci$/));
	if (tagCheck !== -1 && firstRun?.index !== tagCheck) {
		problems.push(`the first command after npm ci is not the tag check: ${firstRun?.step.run}`);
	}
	// The gates run on the build that is published: after the suite, and then only Node's setup.
	const gates = required.slice(3).map(([, command]) => last(command));
	if (gates.some((gate) => gate !== -1 && gate < last(CI_RUN))) {
		problems.push('build, lint and scan do not all run after the test suite');
	}
	const between = before.filter(({ index }) => index > Math.max(...gates));
	for (const { step } of between) {
		if (!step.uses?.startsWith('actions/setup-node@')) {
			problems.push(`a step between the last gate and npm publish: ${step.name ?? step.run}`);
		}
	}
	return problems;
}

/** What is wrong with ci.yml's text, one sentence each; [] when nothing. */
function ciProblems(text: string): string[] {
	const workflow = parse(text) as Workflow;
	const problems: string[] = [];
	const on = workflow.on ?? {};
	if (!('pull_request' in on)) problems.push('not triggered by pull requests');
	const push = on.push as { branches?: unknown } | undefined;
	if (push === undefined || JSON.stringify(push.branches) !== JSON.stringify(['**'])) {
		problems.push(`not triggered by a push to every branch: push is ${JSON.stringify(push)}`);
	}

	const steps = stepsOf(workflow);
	const suite = steps.findIndex(({ step }) => runs(step, CI_RUN));
	if (suite === -1) problems.push('no step runs bash .ci/run');
	const cache = steps.findIndex(({ step }) => step.uses?.startsWith('actions/cache@'));
	if (cache === -1) {
		problems.push('the n8n runtimes are not cached');
	} else {
		const { path, key } = steps[cache].step.with ?? {};
		if (path !== '~/.cache/n8n-nodes-truv') problems.push(`the cache holds ${path}`);
		if (key !== RUNTIMES_CACHE_KEY) problems.push(`the cache is keyed on ${key}`);
		if (suite !== -1 && cache > suite) problems.push('the cache is restored after .ci/run');
	}
	return problems;
}

describe('publish.yml', () => {
	const text = readWorkflow('publish.yml');

	it('publishes only from a v* tag, with provenance, after the tag check and every gate', () => {
		expect(publishProblems(text)).toEqual([]);
	});

	it('would be refused without --provenance, id-token or the v* trigger', () => {
		expect(publishProblems(text.replace(' --provenance', ''))).toEqual([
			expect.stringContaining('npm publish runs without --provenance'),
		]);
		expect(publishProblems(text.replace(/^  id-token: write$/m, '  id-token: none'))).toEqual([
			'no `permissions: id-token: write` (provenance and trusted publishing need it)',
		]);
		expect(
			publishProblems(text.replace("tags: ['v*']", "tags: ['v*']\n  workflow_dispatch:")),
		).toEqual([expect.stringContaining('not only by pushed v* tags')]);
	});

	it('would be refused with a gate dropped, moved after publishing, or the tag check moved', () => {
		expect(publishProblems(text.replace('run: npm run lint', 'run: echo lint'))).toContain(
			'npm run lint does not run before npm publish',
		);
		const workflow = parse(text) as Workflow;
		const steps = workflow.jobs?.publish.steps ?? [];
		const at = (command: RegExp) => steps.findIndex((step) => runs(step, command));
		const move = (from: number, to: number) => {
			const copy = { ...workflow, jobs: { publish: { steps: [...steps] } } };
			const [moved] = copy.jobs.publish.steps.splice(from, 1);
			copy.jobs.publish.steps.splice(to, 0, moved);
			return JSON.stringify(copy);
		};
		const scanStep = at(/npm run scan/);
		expect(publishProblems(move(scanStep, steps.length - 1))).toContain(
			'npm run scan does not run before npm publish',
		);
		expect(publishProblems(move(at(/checkReleaseTag/), scanStep))).toContain(
			'the first command after npm ci is not the tag check: npx tsx dev/release/releaseNotes.ts "${{ steps.release.outputs.version }}" > release-notes.md',
		);
	});

	it("restores the runtimes from the same cache key as ci.yml's", () => {
		const cacheKeys = (name: string) =>
			stepsOf(parse(readWorkflow(name)) as Workflow)
				.filter(({ step }) => step.uses?.startsWith('actions/cache@'))
				.map(({ step }) => step.with?.key);
		expect(cacheKeys('publish.yml')).toEqual([RUNTIMES_CACHE_KEY]);
	});
});

describe('ci.yml', () => {
	const text = readWorkflow('ci.yml');

	it('runs .ci/run on every push and pull request, with the runtimes cached by their lockfiles', () => {
		expect(ciProblems(text)).toEqual([]);
	});

	it('would be refused without the pull_request trigger, .ci/run or the lockfile key', () => {
		expect(ciProblems(text.replace('  pull_request:\n', ''))).toEqual([
			'not triggered by pull requests',
		]);
		expect(ciProblems(text.replace('run: bash .ci/run', 'run: npm test'))).toEqual([
			'no step runs bash .ci/run',
		]);
		expect(ciProblems(text.replace("'dev/runtimes/**/package-lock.json', ", ''))).toEqual([
			expect.stringContaining('the cache is keyed on'),
		]);
	});
});

describe('.ci/run', () => {
	it("ends with the README's test command, so both workflows run the unit and e2e suites", () => {
		const commands = readFileSync(join(repoDir, '.ci', 'run'), 'utf8')
			.split('\n')
			.filter((line) => line.trim() !== '' && !line.startsWith('#'));
		expect(commands.at(-1)).toBe('npm test');
		expect(commands).toEqual(
			expect.arrayContaining(['npm ci', 'npm run build', 'npm run lint', 'npm run scan']),
		);
	});

	it('finds lockfiles where the cache key looks for them', () => {
		const runtimes = readFileSync(join(repoDir, 'dev', 'n8n', 'runtimes.ts'), 'utf8');
		expect(runtimes).toContain("join(homedir(), '.cache', 'n8n-nodes-truv')");
		for (const lockDir of ['n8n-2.41.1', 'n8n-2.8.4', 'n8n-1.123.x', 'node-24']) {
			expect(() =>
				readFileSync(join(repoDir, 'dev', 'runtimes', lockDir, 'package-lock.json')),
			).not.toThrow();
		}
	});
});
