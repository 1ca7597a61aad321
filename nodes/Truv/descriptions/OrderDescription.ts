import type { INodeProperties } from 'n8n-workflow';

import { orderIdParameters, returnAllAndLimit, simplify } from './common';

const PRODUCT_OPTIONS = [
	{ name: 'Assets', value: 'assets', description: 'Bank accounts and their balances' },
	{ name: 'Employment', value: 'employment', description: 'Employers and employment dates' },
	{ name: 'Income', value: 'income', description: 'Pay and employment from payroll' },
];

export const orderOperations: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['order'] } },
		options: [
			{
				name: 'Cancel',
				value: 'cancel',
				description: 'Cancel an order whose applicant has not finished',
				action: 'Cancel an order',
			},
			{
				name: 'Create',
				value: 'create',
				description: 'Create an order and get the link the applicant opens',
				action: 'Create an order',
			},
			{
				name: 'Get',
				value: 'get',
				description: 'Get an order with its employers and their statuses',
				action: 'Get an order',
			},
			{
				name: 'Get Events',
				value: 'getEvents',
				description: 'Get the event log of an order',
				action: 'Get the events of an order',
			},
			{
				name: 'Get Invoice',
				value: 'getInvoice',
				description:
					'Get the invoice of an order, with the link to its file, waiting while Truv makes it',
				action: 'Get the invoice of an order',
			},
			{
				name: 'Get Many',
				value: 'getAll',
				description: 'Get many orders',
				action: 'Get many orders',
			},
			{
				name: 'Refresh',
				value: 'refresh',
				description:
					'Fetch fresh data over the connections an order made, as a new order with the same order number',
				action: 'Refresh an order',
			},
		],
		default: 'create',
	},
];

const orderId = orderIdParameters(
	{ resource: ['order'], operation: ['get', 'cancel', 'refresh', 'getEvents', 'getInvoice'] },
	'The order (its ID is not your order number): pick it from the list by order number or applicant name, or enter its ID',
);

