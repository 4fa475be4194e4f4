/**
 * A tiny element builder. Every piece of data goes into the page as a text node or an attribute
 * value, never as HTML: model names, feature names, alert messages and run errors are untrusted.
 */

export type Child = Node | string | number | null | undefined | false | Child[];

export interface Props {
  class?: string | (string | false | null | undefined)[];
  title?: string;
  href?: string;
  /** Plain attributes (never event handlers: those go in `on`). */
  attrs?: Record<string, string | number | boolean | undefined>;
  style?: Record<string, string>;
  testid?: string;
  on?: { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
}

function append(el: Element, child: Child): void {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(el, c);
    return;
  }
  el.append(child instanceof Node ? child : document.createTextNode(String(child)));
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) {
    if (props.class) {
      const names = Array.isArray(props.class) ? props.class.filter(Boolean).join(' ') : props.class;
      if (names) el.className = names;
    }
    if (props.title !== undefined) el.title = props.title;
    if (props.href !== undefined) el.setAttribute('href', safeHref(props.href));
    if (props.testid) el.dataset['testid'] = props.testid;
    for (const [k, v] of Object.entries(props.attrs ?? {})) {
      if (v === undefined || v === false) continue;
      if (/^on/i.test(k)) throw new Error(`event handler attribute ${k}: use props.on`);
      el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const [k, v] of Object.entries(props.style ?? {})) el.style.setProperty(k, v);
    for (const [type, listener] of Object.entries(props.on ?? {})) {
      el.addEventListener(type, listener as EventListener);
    }
  }
  append(el, children);
  return el;
}

/** Only in-page (#/...) and same-origin relative links: a data value can never become a javascript: URL. */
function safeHref(href: string): string {
  if (href.startsWith('#')) return href;
  return href.startsWith('/') && !href.startsWith('//') && !href.startsWith('/\\') ? href : '#';
}

/** Replaces an element's content. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export function svgIcon(path: string, size = 16): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', String(size));
  svg.setAttribute('height', String(size));
  svg.setAttribute('aria-hidden', 'true');
  const p = document.createElementNS(ns, 'path');
  p.setAttribute('d', path);
  p.setAttribute('fill', 'none');
  p.setAttribute('stroke', 'currentColor');
  p.setAttribute('stroke-width', '2');
  p.setAttribute('stroke-linecap', 'round');
  p.setAttribute('stroke-linejoin', 'round');
  svg.append(p);
  return svg;
}
