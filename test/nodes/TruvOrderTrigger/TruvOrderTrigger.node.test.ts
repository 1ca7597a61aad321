import { existsSync, readdirSync, readFileSync } from 'fs';
import { join } from 'path';

import { TruvOrderTrigger } from '../../../nodes/TruvOrderTrigger/TruvOrderTrigger.node';
import packageJson from '../../../package.json';

const nodeDir = join(__dirname, '..', '..', '..', 'nodes', 'TruvOrderTrigger');
const { description } = new TruvOrderTrigger();

describe('Truv Order Trigger description', () => {
	test('has three outputs in the fixed order of the order events', () => {
		expect(description.inputs).toEqual([]);
		expect(description.outputs).toEqual(['main', 'main', 'main']);
		expect(description.outputNames).toEqual([
			'Order Created',
			'Order Status Updated',
			'Order Refresh Failed',
		]);
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
		expect(description.icon).toEqual({ light: 'file:truv.svg', dark: 'file:truv.dark.svg' });
		for (const icon of ['truv.svg', 'truv.dark.svg']) {
			expect(readFileSync(join(nodeDir, icon), 'utf8')).toMatch(/^<svg /);
		}
	});

	test('has a whole version above 1, which the examples and the codex use', () => {
		// n8n up to 2.40 stores node versions in an integer column on PostgreSQL (1.1 fails to
		// install there), and evaluates a legacy expression per delivery for version-1 triggers.
		expect(Number.isInteger(description.version)).toBe(true);
		expect(description.version).toBeGreaterThan(1);
		const codex = JSON.parse(readFileSync(join(nodeDir, 'TruvOrderTrigger.node.json'), 'utf8'));
		expect(codex.nodeVersion).toBe(`${String(description.version)}.0`);
		const examplesDir = join(__dirname, '..', '..', '..', 'examples');
		for (const file of readdirSync(examplesDir).filter((name) => name.endsWith('.json'))) {
			const workflow = JSON.parse(readFileSync(join(examplesDir, file), 'utf8'));
			const triggers = workflow.nodes.filter((node: { type: string }) => node.type === codex.node);
			expect({
				file,
				versions: triggers.map((node: { typeVersion: number }) => node.typeVersion),
			}).toEqual({ file, versions: [description.version] });
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
