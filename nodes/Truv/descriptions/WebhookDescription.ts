import type { INodeProperties } from 'n8n-workflow';

import { returnAllAndLimit } from './common';

export const webhookOperations: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['webhook'] } },
		options: [
			{
				name: 'Check Webhooks',
				value: 'check',
				description:
					'Report the Truv webhooks pointing at this n8n and re-enable those Truv has disabled',
				action: 'Check webhooks and turn disabled ones back on',
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
		],
		default: 'check',
	},
];

export const webhookFields: INodeProperties[] = [
	{
		displayName: 'Webhook ID',
		name: 'webhookId',
		type: 'string',
		required: true,
		default: '',
		description: 'The ID Truv gave the webhook',
		displayOptions: { show: { resource: ['webhook'], operation: ['get', 'reEnable'] } },
	},
	{
		displayName:
			'Only the webhooks of the credential’s environment (sandbox, development or production) are listed.',
		name: 'environmentNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { resource: ['webhook'], operation: ['getAll', 'check'] } },
	},
	...returnAllAndLimit({ resource: ['webhook'], operation: ['getAll'] }),
	{
		displayName: 'URL Prefix',
		name: 'urlPrefix',
		type: 'string',
		default: '',
		placeholder: 'e.g. https://n8n.example.com/webhook/',
		description:
			"Check the webhooks whose URL starts with this. Leave empty for this n8n's own address. Set it when Truv reaches this n8n under another address, e.g. through a proxy.",
		displayOptions: { show: { resource: ['webhook'], operation: ['check'] } },
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		displayOptions: { show: { resource: ['webhook'], operation: ['check'] } },
		options: [
			{
				displayName: 'Only Report',
				name: 'onlyReport',
				type: 'boolean',
				default: false,
				description: 'Whether to report disabled webhooks without re-enabling them',
			},
		],
	},
];
