import type { ApiResource } from '../../k8s/discovery.js';
import { ToolRefusal } from '../../k8s/errors.js';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** The core v1 Secret resource, whatever name the caller used for it ("secret", "SECRETS", "Secret" with apiVersion v1). */
export function isCoreSecret(r: Pick<ApiResource, 'group' | 'resource'>): boolean {
  return r.group === '' && r.resource === 'secrets';
}

/**
 * RFC 6901 pointer → reference tokens, or undefined when it is not a well-formed pointer to a member.
 * The apiserver's json-patch library drops whatever stands before the first "/" ("x/data/password" reads
 * /data/password), so anything but a leading "/" is refused rather than interpreted.
 */
function tokens(pointer: unknown): string[] | undefined {
  if (typeof pointer !== 'string' || !pointer.startsWith('/')) return undefined;
  const raw = pointer.slice(1).split('/');
  if (raw.some((t) => /~(?![01])/.test(t))) return undefined;
  return raw.map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Whether reading this pointer of a Secret can yield a value: the whole document, data, stringData,
 * all of metadata or its annotations, and the last-applied annotation (it repeats the data); empty tokens
 * ("/", "/data//x") are refused too. Compared case-insensitively so no spelling of a field slips past.
 */
function readsSecretValue(t: string[]): boolean {
  if (t.some((x) => x === '')) return true;
  const [first, second, third] = t.map((x) => x.toLowerCase());
  if (first === 'data' || first === 'stringdata') return true;
  if (first !== 'metadata') return false;
  if (second === undefined || second === 'annotations') return t.length <= 2 || third === LAST_APPLIED;
  return false;
}

/**
 * A JSON patch (RFC 6902) for a Secret, checked and re-serialised: `copy` and `move` read `from`, `test`
 * compares `path` (an oracle: each answer says whether a guess was right), so none of them may touch a
 * value (readsSecretValue). Writes (add, remove, replace) are fine: the result comes back masked. The
 * returned text is what the apiserver gets, so the operations checked are the operations run
 * (duplicate keys, escapes and whitespace resolved once, here).
 */
export function checkedSecretJsonPatch(patch: unknown): string {
  let ops: unknown = patch;
  if (typeof patch === 'string') {
    try {
      ops = JSON.parse(patch);
    } catch {
      throw new ToolRefusal('the JSON patch for a Secret is not valid JSON');
    }
  }
  if (!Array.isArray(ops)) throw new ToolRefusal('a JSON patch is an array of operations');
  ops.forEach((op: unknown, i) => {
    if (typeof op !== 'object' || op === null || Array.isArray(op)) throw new ToolRefusal(`JSON patch operation ${i} is not an object`);
    const { op: kind, path, from } = op as Record<string, unknown>;
    const target = tokens(path);
    if (!target) throw new ToolRefusal(`JSON patch operation ${i}: path must be a JSON pointer starting with "/"`);
    switch (kind) {
      case 'add':
      case 'remove':
      case 'replace':
        return;
      case 'copy':
      case 'move': {
        const source = tokens(from);
        if (!source) throw new ToolRefusal(`JSON patch operation ${i}: from must be a JSON pointer starting with "/"`);
        if (readsSecretValue(source)) {
          throw new ToolRefusal(`JSON patch operation ${i} (${kind}) reads ${String(from)} of a Secret: copying or moving Secret values is refused, because the result or the apiserver's answer would show them`);
        }
        return;
      }
      case 'test':
        if (readsSecretValue(target)) {
          throw new ToolRefusal(`JSON patch operation ${i} (test) compares ${String(path)} of a Secret: testing Secret values is refused, because it would tell whether a guess is right`);
        }
        return;
      default:
        throw new ToolRefusal(`JSON patch operation ${i}: op must be one of add, remove, replace, copy, move, test`);
    }
  });
  return JSON.stringify(ops);
}
