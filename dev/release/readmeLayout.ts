// Checks the README's Layout section against the tree: every path it names exists, and every
// source file that ships is named there (by itself or through its folder), so that the section
// describes the tree as it is.

/** One row of a layout table: the folders of its first cell and the paths its other cells name. */
interface LayoutRow {
	folders: string[];
	named: string[];
}

const SECTION_START = '### Layout';

function backticked(text: string): string[] {
	return [...text.matchAll(/`([^`]+)`/g)].map((match) => match[1]);
}

/** Whether a backticked word is a path (a folder or a file), not a command or a variable. */
function isPath(word: string): boolean {
	return /^[\w.-]+(\/[\w.-]*)*$/.test(word) && (word.includes('/') || /\.\w+$/.test(word));
}

function layoutRows(readme: string): LayoutRow[] {
	const start = readme.indexOf(SECTION_START);
	if (start < 0) throw new Error(`README.md has no "${SECTION_START}" section`);
	const end = readme.indexOf('\n#', start + SECTION_START.length);
	const section = readme.slice(start, end < 0 ? undefined : end);
	return section
		.split('\n')
		.filter((line) => line.startsWith('| `'))
		.map((line) => {
			const [first, ...rest] = line.split('|').slice(1, -1);
			return {
				folders: backticked(first).filter(isPath),
				named: rest.flatMap(backticked).filter(isPath),
			};
		});
}

function joinPath(folder: string, path: string): string {
	return `${folder.replace(/\/$/, '')}/${path}`;
}

/**
 * What is wrong with the Layout section, given the tracked files (`git ls-files`): paths it names
 * that do not exist, and shipped source files (`nodes/`, `credentials/`) it does not name.
 */
export function layoutProblems(readme: string, trackedFiles: string[]): string[] {
	const files = new Set(trackedFiles);
	const exists = (path: string): boolean =>
		path.endsWith('/')
			? trackedFiles.some((file) => file.startsWith(path))
			: files.has(path) || trackedFiles.some((file) => file.startsWith(`${path}/`));
	const problems: string[] = [];
	const covered: string[] = [];
	for (const row of layoutRows(readme)) {
		for (const folder of row.folders) {
			if (!exists(folder)) problems.push(`${folder}: no such folder`);
		}
		for (const path of row.named) {
			// A path is the repository's (dev/n8n/) or, within a row, its folder's (actions/).
			const candidates = [path, ...row.folders.map((folder) => joinPath(folder, path))];
			const found = candidates.find(exists);
			if (found === undefined) problems.push(`${path}: named in the layout, not in the tree`);
			else covered.push(found);
		}
		// A folder whose row names nothing in it is described as a whole.
		for (const folder of row.folders) {
			if (!covered.some((path) => path.startsWith(folder))) covered.push(folder);
		}
	}
	for (const file of trackedFiles) {
		if (!/^(nodes|credentials)\/.*\.ts$/.test(file)) continue;
		const named = covered.some((path) =>
			path.endsWith('/') ? file.startsWith(path) : file === path,
		);
		if (!named) problems.push(`${file}: ships but the layout does not name it`);
	}
	return problems;
}
