/**
 * The operator console: signs in with the admin token (the server sets an HttpOnly session
 * cookie; the page keeps only the CSRF token it is given), then shows one view per hash route.
 * Chinese by default; `?lang=en` or the switch shows English.
 */
import { MESSAGES } from './console-messages.js';
import { views } from './console-views.js';

const LANGS = ['zh', 'en'];
const state = {
  lang: LANGS.includes(new URLSearchParams(location.search).get('lang'))
    ? new URLSearchParams(location.search).get('lang')
    : localStorage.getItem('console.lang') || 'zh',
  csrf: null,
};

export function t(key, params = {}) {
  const text = MESSAGES[state.lang][key] ?? MESSAGES.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** Calls the admin API with the session cookie; POSTs carry the CSRF token. Throws { status, code, message }. */
export async function api(method, path, body, headers = {}) {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(method === 'GET' || !state.csrf ? {} : { 'x-csrf-token': state.csrf }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) {
    if (res.status === 401 && path !== '/admin/session') showSignIn();
    throw { status: res.status, code: json?.code, message: json?.message ?? res.statusText };
  }
  return json;
}

const main = document.getElementById('main');
const ctx = {
  t,
  api,
  get lang() {
    return state.lang;
  },
  main,
};

function applyLabels() {
  document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
  document.title = `weapp-pay · ${t('title')}`;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const b of document.querySelectorAll('[data-lang]'))
    b.classList.toggle('on', b.dataset.lang === state.lang);
}

async function route() {
  applyLabels();
  if (!state.csrf) return;
  const [path, query = ''] = location.hash.slice(1).split('?');
  const parts = path.split('/').filter(Boolean);
  for (const a of document.querySelectorAll('#tabs a')) {
    a.classList.toggle('on', a.getAttribute('href').slice(2) === (parts[0] || 'summary'));
  }
  main.replaceChildren();
  document.body.dataset.ready = 'false';
  try {
    const view = views[parts[0]] ?? views.summary;
    await view(ctx, parts.slice(1), new URLSearchParams(query));
  } catch (err) {
    main.append(
      Object.assign(document.createElement('p'), {
        className: 'error',
        textContent: t('error', { message: err.message }),
      }),
    );
  }
  document.body.dataset.ready = 'true';
}

function signedIn(session) {
  state.csrf = session.csrfToken;
  document.getElementById('who').textContent = session.name || 'admin';
  document.getElementById('tabs').hidden = false;
  document.getElementById('signout').hidden = false;
  return route();
}

function showSignIn() {
  state.csrf = null;
  document.getElementById('tabs').hidden = true;
  document.getElementById('signout').hidden = true;
  document.getElementById('who').textContent = '';
  const form = document.getElementById('signin-form').content.firstElementChild.cloneNode(true);
  main.replaceChildren(form);
  applyLabels();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      await signedIn(
        await api('POST', '/admin/session', { token: data.get('token'), name: data.get('name') }),
      );
    } catch (err) {
      form.querySelector('.error').textContent =
        err.status === 401 ? t('signin.wrong') : t('error', { message: err.message });
    }
  });
  document.body.dataset.ready = 'true';
}

for (const b of document.querySelectorAll('[data-lang]')) {
  b.addEventListener('click', () => {
    state.lang = b.dataset.lang;
    localStorage.setItem('console.lang', state.lang);
    if (state.csrf) route();
    else applyLabels();
  });
}
document.getElementById('signout').addEventListener('click', async () => {
  await fetch('/admin/session', { method: 'DELETE', credentials: 'same-origin' });
  showSignIn();
});
window.addEventListener('hashchange', route);

api('GET', '/admin/session')
  .then((s) => (s.csrfToken ? signedIn(s) : showSignIn()))
  .catch(() => showSignIn());
