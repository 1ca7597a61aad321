import { readFileSync } from 'fs';
import { join } from 'path';

import type { INodeProperties } from 'n8n-workflow';

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
	test('is the regular node truv, version 1, usable as a tool, with one input and output', () => {
		expect(description).toMatchObject({
			name: 'truv',
			displayName: 'Truv',
			version: 1,
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
		expect(operationsOf('webhook')).toEqual(['check', 'get', 'getAll', 'reEnable']);
		expect(operationsOf('webhookRequest')).toEqual(['getAll']);
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
		const required = description.properties
			.filter(
				(property) =>
					property.required && property.displayOptions?.show?.operation?.includes('create'),
			)
			.map((property) => property.name);
		expect(required).toEqual(['products', 'firstName', 'lastName']);
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
