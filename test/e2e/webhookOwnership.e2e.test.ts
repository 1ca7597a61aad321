// The Truv API credential of a trigger edited in n8n (through the REST API the credential modal
// uses) while the workflow is active: switched to another environment, or to another Truv
// account. No webhook the trigger registered may stay behind at the Truv stand-in.
import { readFileSync } from 'fs';
import { rm } from 'fs/promises';

import { startN8n, type CreatedCredential, type N8nInstance } from '../../dev/n8n/n8nInstance';
import { provisionN8n, type N8nVersion } from '../../dev/n8n/runtimes';
import { waitFor } from '../../dev/n8n/wait';
import {
	DEFAULT_ACCOUNT,
	startTruvStandIn,
	type TruvStandIn,
	type TruvWebhook,
} from '../../dev/truv-stand-in/truvStandIn';
import { noOpWorkflow, standInCredentialData } from '../../dev/workflows/truvWorkflows';
import { e2eVersions, minutes, usePackedRepository } from './e2eSetup';

// Timeouts only end a hung run; nothing here asserts on time.
jest.setTimeout(minutes(5));

const OTHER_ACCOUNT = {
	clientId: 'other-client-id',
	secrets: ['sandbox-other-secret', 'prod-other-secret'],
};

interface Observed {
	/** How often n8n runs the trigger's delete hook when it throws, during one deactivation. */
	deleteAttempts: number;
	/**
	 * What n8n does when the trigger's activation hook throws: refuse the activation (the API
	 * answers 400 with the error's message), or publish the workflow with its trigger failed
	 * (the publication status, which the editor shows, carries the message).
	 */
	failedActivation: 'refused' | 'published with the trigger failed';
}

const observed: Record<N8nVersion, Observed> = {
	// Logs the error of a deactivation ("Could not remove webhooks of workflow …") and deactivates.
	'2.8.4': { deleteAttempts: 1, failedActivation: 'refused' },
	// Retries a failed deactivation hook twice (after 1 s and 2 s), then unpublishes with the error
	// as its warning ("External webhook deregistration failed for: …"); retries a failed
	// activation four times (about 15 s) before reporting it.
	'2.41.1': { deleteAttempts: 3, failedActivation: 'published with the trigger failed' },
};

interface PublicationStatus {
	status: string;
	triggers: Array<{ errorMessage?: string | null }>;
}

const packedTarball = usePackedRepository();

