import type { IDataObject } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import {
	resolveEnvironment,
	truvApiRequest,
	truvListRequest,
	type TruvEnvironment,
} from '../../shared/truvTransport';
import { listLimit, type OperationContext, pathId, type TruvOperation } from './operationContext';

const WEBHOOKS_PATH = '/v1/webhooks/';

interface TruvWebhook extends IDataObject {
	id: string;
	name?: string;
	webhook_url: string;
	env_type?: string;
	enabled?: boolean;
}

/** Truv lists the webhooks of every environment of the account; a credential acts in one. */
function credentialEnvironment({
	context,
	itemIndex,
	credentials,
}: OperationContext): TruvEnvironment {
	const environment = resolveEnvironment(credentials);
	if (!environment) {
		throw new NodeOperationError(
			context.getNode(),
			'Cannot tell the Truv environment from the Access Secret',
			{
				itemIndex,
				description:
					'Truv secrets start with sandbox-, dev- or prod-. Choose the Environment in the Truv API credential.',
			},
		);
	}
	return environment;
}

function notFoundHint(webhookId: string): string {
	return `No webhook with ID ${decodeURIComponent(webhookId)} in this Truv account`;
}

const get: TruvOperation = async (operation) => {
	const { context, itemIndex, credentials } = operation;
	const webhookId = pathId(operation, 'webhookId', 'Webhook ID');
	const { body } = await truvApiRequest(context, 'GET', `${WEBHOOKS_PATH}${webhookId}/`, {
		credentials,
		itemIndex,
		notFoundHint: notFoundHint(webhookId),
	});
	return [body];
};

const getAll: TruvOperation = async (operation) => {
	const { context, itemIndex, credentials } = operation;
	const environment = credentialEnvironment(operation);
	return await truvListRequest<TruvWebhook>(context, WEBHOOKS_PATH, {
		include: (webhook) => webhook.env_type === environment,
		limit: listLimit(operation),
		credentials,
		itemIndex,
	});
};

const reEnable: TruvOperation = async (operation) => {
	const { context, itemIndex, credentials } = operation;
	const webhookId = pathId(operation, 'webhookId', 'Webhook ID');
	const { body } = await truvApiRequest(context, 'PATCH', `${WEBHOOKS_PATH}${webhookId}/`, {
		body: { enabled: true },
		credentials,
		itemIndex,
		notFoundHint: notFoundHint(webhookId),
	});
	return [body];
};

/**
 * The URL prefix as a normalised address. Empty means this n8n: its instance base URL, which is
 * where n8n's webhook URLs start unless n8n is told an editor address apart from WEBHOOK_URL.
 */
function webhookUrlPrefix({ context, itemIndex }: OperationContext): string {
	const configured = String(context.getNodeParameter('urlPrefix', itemIndex, '')).trim();
	const prefix = configured || context.getInstanceBaseUrl();
	try {
		return new URL(prefix).href;
	} catch {
		throw new NodeOperationError(context.getNode(), `URL Prefix is not a URL: ${prefix}`, {
			itemIndex,
			description: 'Enter the start of the webhook URLs to check, e.g. https://n8n.example.com/',
		});
	}
}

/** Whether `url` is `prefix` or lies under it: `https://n8n.example.com` must not match `…com.evil`. */
function pointsAt(url: string, prefix: string): boolean {
	let normalised: string;
	try {
		normalised = new URL(url).href;
	} catch {
		return false;
	}
	const withSlash = prefix.endsWith('/') ? prefix : `${prefix}/`;
	return normalised === prefix || normalised.startsWith(withSlash);
}

/** An AI agent must not change webhooks unasked: as its tool, Check Webhooks only reports. */
function runsAsTool(context: OperationContext['context']): boolean {
	// n8n 2.x runs an agent's tool call in an execute context whose isToolExecution() answers
	// false, but under the type n8n generated for the tool: the node's type with `Tool` appended.
	return context.isToolExecution?.() === true || context.getNode().type.endsWith('Tool');
}

