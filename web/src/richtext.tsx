// Message bodies. HTML is parsed in an inert document (DOMParser runs no
// script and loads no image) and rebuilt as Preact elements from a short
// allow-list, so nothing from a sender reaches the page as markup. The
// server sanitises too; this is the second lock.
import { type ComponentChildren, h } from "preact";
import type { Member, Mention } from "./api";

const keep = new Set([
  "p", "br", "b", "strong", "i", "em", "u", "s", "strike", "del", "code", "pre",
  "blockquote", "ul", "ol", "li", "span", "div", "sub", "sup", "hr",
]);
const headings = new Set(["h1", "h2", "h3", "h4", "h5", "h6"]);
const drop = new Set(["script", "style", "iframe", "object", "embed", "template", "head", "title", "meta", "link", "svg", "math"]);

export interface RichOptions {
  /** links false shows links as plain text (docs/rules.md §5 requests). */
  links: boolean;
}

function safeHref(href: string | null): string | null {
  if (!href) return null;
  try {
    const u = new URL(href, location.origin);
    return u.protocol === "http:" || u.protocol === "https:" || u.protocol === "mailto:" ? u.href : null;
  } catch {
    return null;
  }
}

function convert(node: Node, o: RichOptions, key: number): ComponentChildren {
  if (node.nodeType === Node.TEXT_NODE) return node.textContent;
  if (node.nodeType !== Node.ELEMENT_NODE) return null;
  const el = node as Element;
  const tag = el.tagName.toLowerCase();
  if (drop.has(tag)) return null;
  const kids = Array.from(el.childNodes).map((c, i) => convert(c, o, i));
  if (tag === "at") {
    return (
      <span key={key} class="mention">
        @{el.textContent}
      </span>
    );
  }
  if (tag === "img") {
    return (
      <span key={key} class="muted">
        [image not loaded]
      </span>
    );
  }
  if (tag === "a") {
    const href = safeHref(el.getAttribute("href"));
    if (!o.links || !href) {
      const text = el.textContent ?? "";
      return (
        <span key={key}>
          {text}
          {href && href !== text && !text.includes(href) ? ` (${href})` : ""}
        </span>
      );
    }
    return (
      <a key={key} href={href} target="_blank" rel="noopener noreferrer nofollow">
        {kids}
      </a>
    );
  }
  if (headings.has(tag)) {
    return (
      <p key={key}>
        <strong>{kids}</strong>
      </p>
    );
  }
  if (keep.has(tag)) {
    return h(tag, { key }, kids);
  }
  return kids;
}

const urlRE = /\bhttps?:\/\/[^\s<>"']+/gi;

/** linkify makes the http(s) URLs of a plain text clickable. */
function linkify(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let last = 0;
  for (const m of text.matchAll(urlRE)) {
    // Trailing punctuation belongs to the sentence, not the URL.
    const url = m[0].replace(/[.,;:!?)\]]+$/, "");
    const at = m.index ?? 0;
    out.push(text.slice(last, at));
    out.push(
      <a key={at} href={url} target="_blank" rel="noopener noreferrer nofollow">
        {url}
      </a>,
    );
    last = at + url.length;
  }
  out.push(text.slice(last));
  return out;
}

/** RichText renders a message body. */
export function RichText(props: { contentType: string; content: string; links?: boolean }) {
  if (props.contentType !== "html") {
    return <div class="body text">{props.links === false ? props.content : linkify(props.content)}</div>;
  }
  const doc = new DOMParser().parseFromString(props.content, "text/html");
  const o: RichOptions = { links: props.links ?? true };
  return <div class="body html">{Array.from(doc.body.childNodes).map((n, i) => convert(n, o, i))}</div>;
}

/** plainText gives the text of a body (for previews and editing). */
export function plainText(contentType: string, content: string): string {
  if (contentType !== "html") return content;
  const doc = new DOMParser().parseFromString(content.replace(/<br\s*\/?>/gi, "\n"), "text/html");
  doc.querySelectorAll("at").forEach((a) => a.replaceWith(`@${a.textContent ?? ""}`));
  doc.querySelectorAll("p,div,li").forEach((p) => p.append("\n"));
  return (doc.body.textContent ?? "").replace(/\n{3,}/g, "\n\n").trim();
}

export interface Picked {
  name: string;
  userId: string;
  member?: Member;
  /** A bot of the chat's apps: written <at>Name</at>, with no mentions entry (bots are not members). */
  bot?: boolean;
}

const escapeHTML = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * composeBody turns what a person typed into a Graph message body: plain
 * text, or HTML with <at id="n">Name</at> for each "@Name" of a person they
 * picked, plus the mentions array (Graph's shape).
 */
export function composeBody(text: string, picked: Picked[]): { body: { contentType: string; content: string }; mentions?: Mention[] } {
  const names = picked.filter((p) => text.includes(`@${p.name}`));
  if (!names.length) return { body: { contentType: "text", content: text } };
  // Longest names first, so "@Ann Lee" wins over "@Ann".
  const sorted = names.slice().sort((a, b) => b.name.length - a.name.length);
  const mentions: Mention[] = [];
  let html = "";
  let i = 0;
  outer: while (i < text.length) {
    if (text[i] === "@") {
      for (const p of sorted) {
        if (text.startsWith(`@${p.name}`, i) && (p.bot || !p.member)) {
          html += `<at>${escapeHTML(p.name)}</at>`;
          i += p.name.length + 1;
          continue outer;
        }
        if (text.startsWith(`@${p.name}`, i) && p.member) {
          const id = mentions.length;
          mentions.push({
            id,
            mentionText: p.name,
            mentioned: {
              user: {
                id: p.userId,
                displayName: p.name,
                userIdentityType: p.member.userIdentityType,
                tenantId: p.member.tenantId,
                isExternal: p.member.isExternal,
              },
            },
          });
          html += `<at id="${id}">${escapeHTML(p.name)}</at>`;
          i += p.name.length + 1;
          continue outer;
        }
      }
    }
    html += text[i] === "\n" ? "<br>" : escapeHTML(text[i]);
    i++;
  }
  return { body: { contentType: "html", content: html }, mentions };
}
