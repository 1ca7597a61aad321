import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import { forVersion1, fromVersion2, returnAllAndLimit, webhookIdParameters } from './common';
import { EVENT_TYPES } from './WebhookRequestDescription';

const OPERATION_OPTIONS: INodePropertyOptions[] = [
	{
		name: 'Check Webhooks',
		value: 'check',
		description:
			'Report the Truv webhooks pointing at this n8n and re-enable those Truv has disabled',
		action: 'Check webhooks and turn disabled ones back on',
	},
	{
		name: 'Create',
		value: 'create',
		description: 'Register a webhook, e.g. for a Truv Order Trigger set to Registration: Manually',
		action: 'Create a webhook',
	},
	{
		name: 'Delete',
		value: 'delete',
		description: 'Delete a webhook, e.g. one a deleted workflow left behind',
		action: 'Delete a webhook',
	},
	{
		name: 'Get',
		value: 'get',
		description: 'Get a webhook',
		action: 'Get a webhook',
	},
	{
		name: 'Get Many',
		value: 'getAll',
		description: 'Get many webhooks',
		action: 'Get many webhooks',
	},
	{
		name: 'Re-Enable',
		value: 'reEnable',
		description: 'Turn a webhook back on after Truv disabled it for failing deliveries',
		action: 'Turn a webhook back on',
	},
];

const operation: INodeProperties = {
	displayName: 'Operation',
	name: 'operation',
	type: 'options',
	noDataExpression: true,
	displayOptions: { show: { resource: ['webhook'] } },
	options: OPERATION_OPTIONS,
	default: 'getAll',
};

/**
 * n8n saves no parameter left at its default: version 1 workflows that never touched Operation
 * run Check Webhooks, so that stays version 1's default. From version 2 on, a new node reads.
 */
export const webhookOperations: INodeProperties[] = [
	forVersion1({ ...operation, default: 'check' }),
	fromVersion2(operation),
];

const show = (operations: string[]) => ({ resource: ['webhook'], operation: operations });

const createFields: INodeProperties[] = [
	{
		displayName: 'Name',
		name: 'name',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. n8n order events',
		description: 'A name to recognise the webhook by in the Truv Dashboard (up to 128 characters)',
		displayOptions: { show: show(['create']) },
	},
	{
		displayName: 'Webhook URL',
		name: 'webhookUrl',
		type: 'string',
		required: true,
		default: '',
		placeholder:
			'e.g. https://n8n.example.com/webhook/6f1b3a52-3c0e-4b7e-9d52-2f7c4e1d9a10/webhook',
		description:
			'Where Truv sends the events: for a Truv Order Trigger, its Production URL. Truv takes each URL once per environment.',
		displayOptions: { show: show(['create']) },
	},
	{
		displayName: 'Environment',
		name: 'environment',
		type: 'options',
		options: [
			{
				name: "The Credential's",
				value: 'credential',
				description:
					"The environment of the credential's Access Secret, whose key signs the deliveries",
			},
			{ name: 'Sandbox', value: 'sandbox' },
			{ name: 'Development', value: 'dev' },
			{ name: 'Production', value: 'prod' },
		],
		default: 'credential',
		description:
			"Whose events the webhook receives. Truv signs them with that environment's Access Secret: a Truv Order Trigger must use a credential of the same environment.",
		displayOptions: { show: show(['create']) },
	},
	{
		displayName: 'Events',
		name: 'events',
		type: 'multiOptions',
		options: EVENT_TYPES.map((eventType) => ({ name: eventType, value: eventType })),
		// The events the Truv Order Trigger registers its webhooks for.
		default: ['order-created', 'order-status-updated', 'order-refresh-failed'],
		description:
			"The events to send. The order events are the Truv Order Trigger's. With none, Truv sends every event of the environment.",
		displayOptions: { show: show(['create']) },
	},
];

export const webhookFields: INodeProperties[] = [
	...webhookIdParameters(show(['get', 'reEnable', 'delete'])),
	...createFields,
	{
		displayName:
			'Only the webhooks of the credential’s environment (sandbox, development or production) are listed.',
		name: 'environmentNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: show(['getAll', 'check']) },
	},
	...returnAllAndLimit(show(['getAll'])),
	{
		displayName: 'URL Prefix',
		name: 'urlPrefix',
		type: 'string',
		default: '',
		placeholder: 'e.g. https://n8n.example.com/webhook/',
		description:
			"Check the webhooks whose URL starts with this. Leave empty for this n8n's own address. Set it when Truv reaches this n8n under another address, e.g. through a proxy.",
		displayOptions: { show: show(['check']) },
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		displayOptions: { show: show(['check']) },
		options: [
			{
				displayName: 'Only Report',
				name: 'onlyReport',
				type: 'boolean',
				default: false,
				description:
					'Whether to report disabled webhooks without re-enabling them. Unless set here, on when an AI agent runs the node as a tool.',
			},
		],
	},
];
