// The editor as users meet it, in real Chromium against each real n8n of the matrix (2.41.1 and
// 2.8.4) with the package installed and the Truv API stand-in: each step asserts on what the page
// shows; where the two editors differ, editorPage.ts says how. The run on n8n 2.41.1 writes the
// README's screenshots to docs/images/.
import { mkdtemp, rm, writeFile } from 'fs/promises';
import { tmpdir } from 'os';
import { join } from 'path';

import type { IDataObject } from 'n8n-workflow';

import { request } from '../../dev/n8n/http';
import { provisionN8n } from '../../dev/n8n/runtimes';
import { startHttpSink, type HttpSink } from '../../dev/n8n/httpSink';
import { startSilentServer } from '../../dev/n8n/silentServer';
import {
	startN8n,
	type CreatedCredential,
	type N8nInstance,
	type WorkflowJson,
} from '../../dev/n8n/n8nInstance';
import { waitFor } from '../../dev/n8n/wait';
import { startTruvStandIn, type TruvStandIn } from '../../dev/truv-stand-in/truvStandIn';
import {
	exampleWorkflow,
	manualTruvWorkflow,
	routingWorkflow,
	shippedExample,
	standInCredentialData,
	TRUV_NODE_TYPE,
	TRUV_TRIGGER_NAME,
	TRUV_TRIGGER_TYPE,
	triggerWebhookId,
} from '../../dev/workflows/truvWorkflows';
import {
	clickNodeCreatorResult,
	clickText,
	closeNotifications,
	credentialTestFailure,
	fillParameter,
	innerText,
	nodeCreatorResults,
	nodeCreatorShowsDescriptions,
	openNode,
	openResourceList,
	outputBinaryView,
	pickFromResourceList,
	resourceLocatorMode,
	resourceLocatorValue,
	saveWithKeyboard,
	screenshot,
	searchResourceList,
	signIn,
	waitForText,
	type EditorSession,
	type PageElement,
	type PageGlobals,
} from './editorPage';
import {
	e2eVersions,
	failedCredentialTestMessage,
	freshEvent,
	minutes,
	truvWebhooks,
	usePackedRepository,
} from './e2eSetup';

/** n8n's credential form, a modal dialog. */
const CREDENTIAL_MODAL = '.el-dialog';

jest.setTimeout(minutes(5));

const packedTarball = usePackedRepository();

