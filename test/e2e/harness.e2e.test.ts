// Proves the e2e harness on every supported n8n before the real node exists, with the bench-only
// package: installed as the Community Nodes installer would, it loads, triggers, resolves n8n's
// own modules, survives a restart, and leaves no process behind.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join, sep } from 'node:path';

import { packRepository } from '../../dev/n8n/communityPackage';
import { HttpError } from '../../dev/n8n/http';
import { startPackageRegistry, type PackageRegistry } from '../../dev/n8n/packageRegistry';
import { n8nRuntimes, provisionN8n, type N8nVersion } from '../../dev/n8n/runtimes';
import { startHttpSink, type HttpSink } from '../../dev/n8n/httpSink';
import {
	startN8n,
	type N8nInstance,
	type Workflow,
	type WorkflowJson,
} from '../../dev/n8n/n8nInstance';
import { getFreePort } from '../../dev/n8n/ports';
import { startSmtpSink, type SmtpSink } from '../../dev/n8n/smtpSink';

const repositoryRoot = join(__dirname, '..', '..');
const benchPackageDir = join(repositoryRoot, 'bench', 'packages', 'n8n-nodes-truv-bench');
const benchTriggerType = 'n8n-nodes-truv-bench.benchTrigger';
const versions = Object.keys(n8nRuntimes) as N8nVersion[];

const minutes = (count: number): number => count * 60_000;

// Timeouts only end a hung run; nothing here asserts on time. Restarting n8n takes 5-15 s.
jest.setTimeout(minutes(5));

