import { existsSync, readdirSync, readFileSync } from 'fs';
import { join } from 'path';

import type { INodeParameters } from 'n8n-workflow';
import { NodeHelpers } from 'n8n-workflow';

import { TruvOrderTrigger } from '../../../nodes/TruvOrderTrigger/TruvOrderTrigger.node';
import { hookContext, NODE_NAME } from '../../../dev/n8n-core/n8nContexts';
import packageJson from '../../../package.json';

const nodeDir = join(__dirname, '..', '..', '..', 'nodes', 'TruvOrderTrigger');
const { description } = new TruvOrderTrigger();

/** The outputs as n8n computes them for a trigger with these parameters (as the editor does). */
function outputsFor(parameters: INodeParameters) {
	const { workflow } = hookContext({ parameters });
	return NodeHelpers.getNodeOutputs(workflow, workflow.getNode(NODE_NAME)!, description);
}

const ORDER_OUTPUTS = [
	{ type: 'main', displayName: 'Created' },
	{ type: 'main', displayName: 'Status' },
	{ type: 'main', displayName: 'Refresh Failed' },
];

describe('Truv Order Trigger description', () => {
	test('has the three order outputs in the fixed order of the order events', () => {
		expect(description.inputs).toEqual([]);
		expect(outputsFor({})).toEqual(ORDER_OUTPUTS);
		expect(
			outputsFor({ events: ['order-refresh-failed', 'order-created', 'order-status-updated'] }),
		).toEqual(ORDER_OUTPUTS);
		expect(outputsFor({ events: ['order-created'] })).toEqual(ORDER_OUTPUTS);
	});

	test('adds Connection Failed as output 3 only while it is selected in Events', () => {
		const withConnectionFailed = [...ORDER_OUTPUTS, { type: 'main', displayName: 'No Connection' }];
		expect(outputsFor({ events: ['order-created', 'task-status-updated'] })).toEqual(
			withConnectionFailed,
		);
		expect(outputsFor({ events: ['task-status-updated'] })).toEqual(withConnectionFailed);
		expect(description.outputNames).toEqual([
			'Created',
			'Status',
			'Refresh Failed',
			'No Connection',
		]);
	});

	test('lists Events in the order of the outputs they go to, each naming its output', () => {
		const events = description.properties.find((p) => p.name === 'events');
		const outputs = outputsFor({ events: ['task-status-updated'] }) as Array<{
			displayName: string;
		}>;
		expect(events?.options?.map((option) => 'value' in option && option.value)).toEqual([
			'order-created',
			'order-status-updated',
			'order-refresh-failed',
			'task-status-updated',
		]);
		events?.options?.forEach((option, index) => {
			expect('description' in option && option.description).toContain(
				`Output: ${outputs[index].displayName}.`,
			);
		});
	});

	test('says how many events it listens for in its subtitle', () => {
		const subtitle = String(description.subtitle);
		const evaluate = (events: string[]) => {
			const { workflow } = hookContext({ parameters: { events } });
			const node = workflow.getNode(NODE_NAME)!;
			return workflow.expression.getSimpleParameterValue(node, subtitle, 'internal', {});
		};
		expect(evaluate(['order-created'])).toBe('1 event');
		expect(evaluate(['order-created', 'order-refresh-failed'])).toBe('2 events');
	});

	test('is called Truv Trigger in the node list, so that n8n names the service Truv', () => {
		expect(description.displayName).toBe('Truv Trigger');
		expect(description.defaults.name).toBe('Truv Order Trigger');
	});

	test('says in the output panel, in one clause, that n8n gives pinned data to the first output', () => {
		expect(description.hints).toEqual([
			expect.objectContaining({
				location: 'outputPane',
				whenToDisplay: 'afterExecution',
				message:
					"Pinned data always goes to the first output (Created): for another branch, don't pin.",
			}),
		]);
	});

	test('shows the pinned-data hint only when Events can send an event to another output than Created', () => {
		const condition = String(description.hints?.[0].displayCondition);
		// As n8n's editor evaluates it after an execution (NodeHelpers.getNodeHints).
		const shown = (events?: string[]) => {
			const { workflow } = hookContext({ parameters: events ? { events } : {} });
			return workflow.expression.getParameterValue(
				condition,
				null,
				0,
				0,
				NODE_NAME,
				[],
				'manual',
				{},
			);
		};
		expect(shown(['order-created'])).toBe(false);
		expect(shown(['order-created', 'order-status-updated'])).toBe(true);
		expect(shown(['task-status-updated'])).toBe(true);
		// The default Events: the three order events.
		expect(shown()).toBe(true);
	});

	test('says that Connection Failed has Truv send every task progress event, each acknowledged', () => {
		const events = description.properties.find((p) => p.name === 'events');
		const connectionFailed = events?.options?.find(
			(option) => 'value' in option && option.value === 'task-status-updated',
		);
		const text = String(
			connectionFailed && 'description' in connectionFailed && connectionFailed.description,
		);
		expect(text).toContain('every step of every connection attempt (new, login, parse, done');
		expect(text).toContain('the trigger acknowledges without starting the workflow');
	});

	test('offers Test Event: waiting for Truv by default, or a sample of one of the Events', () => {
		const testEvent = description.properties.find((p) => p.name === 'testEvent');
		const sampleEvent = description.properties.find((p) => p.name === 'sampleEventType');
		expect(testEvent?.default).toBe('delivery');
		expect(testEvent?.options?.map((option) => 'value' in option && option.value)).toEqual([
			'delivery',
			'sample',
		]);
		const events = description.properties.find((p) => p.name === 'events');
		expect(sampleEvent?.options?.map((option) => 'value' in option && option.value)).toEqual(
			events?.options?.map((option) => 'value' in option && option.value),
		);
		expect(sampleEvent?.displayOptions).toEqual({ show: { testEvent: ['sample'] } });
	});

	test('offers Connection Failed (task-status-updated) in Events, not selected by default', () => {
		const events = description.properties.find((p) => p.name === 'events');
		expect(events?.options).toContainEqual(
			expect.objectContaining({ name: 'Connection Failed', value: 'task-status-updated' }),
		);
		expect(events?.default).not.toContain('task-status-updated');
	});

	test('offers Include Order Details, off by default', () => {
		const options = description.properties.find((p) => p.name === 'options');
		expect(options?.options).toContainEqual(
			expect.objectContaining({ name: 'includeOrderDetails', type: 'boolean', default: false }),
		);
	});

	test('receives POST deliveries; n8n answers with the acknowledgement the node returns', () => {
		expect(description.webhooks).toEqual([
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				responseData: '',
				path: 'webhook',
			},
		]);
	});

	test('defaults to every order event, automatic registration and signature checks', () => {
		const defaults = Object.fromEntries(description.properties.map((p) => [p.name, p.default]));
		expect(defaults.events).toEqual([
			'order-created',
			'order-status-updated',
			'order-refresh-failed',
		]);
		expect(defaults.registration).toBe('automatic');
		expect(defaults.verifySignature).toBe(true);
	});

	test('warns when signature checks are turned off', () => {
		const warning = description.properties.find((p) => p.name === 'signatureWarning');
		expect(warning?.type).toBe('notice');
		expect(warning?.displayOptions?.show?.verifySignature).toEqual([false]);
	});

	test('uses the Truv API credential and its own light and dark icons', () => {
		expect(description.credentials).toEqual([{ name: 'truvApi', required: true }]);
		expect(description.icon).toEqual({
			light: 'file:../../icons/truv.svg',
			dark: 'file:../../icons/truv.dark.svg',
		});
		for (const icon of ['../../icons/truv.svg', '../../icons/truv.dark.svg']) {
			expect(readFileSync(join(nodeDir, icon), 'utf8')).toMatch(/^<svg /);
		}
	});

	test('has a whole version above 1, which the codex and every example trigger use', () => {
		// n8n up to 2.40 stores node versions in an integer column on PostgreSQL (1.1 fails to
		// install there), and evaluates a legacy expression per delivery for version-1 triggers.
		expect(Number.isInteger(description.version)).toBe(true);
		expect(description.version).toBeGreaterThan(1);
		const codex = JSON.parse(readFileSync(join(nodeDir, 'TruvOrderTrigger.node.json'), 'utf8'));
		expect(codex.nodeVersion).toBe(`${String(description.version)}.0`);
		const examplesDir = join(__dirname, '..', '..', '..', 'examples');
		let triggerCount = 0;
		// Some examples use only the Truv node: they have no trigger to check.
		for (const file of readdirSync(examplesDir).filter((name) => name.endsWith('.json'))) {
			const workflow = JSON.parse(readFileSync(join(examplesDir, file), 'utf8'));
			const versions = workflow.nodes
				.filter((node: { type: string }) => node.type === codex.node)
				.map((node: { typeVersion: number }) => node.typeVersion);
			expect({ file, versions }).toEqual({
				file,
				versions: versions.map(() => description.version),
			});
			triggerCount += versions.length;
		}
		expect(triggerCount).toBeGreaterThan(0);
	});

	test('ships examples without webhookId, so that each import gets a URL of its own', () => {
		const examplesDir = join(__dirname, '..', '..', '..', 'examples');
		const files = readdirSync(examplesDir).filter((name) => name.endsWith('.json'));
		expect(files.length).toBeGreaterThan(0);
		for (const file of files) {
			const workflow = JSON.parse(readFileSync(join(examplesDir, file), 'utf8'));
			const withIds = workflow.nodes
				.filter((node: Record<string, unknown>) => 'webhookId' in node)
				.map((node: { name: string }) => node.name);
			expect({ file, withIds }).toEqual({ file, withIds: [] });
		}
	});

	test('ships examples that link to no Truv address: Truv documents none for an order', () => {
		const examplesDir = join(__dirname, '..', '..', '..', 'examples');
		for (const file of readdirSync(examplesDir).filter((name) => name.endsWith('.json'))) {
			const truvAddresses = readFileSync(join(examplesDir, file), 'utf8').match(
				/https?:\/\/[a-z0-9.-]*truv\.com[^\s"]*/gi,
			);
			expect({ file, truvAddresses }).toEqual({ file, truvAddresses: null });
		}
	});

	test('has a codex in Finance & Accounting with documentation links', () => {
		const codex = JSON.parse(readFileSync(join(nodeDir, 'TruvOrderTrigger.node.json'), 'utf8'));
		expect(codex.node).toBe(`${packageJson.name}.${description.name}`);
		expect(codex.categories).toEqual(['Finance & Accounting']);
		expect(codex.resources.primaryDocumentation.length).toBeGreaterThan(0);
		expect(codex.resources.credentialDocumentation.length).toBeGreaterThan(0);
	});

	test('explains the test and production URLs in the trigger panel', () => {
		const panel = description.triggerPanel as {
			executionsHelp: { inactive: string; active: string };
		};
		expect(panel.executionsHelp.inactive).toMatch(/test URL/);
		expect(panel.executionsHelp.inactive).toMatch(/production URL/);
	});

	test('is registered in package.json', () => {
		expect(packageJson.n8n.nodes).toContain('dist/nodes/TruvOrderTrigger/TruvOrderTrigger.node.js');
		expect(existsSync(join(nodeDir, 'TruvOrderTrigger.node.ts'))).toBe(true);
	});
});
