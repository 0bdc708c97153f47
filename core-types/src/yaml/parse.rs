//! The event-driven builder: saphyr-parser events → one `serde_json::Value` per YAML document,
//! with positions, duplicate-key handling, anchors/aliases, merge keys and limits.
//!
//! The builder is iterative (an explicit frame stack), so deeply nested input cannot overflow the
//! call stack; `max_depth` bounds the nesting anyway.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};
use serde_json::{Map, Value};

use super::scalar::{self, ScalarError, ScalarTag};
use crate::load::{DuplicateKeys, LoadErrorKind, LoadWarning, LoadWarningKind, Position};

/// Settings the builder needs (a subset of [`crate::load::LoadOptions`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct BuildOptions {
    pub duplicate_keys: DuplicateKeys,
    pub max_alias_expansion: usize,
    pub max_depth: usize,
    pub line_index: bool,
}

/// One non-empty YAML document.
#[derive(Debug)]
pub(crate) struct RawDocument {
    pub value: Value,
    pub position: Position,
    pub warnings: Vec<LoadWarning>,
    /// `(JSON pointer, position)`, sorted by pointer, one entry per pointer (the last written).
    pub lines: Vec<(Box<str>, Position)>,
}

/// A failure inside a stream: which document (counting non-empty ones before it), where, what.
#[derive(Debug)]
pub(crate) struct BuildError {
    pub document: usize,
    pub position: Position,
    pub kind: LoadErrorKind,
}

/// Parses a whole YAML stream. `base` is the position of `text`'s first character in the
/// caller's source (`1:1` unless `text` is a slice of a larger input).
pub(crate) fn parse_stream(
    text: &str,
    opts: BuildOptions,
    base: Position,
) -> Result<Vec<RawDocument>, BuildError> {
    let mut b = Builder::new(opts, base);
    // go-yaml/libyaml (and PyYAML) give a block scalar that ends the input without a final
    // line break no trailing `\n`; saphyr adds one. Remember where the input ends to undo it.
    if !text.ends_with(['\n', '\r']) {
        b.eof_without_break = Some(text.chars().count());
    }
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, span) = match parser.next_event() {
            None => break,
            Some(Ok(x)) => x,
            Some(Err(e)) => return Err(b.scan_error(&e)),
        };
        if !b.event(event, span)? {
            break;
        }
    }
    Ok(b.docs)
}

/// How a mapping frame is waiting for its next key or value.
enum Pending {
    /// Next node is a key.
    Key,
    /// Next node is the value of this key (key text, key position).
    Value(String, Position),
    /// Next node is the value of a merge key `<<`.
    Merge(Position),
}

enum Container {
    Seq(Vec<Value>),
    Map {
        map: Map<String, Value>,
        /// Positions of the explicit keys, in insertion order (parallel to `map`'s order).
        key_positions: Vec<Position>,
        pending: Pending,
        /// Values of `<<` keys, applied when the mapping ends.
        merges: Vec<(Value, Position)>,
    },
}

struct Frame {
    container: Container,
    anchor: usize,
    position: Position,
    /// Length of the JSON-pointer buffer for this container itself.
    path_len: usize,
}

struct Anchor {
    value: Value,
    nodes: usize,
}

struct Builder {
    opts: BuildOptions,
    base: Position,
    docs: Vec<RawDocument>,
    frames: Vec<Frame>,
    root: Option<(Value, Position)>,
    anchors: HashMap<usize, Anchor>,
    expanded: usize,
    pointer: String,
    lines: Vec<(Box<str>, Position)>,
    warnings: Vec<LoadWarning>,
    /// Input length in characters when the input does not end with a line break.
    eof_without_break: Option<usize>,
}

impl Builder {
    fn new(opts: BuildOptions, base: Position) -> Self {
        Self {
            opts,
            base,
            docs: Vec::new(),
            frames: Vec::new(),
            root: None,
            anchors: HashMap::new(),
            expanded: 0,
            pointer: String::new(),
            lines: Vec::new(),
            warnings: Vec::new(),
            eof_without_break: None,
        }
    }

    fn pos(&self, span: &Span) -> Position {
        let line = span.start.line();
        let column = span.start.col() + 1;
        if line <= 1 {
            Position {
                line: self.base.line,
                column: self.base.column + column - 1,
            }
        } else {
            Position {
                line: self.base.line + line - 1,
                column,
            }
        }
    }

    fn err(&self, position: Position, kind: LoadErrorKind) -> BuildError {
        BuildError {
            document: self.docs.len(),
            position,
            kind,
        }
    }