function benchToNoOp(webhookId: string): WorkflowJson {
	return {
		name: 'Bench trigger to NoOp',
		nodes: [
			{
				id: 'bench-trigger',
				name: 'Bench Trigger',
				type: benchTriggerType,
				typeVersion: 1,
				position: [0, 0],
				webhookId,
				parameters: { reportModuleResolution: true },
			},
			{
				id: 'no-op',
				name: 'No Operation',
				type: 'n8n-nodes-base.noOp',
				typeVersion: 1,
				position: [220, 0],
				parameters: {},
			},
		],
		connections: {
			'Bench Trigger': { main: [[{ node: 'No Operation', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}

function benchToSinks(
	webhookId: string,
	httpSinkUrl: string,
	smtpCredential: { id: string; name: string },
): WorkflowJson {
	return {
		name: 'Bench trigger to HTTP and SMTP sinks',
		nodes: [
			{
				id: 'bench-trigger',
				name: 'Bench Trigger',
				type: benchTriggerType,
				typeVersion: 1,
				position: [0, 0],
				webhookId,
				parameters: {},
			},
			{
				id: 'http-request',
				name: 'HTTP Request',
				type: 'n8n-nodes-base.httpRequest',
				typeVersion: 4.4,
				position: [220, 0],
				parameters: {
					method: 'POST',
					url: `${httpSinkUrl}/orders`,
					sendBody: true,
					specifyBody: 'json',
					jsonBody: '={{ JSON.stringify($json) }}',
					options: {},
				},
			},
			{
				id: 'send-email',
				name: 'Send Email',
				type: 'n8n-nodes-base.emailSend',
				typeVersion: 2.1,
				position: [440, 0],
				credentials: { smtp: smtpCredential },
				parameters: {
					fromEmail: 'n8n@bench.test',
					toEmail: 'ops@bench.test',
					subject: "=Order {{ $('Bench Trigger').item.json.orderId }}",
					emailFormat: 'text',
					text: 'sent by the harness test',
					options: { appendAttribution: false },
				},
			},
		],
		connections: {
			'Bench Trigger': { main: [[{ node: 'HTTP Request', type: 'main', index: 0 }]] },
			'HTTP Request': { main: [[{ node: 'Send Email', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
	};
}

/** Process ids in a process group, from ps. */
function processGroupMembers(pgid: number): number[] {
	const output = execFileSync('ps', ['-eo', 'pid=,pgid='], { encoding: 'utf8' });
	return output
		.split('\n')
		.map((line) => line.trim().split(/\s+/).map(Number))
		.filter(([pid, group]) => group === pgid && Number.isInteger(pid))
		.map(([pid]) => pid);
}

async function acceptsConnections(port: number): Promise<boolean> {
	return await new Promise((resolve) => {
		const socket = connect(port, '127.0.0.1');
		socket.once('connect', () => {
			socket.destroy();
			resolve(true);
		});
		socket.once('error', () => resolve(false));
	});
}

function outputItems(
	execution: { data?: { resultData: { runData: Record<string, unknown[]> } } },
	nodeName: string,
): Array<Record<string, unknown>> {
	const runs = execution.data?.resultData.runData[nodeName] as
		| Array<{ data?: { main?: Array<Array<{ json: Record<string, unknown> }> | null> } }>
		| undefined;
	return (runs?.[0]?.data?.main?.[0] ?? []).map((item) => item.json);
}

let tarball: string;

beforeAll(async () => {
	tarball = await packRepository(benchPackageDir);
}, minutes(2));

afterAll(async () => {
	if (tarball) await rm(dirname(tarball), { recursive: true, force: true });
});

describe.each(versions)('e2e harness on n8n %s', (version) => {
	let n8n: N8nInstance | undefined;
	let httpSink: HttpSink | undefined;
	let smtpSink: SmtpSink | undefined;
	let noOpWorkflow: Workflow;
	const webhookId = `harness-${version.replace(/\./g, '-')}`;
	const postedBody = { orderId: 'order-42', status: 'completed', nested: { values: [1, 2, 3] } };

	const instance = (): N8nInstance => {
		if (!n8n) throw new Error('n8n did not start');
		return n8n;
	};

	beforeAll(async () => {
		// A clean cache installs n8n here (about 4 minutes, plus building native modules).
		await provisionN8n(version);
		[httpSink, smtpSink] = await Promise.all([startHttpSink(), startSmtpSink()]);
		n8n = await startN8n({ version, tarballs: [tarball] });
	}, minutes(30));

	afterAll(async () => {
		const userFolder = n8n?.userFolder;
		await n8n?.stop();
		await Promise.all([httpSink?.close(), smtpSink?.close()]);
		if (userFolder) await rm(userFolder, { recursive: true, force: true });
	}, minutes(3));

	it("installs the packed package with n8n's Community Nodes installer, from the registry", async () => {
		const n8n = instance();
		// n8n's installer asked the registry (as it would ask npmjs.org) for the package and its
		// tarball; nothing else put the package into n8n.
		expect(n8n.registry.requests).toEqual(
			expect.arrayContaining([
				expect.stringMatching(/^GET \/n8n-nodes-truv-bench(\/0\.0\.1)?$/),
				expect.stringMatching(/^GET \/n8n-nodes-truv-bench\/-\/n8n-nodes-truv-bench-0\.0\.1\.tgz$/),
			]),
		);
		const installedDir = join(
			n8n.userFolder,
			'.n8n',
			'nodes',
			'node_modules',
			'n8n-nodes-truv-bench',
		);
		const installedPackageJson = JSON.parse(
			readFileSync(join(installedDir, 'package.json'), 'utf8'),
		) as Record<string, unknown>;
		expect(installedPackageJson.peerDependencies).toBeUndefined();
		expect(existsSync(join(installedDir, 'node_modules', 'n8n-workflow'))).toBe(false);

		const nodesPackageJson = JSON.parse(
			readFileSync(join(n8n.userFolder, '.n8n', 'nodes', 'package.json'), 'utf8'),
		) as { dependencies: Record<string, string> };
		expect(nodesPackageJson.dependencies).toEqual({ 'n8n-nodes-truv-bench': '0.0.1' });

		expect((await n8n.nodeTypes()).get(benchTriggerType)).toEqual([1]);

		// What the editor's Settings > Community nodes lists.
		const packages = await n8n.rest<
			Array<{ packageName: string; installedVersion: string; installedNodes: unknown[] }>
		>('GET', '/community-packages');
		expect(packages).toEqual([
			expect.objectContaining({
				packageName: 'n8n-nodes-truv-bench',
				installedVersion: '0.0.1',
				installedNodes: [
					expect.objectContaining({
						name: 'Truv Bench Trigger',
						type: benchTriggerType,
						latestVersion: 1,
					}),
				],
			}),
		]);
	});

	it('runs an active workflow once per webhook call, with the posted body', async () => {
		const n8n = instance();
		noOpWorkflow = await n8n.createWorkflow(benchToNoOp(webhookId));
		const activated = await n8n.activateWorkflow(noOpWorkflow.id);
		expect(activated.active).toBe(true);
		await n8n.waitForWebhook(`${webhookId}/webhook`);

		const answer = await n8n.callWebhook(`${webhookId}/webhook`, { body: postedBody });
		expect(answer.status).toBe(200);
		expect(answer.json).toEqual({ received: true });

		const [execution] = await n8n.waitForExecutions({
			workflowId: noOpWorkflow.id,
			count: 1,
			includeData: true,
		});
		expect(execution.status).toBe('success');
		expect(execution.mode).toBe('webhook');
		expect(outputItems(execution, 'Bench Trigger')).toEqual([expect.objectContaining(postedBody)]);
		expect(outputItems(execution, 'No Operation')).toEqual([expect.objectContaining(postedBody)]);
		expect(await n8n.executions({ workflowId: noOpWorkflow.id })).toHaveLength(1);
	});

	it("resolves zod and n8n-workflow from n8n's own install", async () => {
		const n8n = instance();
		const [execution] = await n8n.executions({ workflowId: noOpWorkflow.id, includeData: true });
		const [item] = outputItems(execution, 'Bench Trigger');
		const resolution = item.moduleResolution as Record<string, unknown>;
		const n8nModules = join(n8n.runtime.dir, 'node_modules') + sep;
		expect(resolution.zod).toEqual(expect.stringContaining(n8nModules));
		expect(resolution.n8nWorkflow).toEqual(expect.stringContaining(n8nModules));
		expect(resolution.zodUsable).toBe(true);
		const n8nWorkflowVersion = (
			JSON.parse(readFileSync(join(n8nModules, 'n8n-workflow', 'package.json'), 'utf8')) as {
				version: string;
			}
		).version;
		expect(resolution.n8nWorkflowVersion).toBe(n8nWorkflowVersion);
		expect(String(resolution.zodVersion)).toMatch(/^3\./);
	});

	it('tests a credential the way the editor does and delivers to the HTTP and SMTP sinks', async () => {
		const n8n = instance();
		const http = httpSink!;
		const smtp = smtpSink!;
		const smtpData = {
			host: '127.0.0.1',
			port: smtp.port,
			secure: false,
			disableStartTls: true,
			user: 'bench',
			password: 'bench-password',
		};
		const credential = await n8n.createCredential('smtp', 'SMTP sink', smtpData);
		expect(await n8n.testCredential(credential)).toEqual({
			status: 'OK',
			message: 'Connection successful!',
		});
		const closedPort = await getFreePort();
		expect(await n8n.testCredential(credential, { ...smtpData, port: closedPort })).toEqual(
			expect.objectContaining({ status: 'Error' }),
		);

		const sinksWebhookId = `${webhookId}-sinks`;
		const workflow = await n8n.createWorkflow(
			benchToSinks(sinksWebhookId, http.url, { id: credential.id, name: credential.name }),
		);
		await n8n.activateWorkflow(workflow.id);
		await n8n.waitForWebhook(`${sinksWebhookId}/webhook`);
		const answer = await n8n.callWebhook(`${sinksWebhookId}/webhook`, { body: postedBody });
		expect(answer.status).toBe(200);

		const [request] = await http.waitFor(1);
		expect(request.method).toBe('POST');
		expect(request.path).toBe('/orders');
		expect(request.json).toEqual(postedBody);
		const [message] = await smtp.waitFor(1);
		expect(message.to).toEqual(['ops@bench.test']);
		expect(message.headers.subject).toBe('Order order-42');
		expect(message.text).toBe('sent by the harness test');
		expect(message.auth).toEqual({ username: 'bench', password: 'bench-password' });

		const [execution] = await n8n.waitForExecutions({ workflowId: workflow.id, count: 1 });
		expect(execution.status).toBe('success');
		// One execution, one request: nothing in the harness's environment (such as the registry
		// proxy) makes n8n's HTTP Request node send twice.
		expect(http.requests).toHaveLength(1);
		await n8n.deactivateWorkflow(workflow.id);
		expect((await n8n.getWorkflow(workflow.id)).active).toBe(false);
	});

	it('keeps the workflow active across a restart', async () => {
		const n8n = instance();
		const { port } = n8n;
		await n8n.restart();
		expect(n8n.port).toBe(port);
		expect((await n8n.getWorkflow(noOpWorkflow.id)).active).toBe(true);
		await n8n.waitForWebhook(`${webhookId}/webhook`);
		const answer = await n8n.callWebhook(`${webhookId}/webhook`, { body: { after: 'restart' } });
		expect(answer.json).toEqual({ received: true });
		const executions = await n8n.waitForExecutions({
			workflowId: noOpWorkflow.id,
			count: 2,
			includeData: true,
		});
		expect(executions).toHaveLength(2);
		expect(outputItems(executions[0], 'No Operation')).toEqual([
			expect.objectContaining({ after: 'restart' }),
		]);
	});

	it('stops every process it started', async () => {
		const n8n = instance();
		const pgid = n8n.pid;
		if (pgid === undefined) throw new Error('n8n is not running');
		// n8n's main process and its JavaScript task runner.
		expect(processGroupMembers(pgid).length).toBeGreaterThanOrEqual(2);
		await n8n.stop();
		expect(n8n.isRunning()).toBe(false);
		expect(processGroupMembers(pgid)).toEqual([]);
		expect(await acceptsConnections(n8n.port)).toBe(false);
	});
});

// Why the harness answers for registry.npmjs.org instead of setting N8N_COMMUNITY_PACKAGES_REGISTRY
// (registryProxy.ts): without a licence, n8n refuses to install from any other registry, before
// npm runs. n8n reads the variable when it starts, hence an n8n of its own; 2.41.1 only, as the
// check is the same code in 2.8.4 and 1.123.81.
const licenceVersion: N8nVersion = '2.41.1';
const requestedVersions = process.env.E2E_N8N_VERSIONS?.split(',');
(requestedVersions === undefined || requestedVersions.includes(licenceVersion)
	? describe
	: describe.skip)(`n8n ${licenceVersion} with N8N_COMMUNITY_PACKAGES_REGISTRY set`, () => {
	let registry: PackageRegistry | undefined;
	let n8n: N8nInstance | undefined;
	let published: { name: string; version: string } | undefined;

	beforeAll(async () => {
		registry = await startPackageRegistry();
		n8n = await startN8n({
			version: licenceVersion,
			tarballs: [],
			registry,
			env: { N8N_COMMUNITY_PACKAGES_REGISTRY: registry.localUrl },
		});
		// The package is there to install: what n8n refuses is the registry.
		published = await registry.publish(tarball);
	}, minutes(10));

	afterAll(async () => {
		const userFolder = n8n?.userFolder;
		await n8n?.stop();
		await registry?.stop();
		if (userFolder) await rm(userFolder, { recursive: true, force: true });
	}, minutes(3));

	it('refuses to install a package from that registry without a licence for it', async () => {
		if (!n8n || !registry) throw new Error('n8n did not start');
		expect(published).toEqual({ name: 'n8n-nodes-truv-bench', version: '0.0.1' });

		const refusal = await n8n
			.installCommunityPackage('n8n-nodes-truv-bench', '0.0.1')
			.catch((error: unknown) => error);

		expect(refusal).toBeInstanceOf(HttpError);
		const { response } = refusal as HttpError;
		expect({
			status: response.status,
			message: (response.json as { message?: string }).message,
		}).toEqual({
			status: 500,
			message:
				'Error loading package "n8n-nodes-truv-bench" :Your license does not allow for feat:communityNodes:customRegistry. To enable feat:communityNodes:customRegistry, please upgrade to a license that supports this feature.',
		});
		expect(await n8n.communityPackages()).toEqual([]);
		expect(
			existsSync(join(n8n.userFolder, '.n8n', 'nodes', 'node_modules', 'n8n-nodes-truv-bench')),
		).toBe(false);
	});
});
