const { task, src, dest, parallel } = require('gulp');

task('build:icons', copyIcons);
task('build:entry', copyEntry);
task('build:assets', parallel('build:icons', 'build:entry'));

// The package ships dist/ only (package.json "files"), so its entry point is copied there too.
function copyEntry() {
	return src('index.js').pipe(dest('dist'));
}

// tsc emits only code. The nodes and the credential name their icons relative to their compiled
// files (file:../../icons/truv.svg from dist/nodes/<Node>/, file:../icons/truv.svg from
// dist/credentials/), so the one copy in icons/ goes to dist/icons/. The stream is returned, so
// that gulp waits for the copy before the build counts as done.
function copyIcons() {
	return src('icons/*.{png,svg}', { encoding: false }).pipe(dest('dist/icons'));
}
