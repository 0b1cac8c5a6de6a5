/**
 * Vigil's shared editor helpers (browser side), served by Node-RED from this package's
 * resources/ folder. Every node's .html loads it first:
 *
 *   <script src="resources/@vigil-iot/node-red-vigil/vigil-editor.js"></script>
 *
 * (a relative URL: the editor prefixes its own admin root, so httpAdminRoot works). Each
 * node set loads it again; it defines `window.VigilEditor` once and adds the shared
 * stylesheet (vigil-editor.css) to the page once.
 *
 *   VigilEditor.validate  validators for `defaults[…].validate` (numbers, ports, hosts, times, …)
 *   VigilEditor.defaults  common `defaults` entries (name, the vigil-system and isotel-service
 *                       selects, alerters)
 *   VigilEditor.credentials.login()  the username/password credentials of HTTP auth
 *   VigilEditor.labelStyle  italic label when the node has a name
 *   VigilEditor.expand(type)  turns the `data-vigil-row` placeholders of a type's edit template
 *                       into ordinary Node-RED form rows; runs by itself for every type
 *                       registered after this script (the editor's registry:node-type-added)
 *   VigilEditor.value(node, key)  a setting as typed in the open edit dialog, else the node's
 *                       saved value
 *   VigilEditor.watch(node, keys, update)  update(values) now and whenever one of those
 *                       settings changes in the open dialog (rows that follow other settings)
 *
 * CONTRIBUTING.md ("Editor") documents the row attributes. No build step: plain browser
 * JavaScript, linted by ESLint with the browser globals.
 */
