/**
 * Window-wide file drop: while files are dragged over the window `dragging` is true (for a drop hint
 * overlay); a drop hands the dropped files (folders read one level deep) to `onFiles`. Drags that
 * carry no files (text, links) are left alone. Listeners are added on mount and removed on unmount.
 * Shape: `useFileDrop(onFiles) => { dragging }`
 */
import { onMounted, onUnmounted, ref, type Ref } from 'vue'
import { droppedFiles } from '../api/upload-files'

function carriesFiles(e: DragEvent): boolean {
  return [...(e.dataTransfer?.types ?? [])].includes('Files')
}

/**
 * Register window-level drag and drop listeners for files.
 * @example const { dragging } = useFileDrop((files) => upload(files))
 */
export function useFileDrop(onFiles: (files: File[]) => void | Promise<void>): { dragging: Ref<boolean> } {
  const dragging = ref(false)
  /** dragenter/dragleave pairs, one per element crossed: the drag left the window at 0. */
  let depth = 0

  function onEnter(e: DragEvent): void {
    if (!carriesFiles(e)) return
    e.preventDefault()
    depth += 1
    dragging.value = true
  }
  function onOver(e: DragEvent): void {
    if (!carriesFiles(e)) return
    // Without preventDefault the browser refuses the drop (and would open the file instead).
    e.preventDefault()
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'
  }
  function onLeave(e: DragEvent): void {
    if (!carriesFiles(e)) return
    depth = Math.max(0, depth - 1)
    if (depth === 0) dragging.value = false
  }
  async function onDrop(e: DragEvent): Promise<void> {
    if (!carriesFiles(e) || !e.dataTransfer) return
    e.preventDefault()
    depth = 0
    dragging.value = false
    const files = await droppedFiles(e.dataTransfer)
    if (files.length > 0) await onFiles(files)
  }
  const handlers = { dragenter: onEnter, dragover: onOver, dragleave: onLeave, drop: onDrop } as const

  onMounted(() => {
    for (const [name, fn] of Object.entries(handlers)) window.addEventListener(name, fn as EventListener)
  })
  onUnmounted(() => {
    for (const [name, fn] of Object.entries(handlers)) window.removeEventListener(name, fn as EventListener)
  })
  return { dragging }
}
