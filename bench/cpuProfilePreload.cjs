'use strict';
// `npm run bench:n8n -- --cpu-prof` loads this into n8n with NODE_OPTIONS=--require: V8's CPU
// profiler through the inspector, since Node 20 refuses --cpu-prof in NODE_OPTIONS. The profile of
// the main thread is written to $BENCH_CPU_PROF_DIR when the process exits.
const inspector = require('node:inspector');
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const directory = process.env.BENCH_CPU_PROF_DIR;
if (directory) {
	const session = new inspector.Session();
	session.connect();
	// Calls on a session in the same thread complete synchronously, also in an exit handler.
	session.post('Profiler.enable');
	session.post('Profiler.setSamplingInterval', { interval: 1000 });
	session.post('Profiler.start');
	process.on('exit', () => {
		session.post('Profiler.stop', (error, result) => {
			if (error || !result) return;
			mkdirSync(directory, { recursive: true });
			const name = `CPU.${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}.${process.pid}.cpuprofile`;
			writeFileSync(join(directory, name), JSON.stringify(result.profile));
		});
	});
}
