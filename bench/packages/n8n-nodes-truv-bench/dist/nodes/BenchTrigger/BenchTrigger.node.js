'use strict';
// Plain JavaScript on purpose: this package has no build step, so the harness can pack and install
// it before the real node compiles, and its cost per request is as low as a trigger's can be.
Object.defineProperty(exports, '__esModule', { value: true });
exports.BenchTrigger = void 0;

class BenchTrigger {
	constructor() {
		this.description = {
			displayName: 'Truv Bench Trigger',
			name: 'benchTrigger',
			icon: 'file:benchTrigger.svg',
			group: ['trigger'],
			version: 1,
			description: 'Benchmark ceiling: starts a workflow with the posted JSON body, nothing else',
			defaults: { name: 'Bench Trigger' },
			inputs: [],
			outputs: ['main'],
			webhooks: [
				{
					name: 'default',
					httpMethod: 'POST',
					responseMode: 'onReceived',
					// Without it n8n 2.x answers the literal text 'firstEntryJson' (the default of
					// responseData) instead of webhookResponse; an empty value lets webhookResponse through.
					responseData: '',
					path: 'webhook',
				},
			],
			properties: [
				{
					displayName: 'Report Module Resolution',
					name: 'reportModuleResolution',
					type: 'boolean',
					default: false,
					description:
						'Whether to add where require() finds zod and n8n-workflow to the item, to prove that a community package gets them from n8n',
				},
			],
		};
	}

	async webhook() {
		const body = this.getBodyData();
		const json = body !== null && typeof body === 'object' && !Array.isArray(body) ? { ...body } : { body };
		if (this.getNodeParameter('reportModuleResolution', false)) {
			json.moduleResolution = {
				zod: require.resolve('zod'),
				zodVersion: readVersion('zod'),
				zodUsable: typeof require('zod').z.object === 'function',
				n8nWorkflow: require.resolve('n8n-workflow'),
				n8nWorkflowVersion: readVersion('n8n-workflow'),
			};
		}
		return {
			webhookResponse: { received: true },
			workflowData: [[{ json }]],
		};
	}
}

function readVersion(moduleName) {
	try {
		return require(`${moduleName}/package.json`).version;
	} catch {
		return undefined;
	}
}

exports.BenchTrigger = BenchTrigger;