/**
 * Truv disables an endpoint that keeps failing (n8n down, a workflow inactive for a while) and
 * sends nothing more until it is enabled again: this finds such webhooks among those pointing at
 * this n8n and enables them. From version 2 on, finding none is said in an item of its own: a
 * check that finds nothing to check is no success to pass over in silence.
 */
const check: TruvOperation = async (operation) => {
	const { context, itemIndex, credentials } = operation;
	const environment = credentialEnvironment(operation);
	const prefix = webhookUrlPrefix(operation);
	const options = context.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const onlyReport =
		typeof options.onlyReport === 'boolean' ? options.onlyReport : runsAsTool(context);

	const inEnvironment = await truvListRequest<TruvWebhook>(context, WEBHOOKS_PATH, {
		include: (webhook) => webhook.env_type === environment,
		credentials,
		itemIndex,
	});
	const webhooks = inEnvironment.filter((webhook) =>
		pointsAt(String(webhook.webhook_url ?? ''), prefix),
	);
	const report: IDataObject[] = [];
	for (const webhook of webhooks) {
		const enabledBefore = webhook.enabled !== false;
		let reEnabled = false;
		if (!enabledBefore && !onlyReport) {
			const { body } = await truvApiRequest<TruvWebhook>(
				context,
				'PATCH',
				`${WEBHOOKS_PATH}${encodeURIComponent(webhook.id)}/`,
				{ body: { enabled: true }, credentials, itemIndex, notFoundHint: notFoundHint(webhook.id) },
			);
			reEnabled = body?.enabled !== false;
		}
		report.push({
			id: webhook.id,
			name: webhook.name ?? null,
			webhook_url: webhook.webhook_url,
			enabled_before: enabledBefore,
			re_enabled: reEnabled,
		});
	}
	if (report.length > 0 || context.getNode().typeVersion < 2) return report;
	const count = inEnvironment.length;
	return [
		{
			no_matching_webhook: true,
			environment,
			url_prefix: prefix,
			webhooks_in_environment: count,
			message: `No Truv webhook of the ${environment} environment points at ${prefix} (the environment has ${count} webhook${count === 1 ? '' : 's'}): Truv sends this n8n no events of that environment`,
		},
	];
};

/** The credential's environment, or the one chosen. */
function createEnvironment(operation: OperationContext): TruvEnvironment {
	const chosen = operation.context.getNodeParameter(
		'environment',
		operation.itemIndex,
		'credential',
	) as string;
	return chosen === 'credential' ? credentialEnvironment(operation) : (chosen as TruvEnvironment);
}

const create: TruvOperation = async (operation) => {
	const { context, itemIndex, credentials } = operation;
	const name = String(context.getNodeParameter('name', itemIndex, '')).trim();
	const webhookUrl = String(context.getNodeParameter('webhookUrl', itemIndex, '')).trim();
	for (const [value, label] of [
		[name, 'Name'],
		[webhookUrl, 'Webhook URL'],
	]) {
		if (value === '') {
			throw new NodeOperationError(context.getNode(), `${label} is empty`, { itemIndex });
		}
	}
	const events = context.getNodeParameter('events', itemIndex, []) as string[];
	const { body } = await truvApiRequest(context, 'POST', WEBHOOKS_PATH, {
		body: { name, webhook_url: webhookUrl, env_type: createEnvironment(operation), events },
		credentials,
		itemIndex,
	});
	return [body];
};

const deleteWebhook: TruvOperation = async (operation) => {
	const { context, itemIndex, credentials } = operation;
	const webhookId = pathId(operation, 'webhookId', 'Webhook ID');
	await truvApiRequest<IDataObject | undefined>(
		context,
		'DELETE',
		`${WEBHOOKS_PATH}${webhookId}/`,
		{ credentials, itemIndex, notFoundHint: notFoundHint(webhookId) },
	);
	return [{ id: decodeURIComponent(webhookId), deleted: true }];
};

export const webhookActions: Record<string, TruvOperation> = {
	check,
	create,
	delete: deleteWebhook,
	get,
	getAll,
	reEnable,
};
