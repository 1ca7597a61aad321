// tsx dev/release/releaseNotes.ts <version> > release-notes.md
//
// The notes of one release, taken from CHANGELOG.md's dated section `## [<version>] - YYYY-MM-DD`
// (Keep a Changelog). publish.yml refuses to publish a version that has none, so every release's
// notes are written before the tag is pushed, and the GitHub release says what the CHANGELOG says.
// A tag pushed while the changes still sit under [Unreleased] (or under an undated heading) is
// refused with what to change.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DATED_SECTION = /^## \[(?<version>[^\]]+)\] - (?<date>\d{4}-\d{2}-\d{2})\s*$/;
const ANY_SECTION = /^## \[(?<version>[^\]]+)\]/;

/** The trimmed body of the first section whose heading passes `isHeading`; undefined if none. */
function sectionBody(changelog: string, isHeading: (line: string) => boolean): string | undefined {
	const lines = changelog.split('\n');
	const start = lines.findIndex(isHeading);
	if (start === -1) return undefined;
	const next = lines.findIndex((line, index) => index > start && line.startsWith('## '));
	return lines
		.slice(start + 1, next === -1 ? undefined : next)
		.join('\n')
		.trim();
}

const datedHeadingOf = (version: string) => (line: string) =>
	DATED_SECTION.exec(line)?.groups?.version === version;

/** The body of `version`'s dated section, trimmed; undefined when there is none (or it is empty). */
export function releaseNotes(changelog: string, version: string): string | undefined {
	const body = sectionBody(changelog, datedHeadingOf(version));
	return body === '' ? undefined : body;
}

/** Why `version` has no release notes in `changelog`, and what to change; undefined when it has. */
export function missingReleaseNotes(changelog: string, version: string): string | undefined {
	if (releaseNotes(changelog, version) !== undefined) return undefined;
	const heading = `"## [${version}] - YYYY-MM-DD"`;
	const section = (name: string) =>
		sectionBody(changelog, (line) => ANY_SECTION.exec(line)?.groups?.version === name);
	if (sectionBody(changelog, datedHeadingOf(version)) !== undefined) {
		return `CHANGELOG.md's section ${heading} is empty`;
	}
	if (section(version) !== undefined) {
		return `CHANGELOG.md's section for ${version} is not dated: its heading must read ${heading}`;
	}
	if (section('Unreleased')) {
		return `CHANGELOG.md has no dated section ${heading}: its notes are still under [Unreleased]; rename that heading to ${heading} (with the release date), commit, and tag that commit`;
	}
	return `CHANGELOG.md has no dated section ${heading} with notes`;
}

function main(): void {
	const [version, ...rest] = process.argv.slice(2);
	if (!version || rest.length > 0) {
		console.error('Usage: tsx dev/release/releaseNotes.ts <version>');
		process.exitCode = 2;
		return;
	}
	const changelog = readFileSync(join(__dirname, '..', '..', 'CHANGELOG.md'), 'utf8');
	const missing = missingReleaseNotes(changelog, version);
	if (missing !== undefined) {
		console.error(`❌ ${missing}; not publishing`);
		process.exitCode = 1;
		return;
	}
	process.stdout.write(`${releaseNotes(changelog, version)}\n`);
}

if (require.main === module) main();
