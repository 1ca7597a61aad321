// What the release checks read from package.json: the version a tag must name, and the GitHub
// repository that npm provenance attests. npm rejects a provenance publish whose repository.url
// differs from the repository the workflow runs in, and n8n's scanner fetches the attested
// repository's source, so every link in package.json has to name that same repository.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { PackageJson } from '../n8n/communityPackage';

export interface GitHubRepository {
	owner: string;
	repo: string;
}

export function readPackageJson(packageDir: string): PackageJson {
	return JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as PackageJson;
}

/** The GitHub owner/repo of package.json's `repository` (object or shorthand), or an error text. */
export function repositoryOf(packageJson: PackageJson): GitHubRepository | string {
	const field = packageJson.repository;
	const url = typeof field === 'string' ? field : (field as { url?: unknown } | undefined)?.url;
	if (typeof url !== 'string' || !url) return 'package.json has no repository.url';
	const match =
		/^(?:git\+)?https:\/\/github\.com\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(
			url,
		) ?? /^(?:github:)?([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(url);
	if (!match) {
		return `repository.url ${url} is not a https://github.com/<owner>/<repo> URL; npm provenance and n8n's scanner only attest GitHub repositories here`;
	}
	return { owner: match[1], repo: match[2] };
}

export function sameRepository(a: GitHubRepository, b: GitHubRepository): boolean {
	// GitHub owner and repository names are case-insensitive.
	return (
		a.owner.toLowerCase() === b.owner.toLowerCase() && a.repo.toLowerCase() === b.repo.toLowerCase()
	);
}

/**
 * Problems with package.json's links: homepage, bugs and author.url must point into the repository
 * that repository.url names, so the package page, the issue tracker and the provenance agree.
 */
export function linkProblems(packageJson: PackageJson, repository: GitHubRepository): string[] {
	const problems: string[] = [];
	const base = `https://github.com/${repository.owner}/${repository.repo}`.toLowerCase();
	const inRepository = (url: unknown): boolean => {
		if (typeof url !== 'string') return false;
		const lower = url.toLowerCase();
		return lower === base || lower.startsWith(`${base}/`) || lower.startsWith(`${base}#`);
	};

	if (!inRepository(packageJson.homepage)) {
		problems.push(`homepage ${String(packageJson.homepage)} is not in ${base}`);
	}
	const bugs = packageJson.bugs as { url?: unknown } | string | undefined;
	const bugsUrl = typeof bugs === 'string' ? bugs : bugs?.url;
	if (!inRepository(bugsUrl)) problems.push(`bugs.url ${String(bugsUrl)} is not in ${base}`);

	// author.url is optional; when given it names the repository's owner (or the repository).
	const author = packageJson.author;
	const authorUrl = typeof author === 'object' ? (author as { url?: unknown }).url : undefined;
	const ownerUrl = `https://github.com/${repository.owner}`.toLowerCase();
	if (
		authorUrl !== undefined &&
		!(typeof authorUrl === 'string' && authorUrl.toLowerCase().replace(/\/$/, '') === ownerUrl) &&
		!inRepository(authorUrl)
	) {
		problems.push(`author.url ${String(authorUrl)} is neither ${ownerUrl} nor in ${base}`);
	}
	return problems;
}
