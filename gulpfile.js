const path = require('path');
const { task, src, dest, parallel } = require('gulp');

task('build:icons', copyIcons);
task('build:entry', copyEntry);
task('build:assets', parallel('build:icons', 'build:entry'));

// The package ships dist/ only (package.json "files"), so its entry point is copied there too.
function copyEntry() {
	return src('index.js').pipe(dest('dist'));
}

// tsc emits only code; n8n loads node and credential icons from beside the compiled files.
function copyIcons() {
	const nodeSource = path.resolve('nodes', '**', '*.{png,svg}');
	const nodeDestination = path.resolve('dist', 'nodes');
	src(nodeSource, { encoding: false }).pipe(dest(nodeDestination));

	const credSource = path.resolve('credentials', '**', '*.{png,svg}');
	const credDestination = path.resolve('dist', 'credentials');
	return src(credSource, { encoding: false }).pipe(dest(credDestination));
}
