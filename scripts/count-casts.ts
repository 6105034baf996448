/**
 * Counts the type escapes in src/ with the TypeScript parser (not grep, so comments, strings and
 * `!==` never count): `any` as a type, `as unknown as`, `as never`, non-null `!`, and every
 * `as X` cast with `as string` / `as Record<…>` apart. Production files and all files.
 *
 *   npx tsx scripts/count-casts.ts [dir] [--json] [--files]
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const KINDS = ['any', 'as unknown as', 'as never', 'non-null !', 'as string', 'as Record', 'as (all)'] as const;
type Kind = (typeof KINDS)[number];
type Counts = Record<Kind, number>;

const zero = (): Counts => Object.fromEntries(KINDS.map((k) => [k, 0])) as Counts;
const isTestFile = (file: string) => /\.test(-helpers|-support)?\.ts$/.test(file);

function* tsFiles(dir: string): Generator<string> {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(full);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield full;
  }
}

/** The counts of one source file. */
export function countFile(file: string, text = fs.readFileSync(file, 'utf8')): Counts {
  const counts = zero();
  const visit = (node: ts.Node): void => {
    if (node.kind === ts.SyntaxKind.AnyKeyword) counts.any++;
    else if (ts.isNonNullExpression(node)) counts['non-null !']++;
    else if (ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) {
      const type = node.type;
      if (type.kind !== ts.SyntaxKind.ConstKeyword && !(ts.isTypeReferenceNode(type) && type.typeName.getText() === 'const')) {
        counts['as (all)']++;
        if (type.kind === ts.SyntaxKind.NeverKeyword) counts['as never']++;
        if (type.kind === ts.SyntaxKind.StringKeyword) counts['as string']++;
        if (ts.isTypeReferenceNode(type) && type.typeName.getText() === 'Record') counts['as Record']++;
        const inner = node.expression;
        if ((ts.isAsExpression(inner) || ts.isTypeAssertionExpression(inner)) && inner.type.kind === ts.SyntaxKind.UnknownKeyword) counts['as unknown as']++;
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS));
  return counts;
}

function add(into: Counts, from: Counts): void {
  for (const k of KINDS) into[k] += from[k];
}

const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith('--')) ?? 'src';
const production = zero();
const all = zero();
const perFile: { file: string; counts: Counts }[] = [];
for (const file of tsFiles(dir)) {
  const counts = countFile(file);
  add(all, counts);
  if (!isTestFile(file)) add(production, counts);
  perFile.push({ file, counts });
}

if (args.includes('--json')) {
  console.log(JSON.stringify({ production, all }, null, 2));
} else {
  console.log(`| ${dir}/ | ${KINDS.join(' | ')} |`);
  console.log(`|---|${KINDS.map(() => '---:').join('|')}|`);
  console.log(`| non-test files | ${KINDS.map((k) => production[k]).join(' | ')} |`);
  console.log(`| all files | ${KINDS.map((k) => all[k]).join(' | ')} |`);
}
if (args.includes('--files')) {
  const score = (c: Counts) => c.any + c['as unknown as'] + c['as never'] + c['non-null !'] + c['as string'] + c['as Record'];
  for (const { file, counts } of perFile.sort((a, b) => score(b.counts) - score(a.counts)).slice(0, 20)) {
    console.log(`${String(score(counts)).padStart(4)}  ${file}  ${KINDS.map((k) => `${k}=${counts[k]}`).join(' ')}`);
  }
}
