// Client-side routing on location.pathname (the server answers every dashboard path with index.html).
export const route = $state({ path: location.pathname, search: location.search });

export function navigate(path, { replace = false } = {}) {
  const url = new URL(path, location.origin);
  if (url.pathname === location.pathname && url.search === location.search) return;
  if (replace) history.replaceState({}, '', url);
  else history.pushState({}, '', url);
  route.path = url.pathname;
  route.search = url.search;
  window.scrollTo(0, 0);
}

window.addEventListener('popstate', () => {
  route.path = location.pathname;
  route.search = location.search;
});

/** Let ordinary <a href="/..."> links route without a page load (keyboard and middle-click still work). */
export function interceptLinks(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const a = event.target.closest?.('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return;
  if (url.pathname.startsWith('/graphql') || url.pathname.startsWith('/auth') || url.pathname.startsWith('/exports')) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
}

/** The `?referral=<id>` an email link carries, if any. */
export function referralFromAddress() {
  return new URLSearchParams(route.search).get('referral');
}

/** Bring the referral an email link named into view and give it focus, once its page has drawn it. */
export function showReferral(id) {
  queueMicrotask(() => {
    const item = document.querySelector(`[data-referral-id="${CSS.escape(id)}"]`);
    if (!item) return;
    if (!item.hasAttribute('tabindex')) item.setAttribute('tabindex', '-1');
    item.scrollIntoView({ block: 'center' });
    item.focus();
  });
}
