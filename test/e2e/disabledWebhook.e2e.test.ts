// Truv disables a webhook whose deliveries keep failing, for example while n8n is down, and then
// sends it nothing. What n8n does about it when it starts again differs between versions, so this
// suite shows it on each and then the user's two ways back: the shipped Check Webhooks example on a
// schedule, and publishing the workflow again. The README's section on disabled webhooks repeats
// what `observed` records here.
import { readFileSync } from 'fs';
import { rm } from 'fs/promises';

import { startHttpSink, type HttpSink } from '../../dev/n8n/httpSink';
import {
	startN8n,
	type CreatedCredential,
	type Execution,
	type N8nInstance,
} from '../../dev/n8n/n8nInstance';
import { startPackageRegistry, type PackageRegistry } from '../../dev/n8n/packageRegistry';
import { provisionN8n, type N8nVersion } from '../../dev/n8n/runtimes';
import { waitFor } from '../../dev/n8n/wait';
import {
	startTruvStandIn,
	type DeliveryResult,
	type TruvStandIn,
	type TruvWebhook,
} from '../../dev/truv-stand-in/truvStandIn';
import {
	exampleWorkflow,
	noOpWorkflow,
	slackApiResponder,
	slackMessages,
	standInCredentialData,
} from '../../dev/workflows/truvWorkflows';
import {
	e2eVersions,
	exactlyExecutions,
	freshEvent,
	minutes,
	usePackedRepository,
} from './e2eSetup';

// Timeouts only end a hung run; nothing here asserts on time.
jest.setTimeout(minutes(5));

const CHECK_EXAMPLE = 'truv-check-webhooks-hourly.json';
const CHECK_NODE = 'Truv: Check Webhooks';
const SLACK_TOKEN = 'xoxb-e2e-slack-sink';
// n8n prints this once per start, after it has activated the published workflows (both versions
// await that before printing it): from then on, whatever n8n does at start-up has been done.
const STARTED = 'Editor is now accessible via';

interface Observed {
	/**
	 * Whether n8n runs the trigger's checkExists for published workflows at start-up, which finds
	 * the webhook disabled and enables it. 2.8.4 activates every published workflow when it starts
	 * and runs it. 2.41.1 keeps webhooks in its database across restarts and, at start-up,
	 * re-publishes only workflows whose triggers live in memory (schedules, pollers), so the Truv
	 * trigger's code does not run until a delivery arrives, which Truv does not send to a disabled
	 * webhook.
	 */
	reEnabledAtStartUp: boolean;
}

const observed: Record<N8nVersion, Observed> = {
	'2.8.4': { reEnabledAtStartUp: true },
	'2.41.1': { reEnabledAtStartUp: false },
};

/** One webhook in the Check Webhooks report. */
interface CheckReport {
	id: string;
	name: string | null;
	webhook_url: string;
	enabled_before: boolean;
	re_enabled: boolean;
}

/** What the Check Webhooks node output in an execution. */
function checkReport(execution: Execution): CheckReport[] {
	const run = execution.data?.resultData.runData[CHECK_NODE]?.[0];
	return (run?.data?.main?.[0] ?? []).map((item) => item.json as unknown as CheckReport);
}

const packedTarball = usePackedRepository();

