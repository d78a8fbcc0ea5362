// What a typed line means, by the command table both clients share
// (commands.json, generated from the protocol crate's commands module,
// whose rules this follows; tests/web/ replays its vector cases). No DOM.

const SEP = /[ \t\n\r]/;
const trimSep = (s) => s.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '');
const words = (s) => s.split(SEP).filter(Boolean);
const lower = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** The command called `typed` (name or alias, ASCII case ignored, a leading / allowed), or undefined. */
export function find(table, typed) {
  const t = lower(typed.startsWith('/') ? typed.slice(1) : typed);
  return table.find((c) => c.name === t || c.aliases.includes(t));
}

function distance(a, b) {
  const [x, y] = [Array.from(a), Array.from(b)];
  let prev = y.map((_, j) => j).concat(y.length);
  x.forEach((ca, i) => {
    const cur = [i + 1];
    y.forEach((cb, j) => cur.push(Math.min(prev[j] + (ca === cb ? 0 : 1), prev[j + 1] + 1, cur[j] + 1)));
    prev = cur;
  });
  return prev[y.length];
}

/** The command name nearest a mistyped one (two edits, or a prefix of two or more characters), or null. */
export function suggest(table, typed) {
  const t = lower(typed);
  let best = null;
  for (const { name } of table) {
    const d = distance(t, name);
    if ((d <= 2 || (Array.from(t).length >= 2 && name.startsWith(t))) && (!best || d < best.d)) best = { name, d };
  }
  return best && best.name;
}

// The arguments by their shape, or 'missing' / 'extra'.
function readArgs(shape, text) {
  const w = words(text);
  switch (shape) {
    case 'none':
      return text ? 'extra' : [];
    case 'word':
    case 'optional_word':
      if (!w.length) return shape === 'word' ? 'missing' : [];
      return w.length === 1 ? w : 'extra';
    case 'text':
    case 'optional_text':
      if (!text) return shape === 'text' ? 'missing' : [];
      return [text];
    case 'word_text': {
      const m = SEP.exec(text);
      return m ? [text.slice(0, m.index), trimSep(text.slice(m.index))] : 'missing';
    }
    case 'word_optional_text': {
      if (!text) return 'missing';
      const m = SEP.exec(text);
      return m ? [text.slice(0, m.index), trimSep(text.slice(m.index))] : [text];
    }
    default: {
      // optional_pair: "51.5 -0.12" or "51.5,-0.12"
      if (!text) return [];
      const comma = text.indexOf(',');
      const parts = comma < 0 ? w : [...words(text.slice(0, comma)), ...words(text.slice(comma + 1))];
      if (parts.length < 2) return 'missing';
      return parts.length === 2 ? parts : 'extra';
    }
  }
}

/**
 * A line as { text }, { command, args } or { error, command?, name?, suggestion?, message }:
 * error is 'unknown', 'missing_argument' or 'too_many_arguments'.
 */
export function parse(table, line) {
  if (!line.startsWith('/')) return { text: line };
  const rest = line.slice(1);
  if (rest.startsWith('/')) return { text: rest };
  const m = SEP.exec(rest);
  const name = m ? rest.slice(0, m.index) : rest;
  const command = find(table, name);
  if (!command) {
    const short = Array.from(name).slice(0, 32).join('');
    const suggestion = suggest(table, name);
    const hint = suggestion ? ` (did you mean /${suggestion}?)` : '';
    return { error: 'unknown', name: short, suggestion, message: `unknown command /${short}${hint}; /help lists the commands, // sends a line starting with /` };
  }
  const args = readArgs(command.args, trimSep(m ? rest.slice(m.index) : ''));
  if (Array.isArray(args)) return { command, args };
  return { error: args === 'missing' ? 'missing_argument' : 'too_many_arguments', command, message: `usage: ${command.usage}` };
}

/** /help: every command `client` offers, one line each; or the one asked about. */
export function help(table, client, asked = '') {
  const offered = table.filter((c) => c.clients.includes(client));
  if (asked) {
    const c = find(offered, asked);
    if (!c) return [`No command /${asked.replace(/^\//, '')}; /help lists them.`];
    const also = c.aliases.length ? ` (also ${c.aliases.map((a) => `/${a}`).join(', ')})` : '';
    return [`${c.usage}: ${c.help}${also}`];
  }
  return [...offered.map((c) => `${c.usage}: ${c.help}`), '//TEXT: send TEXT starting with /'];
}
