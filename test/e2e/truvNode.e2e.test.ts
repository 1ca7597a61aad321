// The Truv action node in real n8n (2.41.1 on Node 24, 2.8.4 on Node 20), installed through the
// Community Nodes installer: its node type and the AI tool n8n generates from it, and every shipped
// example end to end against the Truv API stand-in. Slack is a local HTTP sink that the harness's
// proxy answers https://slack.com with; email (with the report PDF attached) and the CRM are local
// sinks too.
import { rm } from 'fs/promises';

import { HttpError, request } from '../../dev/n8n/http';
import { startHttpSink, type HttpSink } from '../../dev/n8n/httpSink';
import {
	startN8n,
	type CreatedCredential,
	type Execution,
	type N8nInstance,
	type Workflow,
} from '../../dev/n8n/n8nInstance';
import { applyNodeDefinedRedaction } from '../../dev/n8n/nodeDefinedRedaction';
import { HARNESS_BROWSER_ID } from '../../dev/n8n/n8nProcess';
import { startPackageRegistry, type PackageRegistry } from '../../dev/n8n/packageRegistry';
import { provisionN8n } from '../../dev/n8n/runtimes';
import { startSmtpSink, type SmtpSink } from '../../dev/n8n/smtpSink';
import {
	startTruvStandIn,
	type TruvOrder,
	type TruvStandIn,
} from '../../dev/truv-stand-in/truvStandIn';
import {
	exampleFiles,
	exampleWorkflow,
	hasTruvTrigger,
	slackApiResponder,
	slackMessages,
	TRUV_NODE_TYPE,
	TRUV_NODE_VERSIONS,
	TRUV_TRIGGER_TYPE,
	triggerExampleFiles,
	triggerWebhookId,
} from '../../dev/workflows/truvWorkflows';
import {
	createTestedStandInCredential,
	e2eVersions,
	freshEvent,
	minutes,
	truvWebhooks,
	usePackedRepository,
} from './e2eSetup';
import { REPORT_PERSONAL_DATA_PATHS } from '../../nodes/shared/personalData';

// Timeouts only end a hung run; nothing here asserts on time.
jest.setTimeout(minutes(5));

// n8n adds a tool variant of every node marked usableAsTool, named after it with `Tool` appended
// (convertNodeToAiTool in n8n's tool-generation/ai-tools.js): what an AI Agent's Tools list offers.
const TRUV_TOOL_TYPE = `${TRUV_NODE_TYPE}Tool`;

const SLACK_EXAMPLE = 'truv-refresh-failed-to-slack.json';
const EMAIL_EXAMPLE = 'truv-refresh-failed-to-email.json';
const CRM_EXAMPLE = 'truv-order-completed-to-http.json';
const REPORT_PDF_EXAMPLE = 'truv-order-completed-report-pdf-to-email.json';
const INCOME_CRM_EXAMPLE = 'truv-order-completed-income-to-crm.json';
/** The examples a completed order starts. */
const COMPLETED_EXAMPLES = [CRM_EXAMPLE, REPORT_PDF_EXAMPLE, INCOME_CRM_EXAMPLE];
const HOURLY_EXAMPLE = 'truv-check-webhooks-hourly.json';
const SLACK_TOKEN = 'xoxb-e2e-slack-sink';

const packedTarball = usePackedRepository();

/** The items a node output in an execution's first run of it. */
function nodeOutput(execution: Execution, nodeName: string, output = 0): unknown[] {
	const run = execution.data?.resultData.runData[nodeName]?.[0];
	return (run?.data?.main?.[output] ?? []).map((item) => item.json);
}

/**
 * Every node type description as the editor loads it, from `/types/nodes.json`: n8n 2.8 answers
 * `POST /rest/node-types` for a generated tool with "Unrecognized node type", as it has no source
 * file of its own. The file is only served to a signed-in user.
 */
