// tsx dev/release/checkReleaseTag.ts v0.1.0
//
// publish.yml's gate before `npm publish`: the pushed tag must be `v` + package.json's version, as
// npm publishes package.json's version whatever the tag says. In GitHub Actions it also refuses a
// package.json whose repository is not the one the workflow runs in (GITHUB_REPOSITORY), which npm
// would reject when it checks the provenance. With GITHUB_OUTPUT set it writes the version and the
// dist-tag for the publish step: a prerelease (1.0.0-rc.1) goes to `next`, as npm refuses to publish
// one under the default `latest` without --tag.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

import { readPackageJson, repositoryOf, sameRepository } from './packageMetadata';

export interface TagCheck {
	ok: boolean;
	message: string;
	version: string;
	distTag: 'latest' | 'next';
}

export function checkReleaseTag(
	tag: string,
	packageDir: string,
	githubRepository = process.env.GITHUB_REPOSITORY,
): TagCheck {
	const packageJson = readPackageJson(packageDir);
	const { version } = packageJson;
	const distTag = /^\d+\.\d+\.\d+-/.test(version) ? 'next' : 'latest';
	const refuse = (message: string): TagCheck => ({ ok: false, message, version, distTag });

	if (tag !== `v${version}`) {
		return refuse(
			`tag ${tag} does not name package.json's version ${version} (expected v${version}); not publishing`,
		);
	}
	if (githubRepository) {
		const repository = repositoryOf(packageJson);
		if (typeof repository === 'string') return refuse(`${repository}; not publishing`);
		const [owner = '', repo = ''] = githubRepository.split('/');
		if (!sameRepository(repository, { owner, repo })) {
			return refuse(
				`package.json's repository is github.com/${repository.owner}/${repository.repo} but this workflow runs in ${githubRepository}; npm would reject the provenance, not publishing`,
			);
		}
	}
	return {
		ok: true,
		message: `tag ${tag} matches ${packageJson.name}@${version}; publishing under the ${distTag} dist-tag`,
		version,
		distTag,
	};
}

function main(): void {
	const [tag, ...rest] = process.argv.slice(2);
	if (!tag || rest.length > 0) {
		console.error('Usage: tsx dev/release/checkReleaseTag.ts v<version>');
		process.exitCode = 2;
		return;
	}
	const result = checkReleaseTag(tag, join(__dirname, '..', '..'));
	if (!result.ok) {
		console.error(`❌ ${result.message}`);
		process.exitCode = 1;
		return;
	}
	console.log(`✅ ${result.message}`);
	if (process.env.GITHUB_OUTPUT) {
		appendFileSync(
			process.env.GITHUB_OUTPUT,
			`version=${result.version}\ndist-tag=${result.distTag}\n`,
		);
	}
}

if (require.main === module) main();