describe.each(e2eVersions)('Webhook ownership in n8n %s', (version) => {
	const behaviour = observed[version];
	let n8n: N8nInstance;
	let standIn: TruvStandIn;
	let credential: CreatedCredential;
	let workflowId: string;
	const webhookId = `truv-ownership-${version.replace(/\./g, '-')}`;
	const url = () => n8n.webhookUrl(`${webhookId}/webhook`);

	/** What a user saving the credential modal sends. */
	const editCredential = async (data: Record<string, unknown>) => {
		await n8n.rest('PATCH', `/credentials/${credential.id}`, {
			name: credential.name,
			type: credential.type,
			data,
		});
	};
	const sandboxKeys = () => standInCredentialData(standIn);
	const prodKeys = () => standInCredentialData(standIn, standIn.account.secrets.prod);
	const otherAccountKeys = () => ({
		...standInCredentialData(standIn),
		clientId: OTHER_ACCOUNT.clientId,
		accessSecret: OTHER_ACCOUNT.secrets[0],
	});

	/** The trigger's webhooks at Truv, in every account, as `<Client ID> <environment>`. */
	const registered = (): string[] =>
		[DEFAULT_ACCOUNT.clientId, OTHER_ACCOUNT.clientId].flatMap((clientId) =>
			standIn
				.webhooks(clientId)
				.filter((webhook) => webhook.webhook_url === url())
				.map((webhook) => `${clientId} ${webhook.env_type}`),
		);

	/**
	 * Waits until the stand-in holds exactly `expected` for the trigger (n8n 2.41 publishes and
	 * unpublishes in the background) and returns those webhooks.
	 */
	const settlesOn = async (expected: string[]): Promise<TruvWebhook[]> => {
		await waitFor(
			() => {
				const now = registered();
				if (JSON.stringify(now) !== JSON.stringify(expected)) throw new Error(now.join(', '));
				return now;
			},
			{ timeoutMs: 60_000, description: `the trigger's webhooks to be [${expected.join(', ')}]` },
		);
		return standIn.webhooks().filter((webhook) => webhook.webhook_url === url());
	};

	const logLength = () => readFileSync(n8n.logFile, 'utf8').length;
	/** Waits until n8n's log, from offset `from` on, contains `text`. */
	const logged = async (from: number, text: string) =>
		await waitFor(
			() => (readFileSync(n8n.logFile, 'utf8').slice(from).includes(text) ? true : undefined),
			{ timeoutMs: 60_000, description: `n8n to log "${text}"` },
		);

	const publicationStatus = async () =>
		await n8n.rest<PublicationStatus>('GET', `/workflows/${workflowId}/publication-status`);

	const deleteCalls = (id: string) =>
		standIn.calls.filter((call) => call.method === 'DELETE' && call.path === `/v1/webhooks/${id}/`);

	beforeAll(async () => {
		await provisionN8n(version);
		standIn = await startTruvStandIn({ accounts: [DEFAULT_ACCOUNT, OTHER_ACCOUNT] });
		n8n = await startN8n({ version, tarballs: [packedTarball()] });
		credential = await n8n.createCredential('truvApi', 'Truv (stand-in)', sandboxKeys());
		workflowId = (
			await n8n.createWorkflow(
				noOpWorkflow(webhookId, { id: credential.id, name: credential.name }),
			)
		).id;
	}, minutes(30));

	afterAll(async () => {
		const userFolder = n8n?.userFolder;
		await n8n?.stop();
		await standIn?.close();
		if (userFolder) await rm(userFolder, { recursive: true, force: true });
	}, minutes(3));

	test('activated with a sandbox credential, the trigger registers one sandbox webhook', async () => {
		await n8n.activateWorkflow(workflowId);
		await settlesOn([`${DEFAULT_ACCOUNT.clientId} sandbox`]);
	});

	test('switched to production while active, deactivation deletes the sandbox webhook', async () => {
		const [sandbox] = await settlesOn([`${DEFAULT_ACCOUNT.clientId} sandbox`]);
		await editCredential(prodKeys());
		await n8n.deactivateWorkflow(workflowId);
		await settlesOn([]);
		expect(deleteCalls(sandbox.id).map((call) => [call.env, call.status])).toEqual([['prod', 204]]);
	});

	test('activated again, exactly one webhook, in production', async () => {
		await n8n.activateWorkflow(workflowId);
		const [prod] = await settlesOn([`${DEFAULT_ACCOUNT.clientId} prod`]);
		expect(prod.enabled).toBe(true);
	});

	test('a deactivation that could not reach Truv, a switch back to sandbox: the next activation deletes the production webhook', async () => {
		const [prod] = await settlesOn([`${DEFAULT_ACCOUNT.clientId} prod`]);
		standIn.setFault({ method: 'DELETE', path: '/v1/webhooks/', kind: 'status500' });
		const from = logLength();
		await n8n.deactivateWorkflow(workflowId);
		await waitFor(
			() => (deleteCalls(prod.id).length >= behaviour.deleteAttempts ? true : undefined),
			{ timeoutMs: 60_000, description: `${behaviour.deleteAttempts} DELETE call(s)` },
		);
		// The end of n8n's deactivation: it logs what the trigger threw.
		await logged(from, 'Truv answered HTTP 500');
		expect(deleteCalls(prod.id)).toHaveLength(behaviour.deleteAttempts);
		expect((await n8n.getWorkflow(workflowId)).active).toBe(false);
		standIn.clearFaults();
		expect(registered()).toEqual([`${DEFAULT_ACCOUNT.clientId} prod`]);

		await editCredential(sandboxKeys());
		await n8n.activateWorkflow(workflowId);
		await settlesOn([`${DEFAULT_ACCOUNT.clientId} sandbox`]);
		expect(deleteCalls(prod.id).at(-1)).toMatchObject({ env: 'sandbox', status: 204 });
	});

	test('edited to another Truv account while active: n8n still deactivates, and logs which webhook to delete where', async () => {
		const [sandbox] = await settlesOn([`${DEFAULT_ACCOUNT.clientId} sandbox`]);
		await editCredential(otherAccountKeys());
		const from = logLength();
		await n8n.deactivateWorkflow(workflowId);
		await logged(
			from,
			`Truv webhook ${sandbox.id} for ${url()} is in another Truv account (Client ID ${DEFAULT_ACCOUNT.clientId}, Sandbox)`,
		);
		expect((await n8n.getWorkflow(workflowId)).active).toBe(false);
		// No call for it with the other account's keys, and nothing left in that account.
		expect(
			deleteCalls(sandbox.id).filter((call) => call.clientId === OTHER_ACCOUNT.clientId),
		).toEqual([]);
		expect(registered()).toEqual([`${DEFAULT_ACCOUNT.clientId} sandbox`]);
	});

	test("activated with the other account's keys, the trigger fails with that message and registers nothing", async () => {
		const [sandbox] = await settlesOn([`${DEFAULT_ACCOUNT.clientId} sandbox`]);
		const message = `Truv webhook ${sandbox.id} for ${url()} is in another Truv account (Client ID ${DEFAULT_ACCOUNT.clientId}, Sandbox): put that account's keys back`;
		if (behaviour.failedActivation === 'refused') {
			await expect(n8n.activateWorkflow(workflowId)).rejects.toThrow(
				`answered 400: {"message":"${message}`,
			);
		} else {
			await n8n.activateWorkflow(workflowId);
			const status = await waitFor(
				async () => {
					const current = await publicationStatus();
					return current.status === 'failed' ? current : undefined;
				},
				{ timeoutMs: 90_000, description: 'the publication to fail' },
			);
			expect(status.triggers.map((trigger) => trigger.errorMessage)).toEqual([
				expect.stringContaining(message),
			]);
			// Published with its only trigger failed: unpublishing is what the user does next.
			expect((await n8n.getWorkflow(workflowId)).active).toBe(true);
			await n8n.deactivateWorkflow(workflowId);
			await waitFor(
				async () => ((await publicationStatus()).status === 'not_published' ? true : undefined),
				{ timeoutMs: 60_000, description: 'the workflow to be unpublished' },
			);
		}
		expect((await n8n.getWorkflow(workflowId)).active).toBe(false);
		expect(registered()).toEqual([`${DEFAULT_ACCOUNT.clientId} sandbox`]);
	});

	test("with the old account's keys back, activating and deactivating deletes it; the new account then gets exactly one", async () => {
		const [sandbox] = await settlesOn([`${DEFAULT_ACCOUNT.clientId} sandbox`]);
		await editCredential(sandboxKeys());
		standIn.resetCalls();
		await n8n.activateWorkflow(workflowId);
		// The kept record: the webhook is looked up by its id, not registered again.
		await waitFor(
			() =>
				standIn.calls.some((call) => call.path === `/v1/webhooks/${sandbox.id}/`)
					? true
					: undefined,
			{ timeoutMs: 60_000, description: `GET /v1/webhooks/${sandbox.id}/` },
		);
		await n8n.deactivateWorkflow(workflowId);
		await settlesOn([]);
		expect(standIn.calls.filter((call) => call.method === 'POST')).toEqual([]);

		await editCredential(otherAccountKeys());
		await n8n.activateWorkflow(workflowId);
		await settlesOn([`${OTHER_ACCOUNT.clientId} sandbox`]);
		await n8n.deactivateWorkflow(workflowId);
		await settlesOn([]);
	});
});