async function editorNodeDescriptions(n8n: N8nInstance): Promise<Array<Record<string, unknown>>> {
	const headers = { 'browser-id': HARNESS_BROWSER_ID };
	const login = await request(`${n8n.baseUrl}/rest/login`, {
		method: 'POST',
		headers,
		body: { emailOrLdapLoginId: n8n.owner.email, password: n8n.owner.password },
	});
	const cookie = (login.headers['set-cookie'] ?? [])
		.find((each) => each.startsWith('n8n-auth='))
		?.split(';')[0];
	if (!cookie) throw new HttpError('POST', `${n8n.baseUrl}/rest/login`, login);
	const url = `${n8n.baseUrl}/types/nodes.json`;
	const answer = await request(url, { headers: { ...headers, cookie } });
	if (answer.status !== 200) throw new HttpError('GET', url, answer);
	return answer.json as Array<Record<string, unknown>>;
}

describe.each(e2eVersions)('Truv node and the shipped examples in n8n %s', (version) => {
	let registry: PackageRegistry;
	let n8n: N8nInstance;
	let standIn: TruvStandIn;
	let crmSink: HttpSink;
	let slackSink: HttpSink;
	let smtpSink: SmtpSink;
	let credentials: Record<string, CreatedCredential>;
	/** Each example's workflow as created in n8n, by file. */
	const workflows = new Map<string, Workflow>();
	/** The production URL of each trigger example's Truv Order Trigger, by file. */
	const webhookUrls = new Map<string, string>();
	let serial = 0;

	const workflowOf = (file: string): Workflow => {
		const found = workflows.get(file);
		if (!found) throw new Error(`${file} was not created`);
		return found;
	};

	/** An order "created in Truv's dashboard", with one employer per company name. */
	const seedOrder = (firstName: string, lastName: string, companies: string[]): TruvOrder => {
		serial += 1;
		return standIn.addOrder({
			products: ['income'],
			order_number: `E2E-${version}-${serial}`,
			first_name: firstName,
			last_name: lastName,
			email: `${firstName.toLowerCase()}.${lastName.toLowerCase()}@example.com`,
			employers: companies.map((company_name) => ({ company_name })),
		});
	};

	/** Delivers as Truv does (to every enabled webhook subscribed to the event), once. */
	const deliver = async (event: Record<string, unknown>) =>
		await standIn.deliver(Buffer.from(JSON.stringify(event)), { maxRetries: 0 });

	const urlOf = (file: string): string => {
		const url = webhookUrls.get(file);
		if (!url) throw new Error(`${file} has no webhook`);
		return url;
	};

	beforeAll(async () => {
		await provisionN8n(version);
		[standIn, crmSink, slackSink, smtpSink] = await Promise.all([
			startTruvStandIn({ delivery: { retryDelayMs: 200, maxRetries: 0, timeoutMs: 10_000 } }),
			startHttpSink(),
			startHttpSink(slackApiResponder),
			startSmtpSink(),
		]);
		registry = await startPackageRegistry({ interceptedHosts: { 'slack.com': slackSink.url } });
		n8n = await startN8n({ version, tarballs: [packedTarball()], registry });
	}, minutes(30));

	afterAll(async () => {
		const userFolder = n8n?.userFolder;
		await n8n?.stop();
		// Passed in, so not stopped with n8n.
		await registry?.stop();
		await Promise.all([standIn?.close(), crmSink?.close(), slackSink?.close(), smtpSink?.close()]);
		if (userFolder) await rm(userFolder, { recursive: true, force: true });
	}, minutes(3));

	test('n8n loads the Truv node and the AI tool it generates from it, both from the installed package', async () => {
		const known = await n8n.nodeTypes();
		expect(known.get(TRUV_NODE_TYPE)).toEqual(TRUV_NODE_VERSIONS);
		expect(known.get(TRUV_TOOL_TYPE)).toEqual(TRUV_NODE_VERSIONS);
		const tools = (await editorNodeDescriptions(n8n)).filter(({ name }) => name === TRUV_TOOL_TYPE);
		expect(tools).toHaveLength(1);
		const [tool] = tools;
		expect(tool).toEqual(
			expect.objectContaining({
				name: TRUV_TOOL_TYPE,
				displayName: 'Truv Tool',
				inputs: [],
				outputs: ['ai_tool'],
				credentials: [expect.objectContaining({ name: 'truvApi' })],
			}),
		);
		// The Agent's model reads the tool's description and fills in its resource and operation.
		const properties = (tool.properties as Array<{ name: string }>).map(({ name }) => name);
		expect(properties).toEqual(
			expect.arrayContaining(['toolDescription', 'resource', 'operation', 'orderId']),
		);
		expect(await n8n.communityPackages()).toEqual([
			expect.objectContaining({
				packageName: 'n8n-nodes-truv',
				installedNodes: expect.arrayContaining([
					expect.objectContaining({ type: TRUV_NODE_TYPE }),
					expect.objectContaining({ type: TRUV_TRIGGER_TYPE }),
				]),
			}),
		]);
	});

	test('every example imports with its credentials; the trigger examples publish with one Truv webhook each', async () => {
		expect([...exampleFiles].sort()).toEqual(
			[...COMPLETED_EXAMPLES, EMAIL_EXAMPLE, HOURLY_EXAMPLE, SLACK_EXAMPLE].sort(),
		);
		const truv = await createTestedStandInCredential(n8n, standIn);
		const smtp = await n8n.createCredential('smtp', 'SMTP sink', {
			host: '127.0.0.1',
			port: smtpSink.port,
			secure: false,
			disableStartTls: true,
			user: 'n8n',
			password: 'sink',
		});
		const slack = await n8n.createCredential('slackApi', 'Slack (sink)', {
			accessToken: SLACK_TOKEN,
		});
		credentials = { truvApi: truv, smtp, slackApi: slack };
		for (const file of exampleFiles) {
			const workflow = exampleWorkflow(file, {
				credentials: Object.fromEntries(
					Object.entries(credentials).map(([type, { id, name }]) => [type, { id, name }]),
				),
				parameters: {
					'Notify CRM': { url: `${crmSink.url}/crm/order-completed` },
					'Update CRM': { url: `${crmSink.url}/crm/income-verified` },
				},
			});
			const created = await n8n.createWorkflow(workflow);
			workflows.set(file, created);
			// The hourly check is run as the editor's Execute Workflow button does, below.
			if (!hasTruvTrigger(workflow)) continue;
			const path = `${triggerWebhookId(workflow)}/webhook`;
			webhookUrls.set(file, n8n.webhookUrl(path));
			await n8n.activateWorkflow(created.id);
			await n8n.waitForWebhook(path);
		}
		const webhooks = await truvWebhooks(standIn, triggerExampleFiles.length);
		expect(webhooks.map(({ webhook_url, enabled }) => ({ webhook_url, enabled }))).toEqual(
			expect.arrayContaining(
				triggerExampleFiles.map((file) => ({ webhook_url: urlOf(file), enabled: true })),
			),
		);
	});

	test("a refresh failure posts to Slack and emails the applicant's name, order number, employer and status, looked up with Truv: Get Order", async () => {
		const order = seedOrder('Ada', 'Lovelace', ['Analytical Engines Ltd', 'Difference & Co']);
		// The event's employer, not the order's first one, is named.
		const employer = order.employers[1];
		const event = freshEvent('order-refresh-failed', {
			order_id: order.id,
			order_number: order.order_number,
			employer_id: employer.id,
			status: 'login_error',
		});
		const result = await deliver(event);
		expect(result.targets.map(({ url, attempts }) => [url, attempts[0].status]).sort()).toEqual(
			[
				[urlOf(EMAIL_EXAMPLE), 200],
				[urlOf(SLACK_EXAMPLE), 200],
			].sort(),
		);
		for (const file of [SLACK_EXAMPLE, EMAIL_EXAMPLE]) {
			const [execution] = await n8n.waitForExecutions({
				workflowId: workflowOf(file).id,
				count: 1,
			});
			expect({ file, status: execution.status }).toEqual({ file, status: 'success' });
		}
		expect(
			standIn.calls.filter(
				({ method, path }) => method === 'GET' && path === `/v1/orders/${order.id}/`,
			),
		).toHaveLength(2);

		await slackSink.waitFor(1);
		const [message] = slackMessages(slackSink);
		expect(message).toEqual({
			channel: '#truv-alerts',
			token: SLACK_TOKEN,
			text: expect.any(String),
		});
		for (const part of [
			'Ada Lovelace',
			`order ${order.order_number}`,
			'Employer: Difference & Co',
			'Status: login_error',
			`Order ID: ${order.id}`,
		]) {
			expect(message.text).toContain(part);
		}
		expect(message.text).not.toContain('Analytical Engines');
		// Truv documents no Dashboard address for an order, so the alert names the order by its ID.
		expect(message.text).not.toMatch(/https?:\/\//);
		expect(message.text).not.toContain('did not return');
		// Through the proxy as https://slack.com, the only host it let n8n reach besides the registry.
		expect(registry.requestsTo('slack.com')).toEqual(['POST /api/chat.postMessage']);

		const [email] = await smtpSink.waitFor(1);
		expect(email.to).toEqual(['verifications@example.com']);
		expect(email.headers.subject).toBe(
			`Truv refresh failed: Ada Lovelace, order ${order.order_number} (login_error)`,
		);
		for (const line of [
			'Applicant: Ada Lovelace',
			`Order number: ${order.order_number}`,
			'Employer: Difference & Co',
			'Status: login_error',
			`Order ID: ${order.id}`,
		]) {
			expect(email.text).toContain(line);
		}
	});

	// n8n 2.8 has no such redaction: its node descriptions have no sensitiveOutputFields.
	(version === '2.41.1' ? test : test.skip)(
		"Truv: Get Order's execution as n8n's API serves it keeps the applicant's names and email (2.41.1 applies no field redaction); n8n's own redaction strategy marks them in that node's output only, and Slack got the real name",
		async () => {
			const workflow = workflowOf(SLACK_EXAMPLE);
			const [listed] = await n8n.waitForExecutions({ workflowId: workflow.id, count: 1 });
			// Read back as any API client reads it.
			const execution = await n8n.api<Execution>(
				'GET',
				`/executions/${listed.id}?includeData=true`,
			);
			const APPLICANT = {
				first_name: 'Ada',
				last_name: 'Lovelace',
				email: 'ada.lovelace@example.com',
			};
			// Stored as it ran; and n8n 2.41.1 ships the field redaction without applying it, so its
			// API answers the values too.
			const [looked] = nodeOutput(execution, 'Truv: Get Order') as Array<Record<string, unknown>>;
			expect(looked).toMatchObject(APPLICANT);

			// The lists as n8n loaded them from the installed package.
			const descriptions = await editorNodeDescriptions(n8n);
			const fieldsByType = Object.fromEntries(
				descriptions.map(({ name, sensitiveOutputFields }) => [
					String(name),
					(sensitiveOutputFields as string[] | undefined) ?? [],
				]),
			);
			// The order's fields, then a report's (Report → Get).
			expect(fieldsByType[TRUV_NODE_TYPE]).toEqual([
				'first_name',
				'last_name',
				'email',
				'phone',
				'ssn',
				...REPORT_PERSONAL_DATA_PATHS,
			]);
			expect(fieldsByType[TRUV_TRIGGER_TYPE]).toEqual(
				['first_name', 'last_name', 'email', 'phone', 'ssn'].map(
					(field) => `order_details.${field}`,
				),
			);

			// What n8n shows where it applies the strategy: the markers in that node's output only.
			const nodes = (await n8n.getWorkflow(workflow.id)).nodes;
			const redacted = {
				...execution,
				data: await applyNodeDefinedRedaction(n8n.runtime, execution.data!, nodes, fieldsByType),
			};
			const marker = { __redacted: true, reason: 'node_defined_field', canReveal: false };
			const [hidden] = nodeOutput(redacted, 'Truv: Get Order') as Array<Record<string, unknown>>;
			expect(hidden).toEqual({
				...looked,
				first_name: marker,
				last_name: marker,
				email: marker,
			});
			const [details] = nodeOutput(redacted, 'Alert Details') as Array<Record<string, unknown>>;
			expect(details.applicant).toBe('Ada Lovelace');
			// The node after it got the real name, and so did Slack.
			expect(nodeOutput(execution, 'Alert Details')).toEqual(nodeOutput(redacted, 'Alert Details'));
			expect(slackMessages(slackSink)[0].text).toContain('Ada Lovelace');
		},
	);

	test('when Truv does not return the order, the alerts still go out with what the event says, and say why', async () => {
		slackSink.clear();
		smtpSink.clear();
		const event = freshEvent('order-refresh-failed', {
			order_id: 'f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0',
			order_number: `E2E-${version}-unknown`,
			employer_id: 'e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0',
			status: 'account_locked',
		});
		expect((await deliver(event)).attempts.map(({ status }) => status)).toEqual([200, 200]);
		for (const file of [SLACK_EXAMPLE, EMAIL_EXAMPLE]) {
			const executions = await n8n.waitForExecutions({ workflowId: workflowOf(file).id, count: 2 });
			expect({ file, statuses: executions.map(({ status }) => status) }).toEqual({
				file,
				statuses: ['success', 'success'],
			});
		}
		await slackSink.waitFor(1);
		const [email] = await smtpSink.waitFor(1);
		for (const text of [slackMessages(slackSink)[0].text, email.text]) {
			for (const part of [
				'unknown applicant',
				`E2E-${version}-unknown`,
				'e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0',
				'account_locked',
				'Truv did not return the order',
				'Order ID: f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0',
			]) {
				expect(text).toContain(part);
			}
		}
	});

	test('a completed order reaches the CRM with its id and number, the applicant, their email, the employer and when it completed', async () => {
		const order = seedOrder('Grace', 'Hopper', ['Remington Rand', 'US Navy']);
		const employer = order.employers[0];
		standIn.setSuborderStatus(order.id, 'completed', employer.id);
		const event = freshEvent('order-status-updated-completed', {
			order_id: order.id,
			order_number: order.order_number,
			employer_id: employer.id,
			updated_at: '2026-03-02T10:11:12.000000+00:00',
		});
		expect(
			(await deliver(event)).targets.map(({ url, attempts }) => [url, attempts[0].status]).sort(),
		).toEqual(COMPLETED_EXAMPLES.map((file) => [urlOf(file), 200]).sort());
		// Each example the event starts has finished (and sent what it sends) before the next test.
		for (const file of COMPLETED_EXAMPLES) {
			const [execution] = await n8n.waitForExecutions({
				workflowId: workflowOf(file).id,
				count: 1,
			});
			expect({ file, status: execution.status }).toEqual({ file, status: 'success' });
		}
		const crmPosts = crmSink.requests.filter(({ path }) => path === '/crm/order-completed');
		expect(crmPosts).toHaveLength(1);
		const [posted] = crmPosts;
		expect(posted.method).toBe('POST');
		expect(posted.json).toEqual({
			order_id: order.id,
			order_number: order.order_number,
			first_name: 'Grace',
			last_name: 'Hopper',
			applicant_name: 'Grace Hopper',
			email: 'grace.hopper@example.com',
			employer_id: employer.id,
			employer_name: 'Remington Rand',
			product: 'income',
			completed_at: '2026-03-02T10:11:12.000000+00:00',
			// The other employer is still open, so the order as a whole is not completed yet.
			order_status: 'pending',
		});
	});

	test("a completed order: the loan officer gets its income and employment report as a PDF attachment, and the CRM gets the completed employment's income, employer and pay frequency from that report, with Truv: Get Report", async () => {
		smtpSink.clear();
		crmSink.clear();
		const before = new Map<string, number>();
		for (const file of COMPLETED_EXAMPLES) {
			before.set(file, (await n8n.executions({ workflowId: workflowOf(file).id })).length);
		}
		const seeded = seedOrder('Katherine', 'Johnson', ['NACA Langley', 'NASA Langley']);
		standIn.setSuborderStatus(seeded.id, 'completed', seeded.employers[0].id);
		// The second employer completes: Truv makes a new report, of both connections.
		const order = standIn.setSuborderStatus(seeded.id, 'completed', seeded.employers[1].id);
		const employer = order.employers[1];
		expect(order.voie_report_id).toEqual(expect.any(String));
		const event = freshEvent('order-status-updated-completed', {
			order_id: order.id,
			order_number: order.order_number,
			employer_id: employer.id,
			link_id: employer.link_id,
			user_id: order.user_id,
		});
		expect(
			(await deliver(event)).targets.map(({ url, attempts }) => [url, attempts[0].status]).sort(),
		).toEqual(COMPLETED_EXAMPLES.map((file) => [urlOf(file), 200]).sort());
		for (const file of COMPLETED_EXAMPLES) {
			const count = (before.get(file) ?? 0) + 1;
			const executions = await n8n.waitForExecutions({ workflowId: workflowOf(file).id, count });
			expect({ file, statuses: executions.map(({ status }) => status) }).toEqual({
				file,
				statuses: Array(count).fill('success'),
			});
		}
		// Each report example read the order's current report once: one the PDF, the other the data.
		const reportPath = `/v1/users/${order.user_id}/reports/${order.voie_report_id}/`;
		expect(
			standIn.calls
				.filter(({ path, status }) => path === reportPath && status === 200)
				.map(({ query }) => query.fmt)
				.sort(),
		).toEqual(['json', 'pdf']);

		// The report as Truv serves it, to compare with what the workflows sent on.
		const reportUrl = `${standIn.url}${reportPath}`;
		const reportJson = await request(reportUrl, { headers: standIn.authHeaders() });
		expect(reportJson.status).toBe(200);
		const report = reportJson.json as {
			report_id: string;
			links: Array<{
				link_id: string;
				employments: Array<{
					company: { name: string };
					job_title: string;
					income: string;
					income_unit: string;
					pay_frequency: string;
				}>;
			}>;
		};
		const reportPdf = await request(`${reportUrl}?fmt=pdf`, { headers: standIn.authHeaders() });
		expect(reportPdf.status).toBe(200);

		const [email] = await smtpSink.waitFor(1);
		expect(smtpSink.messages).toHaveLength(1);
		expect(email.to).toEqual(['loan-officer@example.com']);
		expect(email.headers.subject).toBe(
			`Truv income and employment report: order ${order.order_number}`,
		);
		for (const line of [
			`Order number: ${order.order_number}`,
			`Order ID: ${order.id}`,
			`Report ID: ${order.voie_report_id}`,
		]) {
			expect(email.text).toContain(line);
		}
		expect(email.attachments).toHaveLength(1);
		const [attachment] = email.attachments;
		// A file in the mail's attachments list, not an image in its body.
		expect({
			filename: attachment.filename,
			contentType: attachment.contentType,
			disposition: attachment.disposition,
		}).toEqual({
			filename: `${order.order_number}-income-and-employment.pdf`,
			contentType: 'application/pdf',
			disposition: 'attachment',
		});
		expect(attachment.content.subarray(0, 5).toString('latin1')).toBe('%PDF-');
		// Truv's PDF, byte for byte (the stand-in's is plain ASCII).
		expect(attachment.content.toString('latin1')).toBe(reportPdf.text);
		expect(reportPdf.text).toContain('Applicant: Katherine Johnson');

		const posts = crmSink.requests.filter(({ path }) => path === '/crm/income-verified');
		expect(posts).toHaveLength(1);
		const [posted] = posts;
		expect(posted.method).toBe('POST');
		// The employment of the connection that completed, not the report's first.
		expect(report.links).toHaveLength(2);
		const link = report.links.find(({ link_id }) => link_id === employer.link_id);
		expect(link?.employments).toHaveLength(1);
		const employment = link!.employments[0];
		expect(employment.company.name).toBe('NASA Langley');
		expect(posted.json).toEqual({
			order_id: order.id,
			order_number: order.order_number,
			employer_id: employer.id,
			report_id: report.report_id,
			employer: employment.company.name,
			job_title: employment.job_title,
			income: Number(employment.income),
			income_unit: employment.income_unit,
			pay_frequency: employment.pay_frequency,
		});
		expect(posted.json).toMatchObject({
			employer: 'NASA Langley',
			income: 85000,
			income_unit: 'YEARLY',
			pay_frequency: 'BW',
		});
	});

	test('run as the editor runs it, the hourly check turns a webhook Truv disabled back on and alerts Slack; Truv delivers to it again', async () => {
		const disabled = standIn
			.webhooks()
			.find(({ webhook_url }) => webhook_url === urlOf(SLACK_EXAMPLE));
		expect(disabled).toBeDefined();
		standIn.disableWebhook(disabled!.id);
		// Disabled, it gets nothing: only the email example hears of this refresh failure.
		const whileDisabled = await deliver(freshEvent('order-refresh-failed'));
		expect(whileDisabled.targets.map(({ url }) => url)).toEqual([urlOf(EMAIL_EXAMPLE)]);
		slackSink.clear();

		// The editor's Execute Workflow: POST /rest/workflows/{id}/run from the trigger. n8n 2.8 runs
		// the workflow sent in the body; 2.41 runs the stored one and ignores that field.
		const hourly = workflowOf(HOURLY_EXAMPLE);
		const started = await n8n.rest<{ executionId?: string; waitingForWebhook?: boolean }>(
			'POST',
			`/workflows/${hourly.id}/run`,
			{
				workflowData: await n8n.getWorkflow(hourly.id),
				triggerToStartFrom: { name: 'Every Hour' },
			},
		);
		expect(started).toEqual(expect.objectContaining({ executionId: expect.any(String) }));
		const [execution] = await n8n.waitForExecutions({
			workflowId: hourly.id,
			count: 1,
			includeData: true,
		});
		expect({ mode: execution.mode, status: execution.status }).toEqual({
			mode: 'manual',
			status: 'success',
		});
		const report = nodeOutput(execution, 'Truv: Check Webhooks');
		expect(report).toHaveLength(triggerExampleFiles.length);
		expect(report).toEqual(
			expect.arrayContaining([
				{
					id: disabled!.id,
					name: disabled!.name,
					webhook_url: disabled!.webhook_url,
					enabled_before: false,
					re_enabled: true,
				},
			]),
		);
		expect(standIn.webhooks().every(({ enabled }) => enabled)).toBe(true);

		await slackSink.waitFor(1);
		const alerts = slackMessages(slackSink);
		expect(alerts).toHaveLength(1);
		expect(alerts[0].channel).toBe('#truv-alerts');
		for (const part of [disabled!.id, disabled!.webhook_url, 'it is enabled again']) {
			expect(alerts[0].text).toContain(part);
		}

		const afterCheck = await deliver(freshEvent('order-refresh-failed'));
		expect(afterCheck.targets.map(({ url, attempts }) => [url, attempts[0].status]).sort()).toEqual(
			[
				[urlOf(EMAIL_EXAMPLE), 200],
				[urlOf(SLACK_EXAMPLE), 200],
			].sort(),
		);
	});
});
