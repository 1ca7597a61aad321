import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

export class TruvApi implements ICredentialType {
	name = 'truvApi';

	displayName = 'Truv API';

	icon: Icon = { light: 'file:../icons/truv.svg', dark: 'file:../icons/truv.dark.svg' };

	documentationUrl = 'https://docs.truv.com/reference/authentication';

	properties: INodeProperties[] = [
		{
			displayName: 'Client ID',
			name: 'clientId',
			type: 'string',
			default: '',
			required: true,
			description: 'Your Truv Client ID, from the API Keys page of the Truv Dashboard',
		},
		{
			displayName: 'Access Secret',
			name: 'accessSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'The Access Secret of one environment (it starts with sandbox-, dev- or prod-). Truv signs webhooks with it.',
		},
		{
			displayName: 'Environment (Only for a Secret Without Prefix)',
			name: 'environment',
			type: 'options',
			options: [
				{
					name: 'From the Access Secret',
					value: 'fromSecret',
					description: 'Sandbox, development or production, as the secret prefix says',
				},
				{ name: 'Sandbox', value: 'sandbox' },
				{ name: 'Development', value: 'dev' },
				{ name: 'Production', value: 'prod' },
			],
			default: 'fromSecret',
			description:
				'Leave it at From the Access Secret: Truv issues secrets that start with sandbox-, dev- or prod-, and such a secret always uses its own environment (Truv signs webhooks with the secret of their environment). Only a secret without one of these prefixes takes the environment chosen here.',
		},
		{
			displayName: 'Secondary Access Secret',
			name: 'secondaryAccessSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'Optional. During a key rotation Truv allows two active secrets: a delivery signed with either is accepted.',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://prod.truv.com',
			placeholder: 'https://prod.truv.com',
			description:
				'Advanced: the Truv API address, such as https://prod.truv.com (https:// is assumed when left out). Keep the default unless you reach Truv through a proxy.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				'X-Access-Client-Id': '={{$credentials.clientId}}',
				'X-Access-Secret': '={{$credentials.accessSecret}}',
			},
		},
	};

	// n8n 2.41 reports a failed test with the rule matching the status; n8n 2.8 and 1.123 with their own text
	// for it ("Authorization failed - please check your credentials" for 401). A test function could
	// quote Truv's body instead, but n8n offers it only the deprecated `request` helper.
	test: ICredentialTestRequest = {
		request: {
			// As the nodes read it (truvBaseUrl): empty means Truv's own API, and an address without
			// its scheme gets https://.
			baseURL:
				'={{ (/^[a-z][a-z0-9+.-]*:\\/\\//i.test(($credentials.baseUrl || "https://prod.truv.com").trim()) ? "" : "https://") + ($credentials.baseUrl || "https://prod.truv.com").trim().replace(/\\/+$/, "") }}',
			url: '/v1/webhooks/',
			method: 'GET',
		},
		rules: [
			{
				type: 'responseCode',
				properties: {
					value: 401,
					message: 'Truv answered 401 authentication_failed: check the Client ID and Access Secret',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 403,
					message:
						'Truv answered 403 not_authenticated: the keys are valid but have no access to webhooks',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 404,
					message: 'No Truv API at this Base URL (404): check the Base URL',
				},
			},
		],
	};
}
