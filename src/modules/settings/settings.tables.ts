/** The settings module's table as Kysely sees it (camelCase under CamelCasePlugin). */
export type SettingsTables = {
  settings: { key: string; value: unknown; version: number; updatedAt: string; updatedBy: string | null };
};
