// tsx dev/release/releaseNotes.ts <version> > release-notes.md
//
// The notes of one release, taken from CHANGELOG.md's dated section `## [<version>] - YYYY-MM-DD`
// (Keep a Changelog). publish.yml refuses to publish a version that has none, so every release's
// notes are written before the tag is pushed, and the GitHub release says what the CHANGELOG says.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DATED_SECTION = /^## \[(?<version>[^\]]+)\] - (?<date>\d{4}-\d{2}-\d{2})\s*$/;

/** The body of `version`'s dated section, trimmed; undefined when there is none (or it is empty). */
export function releaseNotes(changelog: string, version: string): string | undefined {
	const lines = changelog.split('\n');
	const start = lines.findIndex((line) => DATED_SECTION.exec(line)?.groups?.version === version);
	if (start === -1) return undefined;
	const next = lines.findIndex((line, index) => index > start && line.startsWith('## '));
	const body = lines
		.slice(start + 1, next === -1 ? undefined : next)
		.join('\n')
		.trim();
	return body === '' ? undefined : body;
}

function main(): void {
	const [version, ...rest] = process.argv.slice(2);
	if (!version || rest.length > 0) {
		console.error('Usage: tsx dev/release/releaseNotes.ts <version>');
		process.exitCode = 2;
		return;
	}
	const changelog = readFileSync(join(__dirname, '..', '..', 'CHANGELOG.md'), 'utf8');
	const notes = releaseNotes(changelog, version);
	if (notes === undefined) {
		console.error(
			`❌ CHANGELOG.md has no dated section "## [${version}] - YYYY-MM-DD" with notes; not publishing`,
		);
		process.exitCode = 1;
		return;
	}
	process.stdout.write(`${notes}\n`);
}

if (require.main === module) main();
