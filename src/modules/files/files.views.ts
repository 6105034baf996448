import type { FileRow } from './files.repository.js';

/** What a caller sees of a file. */
export interface FileView {
  id: string;
  name: string;
  size: number;
  sha256: string;
  content_type: string;
  owner_id: string;
  team_id: string | null;
  tags: string[];
  description: string;
  created_at: string;
  updated_at: string;
}

export const fileView = (f: FileRow): FileView => ({
  id: f.id,
  name: f.name,
  size: f.size,
  sha256: f.sha256,
  content_type: f.contentType,
  owner_id: f.ownerId,
  team_id: f.teamId,
  tags: f.tags,
  description: f.description,
  created_at: f.createdAt,
  updated_at: f.updatedAt,
});
