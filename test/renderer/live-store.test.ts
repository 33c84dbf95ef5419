// @vitest-environment happy-dom
/**
 * Live store, walking a folder: arrow steps taken while an image is still loading count from the position
 * last asked for (two quick presses move by two, wrapping), and an answer that a later request superseded
 * is not shown. Regression: the E2E "walks a folder with the arrow keys" lost a press under load, because
 * each step counted from the position of the image last shown.
 */
import { describe, expect, it, vi } from 'vitest'
import { useLiveStore } from '../../src/renderer/src/stores/live'
import type { IpcResult } from '../../src/shared/ipc-contract'
import type { LiveImageFile, LiveImageRequest } from '../../src/shared/live-types'
import { fakeVisApi, installPinia } from './fake-vis-api'

const IMAGES = ['a.png', 'b.png', 'c.png', 'd.png', 'e.png']

const file = (name: string): LiveImageFile => ({ name, width: 2, height: 2, rgb: 'AAAA', png: `data:image/png;base64,${name}` } as LiveImageFile)

/** live:image answers the test releases one by one, in any order. */
function deferredImages() {
  const pending: { req: LiveImageRequest; release: () => void }[] = []
  const fn = vi.fn((req: LiveImageRequest) => new Promise<IpcResult<LiveImageFile>>((resolve) => {
    pending.push({ req, release: () => resolve({ ok: true, value: file(req.image) }) })
  }))
  return { fn, pending }
}

async function openFolder() {
  const images = deferredImages()
  const fake = fakeVisApi({
    'live:folder': vi.fn(async () => ({ ok: true, value: { folder: '/pics', images: IMAGES, total: IMAGES.length } })),
    'live:image': images.fn,
  } as never)
  installPinia(fake.api)
  const live = useLiveStore()
  const opened = live.openFolder('/pics')
  await vi.waitFor(() => expect(images.pending).toHaveLength(1))
  images.pending[0].release()
  await opened
  return { live, images }
}

describe('useLiveStore folder steps', () => {
  it('two quick steps back from the first image land on the last but one, wrapping', async () => {
    const { live, images } = await openFolder()
    expect(live.folderAt).toBe(0)
    expect(live.current?.name).toBe('a.png')
    const first = live.step(-1)
    const second = live.step(-1)
    await vi.waitFor(() => expect(images.pending).toHaveLength(3))
    expect(images.pending.slice(1).map((p) => p.req.image)).toEqual(['e.png', 'd.png'])
    images.pending[1].release()
    images.pending[2].release()
    await Promise.all([first, second])
    expect(live.folderAt).toBe(3)
    expect(live.current?.name).toBe('d.png')
  })

  it('an answer that arrives after a later one is not shown', async () => {
    const { live, images } = await openFolder()
    const first = live.step(1)
    const second = live.step(1)
    await vi.waitFor(() => expect(images.pending).toHaveLength(3))
    images.pending[2].release() // c.png, the latest request, answers first
    await second
    images.pending[1].release() // b.png, superseded
    await first
    expect(live.current?.name).toBe('c.png')
    expect(live.folderAt).toBe(2)
    // The next step counts from where the user is.
    const third = live.step(1)
    await vi.waitFor(() => expect(images.pending).toHaveLength(4))
    expect(images.pending[3].req.image).toBe('d.png')
    images.pending[3].release()
    await third
    expect(live.folderAt).toBe(3)
  })
})
