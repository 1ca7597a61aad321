// n8n's editor in Debian's Chromium, driven by puppeteer-core (which downloads no browser). Every
// helper waits for what the page shows (a selector, a text), never for a fixed time.
import { existsSync, mkdirSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer-core';

import type { N8nInstance } from '../../dev/n8n/n8nInstance';
import { defaultN8nVersion, type AnyN8nVersion } from '../../dev/n8n/runtimes';

/** Debian's chromium package; ensure-system-packages.sh installs it. */
export const CHROMIUM = '/usr/bin/chromium';

/** The README's pictures; outside `files` in package.json, so never in the tarball. */
export const SCREENSHOTS_DIR = join(__dirname, '..', '..', 'docs', 'images');

/** The n8n whose editor the README's pictures show: the one `npm start` runs. */
export const SCREENSHOTS_VERSION: AnyN8nVersion = defaultN8nVersion;

/**
 * What the functions run in the page use of it: the tests compile without the DOM's types, which
 * would add browser globals to the harness's code.
 */
export interface PageElement {
	innerText: string;
	offsetParent: unknown;
	click(): void;
}
export interface PageGlobals {
	document: { querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement> };
	location: { pathname: string };
}

export interface EditorSession {
	browser: Browser;
	page: Page;
	/** The n8n the page shows, for the steps its editors do differently. */
	version: AnyN8nVersion;
	close(): Promise<void>;
}

/** Chromium with one page, signed in to n8n as its owner. */
export async function signIn(n8n: N8nInstance): Promise<EditorSession> {
	if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
	const browser = await puppeteer.launch({
		executablePath: CHROMIUM,
		headless: true,
		// Root in a container has no user namespace for Chromium's sandbox.
		args: ['--no-sandbox', '--window-size=1440,900'],
		defaultViewport: { width: 1440, height: 900 },
	});
	const page = await browser.newPage();
	page.setDefaultTimeout(60_000);
	// Leaving a workflow a step changed: n8n asks the browser to confirm; the tests move on.
	page.on('dialog', (dialog) => void dialog.accept());
	await page.goto(`${n8n.baseUrl}/signin`, { waitUntil: 'domcontentloaded' });
	await page.waitForSelector('input[name=emailOrLdapLoginId]');
	await page.type('input[name=emailOrLdapLoginId]', n8n.owner.email);
	await page.type('input[name=password]', n8n.owner.password);
	await page.click('[data-test-id=form-submit-button]');
	await page.waitForFunction(
		() => !(globalThis as unknown as PageGlobals).location.pathname.startsWith('/signin'),
	);
	return { browser, page, version: n8n.version, close: async () => await browser.close() };
}

let failures = 0;

/** Where a wait that failed left a picture of the page, for whoever reads the failure. */
async function failureShot(page: Page): Promise<string> {
	failures += 1;
	const path = join(tmpdir(), `n8n-nodes-truv-editor-failure-${process.pid}-${failures}.png`);
	await page.screenshot({ path }).catch(() => undefined);
	return path;
}

/** The first element matching `selector` whose text contains `text`, once there is one. */
export async function waitForText(
	page: Page,
	selector: string,
	text: string,
): Promise<ElementHandle> {
	try {
		const handle = await page.waitForFunction(
			(css, wanted) =>
				[...(globalThis as unknown as PageGlobals).document.querySelectorAll(css)].find((element) =>
					element.innerText.includes(wanted),
				),
			{},
			selector,
			text,
		);
		return handle as unknown as ElementHandle;
	} catch (error) {
		const shot = await failureShot(page);
		throw new Error(`No ${selector} showing "${text}" (the page: ${shot}): ${String(error)}`);
	}
}

/**
 * Clicks the innermost element under `container` whose text contains `text` (a tab, a list
 * item), as a user would: with the DOM's click, which Vue's handlers receive wherever the element
 * sits on the screen.
 */
export async function clickText(page: Page, container: string, text: string): Promise<void> {
	const target = await waitForText(page, container, text);
	const clicked = await target.evaluate((root, wanted) => {
		const all = [
			root,
			...(
				root as unknown as { querySelectorAll(s: string): Iterable<PageElement> }
			).querySelectorAll('*'),
		] as PageElement[];
		const matching = all.filter((element) => element.innerText?.includes(wanted));
		const innermost = matching[matching.length - 1];
		innermost?.click();
		return innermost !== undefined;
	}, text);
	if (!clicked) throw new Error(`Nothing under ${container} shows "${text}"`);
}

export async function innerText(page: Page, selector: string): Promise<string> {
	await page.waitForSelector(selector);
	return await page.$eval(selector, (element) => (element as unknown as PageElement).innerText);
}

/** Opens the workflow in the editor, then the node named `nodeName` (its parameters and data). */
export async function openNode(page: Page, baseUrl: string, workflowId: string, nodeName: string) {
	await page.goto(`${baseUrl}/workflow/${workflowId}`, { waitUntil: 'domcontentloaded' });
	const node = await waitForText(page, '[data-test-id=canvas-node]', nodeName);
	await node.click({ count: 2 });
	await page.waitForSelector('[data-test-id=ndv] [data-test-id=node-parameters]');
}

/**
 * Writes the page as the README's picture `name` when the editor is SCREENSHOTS_VERSION's (one
 * n8n's pictures, whichever versions the run includes); returns its path, or undefined.
 */
export async function screenshot(
	{ page, version }: EditorSession,
	name: string,
): Promise<string | undefined> {
	if (version !== SCREENSHOTS_VERSION) return undefined;
	mkdirSync(SCREENSHOTS_DIR, { recursive: true });
	const path = join(SCREENSHOTS_DIR, `${name}.png`);
	await page.screenshot({ path });
	return path;
}

/**
 * Types `value` into the parameter `name` of an open form (a credential's, a node's), replacing
 * what it held, and leaves the field as a user does. n8n takes a typed value into its form only
 * after a short debounce, with nothing on the page that shows it has: a Save clicked at once
 * would store the earlier value. The one fixed wait of these helpers, for that debounce.
 */
export async function fillParameter(page: Page, name: string, value: string): Promise<void> {
	const input = `[data-test-id=parameter-input-${name}] input`;
	try {
		await page.waitForSelector(input);
	} catch (error) {
		const shot = await failureShot(page);
		throw new Error(`No field ${name} (the page: ${shot}): ${String(error)}`);
	}
	await page.click(input, { count: 3 });
	await page.keyboard.press('Backspace');
	await page.type(input, value);
	await page.keyboard.press('Tab');
	await new Promise((resolve) => setTimeout(resolve, 500));
}

/**
 * The credential form's reason for a failed connection test, once it shows `message`: both
 * editors say "Couldn't connect with these settings" and put the reason under More details (in
 * the words failedCredentialTestMessage gives for each version).
 */
export async function credentialTestFailure(
	page: Page,
	form: string,
	message: string,
): Promise<void> {
	await waitForText(page, form, 'connect with these settings');
	await clickText(page, form, 'More details');
	await waitForText(page, form, message);
}

/**
 * Whether the node creator's search results show each node's description under its name: n8n
 * 2.41's do; n8n 2.8's show the name only, and a trigger's without " Trigger" (both of this
 * package's nodes are listed as "Truv" there).
 */
export const nodeCreatorShowsDescriptions = (version: AnyN8nVersion): boolean =>
	!version.startsWith('2.8.');

/** A node creator search result, by the node type n8n keys it with (on both editors). */
const creatorItem = (type: string) =>
	`[data-test-id=item-iterator-item][data-keyboard-nav-id^="${type}-"]`;

/** The node creator's search results, once the one for node type `awaited` is listed. */
export async function nodeCreatorResults(
	page: Page,
	awaited: string,
): Promise<Array<{ type: string; text: string }>> {
	await page.waitForSelector(creatorItem(awaited));
	return await page.$$eval('[data-test-id=item-iterator-item]', (items) =>
		items.map((item) => ({
			// `<node type>-<uuid>`
			type: (item.getAttribute('data-keyboard-nav-id') ?? '').replace(/-[0-9a-f-]{36}$/, ''),
			text: (item as unknown as PageElement).innerText,
		})),
	);
}

/** Picks the node creator's search result for node type `type`. */
export async function clickNodeCreatorResult(page: Page, type: string): Promise<void> {
	await page.click(creatorItem(type));
}

const resourceLocator = (name: string) => `[data-test-id=resource-locator-${name}]`;

/**
 * The mode the resource locator `name` of the open node is in, as its selector shows it (`From
 * list`, `By ID`).
 */
export async function resourceLocatorMode(page: Page, name: string): Promise<string> {
	const input = `${resourceLocator(name)} [data-test-id=rlc-mode-selector] input`;
	await page.waitForSelector(input);
	return await page.$eval(input, (element) => (element as unknown as { value: string }).value);
}

/** What the resource locator `name` shows in its field: the name of the item picked. */
export async function resourceLocatorValue(page: Page, name: string): Promise<string> {
	return await page.$eval(
		`${resourceLocator(name)} [data-test-id=rlc-input]`,
		(element) => (element as unknown as { value: string }).value,
	);
}

/** The items the list of the resource locator `name` shows. */
async function resourceListItems(page: Page, name: string): Promise<string[]> {
	return await page.$$eval(`${resourceLocator(name)} [data-test-id=rlc-item]`, (items) =>
		items.map((item) => (item as unknown as PageElement).innerText.trim()),
	);
}

/**
 * Opens the list of the resource locator `name` (in From list mode) and returns its items once
 * there are some. Both editors render the list, with its search field, inside the locator.
 */
export async function openResourceList(page: Page, name: string): Promise<string[]> {
	await page.click(`${resourceLocator(name)} [data-test-id=rlc-input]`);
	await page.waitForSelector(`${resourceLocator(name)} [data-test-id=rlc-item]`);
	return await resourceListItems(page, name);
}

/**
 * Types `filter` into the open list's search field (replacing what it held) and returns the items
 * once every one shows `expected`: the node's search answers, not the list before it.
 */
export async function searchResourceList(
	page: Page,
	name: string,
	filter: string,
	expected: string,
): Promise<string[]> {
	const search = `${resourceLocator(name)} [data-test-id=rlc-search]`;
	// Focused, not clicked: in n8n 2.8's editor, the list was gone after a triple click in its
	// search field. Both editors give the field the focus when the list opens.
	await page.focus(search);
	await page.keyboard.down('Control');
	await page.keyboard.press('a');
	await page.keyboard.up('Control');
	await page.keyboard.press('Backspace');
	await page.keyboard.type(filter);
	try {
		await page.waitForFunction(
			(css, wanted) => {
				const items = [...(globalThis as unknown as PageGlobals).document.querySelectorAll(css)];
				return items.length > 0 && items.every((item) => item.innerText.includes(wanted));
			},
			{},
			`${resourceLocator(name)} [data-test-id=rlc-item]`,
			expected,
		);
	} catch (error) {
		const shot = await failureShot(page);
		throw new Error(
			`The list of ${name} searched for "${filter}" shows no "${expected}" alone (the page: ${shot}): ${String(error)}`,
		);
	}
	return await resourceListItems(page, name);
}

/** Picks the item of the open list of `name` that shows `text`; the field then shows that item. */
export async function pickFromResourceList(page: Page, name: string, text: string): Promise<void> {
	const item = await waitForText(page, `${resourceLocator(name)} [data-test-id=rlc-item]`, text);
	await item.click();
	try {
		await page.waitForFunction(
			(css, wanted) =>
				(
					(globalThis as unknown as PageGlobals).document.querySelectorAll(css)[0] as unknown as {
						value?: string;
					}
				)?.value?.includes(wanted) === true,
			{},
			`${resourceLocator(name)} [data-test-id=rlc-input]`,
			text,
		);
	} catch (error) {
		const shot = await failureShot(page);
		throw new Error(`${name} does not show "${text}" (the page: ${shot}): ${String(error)}`);
	}
}

/** Saves the open workflow as a user does, with Ctrl+S (both editors, the node open or not). */
export async function saveWithKeyboard(page: Page): Promise<void> {
	await page.keyboard.down('Control');
	await page.keyboard.press('s');
	await page.keyboard.up('Control');
}

/**
 * The output panel's Binary view of the first item's first binary field, as text (its field name,
 * File Name, Mime Type…). Both editors switch to Binary by themselves for an item with a file;
 * chosen here all the same, in case one day they do not.
 */
export async function outputBinaryView(page: Page): Promise<string> {
	const binary = '[data-test-id=output-panel] [data-test-id=radio-button-binary]';
	await page.waitForSelector(binary);
	await page.click(binary);
	return await innerText(page, '[data-test-id=output-panel] [data-test-id=ndv-binary-data_0]');
}

/** Closes n8n's notifications ("Node executed successfully"), for a picture without them. */
export async function closeNotifications(page: Page): Promise<void> {
	for (const close of await page.$$('.el-notification__closeBtn')) {
		await close.click().catch(() => undefined);
	}
	await page.waitForFunction(() =>
		[...(globalThis as unknown as PageGlobals).document.querySelectorAll('.el-notification')].every(
			(notification) => notification.offsetParent === null,
		),
	);
}
