// Everything the editor shows of this package comes from the node and credential descriptions (and
// the codex files): none of it may speak to the package's developers instead of n8n users.
import { readFileSync } from 'fs';
import { join } from 'path';

import { TruvApi } from '../../credentials/TruvApi.credentials';
import { Truv } from '../../nodes/Truv/Truv.node';
import { TruvOrderTrigger } from '../../nodes/TruvOrderTrigger/TruvOrderTrigger.node';

const nodesDir = join(__dirname, '..', '..', 'nodes');

/** Every string in a description, with the path it sits at. */
function strings(value: unknown, path: string): Array<[string, string]> {
	// Of an expression (the subtitle, the outputs, the credential's test request), only its quoted
	// text can end up on screen; its code never does.
	if (typeof value === 'string' && value.startsWith('=')) {
		return [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map(([, text]) => [path, text]);
	}
	if (typeof value === 'string') return [[path, value]];
	if (Array.isArray(value))
		return value.flatMap((item, index) => strings(item, `${path}[${index}]`));
	if (typeof value === 'object' && value !== null) {
		return Object.entries(value).flatMap(([key, item]) => strings(item, `${path}.${key}`));
	}
	return [];
}

const shown: Array<[string, string]> = [
	...strings(new TruvOrderTrigger().description, 'Truv Trigger'),
	...strings(new Truv().description, 'Truv'),
	...strings({ ...new TruvApi() }, 'Truv API credential'),
	...['TruvOrderTrigger/TruvOrderTrigger.node.json', 'Truv/Truv.node.json'].flatMap((file) =>
		strings(JSON.parse(readFileSync(join(nodesDir, file), 'utf8')), file),
	),
];

/**
 * Words only the package's developers would write. "test" is n8n's own word in "test URL",
 * "test event" and a credential's Test button, so only other uses count.
 */
const DEVELOPER_WORDS: Array<[string, RegExp]> = [
	['npm', /\bnpm\b/i],
	['npx', /\bnpx\b/i],
	['stand-in', /\bstand[- ]?ins?\b/i],
	['test', /\btest(?!(?: URL| event|ed\b| step\b))(?:s|ing)?\b/i],
	['jest', /\bjest\b/i],
	['e2e', /\be2e\b/i],
	['repo', /\brepo(?:sitory)?\b/i],
	['fixture', /\bfixtures?\b/i],
	['harness', /\bharness\b/i],
	['mock', /\bmock/i],
	['localhost', /\blocalhost\b|127\.0\.0\.1/i],
	['a path of this project', /\b(?:dev|scripts|test|src|dist)\//],
	['node_modules', /node_modules/],
	['send-event', /send-event/],
	['TODO', /\b(?:TODO|FIXME|XXX)\b/],
];

describe('text the editor shows', () => {
	test('holds strings to check, from both nodes and the credential', () => {
		const sources = new Set(shown.map(([path]) => path.split('.')[0]));
		expect(sources).toEqual(
			new Set([
				'Truv Trigger',
				'Truv',
				'Truv API credential',
				'TruvOrderTrigger/TruvOrderTrigger',
				'Truv/Truv',
			]),
		);
		expect(shown.length).toBeGreaterThan(100);
	});

	test.each(DEVELOPER_WORDS)('never says %s', (_word, pattern) => {
		const found = shown.filter(([, text]) => pattern.test(text));
		expect(found).toEqual([]);
	});

	test('the check catches such words', () => {
		const [, npm] = DEVELOPER_WORDS.find(([word]) => word === 'npm')!;
		const [, testWord] = DEVELOPER_WORDS.find(([word]) => word === 'test')!;
		expect(npm.test('run npm run send-event')).toBe(true);
		expect(testWord.test('a test workflow')).toBe(true);
		expect(testWord.test('listens on the test URL')).toBe(false);
		expect(strings('={{ $x.test("a test workflow") }}', 'subtitle')).toEqual([
			['subtitle', 'a test workflow'],
		]);
	});
});
