import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { IAuthenticateRuleResponseCode, IDataObject, INode } from 'n8n-workflow';
import { Workflow } from 'n8n-workflow';

import { TruvApi } from '../../credentials/TruvApi.credentials';
import { truvBaseUrl } from '../../nodes/shared/truvTransport';
import { startTruvStandIn } from '../../dev/truv-stand-in/truvStandIn';
import type { TruvStandIn } from '../../dev/truv-stand-in/truvStandIn';

const credentialType = new TruvApi();

let standIn: TruvStandIn;
beforeAll(async () => {
	standIn = await startTruvStandIn();
});
afterAll(async () => await standIn.close());

/** Resolves an n8n expression such as `={{$credentials.baseUrl}}` with n8n-workflow's engine. */
function resolve(expression: string, credentials: IDataObject): string {
	const node: INode = {
		id: 'n',
		name: 'n',
		type: 'n8n-nodes-base.noOp',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	};
	const workflow = new Workflow({
		nodes: [node],
		connections: {},
		active: false,
		nodeTypes: {
			getByName: () => ({ description: { properties: [] } }) as never,
			getByNameAndVersion: () => ({ description: { properties: [] } }) as never,
			getKnownTypes: () => ({}),
		},
	});
	return String(
		workflow.expression.getSimpleParameterValue(node, expression, 'internal', {
			$credentials: credentials,
		}),
	);
}

/** Sends the credential's test request, resolved and authenticated as n8n does. */
async function sendTestRequest(credentials: IDataObject): Promise<number> {
	const { request } = credentialType.test;
	const headers: Record<string, string> = {};
	for (const [name, value] of Object.entries(
		credentialType.authenticate.properties.headers ?? {},
	)) {
		headers[name] = resolve(String(value), credentials);
	}
	const url = `${resolve(String(request.baseURL), credentials)}${request.url}`;
	const response = await fetch(url, { method: request.method, headers });
	return response.status;
}

function ruleFor(status: number): string | undefined {
	const rules = (credentialType.test.rules ?? []) as IAuthenticateRuleResponseCode[];
	return rules.find(({ properties }) => properties.value === status)?.properties.message;
}

const goodKeys = () => ({
	clientId: standIn.account.clientId,
	accessSecret: standIn.account.secrets.sandbox,
	environment: 'fromSecret',
	baseUrl: `${standIn.url}/`,
});

describe('Truv API credential', () => {
	test('asks for Client ID, Access Secret, Environment, a secondary secret and the Base URL', () => {
		const byName = Object.fromEntries(credentialType.properties.map((p) => [p.name, p]));
		expect(Object.keys(byName)).toEqual([
			'clientId',
			'accessSecret',
			'environment',
			'secondaryAccessSecret',
			'baseUrl',
		]);
		expect(byName.accessSecret.typeOptions?.password).toBe(true);
		expect(byName.secondaryAccessSecret.typeOptions?.password).toBe(true);
		expect(byName.environment.default).toBe('fromSecret');
		expect(
			byName.environment.options?.map((option) => (option as { value: string }).value),
		).toEqual(['fromSecret', 'sandbox', 'dev', 'prod']);
		expect(byName.baseUrl.default).toBe('https://prod.truv.com');
	});

	test('says that Environment matters only for a secret without the prefix Truv gives its secrets', () => {
		const environment = credentialType.properties.find((p) => p.name === 'environment');
		expect(environment?.displayName).toBe('Environment (Only for a Secret Without Prefix)');
		expect(environment?.description).toMatch(
			/^Leave it at From the Access Secret: Truv issues secrets that start with sandbox-, dev- or prod-/,
		);
	});

	test("authenticates with Truv's two headers", () => {
		const credentials = goodKeys();
		const { headers } = credentialType.authenticate.properties;
		expect(resolve(String(headers?.['X-Access-Client-Id']), credentials)).toBe(
			credentials.clientId,
		);
		expect(resolve(String(headers?.['X-Access-Secret']), credentials)).toBe(
			credentials.accessSecret,
		);
	});

	test('its test lists webhooks: 200 with good keys (trailing slash in the Base URL too)', async () => {
		standIn.resetCalls();
		expect(await sendTestRequest(goodKeys())).toBe(200);
		expect(standIn.calls.map((call) => `${call.method} ${call.path} ${call.status}`)).toEqual([
			'GET /v1/webhooks/ 200',
		]);
	});

	test('its test fails with bad keys: Truv answers 401, which its rules explain', async () => {
		expect(await sendTestRequest({ ...goodKeys(), accessSecret: 'sandbox-wrong' })).toBe(401);
		expect(await sendTestRequest({ ...goodKeys(), clientId: 'someone-else' })).toBe(401);
		expect(ruleFor(401)).toBe(
			'Truv answered 401 authentication_failed: check the Client ID and Access Secret',
		);
	});

	test("its test goes to Truv's own API when the Base URL is empty, as the nodes do", () => {
		const { baseURL } = credentialType.test.request;
		expect(resolve(String(baseURL), { ...goodKeys(), baseUrl: '' })).toBe('https://prod.truv.com');
		expect(resolve(String(baseURL), { ...goodKeys(), baseUrl: ' https://proxy/truv/ ' })).toBe(
			'https://proxy/truv',
		);
	});

	test('its test and the nodes read a Base URL typed without https:// as https', () => {
		const { baseURL } = credentialType.test.request;
		for (const [typed, meant] of [
			['prod.truv.com', 'https://prod.truv.com'],
			[' prod.truv.com/ ', 'https://prod.truv.com'],
			['http://127.0.0.1:8080/', 'http://127.0.0.1:8080'],
			['HTTPS://Prod.Truv.com', 'HTTPS://Prod.Truv.com'],
		]) {
			const credentials = { ...goodKeys(), baseUrl: typed };
			expect({ typed, test: resolve(String(baseURL), credentials) }).toEqual({
				typed,
				test: meant,
			});
			expect({
				typed,
				nodes: truvBaseUrl({ clientId: '', accessSecret: '', baseUrl: typed }),
			}).toEqual({
				typed,
				nodes: meant,
			});
		}
	});

	test("its rules explain Truv's 403 and a Base URL without Truv's API", async () => {
		standIn.setFault({ path: '/v1/webhooks/', kind: 'status403', times: 1 });
		expect(await sendTestRequest(goodKeys())).toBe(403);
		expect(ruleFor(403)).toMatch(/403 not_authenticated/);
		expect(await sendTestRequest({ ...goodKeys(), baseUrl: `${standIn.url}/elsewhere` })).toBe(404);
		expect(ruleFor(404)).toMatch(/check the Base URL/);
	});
});

describe('icon', () => {
	test("names Truv's light and dark marks in icons/, relative to the credential's own file", () => {
		const credentialsDir = join(__dirname, '..', '..', 'credentials');
		expect(credentialType.icon).toEqual({
			light: 'file:../icons/truv.svg',
			dark: 'file:../icons/truv.dark.svg',
		});
		for (const icon of ['../icons/truv.svg', '../icons/truv.dark.svg']) {
			expect(readFileSync(join(credentialsDir, icon), 'utf8')).toMatch(/^<svg /);
		}
	});
});
