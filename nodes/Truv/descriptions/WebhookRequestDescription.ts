import type { INodeProperties } from 'n8n-workflow';

import { returnAllAndLimit } from './common';

/** The events Truv's webhook API accepts, as it names them. */
export const EVENT_TYPES = [
	'bank-accounts-created',
	'bank-accounts-updated',
	'employment-created',
	'employment-updated',
	'link-connected',
	'link-deleted',
	'link-disconnected',
	'order-created',
	'order-refresh-failed',
	'order-status-updated',
	'profile-created',
	'profile-updated',
	'shifts-created',
	'shifts-updated',
	'statements-created',
	'statements-updated',
	'task-status-updated',
];

export const webhookRequestOperations: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['webhookRequest'] } },
		options: [
			{
				name: 'Get Many',
				value: 'getAll',
				description: 'Get many webhook requests',
				action: 'Get many webhook requests',
			},
		],
		default: 'getAll',
	},
];

export const webhookRequestFields: INodeProperties[] = [
	{
		displayName:
			'Truv keeps the webhook requests (deliveries) of the last 30 days, newest first, with each event’s payload: useful to find failed deliveries or to get sample events.',
		name: 'historyNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { resource: ['webhookRequest'], operation: ['getAll'] } },
	},
	...returnAllAndLimit({ resource: ['webhookRequest'], operation: ['getAll'] }),
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		displayOptions: { show: { resource: ['webhookRequest'], operation: ['getAll'] } },
		options: [
			{
				displayName: 'Created After',
				name: 'createdAfter',
				type: 'dateTime',
				default: '',
				description:
					'Only requests made at or after this time. A time without a time zone is read by Truv as UTC.',
			},
			{
				displayName: 'Created Before',
				name: 'createdBefore',
				type: 'dateTime',
				default: '',
				description:
					'Only requests made at or before this time. A time without a time zone is read by Truv as UTC.',
			},
			{
				displayName: 'Event Type',
				name: 'eventType',
				type: 'options',
				options: EVENT_TYPES.map((eventType) => ({ name: eventType, value: eventType })),
				default: 'order-status-updated',
				description: 'Only requests for this event',
			},
			{
				displayName: 'Status Code',
				name: 'statusCode',
				type: 'number',
				default: 200,
				description: 'Only requests the receiver answered with this HTTP status code',
			},
		],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		displayOptions: { show: { resource: ['webhookRequest'], operation: ['getAll'] } },
		options: [
			{
				displayName: 'Parse Payload',
				name: 'parsePayload',
				type: 'boolean',
				default: true,
				description:
					'Whether to turn each webhook_payload (the event as Truv sent it, as text) into an object',
			},
		],
	},
];
