/// <reference types="vite/client" />
/**
 * Renderer entry: creates the Vue app with pinia, provides the `VisApi` (the preload's
 * `window.vis` in Electron) and mounts it on #app.
 * Shape: side effects only (runs once when index.html loads).
 */
import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { visApiKey, windowVisApi } from './api/vis-api'

const app = createApp(App)
app.provide(visApiKey, windowVisApi())
app.use(createPinia())
app.mount('#app')
