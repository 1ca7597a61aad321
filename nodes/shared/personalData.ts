/**
 * The applicant's personal data in a Truv order, by Truv's field names: the names, the contact
 * details Truv needs to invite the applicant, and the social security number. Truv puts them at
 * the top level of the order object (truv-api.md lists no nested applicant object), and the
 * Truv node's simplified order keeps the same names.
 */
export const ORDER_PERSONAL_DATA_FIELDS = ['first_name', 'last_name', 'email', 'phone', 'ssn'];

/**
 * The paths a node lists in `sensitiveOutputFields` for an order found at `under` in its output
 * items (the item itself when empty), in n8n's dotted path syntax.
 *
 * What n8n does with them, read in n8n 2.41.1 (NodeDefinedFieldRedactionStrategy in its
 * redaction module): when an execution is read (the execution view, the editor's push, the
 * public API), each listed path of that node's own output items is replaced by a redaction
 * marker. The stored execution is left as it ran, so the next nodes still get the values and a
 * retry runs with them. n8n 2.41.1 ships that strategy without applying it yet, and n8n-workflow
 * 2.8, which the package builds against, lacks the field (n8n 2.8 ignores it): the list takes
 * effect in the n8n versions that apply it.
 */
export function personalDataPaths(under = ''): string[] {
	return ORDER_PERSONAL_DATA_FIELDS.map((field) => (under ? `${under}.${field}` : field));
}

/**
 * The applicant's personal data in a Truv report as the Truv node outputs it: in a whole income
 * and employment report each employment's profile (names, SSN, date of birth, address, email),
 * pay statements, W-2s and bank accounts; in a whole assets report each account's owners and
 * transactions; in a simplified report the names it keeps. Paths of the other kind of output
 * find nothing there and change nothing.
 */
export const REPORT_PERSONAL_DATA_PATHS = [
	...['profile', 'statements', 'w2s', 'bank_accounts'].flatMap((field) => [
		`links[*].employments[*].${field}`,
		// One connection's report is a single employment.
		field,
	]),
	'links[*].accounts[*].owners',
	'links[*].accounts[*].transactions',
	'employments[*].first_name',
	'employments[*].last_name',
	'accounts[*].owners',
];
