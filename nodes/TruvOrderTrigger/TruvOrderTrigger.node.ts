import type {
	IExecuteFunctions,
	IHookFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';

import { personalDataPaths } from '../shared/personalData';
import { runDeliveryExecution } from './deliveryExecution';
import { handleTruvDelivery } from './deliveryHandler';
import { ORDER_DETAILS_TIMEOUT_MS } from './orderDetails';
import { TASK_STATUS_UPDATED_EVENT } from './taskEventSchema';
import { OUTPUT_NAMES, TRIGGER_OUTPUTS } from './triggerOutputs';
import { checkWebhookExists, createWebhook, deleteWebhook } from './webhookLifecycle';

const ORDER_DETAILS_TIMEOUT_SECONDS = ORDER_DETAILS_TIMEOUT_MS / 1000;

export class TruvOrderTrigger implements INodeType {
	// Include Order Details adds the order, as Truv answers it, under order_details: the
	// applicant's names, email, phone and SSN are listed there, as the Truv node lists them in its
	// orders. n8n hides them when an execution is read, and only then, so the next nodes still
	// receive them. See personalDataPaths for what each n8n version does with the list.
	description: INodeTypeDescription & { sensitiveOutputFields?: string[] } = {
		// n8n's editor names the service in its own sentences after the display name without
		// " Trigger" ("Go to Truv and create an event"), as for Slack and Slack Trigger; new nodes are
		// still called Truv Order Trigger on the canvas, as in the examples.
		displayName: 'Truv Trigger',
		name: 'truvOrderTrigger',
		icon: { light: 'file:../../icons/truv.svg', dark: 'file:../../icons/truv.dark.svg' },
		group: ['trigger'],
		// Not 1: for a version-1 trigger n8n evaluates an expression on every delivery (to look for a
		// legacy binary-data option), which n8n 2.x runs in its expression sandbox at a measurable
		// cost per request; any later version skips it. A whole number, because n8n up to 2.40 keeps
		// a package's node versions in an integer column on PostgreSQL and fails to install 1.1.
		version: 2,
		subtitle:
			'={{ ($parameter["events"] || []).length === 1 ? "1 event" : ($parameter["events"] || []).length + " events" }}',
		description:
			'Starts the workflow when Truv reports an order event (created, status updated, refresh failed) or a failed connection attempt',
		defaults: {
			name: 'Truv Order Trigger',
		},
		inputs: [],
		// The three order outputs, and Connection Failed (output 3) only while it is selected.
		outputs: TRIGGER_OUTPUTS,
		outputNames: OUTPUT_NAMES,
		sensitiveOutputFields: personalDataPaths('order_details'),
		// n8n gives a trigger's pinned data to its first output whatever output the event came on
		// (WorkflowExecute.getPinnedOutput in 2.41, processRunExecutionData in 2.8), and skips the
		// node: nothing here can route it. Shown where the pin button is, once an event is there,
		// and only when Events can send one to another output than Created.
		hints: [
			{
				message:
					"Pinned data always goes to the first output (Created): for another branch, don't pin.",
				type: 'info',
				location: 'outputPane',
				whenToDisplay: 'afterExecution',
				displayCondition: '={{ ($parameter.events || []).join() !== "order-created" }}',
			},
		],
		credentials: [
			{
				name: 'truvApi',
				required: true,
			},
		],
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				// Empty, so that n8n answers an accepted delivery with the acknowledgement webhook()
				// returns; its default, 'firstEntryJson', would send that literal text.
				responseData: '',
				path: 'webhook',
			},
		],
		triggerPanel: {
			header: 'Truv sends order events to this workflow',
			executionsHelp: {
				inactive:
					"<b>While building your workflow</b>, click the 'Execute step' button, then create or update an order in Truv's sandbox. With automatic registration, Truv is pointed at the <b>test URL</b> for as long as the trigger listens. <b>No public URL</b> (n8n on your laptop)? Set <b>Test Event</b> to <i>Show a Sample Event</i>: Execute step then shows a recent event of your account at once.<br /><br /><b>Once you're happy with your workflow</b>, publish (activate) it. Truv then sends every order event to the <b>production URL</b> and each one starts an execution, shown in the executions list, not in the editor.",
				active:
					"<b>While building your workflow</b>, click the 'Execute step' button to listen on the <b>test URL</b> and see one event in the editor.<br /><br /><b>Your workflow is active</b>: Truv sends every order event to the <b>production URL</b> and each one starts an execution, shown in the executions list.",
			},
			activationHint:
				"Once you've finished building your workflow, publish it: with automatic registration the production URL is registered with Truv for you.",
		},
		properties: [
			{
				displayName: 'Registration',
				name: 'registration',
				type: 'options',
				options: [
					{
						name: 'Automatically (Recommended)',
						value: 'automatic',
						description:
							'Register this workflow’s webhook URL with Truv on activation and remove it on deactivation',
					},
					{
						name: 'Manually in the Truv Dashboard',
						value: 'manual',
						description: 'Paste the webhook URL into the Truv Dashboard yourself',
					},
				],
				default: 'automatic',
			},
			{
				displayName:
					"In the Truv Dashboard, open Development → Webhooks, add a webhook with the Production URL shown above under 'Webhook URLs', and tick the same events as in Events below (for Connection Failed, tick task-status-updated). A webhook saved without events receives every Truv event: this trigger acknowledges the others without starting the workflow.",
				name: 'manualRegistrationNotice',
				type: 'notice',
				default: '',
				displayOptions: { show: { registration: ['manual'] } },
			},
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				required: true,
				// In the order of the outputs (not alphabetical): each event names the output it goes to.
				options: [
					{
						name: 'Order Created',
						value: 'order-created',
						description: 'An order was created (status is always pending). Output: Created.',
					},
					{
						name: 'Order Status Updated',
						value: 'order-status-updated',
						description: 'One employer or account of an order changed status. Output: Status.',
					},
					{
						name: 'Order Refresh Failed',
						value: 'order-refresh-failed',
						description: 'A refresh of an order’s data failed. Output: Refresh Failed.',
					},
					{
						name: 'Connection Failed',
						value: TASK_STATUS_UPDATED_EVENT,
						description:
							'An applicant could not connect an employer or account (wrong login, MFA, locked account, provider unavailable, …). The item carries the order’s employer_id; the order events show only successful connections. Truv then also sends every step of every connection attempt (new, login, parse, done, …): each is a webhook call n8n receives and the trigger acknowledges without starting the workflow. Output: No Connection.',
					},
				],
				default: ['order-created', 'order-status-updated', 'order-refresh-failed'],
				description:
					'The events that start the workflow. Each goes to its own output: Created, Status, Refresh Failed, and No Connection once Connection Failed is selected. Other Truv events are acknowledged and ignored.',
			},
			{
				displayName: 'Order Statuses',
				name: 'orderStatuses',
				type: 'multiOptions',
				options: [
					{ name: 'Canceled', value: 'canceled' },
					{ name: 'Completed', value: 'completed' },
					{ name: 'Error', value: 'error' },
					{ name: 'Expired', value: 'expired' },
					{ name: 'No Data', value: 'no_data' },
					{ name: 'Pending', value: 'pending' },
					{ name: 'Sent', value: 'sent' },
					{ name: 'Skipped', value: 'skipped' },
				],
				default: [],
				displayOptions: { show: { events: ['order-status-updated'] } },
				description:
					'Start the workflow for Order Status Updated only with these statuses. Leave empty for every status.',
			},
			{
				displayName: 'Other Order Statuses',
				name: 'otherOrderStatuses',
				type: 'string',
				default: '',
				placeholder: 'e.g. in_review, on_hold',
				displayOptions: { show: { events: ['order-status-updated'] } },
				description:
					'Comma-separated statuses Truv may add in future, also accepted by the status filter',
			},
			{
				displayName: 'Test Event',
				name: 'testEvent',
				type: 'options',
				options: [
					{
						name: 'Wait for Truv to Send One',
						value: 'delivery',
						description: 'Needs an n8n that Truv can reach from the internet',
					},
					{
						name: 'Show a Sample Event',
						value: 'sample',
						description: 'At once, without a public URL: a recent event of your account',
					},
				],
				default: 'delivery',
				description:
					"What Execute step shows while you build the workflow. A sample is the newest matching event from your Truv account's delivery history (last 30 days), or a built-in example if there is none, on the output of its event and marked under n8n_sample. Published workflows always run on Truv's deliveries.",
			},
			{
				displayName: 'Sample Event',
				name: 'sampleEventType',
				type: 'options',
				options: [
					{ name: 'Order Created', value: 'order-created' },
					{ name: 'Order Status Updated', value: 'order-status-updated' },
					{ name: 'Order Refresh Failed', value: 'order-refresh-failed' },
					{ name: 'Connection Failed', value: TASK_STATUS_UPDATED_EVENT },
				],
				default: 'order-created',
				displayOptions: { show: { testEvent: ['sample'] } },
				description: 'The event Execute step shows: one of those selected in Events',
			},
			{
				displayName: 'Verify Signature',
				name: 'verifySignature',
				type: 'boolean',
				default: true,
				description:
					"Whether to accept only deliveries whose X-WEBHOOK-SIGN header matches the credential's Access Secret",
			},
			{
				displayName:
					'Signature checks are off: anyone who knows this URL can start the workflow with made-up order events. Turn this off only to debug.',
				name: 'signatureWarning',
				type: 'notice',
				default: '',
				displayOptions: { show: { verifySignature: [false] } },
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add option',
				default: {},
				options: [
					{
						displayName: 'Acknowledge Deliveries',
						name: 'acknowledge',
						type: 'options',
						default: 'executionStored',
						// n8n shows an option's description on one line, cut to the width of the dropdown:
						// each states its trade-off in a few words, the parameter's description in full.
						description:
							'When Truv gets its 200 for an accepted delivery. After storing (default): every delivery Truv saw acknowledged has a stored execution; if n8n crashes, retry the crashed ones from the executions list. Bursts are paced by n8n. Before starting: faster under bursts, but a delivery acknowledged just before a crash has no execution, and Truv does not send it again.',
						options: [
							{
								name: 'After Storing the Execution (Safest)',
								value: 'executionStored',
								description:
									'After a crash, acknowledged deliveries are stored executions to retry',
							},
							{
								name: 'Before Starting the Execution (Fastest)',
								value: 'beforeExecution',
								description: 'A crash can lose deliveries already acknowledged',
							},
						],
					},
					{
						displayName: 'Include Order Details',
						name: 'includeOrderDetails',
						type: 'boolean',
						default: false,
						description: `Whether to look up the order in Truv for each order event and add it under order_details (applicant, employers or accounts and their statuses). If Truv does not answer within ${ORDER_DETAILS_TIMEOUT_SECONDS} seconds or answers with an error, the workflow still starts, with order_details empty and the reason in order_details_error. Connection Failed events name no order and are not looked up.`,
					},
					{
						displayName: 'Include Request Headers',
						name: 'includeHeaders',
						type: 'boolean',
						default: false,
						description:
							"Whether to add the headers that describe the delivery to each item, under headers: content type and length, X-WEBHOOK-SIGN, user agent, the forwarding headers of proxies (X-Forwarded-For, X-Real-IP…) and request and trace IDs. Other headers, such as a proxy's authentication headers, are never added.",
					},
					{
						displayName: 'Maximum Event Age (Minutes)',
						name: 'maxEventAge',
						type: 'number',
						typeOptions: { minValue: 0 },
						default: 0,
						description:
							"Skip events Truv created longer ago than this many minutes: they are acknowledged, so Truv does not send them again, but the workflow does not run and n8n's log notes each one. Truv signs no time, so this limits how old a recorded delivery sent again can be. Leave room for Truv's retries (minutes) and clock differences. 0 turns it off. Only on the production URL; events without event_created_at always run.",
					},
					{
						displayName: 'Skip Duplicate Deliveries',
						name: 'skipDuplicates',
						type: 'boolean',
						default: true,
						description:
							"Whether to run the workflow only once per webhook_id: Truv may deliver an event more than once. A copy is acknowledged without an execution, or, after a restart or on another n8n process, its execution ends at this trigger with a note. Uses n8n's record of processed items (the last 1,000 deliveries).",
					},
				],
			},
		],
	};

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				return await checkWebhookExists.call(this);
			},
			async create(this: IHookFunctions): Promise<boolean> {
				return await createWebhook.call(this);
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				return await deleteWebhook.call(this);
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await handleTruvDelivery.call(this);
	}

	// The trigger's step in the execution a delivery started (on a worker, in queue mode): where
	// n8n's processed-data store is within reach (see deliveryDeduplication.ts).
	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await runDeliveryExecution.call(this);
	}
}
