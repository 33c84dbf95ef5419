/* The DeepVis atlas: a static page over manifest.js (window.DEEPVIS_ATLAS), written by `deepvis sweep`.
 * Views, chosen by the URL hash: '' = the layers; #layer=L = a grid of L's units (one thumbnail per
 * preset); #layer=L&unit=U = every preset's best / last / majority images with quality readouts. */
(function () {
  'use strict'
  var atlas = window.DEEPVIS_ATLAS
  var app = document.getElementById('app')
  var crumbs = document.getElementById('crumbs')

  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c] }) }
  function num(v) { return typeof v === 'number' && isFinite(v) ? (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(3)) : 'n/a' }
  function href(layer, unit) { return '#layer=' + encodeURIComponent(layer) + (unit === undefined ? '' : '&unit=' + unit) }
  function entry(layer, unit, preset) { return atlas.results[layer + ':' + unit + ':' + preset] }
  function failure(layer, unit, preset) {
    var id = layer + ':' + unit + ':' + preset
    for (var i = 0; i < atlas.failed.length; i++) if (atlas.failed[i].id === id) return atlas.failed[i].error
    return null
  }
  function findLayer(name) { for (var i = 0; i < atlas.layers.length; i++) if (atlas.layers[i].name === name) return atlas.layers[i]; return null }
  function labelOf(layer, unit) { return layer.labels && layer.labels[unit] ? layer.labels[unit] : '' }

  function viewLayers() {
    crumbs.textContent = ''
    var total = Object.keys(atlas.results).length
    var h = '<h1>' + esc(atlas.model.name) + '</h1><p class="muted">' + total + ' results, presets ' + esc(atlas.presets.join(', ')) +
      ', model hash ' + esc(atlas.model.hash.slice(0, 12)) + ', updated ' + esc(atlas.updated) + '</p>'
    h += '<table id="layers"><tr><th>layer</th><th>type</th><th>shape</th><th>units</th><th>done</th></tr>'
    atlas.layers.forEach(function (l) {
      var done = 0
      l.units.forEach(function (u) { atlas.presets.forEach(function (p) { if (entry(l.name, u, p)) done++ }) })
      h += '<tr><td><a class="layer-link" href="' + href(l.name) + '">' + esc(l.name) + '</a></td><td>' + esc(l.type) + '</td><td>[' + l.shape.join(', ') + ']</td><td>' +
        l.units.length + '</td><td>' + done + ' / ' + l.units.length * atlas.presets.length + '</td></tr>'
    })
    h += '</table>'
    if (atlas.failed.length) {
      h += '<h2 class="failed">' + atlas.failed.length + ' failed jobs</h2><ul>'
      atlas.failed.forEach(function (f) { h += '<li class="failed">' + esc(f.id) + ': ' + esc(f.error) + '</li>' })
      h += '</ul>'
    }
    app.innerHTML = h
  }

  function viewGrid(layer) {
    crumbs.innerHTML = '&rsaquo; ' + esc(layer.name)
    var h = '<h1>' + esc(layer.name) + ' <span class="muted">' + esc(layer.type) + ' [' + layer.shape.join(', ') + '], ' + layer.units.length +
      ' units; thumbnails: ' + esc(atlas.presets.join(', ')) + '</span></h1><div class="grid" id="unit-grid">'
    layer.units.forEach(function (u) {
      h += '<a class="cell" data-unit="' + u + '" href="' + href(layer.name, u) + '"><div class="thumbs">'
      atlas.presets.forEach(function (p) {
        var e = entry(layer.name, u, p)
        h += e && e.images.best_X ? '<img class="px" loading="lazy" src="' + esc(e.images.best_X) + '" title="' + esc(p) + ': best ' + num(e.best && e.best.obj) + '">'
          : '<span class="missing" title="' + esc(p) + '">' + (failure(layer.name, u, p) ? 'failed' : 'pending') + '</span>'
      })
      h += '</div><div class="title">' + u + (labelOf(layer, u) ? ' ' + esc(labelOf(layer, u)) : '') + '</div></a>'
    })
    app.innerHTML = h + '</div>'
  }

  function viewUnit(layer, unit) {
    crumbs.innerHTML = '&rsaquo; <a href="' + href(layer.name) + '">' + esc(layer.name) + '</a> &rsaquo; unit ' + unit
    var i = layer.units.indexOf(unit)
    var nav = (i > 0 ? '<a id="prev" href="' + href(layer.name, layer.units[i - 1]) + '">&larr; ' + layer.units[i - 1] + '</a> ' : '') +
      (i >= 0 && i < layer.units.length - 1 ? '<a id="next" href="' + href(layer.name, layer.units[i + 1]) + '">' + layer.units[i + 1] + ' &rarr;</a>' : '')
    var h = '<h1 id="unit-title">' + esc(layer.name) + ':' + unit + (labelOf(layer, unit) ? ' "' + esc(labelOf(layer, unit)) + '"' : '') + '</h1><p>' + nav + '</p>'
    var top = atlas.tops && atlas.tops[layer.name + ':' + unit]
    if (top) {
      h += '<section class="top" id="top-images"><h2>top ' + top.entries.length + ' of ' + top.images + ' indexed images</h2>' +
        '<img class="montage" src="' + esc(top.montage) + '" alt="top images"><ol class="top-list">'
      top.entries.forEach(function (e) { h += '<li>' + esc(e.image) + ' <span class="muted">' + num(e.score) + '</span></li>' })
      h += '</ol></section>'
    }
    atlas.presets.forEach(function (p) {
      var e = entry(layer.name, unit, p)
      h += '<section class="preset" data-preset="' + esc(p) + '"><h2>' + esc(p) + '</h2>'
      if (!e) {
        var err = failure(layer.name, unit, p)
        h += err ? '<p class="failed">failed: ' + esc(err) + '</p>' : '<p class="muted">not rendered yet</p>'
      } else {
        h += '<div class="snaps">'
        ;['best', 'last', 'majority'].forEach(function (k) {
          var img = e.images[k + '_X']
          var snap = e[k]
          h += '<figure class="snap">' + (img ? '<img class="px" src="' + esc(img) + '" alt="' + k + '">' : '<span class="missing" style="width:192px;height:192px">no ' + k + '</span>') +
            '<figcaption>' + k + (snap ? ': obj ' + num(snap.obj) + ' at ii ' + snap.ii : (k === 'majority' ? ': never reached' : '')) + '</figcaption></figure>'
        })
        h += '</div>'
        var q = e.quality || {}
        h += '<table class="quality"><tr><td>result</td><td>' + esc(e.meta_result) + ', ' + e.iterations + ' iterations (' + esc(e.method) + '), ' + (e.total_ms / 1000).toFixed(1) + ' s</td></tr>' +
          '<tr><td>activation</td><td>' + num(q.activation) + '</td></tr>' +
          '<tr><td>rank in layer</td><td>' + (q.rank !== undefined ? q.rank + ' / ' + q.of : 'n/a') + '</td></tr>' +
          '<tr><td>spectrum slope</td><td>' + num(q.spectrum_slope) + '</td></tr>' +
          (q.held_out ? '<tr><td>check model</td><td>p ' + num(q.held_out.probability) + ', rank ' + q.held_out.rank + '</td></tr>' : '') + '</table>'
      }
      h += '</section>'
    })
    app.innerHTML = h
  }

  function route() {
    if (!atlas) return
    var params = {}
    location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
      var i = kv.indexOf('=')
      if (i > 0) params[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1))
    })
    var layer = params.layer !== undefined ? findLayer(params.layer) : null
    if (params.layer !== undefined && !layer) {
      app.innerHTML = '<p class="failed">No layer "' + esc(params.layer) + '" in this atlas.</p>'
      viewLayersBelow()
      return
    }
    if (!layer) return viewLayers()
    if (params.unit !== undefined && /^\d+$/.test(params.unit)) return viewUnit(layer, Number(params.unit))
    viewGrid(layer)
  }
  function viewLayersBelow() { var msg = app.innerHTML; viewLayers(); app.innerHTML = msg + app.innerHTML }

  window.addEventListener('hashchange', route)
  route()
})()
