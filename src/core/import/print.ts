/**
 * An import result -> haagent YAML text: the config with each comment above the node it belongs
 * to (the nearest node that exists when its own was left out), the document's comments first.
 * Lists of plain values (VIPs, peers, commands) are written in flow style, one line each.
 * Pure; the `yaml` package only builds text.
 */
import { Document, isMap, isScalar, isSeq, visit, type Node as YamlNode } from 'yaml';
import { oneLine, type PathSegment } from '../config/collector.js';
import type { ImportResult } from './map.js';

/** The node at `path`, or its nearest existing ancestor; undefined for the document itself. */
function nodeAt(doc: Document, path: readonly PathSegment[]): YamlNode | undefined {
  let node: unknown = doc.contents;
  let found: YamlNode | undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === seg);
      if (pair === undefined || !isScalar(pair.key)) break;
      // The key carries the comment (printed above the key line); the walk continues in the value.
      found = pair.key;
      node = pair.value;
      if (isMap(node) || isSeq(node)) continue;
      break;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      if (!isMap(item) && !isSeq(item) && !isScalar(item)) break;
      found = item;
      node = item;
    } else {
      break;
    }
  }
  return found;
}

export function importYaml(result: ImportResult, header: readonly string[]): string {
  const doc = new Document(result.config);
  visit(doc, {
    Seq: (_key, seq) => {
      if (seq.items.length > 0 && seq.items.every((i) => isScalar(i))) seq.flow = true;
    },
  });
  const above = new Map<YamlNode | undefined, string[]>();
  for (const c of result.comments) {
    const node = nodeAt(doc, c.path);
    const list = above.get(node) ?? [];
    list.push(` ${oneLine(c.text)}`);
    above.set(node, list);
  }
  for (const [node, lines] of above) {
    if (node === undefined) continue;
    node.commentBefore = [...(node.commentBefore === undefined || node.commentBefore === null ? [] : [node.commentBefore]), ...lines].join('\n');
  }
  doc.commentBefore = [...header.map((h) => ` ${oneLine(h)}`), ...(above.get(undefined) ?? [])].join('\n');
  return doc.toString({ lineWidth: 0 });
}