    fn scan_error(&self, e: &ScanError) -> BuildError {
        let m = e.marker();
        let span = Span::empty(*m);
        self.err(
            self.pos(&span),
            LoadErrorKind::Syntax {
                message: e.info().to_owned(),
            },
        )
    }

    /// Handles one event; returns `false` at the end of the stream.
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<bool, BuildError> {
        let position = self.pos(&span);
        match event {
            Event::StreamEnd => return Ok(false),
            Event::StreamStart | Event::Nothing => {}
            Event::DocumentStart(_) => {
                self.frames.clear();
                self.root = None;
                self.anchors.clear();
                self.expanded = 0;
                self.pointer.clear();
                self.lines.clear();
                self.warnings.clear();
            }
            Event::DocumentEnd => self.end_document(),
            Event::Scalar(text, style, anchor, tag) => {
                let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                let text: &str = match text.strip_suffix('\n') {
                    Some(t) if block && self.eof_without_break == Some(span.end.index()) => t,
                    _ => &text,
                };
                self.scalar(text, style, anchor, tag.as_deref(), position)?;
            }
            Event::SequenceStart(anchor, tag) => {
                if let Some(t) = tag.as_deref()
                    && core_suffix(t).is_some_and(|s| s != "seq" && s != "omap" && s != "pairs")
                {
                    return Err(self.err(
                        position,
                        LoadErrorKind::BadTag {
                            tag: t.to_string(),
                            found: "a sequence",
                        },
                    ));
                }
                self.start(Container::Seq(Vec::new()), anchor, position)?;
            }
            Event::MappingStart(anchor, tag) => {
                if let Some(t) = tag.as_deref()
                    && core_suffix(t).is_some_and(|s| s != "map" && s != "set")
                {
                    return Err(self.err(
                        position,
                        LoadErrorKind::BadTag {
                            tag: t.to_string(),
                            found: "a mapping",
                        },
                    ));
                }
                let container = Container::Map {
                    map: Map::new(),
                    key_positions: Vec::new(),
                    pending: Pending::Key,
                    merges: Vec::new(),
                };
                self.start(container, anchor, position)?;
            }
            Event::SequenceEnd | Event::MappingEnd => self.end_container()?,
            Event::Alias(id) => {
                let Some(a) = self.anchors.get(&id) else {
                    return Err(self.err(position, LoadErrorKind::UndefinedAlias));
                };
                self.expanded = self.expanded.saturating_add(a.nodes);
                if self.expanded > self.opts.max_alias_expansion {
                    return Err(self.err(
                        position,
                        LoadErrorKind::AliasExpansionLimit {
                            limit: self.opts.max_alias_expansion,
                        },
                    ));
                }
                let value = a.value.clone();
                if self.expecting_key() {
                    self.key(value, position)?;
                } else {
                    self.record(position);
                    self.push(value, position)?;
                }
            }
        }
        Ok(true)
    }

    fn expecting_key(&self) -> bool {
        matches!(
            self.frames.last(),
            Some(Frame {
                container: Container::Map {
                    pending: Pending::Key,
                    ..
                },
                ..
            })
        )
    }

    fn scalar(
        &mut self,
        text: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        position: Position,
    ) -> Result<(), BuildError> {
        let plain = style == ScalarStyle::Plain;
        let stag = tag.map_or(ScalarTag::None, scalar_tag);
        if let Some(t) = tag
            && core_suffix(t).is_some_and(|s| s == "map" || s == "seq")
        {
            return Err(self.err(
                position,
                LoadErrorKind::BadTag {
                    tag: t.to_string(),
                    found: "a scalar",
                },
            ));
        }
        if self.expecting_key() && plain && tag.is_none() && text == "<<" {
            self.set_pending(Pending::Merge(position));
            if anchor != 0 {
                self.anchors.insert(
                    anchor,
                    Anchor {
                        value: Value::String(text.to_owned()),
                        nodes: 1,
                    },
                );
            }
            return Ok(());
        }
        let value = match scalar::resolve(text, plain, stag) {
            Ok(v) => v,
            Err(ScalarError::NonFinite) => {
                return Err(self.err(
                    position,
                    LoadErrorKind::NonFiniteFloat {
                        text: text.to_owned(),
                    },
                ));
            }
            Err(ScalarError::BadTagged(tag)) => {
                return Err(self.err(
                    position,
                    LoadErrorKind::InvalidTaggedScalar {
                        tag,
                        text: text.to_owned(),
                    },
                ));
            }
        };
        if anchor != 0 {
            self.anchors.insert(
                anchor,
                Anchor {
                    value: value.clone(),
                    nodes: 1,
                },
            );
        }
        if self.expecting_key() {
            self.key(value, position)
        } else {
            self.record(position);
            self.push(value, position)
        }
    }

