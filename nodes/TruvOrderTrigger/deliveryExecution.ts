import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { recordExecutedDeliveries } from './deliveryDeduplication';
import { triggerOutputCount } from './triggerOutputs';

/**
 * The trigger's step in its own execution: n8n runs it with what webhook() emitted, once it has
 * stored the execution. It passes the items on unchanged, and records their webhook_ids in the
 * static data of the execution, which n8n saves when the execution ends, so that duplicates are
 * recognised after a restart on every n8n version.
 */
export async function runDeliveryExecution(
	this: IExecuteFunctions,
): Promise<INodeExecutionData[][]> {
	const selectedEvents = this.getNodeParameter('events', 0, []) as string[];
	const outputs = Array.from({ length: triggerOutputCount(selectedEvents) }, (_, output) =>
		this.getInputData(output),
	);
	const options = this.getNodeParameter('options', 0, {}) as IDataObject;
	if (options.skipDuplicates !== false && this.getMode() !== 'manual') {
		const webhookIds = outputs
			.flat()
			.map(({ json }) => json.webhook_id)
			.filter((id): id is string => typeof id === 'string');
		const node = this.getNode();
		recordExecutedDeliveries(
			this.getWorkflowStaticData('node'),
			`${this.getWorkflow().id ?? ''}:${node.id ?? node.name}`,
			webhookIds,
		);
	}
	return outputs;
}
