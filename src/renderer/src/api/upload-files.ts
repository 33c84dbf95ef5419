/**
 * Browser files to `model:upload` payloads: each file's bytes as base64 under its plain name.
 * Files whose names the upload does not take (hidden files such as .DS_Store, odd characters) and
 * second files of the same name (from sub-folders of a dropped folder) are skipped and listed.
 * Also reads the files of dropped folders (one level: a model folder is flat).
 * Shape: `await filesToUpload(files) => { files: UploadedFile[], skipped: string[] }`;
 *   `await droppedFiles(dataTransfer) => File[]`
 */
import type { UploadedFile } from '../../../shared/app-types'
import { UPLOAD_NAME_PATTERN } from '../../../shared/ipc-limits'

/** Read one file as base64 (FileReader's data URL without its `data:…;base64,` head). */
export function readBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => {
      const url = String(reader.result)
      resolve(url.slice(url.indexOf(',') + 1))
    }
    reader.onerror = () => reject(reader.error ?? new Error('the file could not be read'))
    reader.readAsDataURL(file)
  })
}

/** The upload payload of `files`, in name order, and the names that were skipped. */
export async function filesToUpload(files: Iterable<File>): Promise<{ files: UploadedFile[]; skipped: string[] }> {
  const chosen = new Map<string, File>()
  const skipped: string[] = []
  for (const f of files) {
    if (!UPLOAD_NAME_PATTERN.test(f.name) || chosen.has(f.name)) skipped.push(f.name)
    else chosen.set(f.name, f)
  }
  const names = [...chosen.keys()].sort()
  const out = await Promise.all(names.map(async (name) => ({ name, base64: await readBase64(chosen.get(name)!) })))
  return { files: out, skipped }
}

/** The files of a file-system entry: itself, or the files directly inside a folder. */
async function entryFiles(entry: FileSystemEntry): Promise<File[]> {
  if (entry.isFile) {
    return [await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject))]
  }
  if (!entry.isDirectory) return []
  const reader = (entry as FileSystemDirectoryEntry).createReader()
  const entries: FileSystemEntry[] = []
  // readEntries answers in batches until an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject))
    if (batch.length === 0) break
    entries.push(...batch)
  }
  const files = await Promise.all(entries.filter((e) => e.isFile).map((e) => entryFiles(e)))
  return files.flat()
}

/** The files of a drop: dropped folders are read (their own files), dropped files taken as they are. */
export async function droppedFiles(data: DataTransfer): Promise<File[]> {
  const items = data.items ? [...data.items].filter((i) => i.kind === 'file') : []
  const entries = items.map((i) => (typeof i.webkitGetAsEntry === 'function' ? i.webkitGetAsEntry() : null))
  if (entries.length > 0 && entries.every((e) => e !== null)) {
    return (await Promise.all(entries.map((e) => entryFiles(e!)))).flat()
  }
  return [...(data.files ?? [])]
}
