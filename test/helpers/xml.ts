export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function decode(text: string): string {
  if (/&(?!(amp|lt|gt|quot|apos);)/.test(text) || text.includes('<')) throw new Error(`unescaped markup in ${JSON.stringify(text)}`);
  return text.replace(/&(amp|lt|gt|quot|apos);/g, (_all, name: string) => entities[name] ?? '');
}

/**
 * A strict little XML reader for the JUnit shape: a declaration, elements, attributes in double quotes, text
 * with the five predefined entities. Anything else (unbalanced tags, a raw `<` or `&` in text) throws.
 */
export function parseXml(xml: string): XmlElement {
  let at = 0;
  const declaration = /^<\?xml version="1\.0" encoding="UTF-8"\?>\n/.exec(xml);
  if (declaration === null) throw new Error('no XML declaration');
  at = declaration[0].length;
  const element = (): XmlElement => {
    const open = /^<([A-Za-z][\w-]*)((?:\s+[\w-]+="[^"<]*")*)\s*(\/?)>/.exec(xml.slice(at));
    if (open === null) throw new Error(`expected an element at ${at}: ${xml.slice(at, at + 40)}`);
    at += open[0].length;
    const attributes: Record<string, string> = {};
    for (const match of (open[2] ?? '').matchAll(/([\w-]+)="([^"]*)"/g)) attributes[match[1] ?? ''] = decode(match[2] ?? '');
    const node: XmlElement = { name: open[1] ?? '', attributes, children: [], text: '' };
    if (open[3] === '/') return node;
    for (;;) {
      const close = `</${node.name}>`;
      if (xml.startsWith(close, at)) {
        at += close.length;
        return node;
      }
      if (xml.startsWith('<', at)) node.children.push(element());
      else {
        const end = xml.indexOf('<', at);
        if (end < 0) throw new Error(`${node.name} is never closed`);
        node.text += decode(xml.slice(at, end));
        at = end;
      }
    }
  };
  const root = element();
  if (xml.slice(at).trim() !== '') throw new Error('content after the root element');
  return root;
}
