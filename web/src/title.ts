// The tab title: each page sets its own name; the number of chats with
// unread messages (and waiting requests) goes in front, as "(3) Chats ·
// Parley", so a hidden tab still shows that something came in.
let base = "Parley";
let unread = 0;

function apply(): void {
  document.title = unread > 0 ? `(${unread}) ${base}` : base;
}

/** setPageTitle names the page ("Chats" becomes "Chats · Parley"). */
export function setPageTitle(name: string): void {
  base = name ? `${name} · Parley` : "Parley";
  apply();
}

/** setUnreadCount puts n in front of the title (0 removes it). */
export function setUnreadCount(n: number): void {
  if (n === unread) return;
  unread = n;
  apply();
}
