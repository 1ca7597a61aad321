import type { ExpressionString, INodeOutputConfiguration } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { ORDER_EVENT_TYPES } from './orderEventSchemas';
import type { OrderEventType } from './orderEventSchemas';
import { TASK_STATUS_UPDATED_EVENT } from './taskEventSchema';

/**
 * The name of each order event's output; the outputs keep the order of ORDER_EVENT_TYPES. Short,
 * because n8n's canvas cuts an output label after about 70 pixels (with no tooltip), and without
 * "Order", which the node's name already says: n8n shows them as "Created Branch" and so on.
 */
export const ORDER_OUTPUT_NAMES: Record<OrderEventType, string> = {
	'order-created': 'Created',
	'order-status-updated': 'Status',
	'order-refresh-failed': 'Refresh Failed',
};

export const CONNECTION_FAILED_OUTPUT_NAME = 'No Connection';

/**
 * Connection Failed comes after the order outputs, so that adding it leaves the connections of
 * existing workflows (outputs 0, 1 and 2) where they are.
 */
export const CONNECTION_FAILED_OUTPUT = ORDER_EVENT_TYPES.length;

export const OUTPUT_NAMES = [
	...ORDER_EVENT_TYPES.map((type) => ORDER_OUTPUT_NAMES[type]),
	CONNECTION_FAILED_OUTPUT_NAME,
];

const orderOutputs: INodeOutputConfiguration[] = ORDER_EVENT_TYPES.map((type) => ({
	type: NodeConnectionTypes.Main,
	displayName: ORDER_OUTPUT_NAMES[type],
}));

const connectionFailedOutput: INodeOutputConfiguration = {
	type: NodeConnectionTypes.Main,
	displayName: CONNECTION_FAILED_OUTPUT_NAME,
};

/**
 * The outputs as n8n evaluates them from the node's parameters: the three order outputs, and
 * Connection Failed only while it is selected in Events, so that the canvas shows no output that
 * can never emit. Written out as JSON here (the objects hold no `}}`, which would end the
 * expression) so that the expression needs nothing but `$parameter`.
 */
export const TRIGGER_OUTPUTS: ExpressionString = `={{ ${JSON.stringify(orderOutputs)}.concat(($parameter.events || []).includes(${JSON.stringify(TASK_STATUS_UPDATED_EVENT)}) ? [${JSON.stringify(connectionFailedOutput)}] : []) }}`;

/** How many outputs the trigger has with these Events selected: what its workflowData must match. */
export function triggerOutputCount(selectedEvents: readonly string[]): number {
	return selectedEvents.includes(TASK_STATUS_UPDATED_EVENT)
		? CONNECTION_FAILED_OUTPUT + 1
		: ORDER_EVENT_TYPES.length;
}