(function () {
  'use strict';
  if (window.VigilEditor) return;

  var MODULE = '@vigil-iot/node-red-vigil';

  function stylesheet() {
    if (document.getElementById('vigil-editor-css')) return;
    var link = document.createElement('link');
    link.id = 'vigil-editor-css';
    link.rel = 'stylesheet';
    link.href = ((RED.settings && RED.settings.apiRootUrl) || '') + 'resources/' + MODULE + '/vigil-editor.css';
    document.head.appendChild(link);
  }

  /** The input of setting `key` in the open edit dialog (node or config node); may be empty. */
  function inputOf(key) {
    var el = $('#node-input-' + key);
    return el.length ? el : $('#node-config-input-' + key);
  }

  /** A setting as typed in the open edit dialog (node or config node), else the node's saved value. */
  function value(node, key) {
    var el = inputOf(key);
    if (!el.length) return node ? node[key] : undefined;
    return el.is(':checkbox') ? el.is(':checked') : el.val();
  }

  /**
   * Run `update(values)` now and again whenever one of the settings `keys` changes in the open
   * edit dialog (`values[key]` as value() reads it): rows shown, hidden or re-labelled by other
   * settings, in `oneditprepare`.
   */
  function watch(node, keys, update) {
    function run() {
      var values = {};
      keys.forEach(function (k) {
        values[k] = value(node, k);
      });
      update(values);
    }
    keys.forEach(function (k) {
      inputOf(k).on('change input', run);
    });
    run();
  }

  function blank(v) {
    return v === undefined || v === null || String(v).trim() === '';
  }

  // ---- validators: each returns function (v) → boolean, called with the node as `this` ----

  /** An integer min…max (max defaults to no limit), not blank. */
  function int(min, max) {
    var hi = max === undefined ? Infinity : max;
    return function (v) {
      var n = Number(v);
      return !blank(v) && Number.isInteger(n) && n >= min && n <= hi;
    };
  }

  /** A finite number min…max (max defaults to no limit), not blank. */
  function number(min, max) {
    var hi = max === undefined ? Infinity : max;
    return function (v) {
      var n = Number(v);
      return !blank(v) && Number.isFinite(n) && n >= min && n <= hi;
    };
  }

  /** A TCP/UDP port, 1…65535. */
  function port() {
    return int(1, 65535);
  }

  /** A host name or address: not blank, no white space inside. */
  function host() {
    return function (v) {
      return typeof v === 'string' && v.trim() !== '' && !/\s/.test(v.trim());
    };
  }

  /** The trimmed text matches `re`. */
  function match(re) {
    return function (v) {
      return !blank(v) && re.test(String(v).trim());
    };
  }

  /** One of `list`; the validator keeps the list as `choices` (a select row's options). */
  function oneOf(list) {
    var check = function (v) {
      return list.indexOf(v) >= 0;
    };
    check.choices = list;
    return check;
  }

  /** Blank is fine, anything else must pass `check`. */
  function optional(check) {
    return function (v) {
      return blank(v) || check.call(this, v);
    };
  }

  /** Every check passes. */
  function all() {
    var checks = Array.prototype.slice.call(arguments);
    return function (v) {
      return checks.every((c) => c.call(this, v));
    };
  }

  /** `check` applies only while setting `key` (as typed) is one of `values`. */
  function when(key, values, check) {
    return function (v) {
      return values.indexOf(value(this, key)) < 0 || check.call(this, v);
    };
  }

  /** `check` applies unless setting `key` (as typed) is one of `values`. */
  function unless(key, values, check) {
    return function (v) {
      return values.indexOf(value(this, key)) >= 0 || check.call(this, v);
    };
  }

  /** Not more than setting `key` (as typed), when that is a number. */
  function atMost(key) {
    return function (v) {
      var limit = Number(value(this, key));
      return !Number.isFinite(limit) || Number(v) <= limit;
    };
  }

  /** "H:M", hours 0–23, minutes 0–59. */
  function time() {
    return function (v) {
      var m = /^\s*(\d{1,2})\s*:\s*(\d{1,2})\s*$/.exec(String(v));
      return !!m && Number(m[1]) <= 23 && Number(m[2]) <= 59;
    };
  }

  /** An IANA time zone the browser knows, or blank. */
  function timezone() {
    return function (v) {
      if (blank(v)) return true;
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: v });
        return true;
      } catch (e) {
        return false;
      }
    };
  }

  /**
   * Telegram chat ids separated by spaces, commas or semicolons: each a number or a name of
   * letters, digits and _ — the same rule as lib/alarm/telegram.ts isValidChatId (a test
   * holds the two together).
   */
  function chatIds() {
    return function (v) {
      return String(v || '')
        .split(/[\s,;]+/)
        .filter(function (x) {
          return x !== '';
        })
        .every(function (id) {
          return /^-?\d{1,20}$/.test(id) || /^@?[A-Za-z][A-Za-z0-9_]{3,}$/.test(id);
        });
    };
  }

  /** A Node-RED context store name, or blank for the default store. */
  function contextStore() {
    return optional(match(/^[A-Za-z0-9_-]+$/));
  }

  /** An http(s) URL, or blank. */
  function httpUrl() {
    return optional(match(/^https?:\/\/\S+$/i));
  }

  // ---- common `defaults` entries ----

  var defaults = {
    /** `name`, the optional node name. */
    name: function () {
      return { name: { value: '' } };
    },
    /** `system`, the vigil-system config select (required or not). */
    system: function (required) {
      return { system: { value: '', type: 'vigil-system', required: !!required } };
    },
    /** `service`, the isotel-service config select (required or not). */
    service: function (required) {
      return { service: { value: '', type: 'isotel-service', required: !!required } };
    },
    /** What every alerter node has: name, system, alerterName, enabled, testGroup. */
    alerter: function (alerterName) {
      return $.extend(defaults.name(), defaults.system(false), {
        alerterName: { value: alerterName, required: true, validate: RED.validators.regex(/^[A-Za-z0-9_-]+$/) },
        enabled: { value: true },
        testGroup: { value: true },
      });
    },
  };

  // ---- common `credentials` entries ----

  var credentials = {
    /** `username` and `password` of HTTP Basic/Digest auth (halo-in, halo-sensor, vigil-camera). */
    login: function () {
      return { username: { type: 'text' }, password: { type: 'password' } };
    },
  };

  function labelStyle() {
    return this.name ? 'node_label_italic' : '';
  }

  // ---- form rows: <div class="form-row" data-vigil-row="field" …> placeholders ----

  var ICONS = { name: 'tag', system: 'video-camera', service: 'plug', sensor: 'server' };

  /**
   * One option per choice of the setting's `V.oneOf([...])` validator (the list is written once,
   * in `defaults`), labelled by the catalog entry `<type>.<key>.<value>`.
   */
  function choiceOptions(type, key) {
    var def = RED.nodes.getType(type);
    var setting = def && def.defaults && def.defaults[key];
    var choices = (setting && setting.validate && setting.validate.choices) || [];
    return choices.map(function (v) {
      return $('<option>').val(v).attr('data-i18n', type + '.' + key + '.' + v);
    });
  }

  /** An input, select, textarea or checkbox for one setting, with the i18n/placeholder/size the row asks for. */
  function control(row, type, id, key) {
    var kind = row.attr('data-input') || 'text';
    var el;
    if (kind === 'select') {
      el = $('<select>').append(row.children('option'));
      if (!el.children().length) el.append(choiceOptions(type, key));
    }
    else if (kind === 'textarea') el = $('<textarea>').attr('rows', row.attr('data-rows') || 4);
    else el = $('<input>').attr('type', kind);
    el.attr('id', id);
    if (kind === 'checkbox') el.addClass('vigil-check');
    var size = row.attr('data-size');
    if (size) el.addClass('vigil-w-' + size);
    if (row.attr('data-mono') !== undefined) el.addClass('vigil-mono');
    if (row.attr('data-autocomplete')) el.attr('autocomplete', row.attr('data-autocomplete'));
    if (row.attr('data-list')) el.attr('list', row.attr('data-list'));
    var ph = row.attr('data-placeholder');
    if (ph !== undefined) el.attr('placeholder', ph);
    var phKey = row.attr('data-placeholder-i18n');
    if (key === 'name' && ph === undefined && !phKey) phKey = type + '.label.name';
    if (phKey) el.attr('data-i18n', '[placeholder]' + phKey);
    return el;
  }

  function label(type, id, key, icon, text) {
    var l = $('<label>').attr('for', id);
    if (icon) l.append($('<i>').addClass('fa fa-' + icon), ' ');
    return l.append($('<span>').attr('data-i18n', text || type + '.label.' + key));
  }

  function unit(row) {
    var key = row.attr('data-unit-i18n');
    if (key) return [' ', $('<span>').attr('data-i18n', key)];
    var text = row.attr('data-unit');
    return text ? [' ', $('<span>').text(text)] : [];
  }

  function buildRow(row, type, prefix) {
    var key = row.attr('data-vigil-row');
    var id = prefix + key;
    var icon = row.attr('data-icon') || ICONS[key] || '';
    var text = row.attr('data-label');
    if (key === 'alerter') return alerterRows(row, type, prefix);
    var input = control(row, type, id, key);
    if (row.attr('data-input') === 'checkbox' && !icon) {
      // Node-RED's checkbox row: an empty label column, the box, its text beside it.
      row.empty().append($('<label>').html('&nbsp;'), input, $('<label>').attr('for', id).addClass('vigil-check-label').attr('data-i18n', text || type + '.label.' + key));
    } else {
      var rest = row.contents().detach();
      row.empty().append(label(type, id, key, icon, text), input, unit(row), rest);
    }
    row.addClass('form-row');
    cleanup(row);
  }

  /** Three rows every alerter node shares: its name in the document, enabled + test group. */
  function alerterRows(row, type, prefix) {
    var nameRow = $('<div class="form-row">').append(
      label(type, prefix + 'alerterName', 'alerterName', 'bullhorn'),
      $('<input type="text">').attr('id', prefix + 'alerterName').attr('placeholder', row.attr('data-placeholder') || ''),
    );
    var checks = $('<div class="form-row">').append($('<label>').html('&nbsp;'));
    ['enabled', 'testGroup'].forEach(function (k) {
      checks.append(
        $('<input type="checkbox" class="vigil-check">').attr('id', prefix + k),
        $('<label class="vigil-check-label">').attr('for', prefix + k).attr('data-i18n', type + '.label.' + k),
      );
    });
    row.replaceWith(nameRow.add(checks));
  }

  function cleanup(row) {
    ['data-vigil-row', 'data-input', 'data-icon', 'data-label', 'data-size', 'data-mono', 'data-rows', 'data-autocomplete', 'data-list', 'data-unit', 'data-unit-i18n', 'data-placeholder', 'data-placeholder-i18n'].forEach(function (a) {
      row.removeAttr(a);
    });
  }

  /**
   * Expand the `data-vigil-row` placeholders in the edit template of `type` (a node or config
   * node registered just before). Idempotent; retried once after the current script if the
   * template is not in the page yet.
   */
  function expand(type, retried) {
    var tpl = $('script[data-template-name="' + type + '"]');
    if (!tpl.length) {
      if (!retried) setTimeout(function () { expand(type, true); }, 0);
      return;
    }
    var def = RED.nodes.getType(type);
    var prefix = def && def.category === 'config' ? 'node-config-input-' : 'node-input-';
    var root = $('<div>').html(tpl.html());
    var rows = root.find('[data-vigil-row]');
    if (!rows.length) return;
    rows.each(function () {
      buildRow($(this), type, prefix);
    });
    tpl.text(root.html());
  }

  stylesheet();
  // Every type registered from now on gets its template expanded (no-op without placeholders).
  RED.events.on('registry:node-type-added', function (type) {
    expand(type);
  });

  window.VigilEditor = {
    value: value,
    watch: watch,
    labelStyle: labelStyle,
    defaults: defaults,
    credentials: credentials,
    expand: expand,
    validate: {
      int: int,
      number: number,
      port: port,
      host: host,
      match: match,
      oneOf: oneOf,
      optional: optional,
      all: all,
      when: when,
      unless: unless,
      atMost: atMost,
      time: time,
      timezone: timezone,
      chatIds: chatIds,
      contextStore: contextStore,
      httpUrl: httpUrl,
    },
  };
})();
