import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { searchOrders, searchWebhooks } from './actions/listSearch';
import { orderActions } from './actions/order';
import { reportActions } from './actions/report';
import type { TruvOperation } from './actions/operationContext';
import { webhookActions } from './actions/webhook';
import { webhookRequestActions } from './actions/webhookRequest';
import { orderFields, orderOperations } from './descriptions/OrderDescription';
import { reportFields, reportOperations } from './descriptions/ReportDescription';
import { webhookFields, webhookOperations } from './descriptions/WebhookDescription';
import {
	webhookRequestFields,
	webhookRequestOperations,
} from './descriptions/WebhookRequestDescription';
import { personalDataPaths, REPORT_PERSONAL_DATA_PATHS } from '../shared/personalData';
import { readTruvCredentials } from '../shared/truvTransport';

const ACTIONS: Record<string, Record<string, TruvOperation>> = {
	order: orderActions,
	report: reportActions,
	webhook: webhookActions,
	webhookRequest: webhookRequestActions,
};

export class Truv implements INodeType {
	// The applicant's names, email, phone and SSN, wherever an order carries them (Create, Get,
	// Get Many, Refresh and Cancel output orders, simplified or whole, with Truv's field names at
	// the top level): n8n hides them when an execution is read, and only then, so the next nodes
	// still receive them. See personalDataPaths for what each n8n version does with the list.
	// Reports add the applicant's profile, pay and bank data (REPORT_PERSONAL_DATA_PATHS).
	description: INodeTypeDescription & { sensitiveOutputFields?: string[] } = {
		displayName: 'Truv',
		name: 'truv',
		icon: { light: 'file:../../icons/truv.svg', dark: 'file:../../icons/truv.dark.svg' },
		group: ['transform'],
		// 2: Order ID and Webhook ID became resource locators, and the Webhook resource reads by
		// default (see webhookOperations). Whole numbers: n8n up to 2.40 keeps a package's node
		// versions in an integer column on PostgreSQL.
		version: [1, 2],
		defaultVersion: 2,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description:
			'Create and manage Truv income, employment and assets verification orders, and keep Truv webhooks working',
		defaults: {
			name: 'Truv',
		},
		usableAsTool: true,
		sensitiveOutputFields: [...personalDataPaths(), ...REPORT_PERSONAL_DATA_PATHS],
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'truvApi',
				required: true,
			},
		],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Order', value: 'order' },
					{ name: 'Report', value: 'report' },
					{ name: 'Webhook', value: 'webhook' },
					{ name: 'Webhook Request', value: 'webhookRequest' },
				],
				default: 'order',
			},
			...orderOperations,
			...orderFields,
			...reportOperations,
			...reportFields,
			...webhookOperations,
			...webhookFields,
			...webhookRequestOperations,
			...webhookRequestFields,
		],
	};

	methods = { listSearch: { searchOrders, searchWebhooks } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const resource = this.getNodeParameter('resource', 0) as string;
		const operation = this.getNodeParameter('operation', 0) as string;
		const run = ACTIONS[resource]?.[operation];
		if (!run) {
			throw new NodeOperationError(
				this.getNode(),
				`The operation "${operation}" of "${resource}" is not known`,
				{ itemIndex: 0 },
			);
		}
		// Read once: on n8n 2.x every read of a credential costs an expression sandbox.
		const credentials = await readTruvCredentials(this);

		const returnData: INodeExecutionData[] = [];
		for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
			try {
				const results = await run({ context: this, itemIndex, credentials });
				const items = Array.isArray(results)
					? this.helpers.returnJsonArray(results)
					: results.items;
				returnData.push(
					...this.helpers.constructExecutionMetaData(items, { itemData: { item: itemIndex } }),
				);
			} catch (error) {
				// The operations raise NodeApiErrors and NodeOperationErrors; anything else is wrapped.
				const failure =
					error instanceof NodeApiError || error instanceof NodeOperationError
						? error
						: new NodeOperationError(this.getNode(), error as Error, { itemIndex });
				if (this.continueOnFail()) {
					returnData.push({
						json: { error: failure.message },
						pairedItem: { item: itemIndex },
					});
					continue;
				}
				throw failure;
			}
		}
		return [returnData];
	}
}