describe.each(e2eVersions)('the editor in Chromium, n8n %s', (version) => {
	let n8n: N8nInstance;
	let standIn: TruvStandIn;
	let httpSink: HttpSink;
	let editor: EditorSession;
	let credential: CreatedCredential;

	beforeAll(async () => {
		await provisionN8n(version);
		[standIn, httpSink] = await Promise.all([startTruvStandIn(), startHttpSink()]);
		n8n = await startN8n({ version, tarballs: [packedTarball()] });
		editor = await signIn(n8n);
		// For the workflows made through the API; the UI makes its own in the credential test.
		credential = await n8n.createCredential('truvApi', 'Truv API', standInCredentialData(standIn));
	}, minutes(30));

	afterAll(async () => {
		await editor?.close();
		const userFolder = n8n?.userFolder;
		await n8n?.stop();
		await Promise.all([standIn?.close(), httpSink?.close()]);
		if (userFolder) await rm(userFolder, { recursive: true, force: true });
	}, minutes(3));

	const credentialRef = () => ({ id: credential.id, name: credential.name });

	test("the Truv API credential, created in the credential form: a wrong secret fails the test with the reason under More details (Truv's from n8n 2.41 on), the right one tests green", async () => {
		const { page } = editor;
		await page.goto(`${n8n.baseUrl}/home/credentials/create`, { waitUntil: 'domcontentloaded' });
		await page.waitForSelector('[data-test-id=new-credential-type-select]');
		// Picked as a user does, by typing its name and choosing it; checked on what the dialog
		// then shows, since n8n's list filters as it goes and a choice made mid-filter can land on
		// another service.
		await waitFor(
			async () => {
				const chosen = await page.$eval(
					'[data-test-id=new-credential-type-select]',
					(select) =>
						`${(select as unknown as PageElement).innerText} ${
							(
								select as unknown as { querySelector(s: string): { value?: string } | null }
							).querySelector('input')?.value ?? ''
						}`,
				);
				if (chosen.includes('Truv API')) return true;
				await page.click('[data-test-id=new-credential-type-select]');
				await page.keyboard.type('Truv API');
				await waitForText(page, '[data-test-id=new-credential-type-select-option]', 'Truv API');
				await page.keyboard.press('Enter');
				throw new Error(`the dialog shows "${chosen.trim()}"`);
			},
			{ timeoutMs: 60_000, intervalMs: 1_000, description: 'Truv API chosen in the dialog' },
		);
		await waitFor(
			async () => {
				if (await page.$('[data-test-id=credential-connection-parameter]')) return true;
				await page.click('[data-test-id=new-credential-type-button]');
				throw new Error('no credential form yet');
			},
			{ timeoutMs: 60_000, intervalMs: 1_000, description: "n8n's credential form" },
		);
		// The fields a user fills in, with the stand-in's address as the Base URL.
		await fillParameter(page, 'baseUrl', standIn.url);
		await fillParameter(page, 'clientId', standIn.account.clientId);
		await fillParameter(page, 'accessSecret', 'sandbox-not-the-secret-0123456789');
		await page.click('[data-test-id=credential-save-button]');
		await credentialTestFailure(page, CREDENTIAL_MODAL, failedCredentialTestMessage(version));
		await fillParameter(page, 'accessSecret', standIn.account.secrets.sandbox!);
		await page.click('[data-test-id=credential-save-button]');
		await waitForText(page, CREDENTIAL_MODAL, 'Connection tested successfully');
		await page.keyboard.press('Escape');
		const saved = (
			await n8n.rest<Array<{ name: string; type: string }>>('GET', '/credentials')
		).filter((each) => each.type === 'truvApi');
		expect(saved.map((each) => each.name)).toContain('Truv account');
	});

	test('a new workflow finds the trigger and the action node by "Truv", and adds the trigger', async () => {
		const { page } = editor;
		await page.goto(`${n8n.baseUrl}/workflow/new`, { waitUntil: 'domcontentloaded' });
		await page.waitForSelector('[data-test-id=canvas-add-button]');
		await page.click('[data-test-id=canvas-add-button]');
		await page.waitForSelector('[data-test-id=node-creator-search-bar]');
		await page.keyboard.type('Truv');
		const found = await nodeCreatorResults(page, TRUV_TRIGGER_TYPE);
		expect(found.map(({ type }) => type)).toEqual([TRUV_NODE_TYPE, TRUV_TRIGGER_TYPE]);
		if (nodeCreatorShowsDescriptions(version)) {
			expect(found.map(({ text }) => text)).toEqual([
				expect.stringContaining('Create and manage Truv'),
				expect.stringContaining('Starts the workflow when Truv reports an order event'),
			]);
		}
		await clickNodeCreatorResult(page, TRUV_TRIGGER_TYPE);
		// The trigger's events, in output order, as n8n lists them.
		await waitForText(page, '[data-test-id=node-creator-item-name]', 'On order created');
		const triggers = await page.$$eval('[data-test-id=node-creator-item-name]', (items) =>
			items.map((item) => (item as unknown as PageElement).innerText.trim()),
		);
		expect(triggers).toEqual(
			expect.arrayContaining([
				'On order created',
				'On order status updated',
				'On order refresh failed',
				'On connection failed',
			]),
		);
		await clickText(page, '[data-test-id=item-iterator-item]', 'On order created');
		await page.waitForSelector('[data-test-id=ndv] [data-test-id=node-parameters]');
		// The trigger panel beside the parameters.
		await waitForText(page, 'body', 'Truv sends order events to this workflow');
	});

	test('turning Verify Signature off shows the warning', async () => {
		const { page } = editor;
		const workflow = routingWorkflow('editor-parameters', credentialRef(), httpSink.url, {
			testEvent: 'sample',
			sampleEventType: 'order-refresh-failed',
		});
		const { id } = await n8n.createWorkflow(workflow);
		await openNode(page, n8n.baseUrl, id, TRUV_TRIGGER_NAME);
		// Shown only while Test Event is Show a Sample Event.
		await page.waitForSelector('[data-test-id=parameter-input-sampleEventType]');
		await screenshot(editor, 'trigger-parameters');
		await page.click('[data-test-id=parameter-input-verifySignature]');
		await waitForText(page, '[data-test-id=ndv]', 'Signature checks are off');
		await page.click('[data-test-id=parameter-input-verifySignature]');
		await page.waitForFunction(
			() =>
				![
					...(globalThis as unknown as PageGlobals).document.querySelectorAll('[data-test-id=ndv]'),
				].some((ndv) => ndv.innerText.includes('Signature checks are off')),
		);
	});

	test('Execute step with a sample shows a Refresh Failed event on its own output, without any delivery from Truv', async () => {
		const { page } = editor;
		const workflow = routingWorkflow('editor-sample', credentialRef(), httpSink.url, {
			testEvent: 'sample',
			sampleEventType: 'order-refresh-failed',
		});
		const { id } = await n8n.createWorkflow(workflow);
		const webhooksBefore = standIn.webhooks().length;
		await openNode(page, n8n.baseUrl, id, TRUV_TRIGGER_NAME);
		await page.click('[data-test-id=ndv] [data-test-id=node-execute-button]');
		const output = '[data-test-id=output-panel]';
		// n8n opens the output panel on the first output; the event is on the third.
		await clickText(page, output, 'Refresh Failed');
		await waitForText(page, output, 'n8n_sample');
		const shown = await innerText(page, output);
		expect(shown).toContain('order-refresh-failed');
		expect(shown).toContain('Refresh Failed');
		expect(standIn.webhooks()).toHaveLength(webhooksBefore);
		await closeNotifications(page);
		await screenshot(editor, 'sample-event');
	});

	// A laptop behind a firewall: Truv's API accepts the connection and never answers, so every
	// Truv call the trigger makes waits for its timeout. n8n ends each sample run with the trigger's
	// delete hook for the test URL; when that hook still looked for a webhook at Truv, the second
	// workflow's Execute step failed with Truv's timeout and showed no sample.
	test('two workflows in a row with Truv unreachable get a built-in sample each', async () => {
		const { page } = editor;
		const silentTruv = await startSilentServer();
		try {
			const unreachable = await n8n.createCredential('truvApi', 'Truv unreachable', {
				...standInCredentialData(standIn),
				baseUrl: silentTruv.url,
			});
			for (const name of ['editor-unreachable-1', 'editor-unreachable-2']) {
				const workflow = routingWorkflow(
					name,
					{ id: unreachable.id, name: unreachable.name },
					httpSink.url,
					{ testEvent: 'sample', sampleEventType: 'order-created' },
				);
				const { id } = await n8n.createWorkflow(workflow);
				await openNode(page, n8n.baseUrl, id, TRUV_TRIGGER_NAME);
				const started = Date.now();
				await page.click('[data-test-id=ndv] [data-test-id=node-execute-button]');
				const output = '[data-test-id=output-panel]';
				await waitForText(page, output, 'n8n_sample');
				// Logged, not asserted: this machine's timing is too noisy for a bound.
				console.log(`${name}: sample shown after ${Date.now() - started} ms`);
				const shown = await innerText(page, output);
				expect(shown).toContain('order-created');
				expect(shown).toContain("Truv's delivery history could not be read: Could not reach Truv");
			}
		} finally {
			await silentTruv.close();
		}
	});

	test('Execute step → Truv delivers to the test URL → the event on its output', async () => {
		const { page } = editor;
		const workflow = routingWorkflow('editor-delivery', credentialRef(), httpSink.url);
		const { id } = await n8n.createWorkflow(workflow);
		const webhooksBefore = standIn.webhooks().length;
		await openNode(page, n8n.baseUrl, id, TRUV_TRIGGER_NAME);
		await page.click('[data-test-id=ndv] [data-test-id=node-execute-button]');
		const [registered] = await waitFor(
			async () => {
				const testHooks = standIn
					.webhooks()
					.filter(({ webhook_url }) => webhook_url.includes('/webhook-test/'));
				if (testHooks.length === 0) throw new Error('no test URL at Truv yet');
				return testHooks;
			},
			{ timeoutMs: 60_000, description: 'the test URL registered with Truv' },
		);
		expect(registered.webhook_url).toContain('editor-delivery');
		const event = freshEvent('order-status-updated-completed');
		const result = await standIn.deliver(Buffer.from(JSON.stringify(event)), { maxRetries: 0 });
		expect(result.attempts.map((attempt) => attempt.status)).toEqual([200]);
		const output = '[data-test-id=output-panel]';
		await clickText(page, output, 'Status');
		await waitForText(page, output, String(event.webhook_id));
		// One event, and n8n unregisters the test URL at Truv once it has it.
		await truvWebhooks(standIn, webhooksBefore);
	});

	test('a request refused on the test URL shows its reason in the editor', async () => {
		const { page } = editor;
		const workflow = routingWorkflow('editor-refused', credentialRef(), httpSink.url);
		const { id } = await n8n.createWorkflow(workflow);
		const webhooksBefore = standIn.webhooks().length;
		await openNode(page, n8n.baseUrl, id, TRUV_TRIGGER_NAME);
		await page.click('[data-test-id=ndv] [data-test-id=node-execute-button]');
		const testUrl = await waitFor(
			async () => {
				const testHook = standIn
					.webhooks()
					.find(({ webhook_url }) => webhook_url.includes('editor-refused'));
				if (!testHook) throw new Error('no test URL at Truv yet');
				return testHook.webhook_url;
			},
			{ timeoutMs: 60_000, description: 'the test URL registered with Truv' },
		);
		const body = Buffer.from(JSON.stringify(freshEvent('order-created')));
		const answer = await request(testUrl, {
			method: 'POST',
			body,
			headers: { 'content-type': 'application/json', 'x-webhook-sign': `v1=${'0'.repeat(64)}` },
		});
		expect(answer.status).toBe(401);
		await waitForText(
			page,
			'[data-test-id=ndv]',
			'The trigger refused a request to its test URL (401)',
		);
		// The test run is over: n8n unregisters the test URL at Truv.
		await truvWebhooks(standIn, webhooksBefore);
	});

	test("an imported example, published, lists Truv's delivery in its executions", async () => {
		const { page } = editor;
		const workflow = exampleWorkflow('truv-refresh-failed-to-slack.json', {
			credentials: { truvApi: credentialRef() },
		});
		const { id } = await n8n.createWorkflow(workflow);
		await page.goto(`${n8n.baseUrl}/workflow/${id}`, { waitUntil: 'domcontentloaded' });
		await waitForText(page, '[data-test-id=canvas-node]', 'Truv: Get Order');
		await page.click('[data-test-id=zoom-to-fit]');
		await screenshot(editor, 'example-workflow');

		await n8n.activateWorkflow(id);
		await n8n.waitForWebhook(`${triggerWebhookId(workflow)}/webhook`);
		const event = freshEvent('order-refresh-failed');
		const result = await standIn.deliver(Buffer.from(JSON.stringify(event)), {
			url: n8n.webhookUrl(`${triggerWebhookId(workflow)}/webhook`),
			maxRetries: 0,
		});
		expect(result.attempts.map((attempt) => attempt.status)).toEqual([200]);
		const [execution] = await n8n.waitForExecutions({ workflowId: id, count: 1 });
		await page.goto(`${n8n.baseUrl}/workflow/${id}/executions`, { waitUntil: 'domcontentloaded' });
		// The executions list names each execution by its id.
		await waitForText(page, 'body', `#${execution.id}`);
		await n8n.deactivateWorkflow(id);
	});

	test("an example imported from a file and published in the editor: Truv's completed order reaches the CRM, and the execution is listed", async () => {
		const { page } = editor;
		// The file a user downloads, with their credential and their CRM's address filled in.
		const example = shippedExample('truv-order-completed-to-http.json') as WorkflowJson & {
			nodes: Array<{
				name: string;
				credentials?: Record<string, unknown>;
				parameters: IDataObject;
			}>;
		};
		for (const node of example.nodes) {
			if (node.credentials?.truvApi) node.credentials.truvApi = credentialRef();
			if (node.name === 'Notify CRM') node.parameters.url = `${httpSink.url}/crm/editor-import`;
		}
		const file = join(await mkdtemp(join(tmpdir(), 'n8n-nodes-truv-example-')), 'example.json');
		await writeFile(file, JSON.stringify(example));
		await page.goto(`${n8n.baseUrl}/workflow/new`, { waitUntil: 'domcontentloaded' });
		// What Import from File opens: n8n's hidden file input.
		const input = await page.waitForSelector('[data-test-id=workflow-import-input]');
		await (input as unknown as { uploadFile(...paths: string[]): Promise<void> }).uploadFile(file);
		await waitForText(page, '[data-test-id=canvas-node]', 'Notify CRM');
		// n8n saves an imported workflow at once, under its own URL.
		await page.waitForFunction(() =>
			/\/workflow\/(?!new$)[^/]+$/.test((globalThis as unknown as PageGlobals).location.pathname),
		);
		const workflowId = new URL(page.url()).pathname.split('/workflow/')[1];
		// The Publish button answers once n8n has finished saving the import.
		await waitFor(
			async () => {
				if (await page.$('[data-test-id=workflow-publish-button]')) return true;
				await page.click('[data-test-id=workflow-open-publish-modal-button]');
				throw new Error('no publish dialog yet');
			},
			{ timeoutMs: 60_000, intervalMs: 1_000, description: "n8n's publish dialog" },
		);
		await page.click('[data-test-id=workflow-publish-button]');
		await waitForText(page, 'body', 'listen for events from Truv');
		const imported = await n8n.getWorkflow(workflowId);
		const trigger = imported.nodes.find((node) => node.name === TRUV_TRIGGER_NAME);
		const path = `${String(trigger?.webhookId)}/webhook`;
		await n8n.waitForWebhook(path);
		const [registered] = await waitFor(
			async () => {
				const found = standIn
					.webhooks()
					.filter(({ webhook_url }) => webhook_url === n8n.webhookUrl(path));
				if (found.length === 0) throw new Error('not registered at Truv yet');
				return found;
			},
			{ timeoutMs: 60_000, description: "the imported example's webhook at Truv" },
		);
		expect(registered.enabled).toBe(true);

		const order = standIn.addOrder({
			products: ['income'],
			order_number: 'EDITOR-IMPORT-1',
			first_name: 'Katherine',
			last_name: 'Johnson',
			email: 'katherine.johnson@example.com',
			employers: [{ company_name: 'NASA' }],
		});
		const employer = order.employers[0];
		standIn.setSuborderStatus(order.id, 'completed', employer.id);
		const event = freshEvent('order-status-updated-completed', {
			order_id: order.id,
			order_number: order.order_number,
			employer_id: employer.id,
		});
		const result = await standIn.deliver(Buffer.from(JSON.stringify(event)), {
			url: n8n.webhookUrl(path),
			maxRetries: 0,
		});
		expect(result.attempts.map((attempt) => attempt.status)).toEqual([200]);
		const posted = await waitFor(
			async () => {
				const found = httpSink.requests.find((each) => each.path === '/crm/editor-import');
				if (!found) throw new Error('nothing at the CRM yet');
				return found;
			},
			{ timeoutMs: 60_000, description: 'the CRM request' },
		);
		expect(posted.json).toEqual(
			expect.objectContaining({ applicant_name: 'Katherine Johnson', employer_name: 'NASA' }),
		);
		const [execution] = await n8n.waitForExecutions({ workflowId, count: 1 });
		await page.goto(`${n8n.baseUrl}/workflow/${workflowId}/executions`, {
			waitUntil: 'domcontentloaded',
		});
		await waitForText(page, 'body', `#${execution.id}`);
		await n8n.deactivateWorkflow(workflowId);
	});

	test("the Truv node's operations", async () => {
		const { page } = editor;
		const workflow = exampleWorkflow('truv-refresh-failed-to-email.json', {
			credentials: { truvApi: credentialRef() },
		});
		const { id } = await n8n.createWorkflow(workflow);
		await openNode(page, n8n.baseUrl, id, 'Truv: Get Order');
		await page.click('[data-test-id=parameter-input-operation]');
		await waitForText(page, '.el-select-dropdown__item', 'Refresh');
		const operations = await page.$$eval('.el-select-dropdown__item', (items) =>
			items
				.filter((item) => (item as unknown as PageElement).offsetParent !== null)
				.map((item) => (item as unknown as PageElement).innerText),
		);
		expect(operations.join('\n')).toEqual(expect.stringContaining('Cancel'));
		await screenshot(editor, 'truv-node-operations');
		await page.keyboard.press('Escape');
	});

	test("the Truv node's Order ID, From list: the stand-in's orders, searchable by order number or applicant name; the one picked is saved by its id", async () => {
		const { page } = editor;
		const seeded = [
			['LOAN-2041', 'Ada', 'Lovelace', 'Analytical Engines'],
			['LOAN-2042', 'Grace', 'Hopper', 'Remington Rand'],
			['LOAN-2043', 'Dorothy', 'Vaughan', 'NACA'],
		].map(([order_number, first_name, last_name, company_name]) =>
			standIn.addOrder({
				products: ['income'],
				order_number,
				first_name,
				last_name,
				email: `${first_name.toLowerCase()}.${last_name.toLowerCase()}@example.com`,
				employers: [{ company_name }],
			}),
		);
		const [, hopper] = seeded;
		// A new Truv node as n8n adds it: Order → Get, Order ID empty in From list.
		const workflow = manualTruvWorkflow('editor-order-list', credentialRef(), {
			resource: 'order',
			operation: 'get',
		});
		const { id } = await n8n.createWorkflow(workflow);
		await openNode(page, n8n.baseUrl, id, 'Truv');
		expect(await resourceLocatorMode(page, 'orderId')).toBe('From list');
		const listed = await openResourceList(page, 'orderId');
		// Newest first, as the node reads Truv's list; other tests' orders may follow.
		expect(listed.slice(0, 3)).toEqual([
			'LOAN-2043 · Dorothy Vaughan',
			'LOAN-2042 · Grace Hopper',
			'LOAN-2041 · Ada Lovelace',
		]);
		expect(await searchResourceList(page, 'orderId', 'LOAN-204', 'LOAN-204')).toEqual([
			'LOAN-2043 · Dorothy Vaughan',
			'LOAN-2042 · Grace Hopper',
			'LOAN-2041 · Ada Lovelace',
		]);
		await screenshot(editor, 'order-id-list');
		expect(await searchResourceList(page, 'orderId', 'loan-2041', 'LOAN-2041')).toEqual([
			'LOAN-2041 · Ada Lovelace',
		]);
		expect(await searchResourceList(page, 'orderId', 'hopper', 'Grace Hopper')).toEqual([
			'LOAN-2042 · Grace Hopper',
		]);
		await pickFromResourceList(page, 'orderId', 'Grace Hopper');
		expect(await resourceLocatorValue(page, 'orderId')).toBe('LOAN-2042 · Grace Hopper');
		await saveWithKeyboard(page);
		const saved = await waitFor(
			async () => {
				const node = (await n8n.getWorkflow(id)).nodes.find(({ name }) => name === 'Truv');
				const orderId = (node?.parameters as IDataObject | undefined)?.orderId as
					| IDataObject
					| undefined;
				if (!orderId?.value) throw new Error('no order saved yet');
				return orderId;
			},
			{ timeoutMs: 30_000, description: 'the workflow saved with the order picked' },
		);
		expect(saved).toEqual(expect.objectContaining({ __rl: true, mode: 'list', value: hopper.id }));
	});

	test("Report → Get as a PDF file, executed in the editor: the PDF in the output panel's binary view", async () => {
		const { page } = editor;
		const order = standIn.addOrder({
			products: ['income'],
			order_number: 'LOAN-1842',
			first_name: 'Mary',
			last_name: 'Jackson',
			email: 'mary.jackson@example.com',
			employers: [{ company_name: 'NASA' }],
		});
		// A completed connection gives the order its report.
		standIn.setSuborderStatus(order.id, 'completed');
		const workflow = manualTruvWorkflow('editor-report-pdf', credentialRef(), {
			resource: 'report',
			operation: 'get',
			orderId: {
				__rl: true,
				mode: 'list',
				value: order.id,
				cachedResultName: 'LOAN-1842 · Mary Jackson',
			},
			format: 'pdf',
		});
		const { id } = await n8n.createWorkflow(workflow);
		await openNode(page, n8n.baseUrl, id, 'Truv');
		await page.click('[data-test-id=ndv] [data-test-id=node-execute-button]');
		const shown = await outputBinaryView(page);
		expect(shown).toContain('LOAN-1842-income-and-employment.pdf');
		expect(shown).toContain('application/pdf');
		expect(shown).toContain('data');
		// Read from the stand-in as Truv's PDF of the order's report.
		expect(
			standIn.calls.filter(
				({ method, path, query }) =>
					method === 'GET' &&
					path.includes(`/users/${order.user_id}/reports/`) &&
					query.fmt === 'pdf',
			),
		).toEqual([expect.objectContaining({ status: 200 })]);
		await closeNotifications(page);
		await screenshot(editor, 'report-pdf-binary');
	});
});
