import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';

import { NodeHelpers, type INodeParameters, type INodeProperties } from 'n8n-workflow';

import { Truv } from '../../../nodes/Truv/Truv.node';
import packageJson from '../../../package.json';

const nodeDir = join(__dirname, '..', '..', '..', 'nodes', 'Truv');
const { description } = new Truv();

function operationsOf(resource: string): string[] {
	const property = description.properties.find(
		(candidate) =>
			candidate.name === 'operation' && candidate.displayOptions?.show?.resource?.[0] === resource,
	);
	return (property?.options ?? []).map((option) => (option as { value: string }).value);
}

describe('Truv node description', () => {
	test('is the regular node truv, versions 1 and 2, usable as a tool, with one input and output', () => {
		expect(description).toMatchObject({
			name: 'truv',
			displayName: 'Truv',
			version: [1, 2],
			usableAsTool: true,
			// Hidden where an execution is read (n8n versions that apply the list); see personalData.ts.
			sensitiveOutputFields: expect.arrayContaining([
				'first_name',
				'last_name',
				'email',
				'phone',
				'ssn',
				'links[*].employments[*].profile',
			]),
			inputs: ['main'],
			outputs: ['main'],
			credentials: [{ name: 'truvApi', required: true }],
			icon: { light: 'file:../../icons/truv.svg', dark: 'file:../../icons/truv.dark.svg' },
		});
		for (const icon of ['../../icons/truv.svg', '../../icons/truv.dark.svg']) {
			expect(readFileSync(join(nodeDir, icon), 'utf8')).toMatch(/^<svg /);
		}
	});

	test('offers the resources and operations of the Truv API it wraps', () => {
		const resource = description.properties.find((property) => property.name === 'resource');
		expect(resource?.options?.map((option) => (option as { value: string }).value)).toEqual([
			'order',
			'report',
			'webhook',
			'webhookRequest',
		]);
		expect(operationsOf('order')).toEqual([
			'cancel',
			'create',
			'get',
			'getEvents',
			'getInvoice',
			'getAll',
			'refresh',
		]);
		expect(operationsOf('report')).toEqual(['get']);
		expect(operationsOf('webhook')).toEqual([
			'check',
			'create',
			'delete',
			'get',
			'getAll',
			'reEnable',
		]);
		expect(operationsOf('webhookRequest')).toEqual(['getAll']);
	});

	test('Webhook: version 1 keeps Check Webhooks as its default operation, from 2 on a read is', () => {
		const defaults = description.properties
			.filter(
				(property) =>
					property.name === 'operation' &&
					property.displayOptions?.show?.resource?.[0] === 'webhook',
			)
			.map((property) => [property.displayOptions?.show?.['@version'], property.default]);
		expect(defaults).toEqual([
			[[1], 'check'],
			[[{ _cnd: { gte: 2 } }], 'getAll'],
		]);
	});

	test('the examples use version 2, with their IDs in resource locators', () => {
		const examplesDir = join(__dirname, '..', '..', '..', 'examples');
		const truvNodes = readdirSync(examplesDir)
			.filter((name) => name.endsWith('.json'))
			.flatMap(
				(file) =>
					JSON.parse(readFileSync(join(examplesDir, file), 'utf8')).nodes as Array<{
						type: string;
						typeVersion: number;
						parameters: Record<string, unknown>;
					}>,
			)
			.filter((node) => node.type === 'n8n-nodes-truv.truv');
		expect(truvNodes.length).toBeGreaterThan(0);
		for (const node of truvNodes) {
			expect(node.typeVersion).toBe(2);
			for (const name of ['orderId', 'webhookId']) {
				if (name in node.parameters) {
					expect(node.parameters[name]).toEqual(
						expect.objectContaining({ __rl: true, mode: 'id', value: expect.any(String) }),
					);
				}
			}
		}
	});

	test("the examples' Truv nodes set only parameters the node shows for their choices, each to one of its options", () => {
		const examplesDir = join(__dirname, '..', '..', '..', 'examples');
		const truvNodes = readdirSync(examplesDir)
			.filter((name) => name.endsWith('.json'))
			.flatMap((file) =>
				(
					JSON.parse(readFileSync(join(examplesDir, file), 'utf8')).nodes as Array<{
						name: string;
						type: string;
						typeVersion: number;
						parameters: INodeParameters;
					}>
				)
					.filter((node) => node.type === 'n8n-nodes-truv.truv')
					.map((node) => ({ where: `${file}: ${node.name}`, ...node })),
			);
		// Report → Get as the report examples use it: a PDF file, and simplified data.
		const reportFormats = truvNodes
			.filter(({ parameters }) => parameters.resource === 'report')
			.map(({ parameters }) => parameters.format)
			.sort();
		expect(reportFormats).toEqual(['json', 'pdf']);
		for (const node of truvNodes) {
			// With the defaults of everything the node shows for these choices; a misspelt or hidden
			// parameter is not among them (n8n would drop it on save).
			const shown = NodeHelpers.getNodeParameters(
				description.properties,
				node.parameters,
				true,
				false,
				node,
				description,
			) as INodeParameters;
			const hidden = Object.keys(node.parameters).filter((name) => !(name in shown));
			expect({ node: node.where, hidden }).toEqual({ node: node.where, hidden: [] });
			const invalid = description.properties
				.filter(
					(property) =>
						property.type === 'options' &&
						property.name in node.parameters &&
						NodeHelpers.displayParameter(shown, property, node, description),
				)
				.filter(
					(property) =>
						!(property.options ?? []).some(
							(option) => (option as { value: unknown }).value === node.parameters[property.name],
						),
				)
				.map((property) => `${property.name}: ${String(node.parameters[property.name])}`);
			expect({ node: node.where, invalid }).toEqual({ node: node.where, invalid: [] });
		}
	});

	test('Report: Create If Missing is off by default and says Truv may bill; PDFs go to data', () => {
		const field = (name: string) =>
			description.properties.find(
				(property) =>
					property.name === name && property.displayOptions?.show?.resource?.[0] === 'report',
			);
		expect(field('createIfMissing')).toMatchObject({ type: 'boolean', default: false });
		expect(field('createIfMissing')?.description).toMatch(/Truv may bill/);
		expect(field('binaryPropertyName')).toMatchObject({
			displayName: 'Put Output File in Field',
			default: 'data',
			displayOptions: { show: { format: ['pdf'] } },
		});
	});

	test('Simplify is on by default for Order Create, Get, Get Many and Refresh', () => {
		const simplify = description.properties.find((property) => property.name === 'simplify');
		expect(simplify?.default).toBe(true);
		expect(simplify?.displayOptions?.show).toEqual({
			resource: ['order'],
			operation: ['create', 'get', 'getAll', 'refresh'],
		});
	});

	test('the SSN is a password field and the required fields of Create are marked', () => {
		const additional = description.properties.find(
			(property) =>
				property.name === 'additionalFields' &&
				property.displayOptions?.show?.operation?.includes('create'),
		);
		const ssn = additional?.options?.find((option) => (option as INodeProperties).name === 'ssn');
		expect((ssn as INodeProperties).typeOptions?.password).toBe(true);
		const requiredFor = (resource: string) =>
			description.properties
				.filter(
					(property) =>
						property.required &&
						property.displayOptions?.show?.resource?.includes(resource) &&
						property.displayOptions?.show?.operation?.includes('create'),
				)
				.map((property) => property.name);
		expect(requiredFor('order')).toEqual(['products', 'firstName', 'lastName']);
		expect(requiredFor('webhook')).toEqual(['name', 'webhookUrl']);
	});

	test('says nothing a workflow builder would not understand', () => {
		const text = JSON.stringify(description);
		expect(text).not.toMatch(/stand-in|npm run|\btest\b|localhost/i);
	});

	test('is registered in package.json and has a codex of its own', () => {
		expect(packageJson.n8n.nodes).toContain('dist/nodes/Truv/Truv.node.js');
		const codex = JSON.parse(readFileSync(join(nodeDir, 'Truv.node.json'), 'utf8'));
		expect(codex).toMatchObject({ node: 'n8n-nodes-truv.truv', nodeVersion: '1.0' });
	});
});
