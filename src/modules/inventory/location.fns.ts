/** Location-tree walks over the whole (small) tree held in memory: pure, tested. */

export interface TreeNode {
  id: string;
  name: string;
  parentId: string | null;
}

/** The location and every location below it. */
export function descendantsOf(tree: readonly TreeNode[], rootId: string): string[] {
  const children = new Map<string, string[]>();
  for (const l of tree) if (l.parentId) children.set(l.parentId, [...(children.get(l.parentId) ?? []), l.id]);
  const out: string[] = [];
  const stack = [rootId];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(id);
    stack.push(...(children.get(id) ?? []));
  }
  return out;
}

/** The names from the root down to the location (for Ansible's nested groups). */
export function pathOf(tree: readonly TreeNode[], id: string): TreeNode[] {
  const byId = new Map(tree.map((l) => [l.id, l]));
  const path: TreeNode[] = [];
  for (let cur = byId.get(id); cur && path.length < 64; cur = cur.parentId ? byId.get(cur.parentId) : undefined) path.unshift(cur);
  return path;
}
