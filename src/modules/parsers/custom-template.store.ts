/**
 * User templates. They take precedence over library templates, by name and by platform/command.
 * `platform` and `command` are written like an ntc-templates index row: Python regexes matched at
 * the start of the attribute, `command` with `[[…]]` completion (`sh[[ow]] ver[[sion]]`). A
 * template with no `command` is only reachable by name.
 *
 * This is the port; the in-memory store below serves single-node tests and the CLI, and a
 * database-backed store will implement the same interface.
 */
export interface CustomTemplate {
  name: string;
  platform?: string;
  command?: string;
  content: string;
}

export interface CustomTemplateStore {
  /** All templates, in lookup order (earlier wins). */
  list(): Promise<CustomTemplate[]>;
  get(name: string): Promise<CustomTemplate | null>;
}

export interface MemoryCustomTemplateStore extends CustomTemplateStore {
  put(template: CustomTemplate): Promise<void>;
  delete(name: string): Promise<boolean>;
}

export function createMemoryCustomTemplateStore(initial: readonly CustomTemplate[] = []): MemoryCustomTemplateStore {
  const templates = new Map<string, CustomTemplate>(initial.map((t) => [t.name, { ...t }]));
  return {
    async list() {
      return [...templates.values()].map((t) => ({ ...t }));
    },
    async get(name) {
      const t = templates.get(name);
      return t ? { ...t } : null;
    },
    async put(template) {
      templates.set(template.name, { ...template });
    },
    async delete(name) {
      return templates.delete(name);
    },
  };
}
