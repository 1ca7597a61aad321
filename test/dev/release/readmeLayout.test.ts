import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { layoutProblems } from '../../../dev/release/readmeLayout';

const repoDir = resolve(__dirname, '..', '..', '..');

const readme = (rows: string): string =>
	`# x\n\n### Layout\n\n| folder | what |\n|---|---|\n${rows}\n\n## Next\n\n| \`gone.ts\` | x |\n`;

describe("the README's Layout section", () => {
	it('describes the tree as git tracks it', () => {
		const tracked = execFileSync('git', ['ls-files'], { cwd: repoDir, encoding: 'utf8' })
			.split('\n')
			.filter((file) => file.length > 0);
		const text = readFileSync(resolve(repoDir, 'README.md'), 'utf8');
		expect(layoutProblems(text, tracked)).toEqual([]);
	});

	it('reports a named file that does not exist and a shipped file it does not name', () => {
		const tracked = ['nodes/A/a.ts', 'nodes/A/b.ts', 'nodes/B/actions/x.ts', 'dev/n8n/y.ts'];
		expect(
			layoutProblems(
				readme('| `nodes/A/` | `a.ts`, `c.ts` and `dev/n8n/` |\n| `nodes/B/` | `actions/` |'),
				tracked,
			),
		).toEqual([
			'c.ts: named in the layout, not in the tree',
			'nodes/A/b.ts: ships but the layout does not name it',
		]);
	});

	it('counts a folder whose row names nothing in it as described whole', () => {
		expect(layoutProblems(readme('| `nodes/A/` | the A node |'), ['nodes/A/a.ts'])).toEqual([]);
	});
});
