// A small history router: the Go server answers every client route with
// index.html, so paths like /chats/{id} and /join/{token} load the app.
import { useEffect, useState } from "preact/hooks";

const listeners = new Set<() => void>();

export function navigate(path: string, replace = false): void {
  if (path === location.pathname + location.search) return;
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  listeners.forEach((f) => f());
  window.scrollTo(0, 0);
}

window.addEventListener("popstate", () => listeners.forEach((f) => f()));

/** usePath returns the current path and re-renders when it changes. */
export function usePath(): string {
  // The query counts as a change too (/search?q=…), though only the path is returned.
  const [, setHere] = useState(location.pathname + location.search);
  useEffect(() => {
    const f = () => setHere(location.pathname + location.search);
    listeners.add(f);
    return () => void listeners.delete(f);
  }, []);
  return location.pathname;
}

/** linkClick makes an <a href> navigate inside the app. */
export function linkClick(e: MouseEvent): void {
  const a = e.currentTarget as HTMLAnchorElement;
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  if (a.target && a.target !== "_self") return;
  e.preventDefault();
  navigate(a.getAttribute("href") ?? "/");
}

/** match returns the params of pattern ("/chats/:id") against path, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split("/").filter(Boolean);
  const s = path.split("/").filter(Boolean);
  if (p.length !== s.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(":")) out[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return out;
}
