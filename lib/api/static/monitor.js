/* Vigil monitor page: plain JS, talks only to the API it is served by
 * (websockets /, /metrics, /raw-video; HTTP clips). An access token given as ?access_token=…
 * in the page address is passed on to every connection. */
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var params = new URLSearchParams(location.search);
  var token = params.get('access_token');
  var base = location.pathname.endsWith('/') ? location.pathname : location.pathname + '/';

  function wsUrl(route) {
    var u = new URL(base + route, location.href);
    u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    if (token) u.searchParams.set('access_token', token);
    return u.toString();
  }

  /* A socket that reconnects (1 s → 5 s) and, for the root, when status goes quiet for 3 s: the
   * time after which the reference UI shows the system offline (docs/camera-alarm.md §5.4). */
  function keep(route, handlers, quietMs) {
    var ws = null, delay = 1000, lastMsg = 0, timer = null;
    function open() {
      ws = new WebSocket(wsUrl(route));
      if (handlers.binary) ws.binaryType = 'blob';
      ws.onopen = function () { delay = 1000; lastMsg = Date.now(); if (handlers.open) handlers.open(); };
      ws.onmessage = function (ev) { lastMsg = Date.now(); handlers.message(ev.data); };
      ws.onclose = function () {
        if (handlers.close) handlers.close();
        clearTimeout(timer);
        timer = setTimeout(open, delay);
        delay = Math.min(delay * 2, 5000);
      };
      ws.onerror = function () { /* onclose follows */ };
    }
    if (quietMs) {
      setInterval(function () {
        if (ws && ws.readyState === WebSocket.OPEN && Date.now() - lastMsg > quietMs) ws.close();
      }, 1000);
    }
    open();
    return { send: function (obj) { if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(obj)); return true; } return false; } };
  }

  // ---- state
  var last = null, lastAt = 0;
  function fmt(sec) {
    sec = Math.max(0, Math.floor(sec));
    var h = Math.floor(sec / 3600), m = Math.floor((sec % 3600) / 60), s = sec % 60;
    var mm = (h ? String(m).padStart(2, '0') : String(m)) + ':' + String(s).padStart(2, '0');
    return h ? h + ':' + mm : mm;
  }
  function render() {
    if (!last) return;
    var now = last.timeStamp + (Date.now() - lastAt) / 1000;
    document.body.dataset.state = last.state;
    $('state').textContent = last.state;
    var since = $('since');
    // The time since the initial alarm, while under 30 minutes (docs/camera-alarm.md §5.4).
    if (last.initialAlarm > 0 && now - last.initialAlarm < 1800) {
      since.hidden = false;
      since.textContent = 'initial alarm ' + fmt(now - last.initialAlarm) + ' ago';
    } else since.hidden = true;
    var till = $('till');
    if (last.state === 'silenced' && last.silencedTill) {
      till.hidden = false;
      till.textContent = 'silenced for ' + fmt(last.silencedTill - now) + ' more';
    } else till.hidden = true;
  }
  setInterval(render, 1000);

  function link(up) {
    $('link').dataset.up = String(up);
    $('link').textContent = up ? 'live' : 'offline';
  }

  var pending = '';
  var root = keep('', {
    open: function () { link(true); },
    close: function () { link(false); },
    message: function (text) {
      var m;
      try { m = JSON.parse(text); } catch (e) { return; }
      if (m && typeof m.state === 'string') {
        if (last && last.state !== m.state) setTimeout(loadClips, 1000);
        last = m; lastAt = Date.now(); render(); return;
      }
      var r = $('reply');
      if (m && m.status === 'OK') { r.className = 'reply'; r.textContent = pending + ': OK'; }
      else if (m && 'error' in m) { r.className = 'reply error'; r.textContent = pending + ': ' + (typeof m.error === 'string' ? m.error : JSON.stringify(m.error)); }
    },
  }, 3000);

  function command(label, body) {
    pending = label;
    var r = $('reply');
    r.className = 'reply';
    r.textContent = root.send(body) ? label + '…' : 'not connected';
  }

  var minutes = $('minutes');
  minutes.addEventListener('input', function () { $('minutes-out').textContent = minutes.value; });
  $('silence').addEventListener('click', function () {
    command('silence ' + minutes.value + ' min', { command: 'silence', data: { silenceFor: Number(minutes.value) * 60 } });
  });
  $('unsilence').addEventListener('click', function () {
    command('unsilence', { command: 'silence', data: { silenceFor: 0 } });
  });
  $('test').addEventListener('click', function () {
    command('test alert', { command: 'test', data: { excluded: [] } });
  });

  // ---- live video: one binary JPEG per message
  // data-frames counts frames decoded and shown, data-size is the last one's size, data-bad
  // counts frames the browser could not decode (the previous picture stays up).
  var img = $('video'), shown = null, frames = 0, bad = 0, busy = false;
  keep('raw-video', {
    binary: true,
    message: function (blob) {
      if (typeof blob === 'string' || busy) return; // skip a frame rather than queue
      busy = true;
      var url = URL.createObjectURL(blob);
      var probe = new Image();
      probe.onload = function () {
        busy = false;
        frames++;
        img.src = url; // already decoded: the swap shows no blank
        if (shown) URL.revokeObjectURL(shown);
        shown = url;
        img.hidden = false;
        $('novideo').hidden = true;
        img.dataset.size = probe.naturalWidth + 'x' + probe.naturalHeight;
        img.dataset.frames = String(frames);
      };
      probe.onerror = function () {
        busy = false;
        bad++;
        URL.revokeObjectURL(url);
        img.dataset.bad = String(bad);
      };
      probe.src = url;
    },
  });
  var lastFrames = 0;
  setInterval(function () {
    $('fps').textContent = frames ? (frames - lastFrames) + ' fps' : '';
    lastFrames = frames;
  }, 1000);

  // ---- alarm clips (GET clips): newest first; MP4 plays here, AVI (MJPEG) is offered as a download.
  // The <video> element cannot send a header: its URL carries the token like the websockets'.
  var clipsCard = $('clips-card'), clipList = $('clips'), player = $('player');
  var clipTypes = { mp4: 'video/mp4', avi: 'video/x-msvideo' };
  function clipUrl(name) {
    var u = new URL(base + 'clips/' + encodeURIComponent(name), location.href);
    if (token) u.searchParams.set('access_token', token);
    return u.toString();
  }
  function when(ms) {
    var d = new Date(ms);
    return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' }) + ' ' + d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }
  function play(li, c) {
    player.hidden = false;
    player.dataset.name = c.name;
    player.src = clipUrl(c.name);
    var p = player.play();
    if (p && p.catch) p.catch(function () { /* autoplay refused: the controls are there */ });
    Array.prototype.forEach.call(clipList.children, function (x) { x.dataset.playing = String(x === li); });
  }
  var shownClips = '';
  function renderClips(list) {
    var key = JSON.stringify(list);
    if (key === shownClips) return;
    shownClips = key;
    clipList.textContent = '';
    clipsCard.hidden = list.length === 0;
    list.forEach(function (c) {
      var li = document.createElement('li');
      li.dataset.name = c.name;
      li.dataset.playing = String(player.dataset.name === c.name);
      var ext = c.name.slice(c.name.lastIndexOf('.') + 1);
      var playable = player.canPlayType(clipTypes[ext] || '') !== '';
      var el = document.createElement(playable ? 'button' : 'a');
      el.textContent = when(c.start);
      if (playable) {
        el.type = 'button';
        el.addEventListener('click', function () { play(li, c); });
      } else {
        el.href = clipUrl(c.name);
        el.download = c.name;
      }
      var meta = document.createElement('span');
      meta.className = 'meta';
      meta.textContent = Math.round(c.durationS) + ' s · ' + (c.bytes / 1048576).toFixed(1) + ' MB' + (playable ? '' : ' · ' + ext.toUpperCase() + ' ↓');
      el.appendChild(meta);
      li.appendChild(el);
      clipList.appendChild(li);
    });
  }
  function loadClips() {
    var u = new URL(base + 'clips', location.href);
    if (token) u.searchParams.set('access_token', token);
    fetch(u.toString(), { cache: 'no-store' })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (list) { if (Array.isArray(list)) renderClips(list); })
      .catch(function () { /* offline: the next round tries again */ });
  }
  loadClips();
  setInterval(loadClips, 15000);

  // ---- metrics sparkline
  var samples = [];
  var canvas = $('spark');
  function draw() {
    var ctx = canvas.getContext('2d');
    var w = canvas.width = canvas.clientWidth * (window.devicePixelRatio || 1);
    var h = canvas.height = 90 * (window.devicePixelRatio || 1);
    ctx.clearRect(0, 0, w, h);
    var series = [['sysCpuPercent', '#4f8cc9'], ['capCpuPercent', '#e0a030']];
    var max = 10;
    samples.forEach(function (s) { series.forEach(function (k) { max = Math.max(max, s[k[0]] || 0); }); });
    series.forEach(function (k) {
      ctx.strokeStyle = k[1];
      ctx.lineWidth = 2 * (window.devicePixelRatio || 1);
      ctx.beginPath();
      samples.forEach(function (s, i) {
        var x = (i / Math.max(samples.length - 1, 1)) * w;
        var y = h - ((s[k[0]] || 0) / max) * (h - 4) - 2;
        if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      });
      ctx.stroke();
    });
  }
  keep('metrics', {
    message: function (text) {
      var m;
      try { m = JSON.parse(text); } catch (e) { return; }
      samples.push(m);
      if (samples.length > 60) samples.shift();
      $('metrics').textContent = 'CPU ' + m.sysCpuPercent.toFixed(1) + '% (detector ' + m.capCpuPercent.toFixed(1) +
        '%) · RAM ' + m.sysMemPercent.toFixed(1) + '% · frame ' + (m.loopAvgS * 1000).toFixed(1) + ' ms · ' + m.socketConnections + ' sockets';
      canvas.dataset.samples = String(samples.length);
      draw();
    },
  });
})();
