// n8n's own redaction of the output fields a node lists in `sensitiveOutputFields`
// (NodeDefinedFieldRedactionStrategy in n8n's redaction module, 2.41.1), applied to an execution
// as the harness read it from n8n: run in the runtime's Node, from the runtime's n8n, so that a
// test sees what n8n would show where it applies the strategy. n8n 2.41.1 ships the strategy but
// puts it in none of its redaction pipelines, so its API serves the data unredacted.
import { execFile } from 'node:child_process';
import { join } from 'node:path';

import type { ExecutionData } from './n8nClient';
import type { N8nRuntime } from './runtimes';

const STRATEGY_FILE = join(
	'node_modules',
	'n8n',
	'dist',
	'modules',
	'redaction',
	'executions',
	'strategies',
	'node-defined-field-redaction.strategy.js',
);

// Reads {runtimeDir, execution, fieldsByType} on stdin, writes the redacted execution data. The
// node types are looked up in fieldsByType: the descriptions as the caller got them from n8n.
const SCRIPT = `
const { join } = require('node:path');
let input = '';
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', async () => {
	const { runtimeDir, strategyFile, execution, fieldsByType } = JSON.parse(input);
	require(join(runtimeDir, 'node_modules', 'reflect-metadata'));
	const { NodeDefinedFieldRedactionStrategy } = require(join(runtimeDir, strategyFile));
	const logger = { warn: (message) => process.stderr.write(message + '\\n') };
	const nodeTypes = {
		getByNameAndVersion(type) {
			if (!(type in fieldsByType)) throw new Error('unknown node type ' + type);
			return { description: { sensitiveOutputFields: fieldsByType[type] } };
		},
	};
	const strategy = new NodeDefinedFieldRedactionStrategy(logger, nodeTypes);
	await strategy.apply(execution, { memo: new Map() });
	process.stdout.write(JSON.stringify(execution.data));
});
`;

/**
 * The execution data as n8n's NodeDefinedFieldRedactionStrategy leaves it: each node's output
 * items with the paths its type lists replaced by n8n's marker. `nodes` are the workflow's nodes
 * (name, type, typeVersion); `fieldsByType` every type's `sensitiveOutputFields` (empty for none).
 */
export async function applyNodeDefinedRedaction(
	runtime: N8nRuntime,
	data: ExecutionData,
	nodes: Array<Record<string, unknown>>,
	fieldsByType: Record<string, string[]>,
): Promise<ExecutionData> {
	const input = JSON.stringify({
		runtimeDir: runtime.dir,
		strategyFile: STRATEGY_FILE,
		execution: { workflowData: { nodes }, data },
		fieldsByType,
	});
	return await new Promise((resolve, reject) => {
		const child = execFile(
			runtime.nodeBin,
			['-e', SCRIPT],
			{ env: runtime.env, maxBuffer: 64 * 1024 * 1024 },
			(error, stdout, stderr) => {
				if (error) {
					reject(new Error(`n8n's redaction strategy failed: ${stderr || error.message}`));
					return;
				}
				resolve(JSON.parse(stdout) as ExecutionData);
			},
		);
		child.stdin?.end(input);
	});
}
