import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { checkProcessedDeliveries, deliveryKey, triggerKeyOf } from './deliveryDeduplication';
import { triggerOutputCount } from './triggerOutputs';
import { UNREADABLE_DELIVERY_FIELD } from './unreadableDelivery';
import type { UnreadableDelivery } from './unreadableDelivery';

/**
 * The trigger's step in the execution a delivery started: n8n runs it with what webhook() emitted,
 * once it has stored the execution (on a worker, in queue mode). A delivery the trigger could not
 * read fails the execution here, where n8n reports it as a failed execution and nothing else; a
 * delivery an earlier execution processed is not passed on (see deliveryDeduplication.ts).
 */
export async function runDeliveryExecution(
	this: IExecuteFunctions,
): Promise<INodeExecutionData[][]> {
	const selectedEvents = this.getNodeParameter('events', 0, []) as string[];
	const outputs = Array.from({ length: triggerOutputCount(selectedEvents) }, (_, output) =>
		this.getInputData(output),
	);
	const node = this.getNode();
	const unreadable = outputs.flat().find((item) => UNREADABLE_DELIVERY_FIELD in item.json);
	if (unreadable) {
		const { title, description } = unreadable.json[UNREADABLE_DELIVERY_FIELD] as UnreadableDelivery;
		throw new NodeOperationError(node, title, { description });
	}

	const options = this.getNodeParameter('options', 0, {}) as IDataObject;
	if (options.skipDuplicates === false || this.getMode() === 'manual') return outputs;
	const webhookIds = outputs
		.flat()
		.map(({ json }) => json.webhook_id)
		.filter((id): id is string => typeof id === 'string');
	const check = await checkProcessedDeliveries(
		this,
		triggerKeyOf(this.getWorkflow().id, node),
		webhookIds,
	);
	if (check.storeError !== undefined) {
		this.logger.warn(
			`Truv Order Trigger could not use n8n's record of processed deliveries, so this delivery runs without the duplicate check: ${check.storeError}`,
			{ workflowId: this.getWorkflow().id },
		);
	}
	if (check.processed.size === 0) return outputs;
	const skipped: string[] = [];
	const passed = outputs.map((items) =>
		items.filter(({ json }) => {
			const id = json.webhook_id;
			if (typeof id !== 'string' || !check.processed.has(deliveryKey(id))) return true;
			skipped.push(id);
			return false;
		}),
	);
	this.addExecutionHints({
		message: `Truv sent delivery ${skipped.join(', ')} again, and an earlier execution already processed it: nothing was passed on to the next nodes.`,
		type: 'info',
		location: 'outputPane',
	});
	return passed;
}
