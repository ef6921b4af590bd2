import { html, raw, type SafeHtml } from '../engine/index.ts';
import { csrfField } from './dashboard-session-views.ts';
import { page } from './dashboard-views.ts';
import type { FieldProblem, MonitorField, MonitorFormValues } from './dashboard-forms.ts';
import { checkpointsOf } from './monitor-definition.ts';
import type { MonitorRecord } from './store.ts';

function href(...segments: readonly string[]): string {
  return `/${segments.map(encodeURIComponent).join('/')}`;
}

const fieldIds: Record<MonitorField, string> = {
  id: 'field-id',
  name: 'field-name',
  // The first box of each group: where the error summary's link lands.
  checkpoints: 'field-checkpoints',
  placement: 'field-placement',
  intervalSeconds: 'field-interval',
  enabled: 'field-enabled',
  script: 'field-script',
  variables: 'field-variables',
};

function csrfInput(token: string): SafeHtml {
  return html`<input type="hidden" name="${csrfField}" value="${token}">`;
}

/**
 * The error summary GOV.UK-style: announced (role=alert), focused on load (autofocus, no script needed), each
 * problem a link to its field.
 */
function errorSummary(problems: readonly FieldProblem[]): SafeHtml {
  if (problems.length === 0) return html``;
  return html`<div class="error-summary" role="alert" tabindex="-1" autofocus aria-labelledby="error-summary-title">
<h2 id="error-summary-title">${problems.length === 1 ? 'The monitor was not saved: 1 problem' : `The monitor was not saved: ${problems.length} problems`}</h2>
<ul>${problems.map((problem) => html`<li>${problem.field === '' ? html`${problem.path}: ${problem.message}` : html`<a href="#${fieldIds[problem.field]}">${problem.path}: ${problem.message}</a>`}</li>`)}</ul>
</div>`;
}

/** Label, hint, control and its errors, tied together with aria-describedby. */
function field(input: { name: MonitorField; label: string; hint?: string; problems: readonly FieldProblem[]; control: (attributes: SafeHtml) => SafeHtml }): SafeHtml {
  const id = fieldIds[input.name];
  const mine = input.problems.filter((problem) => problem.field === input.name);
  const describedBy = [input.hint === undefined ? '' : `${id}-hint`, mine.length === 0 ? '' : `${id}-error`].filter((part) => part !== '').join(' ');
  const attributes = html`id="${id}" name="${input.name}"${describedBy === '' ? '' : html` aria-describedby="${describedBy}"`}${mine.length === 0 ? '' : raw(' aria-invalid="true"')}`;
  return html`<div class="field${mine.length === 0 ? '' : ' invalid'}">
<label for="${id}">${input.label}</label>
${input.hint === undefined ? '' : html`<p class="hint" id="${id}-hint">${input.hint}</p>`}
${mine.length === 0 ? '' : html`<ul class="field-error" id="${id}-error">${mine.map((problem) => html`<li><span class="visually-hidden">Error: </span>${problem.path}: ${problem.message}</li>`)}</ul>`}
${input.control(attributes)}
</div>`;
}

/**
 * A group of boxes or radios (a fieldset whose legend labels it): hint and errors tied to the fieldset with
 * aria-describedby, each control labelled on its own. The first control carries the group's id (the error
 * summary's link target).
 */
function choiceGroup(input: { name: MonitorField; legend: string; hint?: string; problems: readonly FieldProblem[]; choices: readonly { value: string; label: SafeHtml | string; checked: boolean }[]; type: 'checkbox' | 'radio' }): SafeHtml {
  const id = fieldIds[input.name];
  const mine = input.problems.filter((problem) => problem.field === input.name);
  const describedBy = [input.hint === undefined ? '' : `${id}-hint`, mine.length === 0 ? '' : `${id}-error`].filter((part) => part !== '').join(' ');
  return html`<fieldset class="field choices${mine.length === 0 ? '' : ' invalid'}" id="${id}-group"${describedBy === '' ? '' : html` aria-describedby="${describedBy}"`}>
<legend>${input.legend}</legend>
${input.hint === undefined ? '' : html`<p class="hint" id="${id}-hint">${input.hint}</p>`}
${mine.length === 0 ? '' : html`<ul class="field-error" id="${id}-error">${mine.map((problem) => html`<li><span class="visually-hidden">Error: </span>${problem.path}: ${problem.message}</li>`)}</ul>`}
${input.choices.map((choice, index) => {
    const choiceId = index === 0 ? id : `${id}-${index}`;
    return html`<div class="choice"><input type="${input.type}" id="${choiceId}" name="${input.name}" value="${choice.value}"${choice.checked ? raw(' checked') : ''}${mine.length === 0 ? '' : raw(' aria-invalid="true"')}> <label for="${choiceId}">${choice.label}</label></div>`;
  })}
</fieldset>`;
}

