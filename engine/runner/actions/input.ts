import { readFile, realpath } from 'node:fs/promises';
import { basename, isAbsolute, resolve as resolvePath, sep } from 'node:path';
import { EngineError } from '../../core/errors.ts';
import type { ActionOf } from '../../schema/actions.ts';
import { onElement } from './element.ts';
import { inSettledDocument, type ActionEnvironment, type ActionHandlers } from './types.ts';

/** Pointer, key and file input on one element (typing and setting values are in typing.ts). */
export const inputHandlers: Pick<ActionHandlers, 'click' | 'doubleClick' | 'hover' | 'scroll' | 'check' | 'uncheck' | 'fill' | 'clear' | 'press' | 'upload'> = {
  click: (action, env) =>
    onElement(env, action.selector, (l, t) =>
      l.click({ timeout: t, ...(action.button ? { button: action.button } : {}), ...(action.modifiers ? { modifiers: action.modifiers } : {}) }),
    ),
  doubleClick: (action, env) => onElement(env, action.selector, (l, t) => l.dblclick({ timeout: t })),
  hover: (action, env) => onElement(env, action.selector, (l, t) => l.hover({ timeout: t })),
  async scroll(action, env) {
    if (action.selector !== undefined) return onElement(env, action.selector, (l, t) => l.scrollIntoViewIfNeeded({ timeout: t }));
    await inSettledDocument(env, () => env.session.frame.evaluate(([x, y]) => window.scrollBy(x, y), [action.x ?? 0, action.y ?? 0] as const));
    return {};
  },
  check: (action, env) => onElement(env, action.selector, (l, t) => l.check({ timeout: t })),
  uncheck: (action, env) => onElement(env, action.selector, (l, t) => l.uncheck({ timeout: t })),
  fill: (action, env) => onElement(env, action.selector, (l, t) => l.fill(action.value, { timeout: t })),
  clear: (action, env) => onElement(env, action.selector, (l, t) => l.clear({ timeout: t })),
  async press(action, env) {
    if (action.selector === undefined) {
      await env.session.page.keyboard.press(action.key);
      return {};
    }
    return onElement(env, action.selector, (l, t) => l.press(action.key, { timeout: t }));
  },
  async upload(action, env) {
    const files = await uploadFiles(env, action);
    return onElement(env, action.selector, (l, t) => l.setInputFiles(files, { timeout: t }));
  },
};

const inside = (root: string, path: string) => path === root || path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);

/**
 * The file `file` names, if it lies inside `root` once every symlink is resolved. A script (or a control plane
 * that sends one) must not read what else the checkpoint can: `/etc/passwd`, `../../.ssh`, a link out.
 */
async function confinedPath(root: string | undefined, file: string, index: number): Promise<string> {
  if (root === undefined) {
    throw new EngineError('POLICY_BLOCKED', `files[${index}]: cannot upload "${file}": no uploads directory is configured (an agent reads files only from --uploads-dir / CHECKPOINT_UPLOADS_DIR)`, 'script');
  }
  const outside = (dir: string) => new EngineError('POLICY_BLOCKED', `files[${index}]: "${file}" is outside the allowed uploads directory ${dir}`, 'script');
  const base = resolvePath(root);
  const path = isAbsolute(file) ? resolvePath(file) : resolvePath(base, file);
  // Refuse by the name first, so nothing outside is even probed for existence.
  if (!inside(base, path)) throw outside(base);
  let real: string;
  let realRoot: string;
  try {
    realRoot = await realpath(base);
    real = await realpath(path);
  } catch {
    throw new EngineError('FILE_NOT_FOUND', `files[${index}]: cannot read "${file}" (looked for ${path})`, 'script');
  }
  if (!inside(realRoot, real)) throw outside(base);
  return real;
}

async function uploadFiles(env: ActionEnvironment, action: ActionOf<'upload'>) {
  const files: { name: string; mimeType: string; buffer: Buffer }[] = [];
  for (const [index, file] of action.files.entries()) {
    if (typeof file === 'string') {
      const path = await confinedPath(env.scriptDir, file, index);
      try {
        files.push({ name: basename(file), mimeType: 'application/octet-stream', buffer: await readFile(path) });
      } catch {
        throw new EngineError('FILE_NOT_FOUND', `files[${index}]: cannot read "${file}" (looked for ${path})`, 'script');
      }
    } else {
      files.push({ name: file.name, mimeType: file.mimeType ?? 'text/plain', buffer: Buffer.from(file.text, 'utf8') });
    }
  }
  return files;
}