const createFields: INodeProperties[] = [
	{
		displayName: 'Products',
		name: 'products',
		type: 'multiOptions',
		required: true,
		options: PRODUCT_OPTIONS,
		default: [],
		description: 'What Truv verifies for this applicant',
		displayOptions: { show: { resource: ['order'], operation: ['create'] } },
	},
	{
		displayName: 'First Name',
		name: 'firstName',
		type: 'string',
		required: true,
		default: '',
		description: "The applicant's first name",
		displayOptions: { show: { resource: ['order'], operation: ['create'] } },
	},
	{
		displayName: 'Last Name',
		name: 'lastName',
		type: 'string',
		required: true,
		default: '',
		description: "The applicant's last name",
		displayOptions: { show: { resource: ['order'], operation: ['create'] } },
	},
	{
		displayName:
			'Truv emails or texts the applicant an invitation only with an email address or a phone number: add one under Additional Fields, or send the share URL from the output yourself.',
		name: 'invitationNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { resource: ['order'], operation: ['create'] } },
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		displayOptions: { show: { resource: ['order'], operation: ['create'] } },
		options: [
			{
				displayName: 'Custom Field',
				name: 'customField',
				type: 'string',
				default: '',
				description: 'Any text of yours to keep with the order',
			},
			{
				displayName: 'Email',
				name: 'email',
				type: 'string',
				placeholder: 'name@email.com',
				default: '',
				description: "The applicant's email address, where Truv sends the invitation",
			},
			{
				displayName: 'Employers',
				name: 'employers',
				type: 'fixedCollection',
				placeholder: 'Add Employer',
				typeOptions: { multipleValues: true },
				default: {},
				description:
					'Employers to verify. Without any, the applicant picks their employers themselves.',
				options: [
					{
						displayName: 'Employer',
						name: 'employer',
						values: [
							{
								displayName: 'Company Mapping ID',
								name: 'companyMappingId',
								type: 'string',
								default: '',
								description: "Truv's ID of the company, from its company search",
							},
							{
								displayName: 'Company Name',
								name: 'companyName',
								type: 'string',
								default: '',
								description: 'The employer’s name, when you have no company mapping ID',
							},
							{
								displayName: 'Data Sources',
								name: 'dataSources',
								type: 'multiOptions',
								options: [
									{ name: 'Documents', value: 'docs' },
									{ name: 'Financial Accounts', value: 'financial_accounts' },
									{ name: 'Insurance', value: 'insurance' },
									{ name: 'Payroll', value: 'payroll' },
									{ name: 'Tax', value: 'tax' },
								],
								default: [],
								description:
									'Where the applicant may get the data from. Leave empty for Truv’s default.',
							},
							{
								displayName: 'End Date',
								name: 'endDate',
								type: 'dateTime',
								default: '',
								description: 'When the employment ended; only the date is sent',
							},
							{
								displayName: 'Start Date',
								name: 'startDate',
								type: 'dateTime',
								default: '',
								description: 'When the employment started; only the date is sent',
							},
							{
								displayName: 'Suborder Number',
								name: 'suborderNumber',
								type: 'string',
								default: '',
								description: 'Your own number for this employer of the order',
							},
						],
					},
				],
			},
			{
				displayName: 'External User ID',
				name: 'externalUserId',
				type: 'string',
				default: '',
				description: 'Your ID of the applicant, e.g. from your CRM',
			},
			{
				displayName: 'Financial Institutions',
				name: 'financialInstitutions',
				type: 'fixedCollection',
				placeholder: 'Add Financial Institution',
				typeOptions: { multipleValues: true },
				default: {},
				description: 'Banks to verify for the Assets product',
				options: [
					{
						displayName: 'Financial Institution',
						name: 'financialInstitution',
						values: [
							{
								displayName: 'ID',
								name: 'id',
								type: 'string',
								default: '',
								description: "Truv's ID of the financial institution",
							},
							{
								displayName: 'Name',
								name: 'name',
								type: 'string',
								default: '',
								description: 'The name of the financial institution',
							},
							{
								displayName: 'Suborder Number',
								name: 'suborderNumber',
								type: 'string',
								default: '',
								description: 'Your own number for this institution of the order',
							},
						],
					},
				],
			},
			{
				displayName: 'Order Number',
				name: 'orderNumber',
				type: 'string',
				default: '',
				description: 'Your own number for the order, e.g. the loan application number',
			},
			{
				displayName: 'Phone',
				name: 'phone',
				type: 'string',
				default: '',
				placeholder: 'e.g. +14155550100',
				description: "The applicant's phone number, where Truv texts the invitation",
			},
			{
				displayName: 'Social Security Number',
				name: 'ssn',
				type: 'string',
				typeOptions: { password: true },
				default: '',
				description: "The applicant's SSN, which helps Truv match the records",
			},
			{
				displayName: 'Template ID',
				name: 'templateId',
				type: 'string',
				default: '',
				description: 'The ID of a customization template from the Truv Dashboard',
			},
		],
	},
];

const refreshFields: INodeProperties[] = [
	{
		displayName: 'Product',
		name: 'product',
		type: 'options',
		required: true,
		options: PRODUCT_OPTIONS,
		default: 'income',
		description:
			'The one product to refresh. Truv refreshes a connection at most 3 times in 24 hours, and only while it is still active.',
		displayOptions: { show: { resource: ['order'], operation: ['refresh'] } },
	},
	{
		displayName: 'Additional Fields',
		name: 'additionalFields',
		type: 'collection',
		placeholder: 'Add Field',
		default: {},
		displayOptions: { show: { resource: ['order'], operation: ['refresh'] } },
		options: [
			{
				displayName: 'Employer IDs',
				name: 'employerIds',
				type: 'string',
				default: '',
				placeholder: 'e.g. 48427a36d43c4d5aa6324bc06c692456, 5f6e7d8c9b0a4f3e2d1c0b9a8f7e6d5c',
				description:
					'Comma-separated IDs of the employers (from the order’s employers) to refresh. Leave empty for all.',
			},
		],
	},
];

export const orderFields: INodeProperties[] = [
	...orderId,
	...createFields,
	...refreshFields,
	...returnAllAndLimit(
		{ resource: ['order'], operation: ['getAll'] },
		'Whether to return all results or only up to a given limit. Truv lists orders newest first, a page at a time, by position: each order is returned once, but an order created while the pages are read lands on a page already read and is not returned.',
	),
	...returnAllAndLimit({ resource: ['order'], operation: ['getEvents'] }),
	simplify({ resource: ['order'], operation: ['create', 'get', 'getAll', 'refresh'] }),
];
