/**
 * YAML text -> validated AgentConfig, with line numbers for every error. Uses the `yaml`
 * package (a pure parser: no I/O), so reading the file stays in the shell.
 */
import { isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { ConfigError } from '../errors.js';
import { validateConfig, type Locator, type PathSegment, type ValidateResult } from './validate.js';

function nodeAt(root: unknown, path: readonly PathSegment[]): { node: YamlNode | undefined; keyNode: YamlNode | undefined } {
  let node: unknown = root;
  let keyNode: YamlNode | undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === seg);
      if (pair === undefined) return { node: node as YamlNode, keyNode };
      keyNode = pair.key as YamlNode;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) return { node: node as YamlNode, keyNode };
      node = item;
      keyNode = undefined;
    } else {
      break;
    }
  }
  return { node: (node ?? undefined) as YamlNode | undefined, keyNode };
}

export function parseConfigYaml(text: string): ValidateResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => new ConfigError('(yaml)', e.message.split('\n')[0] ?? 'syntax error', e.linePos?.[0]?.line)),
    };
  }
  const locate: Locator = (path) => {
    const { node, keyNode } = nodeAt(doc.contents, path);
    const at = keyNode?.range?.[0] ?? node?.range?.[0];
    return at === undefined ? undefined : lines.linePos(at).line;
  };
  return validateConfig(doc.toJS({ maxAliasCount: 100 }) as unknown, locate);
}