/**
 * The checkboxes of the checkpoints a monitor may run on: those it runs on first, in its order (the form sends
 * ticked boxes in page order, so that order is kept), then the other existing ones; a name that no longer exists
 * is still shown while the form has it ticked, so the refusal is visible next to it.
 */
export function checkpointChoices(ticked: readonly string[], existing: readonly string[]): string[] {
  return [...new Set([...ticked, ...existing])];
}

/** Create (no `monitor`) or edit a monitor; after a refused POST, with the values as sent and every problem. */
export function monitorFormPage(input: {
  now: Date;
  monitor: MonitorRecord | undefined;
  values: MonitorFormValues;
  problems: readonly FieldProblem[];
  checkpoints: readonly string[];
  csrfToken: string;
}): string {
  const { values, problems, monitor } = input;
  const editing = monitor !== undefined;
  const action = editing ? href('monitors', monitor.id, 'edit') : '/monitors/new';
  const checkpoints = checkpointChoices(values.checkpoints, input.checkpoints);
  const title = editing ? `Edit ${monitor.name}` : 'New monitor';
  const body = html`
<div class="crumbs"><a href="/">Overview</a> / ${editing ? html`<a href="${href('monitors', monitor.id)}">${monitor.name}</a> / edit` : 'new monitor'}</div>
<h1>${title}</h1>
${errorSummary(problems)}
<form class="edit card" method="post" action="${action}" enctype="multipart/form-data">
${csrfInput(input.csrfToken)}
${editing
    ? ''
    : field({
        name: 'id',
        label: 'Id (optional)',
        hint: 'Letters, digits, ".", "_" or "-"; it appears in URLs and the API. Left empty, one is generated.',
        problems,
        control: (attributes) => html`<input ${attributes} type="text" value="${values.id}" autocomplete="off" spellcheck="false">`,
      })}
${field({ name: 'name', label: 'Name', problems, control: (attributes) => html`<input ${attributes} type="text" value="${values.name}" required autocomplete="off">` })}
${choiceGroup({
  name: 'checkpoints',
  legend: 'Checkpoints',
  hint: 'Where it runs: tick one, or several (an internal and an external site, say).',
  problems,
  type: 'checkbox',
  choices: checkpoints.map((name) => ({ value: name, label: name, checked: values.checkpoints.includes(name) })),
})}
${choiceGroup({
  name: 'placement',
  legend: 'With several checkpoints, each interval runs',
  hint: 'Only used when two or more checkpoints are ticked.',
  problems,
  type: 'radio',
  choices: [
    { value: 'all', label: 'on all of them', checked: values.placement === 'all' },
    { value: 'round-robin', label: 'on one of them in turn (round-robin)', checked: values.placement === 'round-robin' },
  ],
})}
${field({
  name: 'intervalSeconds',
  label: 'Interval (seconds)',
  hint: 'How often it runs: 10 to 86400 seconds.',
  problems,
  control: (attributes) => html`<input ${attributes} type="text" inputmode="numeric" value="${values.intervalSeconds}" required>`,
})}
${field({
  name: 'enabled',
  label: 'Enabled',
  problems,
  control: (attributes) => html`<span class="check"><input ${attributes} type="checkbox" value="true"${values.enabled ? raw(' checked') : ''}> runs on schedule</span>`,
})}
${field({
  name: 'script',
  label: 'Script (JSON)',
  hint: 'A transaction or check, as checkpoint validate takes it. {{NAME}} placeholders need a variable below.',
  problems,
  control: (attributes) =>
    html`<textarea ${attributes} rows="18" spellcheck="false" class="mono">${values.script}</textarea>
<label for="field-script-file" class="upload">Or upload the script as a JSON file (it replaces the text above)</label>
<input id="field-script-file" name="scriptFile" type="file" accept=".json,application/json">`,
})}
${field({
  name: 'variables',
  label: 'Variables',
  hint: 'One NAME=value per line; the script uses them as {{NAME}}.',
  problems,
  control: (attributes) => html`<textarea ${attributes} rows="4" spellcheck="false" class="mono">${values.variables}</textarea>`,
})}
<div class="actions"><button type="submit" class="primary">${editing ? 'Save changes' : 'Create monitor'}</button><a href="${editing ? href('monitors', monitor.id) : '/'}">Cancel</a></div>
</form>`;
  return page({ title, section: 'none', now: input.now, body });
}