    /// Sets the current mapping's pending state and the pointer buffer for a new key.
    fn set_pending(&mut self, pending: Pending) {
        if let Some(Frame {
            container: Container::Map { pending: p, .. },
            path_len,
            ..
        }) = self.frames.last_mut()
        {
            self.pointer.truncate(*path_len);
            if let Pending::Value(key, _) = &pending {
                self.pointer.push('/');
                push_escaped(&mut self.pointer, key);
            }
            *p = pending;
        }
    }

    fn key(&mut self, value: Value, position: Position) -> Result<(), BuildError> {
        let found = kind_name(&value);
        match scalar::key_string(value) {
            Some(k) => {
                self.set_pending(Pending::Value(k, position));
                Ok(())
            }
            None => Err(self.err(position, LoadErrorKind::UnsupportedKey { found })),
        }
    }

    /// Records the position of the node about to be pushed, under the current pointer.
    fn record(&mut self, position: Position) {
        if !self.opts.line_index {
            return;
        }
        let idx_segment = match self.frames.last() {
            Some(Frame {
                container: Container::Seq(items),
                path_len,
                ..
            }) => Some((*path_len, items.len())),
            _ => None,
        };
        if let Some((len, i)) = idx_segment {
            self.pointer.truncate(len);
            self.pointer.push('/');
            self.pointer.push_str(&i.to_string());
        }
        self.lines.push((self.pointer.as_str().into(), position));
    }

    fn start(
        &mut self,
        container: Container,
        anchor: usize,
        position: Position,
    ) -> Result<(), BuildError> {
        if self.expecting_key() {
            let found = match container {
                Container::Seq(_) => "a sequence",
                Container::Map { .. } => "a mapping",
            };
            return Err(self.err(position, LoadErrorKind::UnsupportedKey { found }));
        }
        if self.frames.len() >= self.opts.max_depth {
            return Err(self.err(
                position,
                LoadErrorKind::TooDeep {
                    limit: self.opts.max_depth,
                },
            ));
        }
        // Compute this container's pointer (and record its position).
        let idx_segment = match self.frames.last() {
            Some(Frame {
                container: Container::Seq(items),
                path_len,
                ..
            }) => Some((*path_len, items.len())),
            _ => None,
        };
        if let Some((len, i)) = idx_segment {
            self.pointer.truncate(len);
            self.pointer.push('/');
            self.pointer.push_str(&i.to_string());
        }
        if self.opts.line_index {
            self.lines.push((self.pointer.as_str().into(), position));
        }
        self.frames.push(Frame {
            container,
            anchor,
            position,
            path_len: self.pointer.len(),
        });
        Ok(())
    }

    fn end_container(&mut self) -> Result<(), BuildError> {
        let Some(frame) = self.frames.pop() else {
            return Ok(());
        };
        let value = match frame.container {
            Container::Seq(items) => Value::Array(items),
            Container::Map {
                mut map, merges, ..
            } => {
                for (source, _) in merges {
                    let sources = match source {
                        Value::Array(items) => items,
                        other => vec![other],
                    };
                    for s in sources {
                        if let Value::Object(m) = s {
                            for (k, v) in m {
                                if !map.contains_key(&k) {
                                    map.insert(k, v);
                                }
                            }
                        }
                    }
                }
                Value::Object(map)
            }
        };
        if frame.anchor != 0 {
            self.anchors.insert(
                frame.anchor,
                Anchor {
                    nodes: count_nodes(&value),
                    value: value.clone(),
                },
            );
        }
        self.push(value, frame.position)
    }