describe.each(e2eVersions)('A Truv webhook disabled while n8n %s was down', (version) => {
	const behaviour = observed[version];
	let registry: PackageRegistry;
	let n8n: N8nInstance;
	let standIn: TruvStandIn;
	let slackSink: HttpSink;
	let truvCredential: CreatedCredential;
	let slackCredential: CreatedCredential;
	/** Recovered by the Check Webhooks example. */
	const checked = { webhookId: `downtime-checked-${version.replace(/\./g, '-')}`, workflowId: '' };
	/** Recovered by publishing its workflow again. */
	const republished = {
		webhookId: `downtime-republished-${version.replace(/\./g, '-')}`,
		workflowId: '',
	};
	/** The published Check Webhooks example. */
	let checkWorkflowId = '';
	/** Executions each trigger workflow has had so far. */
	const ran = new Map<string, number>();

	const urlOf = ({ webhookId }: { webhookId: string }) => n8n.webhookUrl(`${webhookId}/webhook`);
	const webhookAt = (url: string): TruvWebhook | undefined =>
		standIn.webhooks().find(({ webhook_url }) => webhook_url === url);
	const truvWebhookOf = (workflow: { webhookId: string }): TruvWebhook => {
		const webhook = webhookAt(urlOf(workflow));
		if (!webhook) throw new Error(`no Truv webhook for ${urlOf(workflow)}`);
		return webhook;
	};

	/** Delivers as Truv does: to every enabled webhook subscribed to the event, once. */
	const deliver = async (): Promise<DeliveryResult> =>
		await standIn.deliver(Buffer.from(JSON.stringify(freshEvent('order-refresh-failed'))), {
			maxRetries: 0,
		});

	/** The URLs a delivery reached, with the last answer each gave. */
	const answers = (result: DeliveryResult) =>
		result.targets
			.map(({ url, attempts }) => ({ url, status: attempts[attempts.length - 1].status }))
			.sort((a, b) => a.url.localeCompare(b.url));

	/** Expects one more execution of each workflow Truv delivered to. */
	const expectRan = async (...workflows: Array<{ workflowId: string }>) => {
		for (const { workflowId } of workflows) {
			const count = (ran.get(workflowId) ?? 0) + 1;
			const executions = await exactlyExecutions(n8n, workflowId, count);
			expect(executions.map(({ status }) => status)).toEqual(Array(count).fill('success'));
			ran.set(workflowId, count);
		}
	};

	const finished = ({ status }: Execution) =>
		['success', 'error', 'crashed', 'canceled'].includes(status);

	/** How many times n8n has finished starting, from its log (appended across restarts). */
	const startsLogged = () => readFileSync(n8n.logFile, 'utf8').split(STARTED).length - 1;

	/** Publishes a trigger workflow and waits until its trigger has registered at Truv. */
	const publish = async (workflow: { webhookId: string; workflowId: string }) => {
		await n8n.activateWorkflow(workflow.workflowId);
		await n8n.waitForWebhook(`${workflow.webhookId}/webhook`);
		// n8n 2.41 serves the path before it runs the trigger's activation hooks that talk to Truv.
		return await waitFor(() => webhookAt(urlOf(workflow)), {
			timeoutMs: 30_000,
			description: `a Truv webhook for ${urlOf(workflow)}`,
		});
	};

	beforeAll(async () => {
		await provisionN8n(version);
		[standIn, slackSink] = await Promise.all([
			startTruvStandIn({ delivery: { retryDelayMs: 200, maxRetries: 0, timeoutMs: 10_000 } }),
			startHttpSink(slackApiResponder),
		]);
		registry = await startPackageRegistry({ interceptedHosts: { 'slack.com': slackSink.url } });
		n8n = await startN8n({ version, tarballs: [packedTarball()], registry });
		truvCredential = await n8n.createCredential(
			'truvApi',
			'Truv (stand-in)',
			standInCredentialData(standIn),
		);
		slackCredential = await n8n.createCredential('slackApi', 'Slack (sink)', {
			accessToken: SLACK_TOKEN,
		});
	}, minutes(30));

	afterAll(async () => {
		const userFolder = n8n?.userFolder;
		await n8n?.stop();
		// Passed in, so not stopped with n8n.
		await registry?.stop();
		await Promise.all([standIn?.close(), slackSink?.close()]);
		if (userFolder) await rm(userFolder, { recursive: true, force: true });
	}, minutes(3));

	test('two published trigger workflows, each with an enabled Truv webhook, run what Truv delivers', async () => {
		const ref = { id: truvCredential.id, name: truvCredential.name };
		for (const workflow of [checked, republished]) {
			workflow.workflowId = (await n8n.createWorkflow(noOpWorkflow(workflow.webhookId, ref))).id;
			expect(await publish(workflow)).toEqual(
				expect.objectContaining({ webhook_url: urlOf(workflow), enabled: true }),
			);
		}
		expect(standIn.webhooks()).toHaveLength(2);
		expect(answers(await deliver())).toEqual(
			[
				{ url: urlOf(checked), status: 200 },
				{ url: urlOf(republished), status: 200 },
			].sort((a, b) => a.url.localeCompare(b.url)),
		);
		await expectRan(checked, republished);
	});

	test(`Truv disables both webhooks while n8n is stopped; once n8n is back they are ${behaviour.reEnabledAtStartUp ? 'enabled again by the trigger at start-up and receive' : 'still disabled: n8n serves their URLs but Truv sends nothing, and nobody is told'}`, async () => {
		const ids = [truvWebhookOf(checked).id, truvWebhookOf(republished).id].sort();
		let missed: DeliveryResult | undefined;
		standIn.resetCalls();
		await n8n.restart({
			whileStopped: async () => {
				// What makes Truv disable an endpoint: deliveries nobody answers.
				missed = await deliver();
				for (const id of ids) standIn.disableWebhook(id);
			},
		});
		expect(answers(missed!)).toEqual(
			[
				{ url: urlOf(checked), status: null },
				{ url: urlOf(republished), status: null },
			].sort((a, b) => a.url.localeCompare(b.url)),
		);
		await n8n.waitForWebhook(`${checked.webhookId}/webhook`);
		await n8n.waitForWebhook(`${republished.webhookId}/webhook`);
		await waitFor(() => (startsLogged() === 2 ? true : undefined), {
			description: `n8n logging "${STARTED}" for its second start`,
		});

		const trigger = await waitFor(
			() => {
				const enabled = ids.map((id) => standIn.webhooks().find((each) => each.id === id)?.enabled);
				// 2.8.4's start-up hooks may still be on their way when n8n logs its start.
				if (behaviour.reEnabledAtStartUp && enabled.includes(false)) return undefined;
				return {
					enabled,
					calls: standIn.calls.map(({ method, path }) => `${method} ${path}`).sort(),
				};
			},
			{ timeoutMs: 30_000, description: 'the webhooks re-enabled at start-up' },
		);
		expect({ version, ...trigger }).toEqual({
			version,
			enabled: ids.map(() => behaviour.reEnabledAtStartUp),
			// The trigger's checkExists looks its webhook up by the id it stored and PATCHes
			// `enabled: true`; on 2.41.1 the trigger makes no call at all.
			calls: behaviour.reEnabledAtStartUp
				? ids.flatMap((id) => [`GET /v1/webhooks/${id}/`, `PATCH /v1/webhooks/${id}/`]).sort()
				: [],
		});
		if (behaviour.reEnabledAtStartUp) {
			expect(
				standIn.calls.filter(({ method }) => method === 'PATCH').map(({ body }) => body),
			).toEqual([{ enabled: true }, { enabled: true }]);
		}

		const afterStart = answers(await deliver());
		if (behaviour.reEnabledAtStartUp) {
			expect(afterStart.map(({ status }) => status)).toEqual([200, 200]);
			await expectRan(checked, republished);
		} else {
			expect(afterStart).toEqual([]);
		}
	});

	test('unpublishing and publishing the workflow again replaces its Truv webhook with an enabled one; Truv delivers to it', async () => {
		const before = truvWebhookOf(republished);
		expect(before.enabled).toBe(behaviour.reEnabledAtStartUp);
		await n8n.deactivateWorkflow(republished.workflowId);
		// Unpublishing deletes the trigger's Truv webhook (2.41 does it in the background).
		await waitFor(() => (webhookAt(urlOf(republished)) === undefined ? true : undefined), {
			timeoutMs: 30_000,
			description: `the Truv webhook of ${urlOf(republished)} deleted`,
		});
		const after = await publish(republished);
		expect(after).toEqual(
			expect.objectContaining({ webhook_url: urlOf(republished), enabled: true }),
		);
		expect(after.id).not.toBe(before.id);
		// The other workflow's webhook is as the start left it.
		expect(truvWebhookOf(checked).enabled).toBe(behaviour.reEnabledAtStartUp);

		const reached = behaviour.reEnabledAtStartUp ? [checked, republished] : [republished];
		expect(answers(await deliver())).toEqual(
			reached
				.map((workflow) => ({ url: urlOf(workflow), status: 200 }))
				.sort((a, b) => a.url.localeCompare(b.url)),
		);
		await expectRan(...reached);
	});

	test(`the Check Webhooks example, published on a schedule, ${behaviour.reEnabledAtStartUp ? 'finds nothing disabled after the start' : 'finds the webhook still disabled, enables it and alerts Slack'}; Truv delivers to it`, async () => {
		const webhook = truvWebhookOf(checked);
		// The example runs hourly; every 5 s here, so that a scheduled run comes soon.
		const workflow = exampleWorkflow(CHECK_EXAMPLE, {
			credentials: {
				truvApi: { id: truvCredential.id, name: truvCredential.name },
				slackApi: { id: slackCredential.id, name: slackCredential.name },
			},
			parameters: {
				'Every Hour': { rule: { interval: [{ field: 'seconds', secondsInterval: 5 }] } },
			},
		});
		const { id } = await n8n.createWorkflow(workflow);
		checkWorkflowId = id;
		slackSink.clear();
		await n8n.activateWorkflow(id);
		const executions = await n8n.waitForExecutions({ workflowId: id, count: 1, includeData: true });
		const first = executions[executions.length - 1];
		expect({ mode: first.mode, status: first.status }).toEqual({
			mode: 'trigger',
			status: 'success',
		});
		const wasDisabled = !behaviour.reEnabledAtStartUp;
		expect(checkReport(first).sort((a, b) => a.webhook_url.localeCompare(b.webhook_url))).toEqual(
			[
				{
					id: webhook.id,
					name: webhook.name,
					webhook_url: urlOf(checked),
					enabled_before: !wasDisabled,
					re_enabled: wasDisabled,
				},
				{
					id: truvWebhookOf(republished).id,
					name: truvWebhookOf(republished).name,
					webhook_url: urlOf(republished),
					enabled_before: true,
					re_enabled: false,
				},
			].sort((a, b) => a.webhook_url.localeCompare(b.webhook_url)),
		);
		expect(standIn.webhooks().every(({ enabled }) => enabled)).toBe(true);
		// The run has finished, Slack node included: an alert only for a webhook found disabled.
		const alerts = slackMessages(slackSink);
		expect(alerts).toHaveLength(wasDisabled ? 1 : 0);
		for (const alert of alerts) {
			for (const part of [webhook.id, urlOf(checked), 'it is enabled again']) {
				expect(alert.text).toContain(part);
			}
		}

		expect(answers(await deliver()).map(({ status }) => status)).toEqual([200, 200]);
		await expectRan(checked, republished);
	});

	test('Truv disabling a webhook while n8n runs: no n8n version notices, the next scheduled check enables it and alerts Slack', async () => {
		const webhook = truvWebhookOf(checked);
		// Runs finished before Truv disables it cannot have re-enabled it; one under way may.
		const before = new Set(
			(await n8n.executions({ workflowId: checkWorkflowId })).filter(finished).map(({ id }) => id),
		);
		slackSink.clear();
		standIn.disableWebhook(webhook.id);
		const recovered = await waitFor(
			async () =>
				(await n8n.executions({ workflowId: checkWorkflowId, includeData: true }))
					.filter((run) => finished(run) && !before.has(run.id))
					.find((run) =>
						checkReport(run).some(({ id, re_enabled }) => id === webhook.id && re_enabled),
					),
			{ description: `a scheduled check re-enabling ${webhook.id}` },
		);
		expect(recovered.status).toBe('success');
		expect(checkReport(recovered).find(({ id }) => id === webhook.id)).toEqual(
			expect.objectContaining({ enabled_before: false, re_enabled: true }),
		);
		expect(truvWebhookOf(checked).enabled).toBe(true);
		await slackSink.waitFor(1);
		expect(slackMessages(slackSink).map(({ text }) => text.includes(webhook.id))).toEqual([true]);

		expect(answers(await deliver()).map(({ status }) => status)).toEqual([200, 200]);
		await expectRan(checked, republished);
	});

	test(`with the check published, a downtime in which Truv disables the webhook heals itself: ${behaviour.reEnabledAtStartUp ? 'enabled again as n8n starts (by the trigger or the check, whichever runs first)' : 'the schedule comes back with n8n and its first runs enable the webhook and alert Slack'}`, async () => {
		const webhook = truvWebhookOf(checked);
		const before = new Set(
			(await n8n.executions({ workflowId: checkWorkflowId })).filter(finished).map(({ id }) => id),
		);
		slackSink.clear();
		await n8n.restart({
			whileStopped: () => {
				standIn.disableWebhook(webhook.id);
			},
		});
		await waitFor(() => (truvWebhookOf(checked).enabled ? true : undefined), {
			description: `${webhook.id} enabled again after the restart`,
		});
		if (!behaviour.reEnabledAtStartUp) {
			// Nothing but the scheduled check can have enabled it on this version; its run may still
			// be posting to Slack.
			const report = await waitFor(
				async () =>
					(await n8n.executions({ workflowId: checkWorkflowId, includeData: true }))
						.filter((run) => finished(run) && !before.has(run.id))
						.flatMap((run) => checkReport(run))
						.find(({ id, re_enabled }) => id === webhook.id && re_enabled),
				{ description: `a scheduled check after the restart re-enabling ${webhook.id}` },
			);
			expect(report).toEqual(expect.objectContaining({ enabled_before: false, re_enabled: true }));
			await slackSink.waitFor(1);
			expect(slackMessages(slackSink).map(({ text }) => text.includes(webhook.id))).toEqual([true]);
		}

		expect(answers(await deliver()).map(({ status }) => status)).toEqual([200, 200]);
		await expectRan(checked, republished);
		await n8n.deactivateWorkflow(checkWorkflowId);
	});
});