/**
 * Run now: one button for a monitor on one checkpoint; with several, a choice of where (the first with a free
 * instance, or one named), labelled for screen readers and sent with the button (no script needed).
 */
function runNowForm(monitor: MonitorRecord, csrfToken: string): SafeHtml {
  const names = checkpointsOf(monitor);
  const choice =
    names.length < 2
      ? ''
      : html`<label for="run-now-checkpoint" class="visually-hidden">Run on checkpoint</label><select id="run-now-checkpoint" name="checkpoint"><option value="">any checkpoint (first free)</option>${names.map((name) => html`<option value="${name}">${name}</option>`)}</select>`;
  return html`<form method="post" class="run-now" action="${href('monitors', monitor.id, 'run')}">${csrfInput(csrfToken)}${choice}<button type="submit" class="primary">Run now</button></form>`;
}

/** The monitor page's buttons: each a small POST form (works without JavaScript) or a link. */
export function monitorActions(monitor: MonitorRecord, csrfToken: string): SafeHtml {
  return html`<div class="actions" aria-label="Monitor actions">
<a class="button" href="${href('monitors', monitor.id, 'edit')}">Edit</a>
${runNowForm(monitor, csrfToken)}
<form method="post" action="${href('monitors', monitor.id, 'enabled')}">${csrfInput(csrfToken)}<input type="hidden" name="enabled" value="${monitor.enabled ? 'false' : 'true'}"><button type="submit">${monitor.enabled ? 'Disable' : 'Enable'}</button></form>
<a class="button danger" href="${href('monitors', monitor.id, 'delete')}">Delete…</a>
</div>`;
}

/** The confirmation step before a delete: the delete itself is the POST of this page's form. */
export function deleteMonitorPage(input: { now: Date; monitor: MonitorRecord; csrfToken: string }): string {
  const { monitor } = input;
  const body = html`
<div class="crumbs"><a href="/">Overview</a> / <a href="${href('monitors', monitor.id)}">${monitor.name}</a> / delete</div>
<h1>Delete ${monitor.name}?</h1>
<form class="edit card" method="post" action="${href('monitors', monitor.id, 'delete')}">
${csrfInput(input.csrfToken)}
<p>The monitor <strong>${monitor.name}</strong> (<span class="mono">${monitor.id}</span>) stops running on <strong>${checkpointsOf(monitor).join(', ')}</strong> and is removed. This cannot be undone.</p>
<div class="actions"><button type="submit" class="danger">Delete monitor</button><a href="${href('monitors', monitor.id)}">Cancel</a></div>
</form>`;
  return page({ title: `Delete ${monitor.name}`, section: 'none', now: input.now, body });
}

/** What a redirect-after-POST reports on the page it lands on (`?done=`). */
export const doneMessages: Record<string, string> = {
  created: 'Monitor created.',
  saved: 'Changes saved.',
  unchanged: 'Nothing to save: the monitor was already like this.',
  enabled: 'Monitor enabled: it runs on schedule again.',
  disabled: 'Monitor disabled: it no longer runs on schedule.',
  deleted: 'Monitor deleted.',
  dispatched: 'Run dispatched: this page shows its result when it arrives.',
};

export function doneNotice(url: URL): SafeHtml {
  const message = doneMessages[url.searchParams.get('done') ?? ''];
  return message === undefined ? html`` : html`<div class="notice done" role="status">${message}</div>`;
}