    /// Appends a finished node to its parent (or makes it the document root).
    fn push(&mut self, value: Value, position: Position) -> Result<(), BuildError> {
        let dotted = match self.frames.last() {
            Some(Frame {
                container:
                    Container::Map {
                        pending: Pending::Value(key, _),
                        map,
                        ..
                    },
                ..
            }) if map.contains_key(key) => Some(self.dotted_path(key)),
            _ => None,
        };
        let document = self.docs.len();
        let mode = self.opts.duplicate_keys;
        let Some(frame) = self.frames.last_mut() else {
            self.root = Some((value, position));
            return Ok(());
        };
        match &mut frame.container {
            Container::Seq(items) => items.push(value),
            Container::Map {
                map,
                key_positions,
                pending,
                merges,
            } => match std::mem::replace(pending, Pending::Key) {
                Pending::Key => {}
                Pending::Value(key, key_pos) => {
                    if let Some(path) = dotted {
                        let first = map
                            .keys()
                            .position(|k| *k == key)
                            .and_then(|i| key_positions.get(i))
                            .copied()
                            .unwrap_or(key_pos);
                        match mode {
                            DuplicateKeys::Error => {
                                return Err(BuildError {
                                    document,
                                    position: key_pos,
                                    kind: LoadErrorKind::DuplicateKey {
                                        path,
                                        first_line: first.line,
                                    },
                                });
                            }
                            DuplicateKeys::LastWins => {
                                self.warnings.push(LoadWarning {
                                    path,
                                    position: key_pos,
                                    kind: LoadWarningKind::DuplicateKey {
                                        first_line: first.line,
                                    },
                                });
                            }
                        }
                    } else {
                        key_positions.push(key_pos);
                    }
                    map.insert(key, value);
                }
                Pending::Merge(merge_pos) => {
                    let ok = match &value {
                        Value::Object(_) => true,
                        Value::Array(items) => items.iter().all(Value::is_object),
                        _ => false,
                    };
                    if !ok {
                        let found = kind_name(&value);
                        return Err(BuildError {
                            document,
                            position: merge_pos,
                            kind: LoadErrorKind::InvalidMerge { found },
                        });
                    }
                    merges.push((value, merge_pos));
                }
            },
        }
        Ok(())
    }

    /// `spec.template.containers[0].name`-style path of `key` in the innermost mapping.
    fn dotted_path(&self, key: &str) -> String {
        let mut out = String::new();
        let n = self.frames.len();
        for (i, f) in self.frames.iter().enumerate() {
            let seg: Option<Cow<'_, str>> = match &f.container {
                Container::Seq(items) => Some(Cow::Owned(format!("[{}]", items.len()))),
                Container::Map { pending, .. } => match pending {
                    Pending::Value(k, _) if i + 1 < n => Some(Cow::Borrowed(k.as_str())),
                    _ => None,
                },
            };
            if let Some(s) = seg {
                if !s.starts_with('[') && !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&s);
            }
        }
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(key);
        out
    }

    fn end_document(&mut self) {
        self.frames.clear();
        let Some((value, position)) = self.root.take() else {
            return;
        };
        if value.is_null() {
            return;
        }
        let mut lines = std::mem::take(&mut self.lines);
        lines.sort_by(|a, b| a.0.cmp(&b.0));
        // Keep the last entry of each run of equal pointers (the value that won).
        let mut deduped: Vec<(Box<str>, Position)> = Vec::with_capacity(lines.len());
        for entry in lines {
            match deduped.last_mut() {
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => deduped.push(entry),
            }
        }
        self.docs.push(RawDocument {
            value,
            position,
            warnings: std::mem::take(&mut self.warnings),
            lines: deduped,
        });
    }
}

/// The suffix of a `tag:yaml.org,2002:` tag.
fn core_suffix(tag: &Tag) -> Option<&str> {
    tag.is_yaml_core_schema().then_some(tag.suffix.as_str())
}

fn scalar_tag(tag: &Tag) -> ScalarTag {
    match core_suffix(tag) {
        Some("str" | "binary") => ScalarTag::Str,
        Some("int") => ScalarTag::Int,
        Some("float") => ScalarTag::Float,
        Some("bool") => ScalarTag::Bool,
        Some("null") => ScalarTag::Null,
        Some(_) => ScalarTag::None,
        // The non-specific tag `!` forces a string.
        None if tag.suffix == "!" && tag.handle.is_empty() => ScalarTag::Str,
        None => ScalarTag::None,
    }
}

/// "a mapping", "a sequence", … for messages.
pub(crate) fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

/// Appends `key` to a JSON pointer with RFC 6901 escaping (`~` → `~0`, `/` → `~1`).
pub(crate) fn push_escaped(out: &mut String, key: &str) {
    if !key.contains(['~', '/']) {
        out.push_str(key);
        return;
    }
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

fn count_nodes(v: &Value) -> usize {
    let mut n = 0usize;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        n += 1;
        match v {
            Value::Array(items) => stack.extend(items.iter()),
            Value::Object(m) => stack.extend(m.values()),
            _ => {}
        }
    }
    n
}
