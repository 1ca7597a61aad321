import type { INodeProperties } from 'n8n-workflow';

import { orderIdParameters, simplify } from './common';

const show = (fields: Record<string, string[]> = {}) => ({
	show: { resource: ['report'], operation: ['get'], ...fields },
});

export const reportOperations: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['report'] } },
		options: [
			{
				name: 'Get',
				value: 'get',
				description: 'Get the verification report of an order, as data or as a PDF file',
				action: 'Get a report',
			},
		],
		default: 'get',
	},
];

export const reportFields: INodeProperties[] = [
	{
		displayName: 'Find By',
		name: 'source',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Order',
				value: 'order',
				description: "The order's current report, e.g. after the trigger's completed event",
			},
			{
				name: 'User ID and Report ID',
				value: 'ids',
				description: 'A report whose IDs you have',
			},
		],
		default: 'order',
		displayOptions: show(),
	},
	...orderIdParameters(
		{ resource: ['report'], operation: ['get'], source: ['order'] },
		'The order (its ID is not your order number). The order is read each time: Truv makes a new report whenever another connection completes.',
	),
	{
		displayName: 'User ID',
		name: 'userId',
		type: 'string',
		required: true,
		default: '',
		description: "The ID of the applicant's Truv user, the user_id of their order",
		displayOptions: show({ source: ['ids'] }),
	},
	{
		displayName: 'Report ID',
		name: 'reportId',
		type: 'string',
		required: true,
		default: '',
		description: 'The ID of the report, e.g. the voie_report_id or voa_report_id of an order',
		displayOptions: show({ source: ['ids'] }),
	},
	{
		displayName: 'Report Type',
		name: 'reportType',
		type: 'options',
		options: [
			{
				name: 'Income and Employment',
				value: 'incomeAndEmployment',
				description: "Pay, employers and employment dates (the order's voie_report_id)",
			},
			{
				name: 'Assets',
				value: 'assets',
				description: "Bank accounts, balances and transactions (the order's voa_report_id)",
			},
			{
				name: 'Employment Only',
				value: 'employment',
				description:
					'Employers and employment dates without pay: from an order, one item per completed connection',
			},
		],
		default: 'incomeAndEmployment',
		displayOptions: show(),
	},
	{
		displayName: 'Format',
		name: 'format',
		type: 'options',
		options: [
			{ name: 'Data', value: 'json', description: 'The report as fields to use in the workflow' },
			{
				name: 'PDF File',
				value: 'pdf',
				description: "Truv's PDF of the report, to attach to an email or upload",
			},
		],
		default: 'json',
		displayOptions: show(),
	},
	{
		...simplify({ resource: ['report'], operation: ['get'], format: ['json'] }),
	},
	{
		displayName: 'Put Output File in Field',
		name: 'binaryPropertyName',
		type: 'string',
		required: true,
		default: 'data',
		hint: 'The name of the output binary field to put the PDF in',
		displayOptions: show({ format: ['pdf'] }),
	},
	{
		displayName: 'Create If Missing',
		name: 'createIfMissing',
		type: 'boolean',
		default: false,
		description:
			'Whether to ask Truv to create the report when the order has none yet. Truv may bill each report it creates. An employment-only PDF is always created, as orders keep no such report.',
		displayOptions: show({ source: ['order'] }),
	},
];
