//! Manifest loading: a multi-document YAML (or JSON) stream → [`Document`]s (JSON values with
//! their origin and a line index) → [`DynamicObject`]s, with errors that name the source, the
//! document, the line and the column.
//!
//! This module does no IO: the caller reads the file and passes its text and a name for
//! messages.
//!
//! ```
//! use kybern_core::load::{load_objects, LoadOptions};
//! let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n# only a comment\n";
//! let objects = load_objects("cm.yaml", text, &LoadOptions::default()).unwrap();
//! assert_eq!(objects.len(), 1);
//! assert_eq!(objects[0].object.metadata.name.as_deref(), Some("a"));
//! ```
//!
//! # The stream
//! - Documents are separated by `---`. Empty documents (nothing, only comments, or a lone `~`
//!   / `null`) are skipped and do not count: [`Origin::document`] is the 0-based index among
//!   the non-empty documents. Messages number documents from 1, like lines.
//! - A document whose `kind` ends in `List` and whose `items` is a sequence (`v1` `List`,
//!   `PodList`, …) is expanded into its items (when [`LoadOptions::expand_lists`] is set, the
//!   default): each item keeps the document index and gets [`Origin::item`].
//! - **JSON**: when the input's first non-blank character is `{` or `[`, it is read with
//!   `serde_json` as a stream of JSON values (`{..} {..}` or one per line, as `kubectl` accepts);
//!   numbers then follow JSON exactly. If the *first* value is not valid JSON (for example a
//!   KYAML-style flow mapping with unquoted keys or trailing commas) the whole input is read as
//!   YAML instead. A top-level JSON array is a sequence document (an error when converted to an
//!   object), not a list of objects.
//!
//! # Scalars (YAML 1.2 core schema, with one Kubernetes extension)
//! Quoted and block (`|`, `>`) scalars are always strings. Plain scalars resolve as:
//!
//! | text | value |
//! | --- | --- |
//! | empty, `~`, `null`, `Null`, `NULL` | null |
//! | `true`, `True`, `TRUE`, `false`, `False`, `FALSE` | boolean |
//! | `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+` | integer |
//! | `0[0-7]+` (leading zero, e.g. `0644`) | **octal** integer (YAML 1.1 / go-yaml; see below) |
//! | `1.5`, `.5`, `5.`, `1e3`, `-1.5E-2` | float |
//! | `.inf`, `-.inf`, `.nan` | error [`LoadErrorKind::NonFiniteFloat`] (JSON cannot hold them) |
//! | anything else | string |
//!
//! Deviations from sigs.k8s.io/yaml (go-yaml v2, YAML 1.1), decided deliberately:
//! - `yes`/`no`/`on`/`off`/`y`/`n` are **strings** here (YAML 1.2), booleans in go-yaml. Typed
//!   decoding of such a string into a boolean field fails with a line-numbered error instead of
//!   silently changing meaning; quote them or use `true`/`false`.
//! - Leading-zero integers (`defaultMode: 0644`) are octal, **as in go-yaml** (YAML 1.2 would
//!   read decimal 644): file modes are the common case in manifests and must keep their meaning.
//! - Integers beyond the `i64`/`u64` range become floats when decimal (go-yaml's `ParseFloat`
//!   fallback) and stay strings when hexadecimal/octal.
//! - Timestamps (`2001-12-14`) and sexagesimal numbers (`1:20`) are strings.
//! - go-yaml v2 drops `_` from numbers (`1_000` → 1000) and reads `0b1010` as binary; both are
//!   strings here (YAML 1.2 core has neither form).
//!
//! Explicit tags `!!str`, `!!int`, `!!float`, `!!bool`, `!!null` (and `!!binary`, kept as its
//! base64 text) are honoured — a `!!int` on non-integer text is an error — and `!!map`/`!!seq`
//! are checked against the node; the non-specific tag `!` makes a string; any other tag is
//! ignored (the node resolves as if untagged).
//!
//! # Mappings
//! - Non-string keys become their canonical string form (`1: a` → `"1"`, `true: x` → `"true"`,
//!   `0x10: y` → `"16"`), as sigs.k8s.io/yaml stringifies keys; mapping or sequence keys are an
//!   error.
//! - Duplicate keys: see [`DuplicateKeys`] (default last-wins with a [`LoadWarning`]).
//! - Merge keys `<<: *base` and `<<: [*a, *b]` are supported (go-yaml supports them): keys
//!   written in the mapping win over merged ones, earlier merge sources win over later ones;
//!   a merge value that is not a mapping (or a sequence of mappings) is an error.
//! - Anchors and aliases work within a document; every alias counts the nodes it copies, and a
//!   document whose aliases copy more than [`LoadOptions::max_alias_expansion`] nodes fails with
//!   [`LoadErrorKind::AliasExpansionLimit`] (an "alias bomb" cannot exhaust memory).
//!
//! # Positions
//! Every [`Origin`] carries a [`LineIndex`]: the 1-based line and column at which each value
//! starts, keyed by JSON pointer (`/spec/template/spec/containers/0/image`). Typed-decoding
//! errors use it ([`Document::decode`], [`Origin::position_of`]). Values copied by an alias or
//! a merge key are located at the alias / merge value.

use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::meta::v1::ObjectMeta;
use crate::dynamic::{DynamicObject, TypeMeta};
use crate::yaml::parse::{self, BuildError, BuildOptions, RawDocument, kind_name, push_escaped};

/// What to do when a mapping repeats a key.
///
/// A few real upstream manifests repeat a key (e.g. two `selector:` under one `spec`).
/// [`LastWins`](DuplicateKeys::LastWins) reads them as PyYAML and `kubectl --validate=false`
/// do, and still reports each repetition as a [`LoadWarning`]
/// (`spec.selector: duplicate key (line 12, first at line 9)`);
/// [`Error`](DuplicateKeys::Error) rejects them like go-yaml v3 and strict decoding do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DuplicateKeys {
    /// The later value replaces the earlier one (the key keeps its first place); a warning
    /// names the key path and both lines.
    #[default]
    LastWins,
    /// The document fails with [`LoadErrorKind::DuplicateKey`].
    Error,
}

/// Options for [`load_str`] and [`load_objects`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadOptions {
    /// Duplicate mapping keys: last-wins with a warning (default) or an error.
    pub duplicate_keys: DuplicateKeys,
    /// Most nodes that aliases may copy in one document (default 1,000,000).
    pub max_alias_expansion: usize,
    /// Deepest nesting of mappings and sequences (default 1,000).
    pub max_depth: usize,
    /// Build each document's [`LineIndex`] (default `true`). Without it, positions of values
    /// inside a document fall back to the document's own position.
    pub line_index: bool,
    /// Expand `kind: …List` documents into their `items` (default `true`).
    pub expand_lists: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            duplicate_keys: DuplicateKeys::LastWins,
            max_alias_expansion: 1_000_000,
            max_depth: 1_000,
            line_index: true,
            expand_lists: true,
        }
    }
}

/// A place in the source text: 1-based line and 1-based column (in characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl Position {
    const START: Position = Position { line: 1, column: 1 };
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Something suspicious but accepted while loading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadWarning {
    /// Dotted path of the affected value within the YAML document, e.g. `spec.selector` or
    /// `items[3].metadata.name` (for `List` items the path starts at the `List` document).
    pub path: String,
    /// Where the offending key or value starts.
    pub position: Position,
    /// What was found.
    pub kind: LoadWarningKind,
}

/// The kinds of [`LoadWarning`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadWarningKind {
    /// A mapping repeats a key; the later value was kept.
    DuplicateKey {
        /// Line of the first occurrence of the key.
        first_line: usize,
    },
}

impl fmt::Display for LoadWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            LoadWarningKind::DuplicateKey { first_line } => write!(
                f,
                "{}: duplicate key (line {}, first at line {first_line})",
                self.path, self.position.line
            ),
        }
    }
}

/// Where a [`LoadError`] happened: source name, document, optional `List` item, line, column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The source name given to the loader (usually a file name).
    pub source: Arc<str>,
    /// 0-based index of the non-empty document in the stream (messages show it 1-based).
    pub document: usize,
    /// 0-based index inside a `kind: List` document's `items`.
    pub item: Option<usize>,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, when known.
    pub column: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: document {}", self.source, self.document + 1)?;
        if let Some(i) = self.item {
            write!(f, ", items[{i}]")?;
        }
        write!(f, ", line {}", self.line)?;
        if let Some(c) = self.column {
            write!(f, ", column {c}")?;
        }
        Ok(())
    }
}

/// A manifest that could not be loaded: where, and what was expected.
///
/// Displays as `deploy.yaml: document 2, line 14, column 7: expected a mapping for
/// metadata.labels, found a sequence`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {kind}")]
#[non_exhaustive]
pub struct LoadError {
    /// Source, document, line, column.
    pub location: Location,
    /// What went wrong.
    pub kind: LoadErrorKind,
}

/// The kinds of [`LoadError`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// The text is not valid YAML (message from the YAML parser).
    #[error("invalid YAML: {message}")]
    Syntax {
        /// The parser's description.
        message: String,
    },
    /// The text looked like JSON and is not valid JSON.
    #[error("invalid JSON: {message}")]
    Json {
        /// serde_json's description.
        message: String,
    },
    /// A mapping repeats a key and [`DuplicateKeys::Error`] is set.
    #[error("duplicate key {path} (first at line {first_line})")]
    DuplicateKey {
        /// Dotted path of the key, e.g. `spec.selector`.
        path: String,
        /// Line of the first occurrence.
        first_line: usize,
    },
    /// Aliases copy more nodes than [`LoadOptions::max_alias_expansion`].
    #[error("aliases expand to more than {limit} nodes (an alias bomb?)")]
    AliasExpansionLimit {
        /// The limit in force.
        limit: usize,
    },
    /// Nesting deeper than [`LoadOptions::max_depth`].
    #[error("nesting deeper than {limit} levels")]
    TooDeep {
        /// The limit in force.
        limit: usize,
    },
    /// An alias names no anchor defined earlier in the same document.
    #[error("alias refers to an anchor not defined earlier in this document")]
    UndefinedAlias,
    /// A mapping key that is a mapping or a sequence.
    #[error("expected a scalar mapping key, found {found}")]
    UnsupportedKey {
        /// `a mapping` or `a sequence`.
        found: &'static str,
    },
    /// A merge key `<<` whose value is not a mapping or a sequence of mappings.
    #[error("expected a mapping or a sequence of mappings for merge key <<, found {found}")]
    InvalidMerge {
        /// What the value was.
        found: &'static str,
    },
    /// An explicit core tag on a node of the wrong shape (`!!map` on a sequence, …).
    #[error("tag {tag} does not fit {found}")]
    BadTag {
        /// The tag as written in full form.
        tag: String,
        /// `a mapping`, `a sequence` or `a scalar`.
        found: &'static str,
    },
    /// An explicit `!!int`/`!!float`/`!!bool`/`!!null` on text that is not one.
    #[error("expected a valid {tag} value, found {text:?}")]
    InvalidTaggedScalar {
        /// The tag (`!!int`, …).
        tag: &'static str,
        /// The scalar's text.
        text: String,
    },
    /// `.inf` / `.nan`: not representable in JSON.
    #[error(
        "{text} is not a finite number and cannot be represented in JSON; quote it for a string"
    )]
    NonFiniteFloat {
        /// The scalar's text.
        text: String,
    },
    /// A document (or `List` item) that is not a mapping.
    #[error("expected a mapping (a Kubernetes object), found {found}")]
    NotAMapping {
        /// What the document was.
        found: &'static str,
    },
    /// An object without `apiVersion` or `kind`.
    #[error("missing {field}: every object needs apiVersion and kind")]
    MissingField {
        /// `apiVersion` or `kind`.
        field: &'static str,
    },
    /// A value of the wrong JSON type where the loader needs a specific one.
    #[error("expected {expected} for {path}, found {found}")]
    WrongType {
        /// Dotted path, e.g. `metadata.labels`.
        path: String,
        /// What was needed (`a string`, `a mapping`, …).
        expected: &'static str,
        /// What was found.
        found: &'static str,
    },
    /// Typed decoding failed at `path` (a serde_path_to_error path).
    #[error("{path}: {message}")]
    Decode {
        /// Dotted path of the value, e.g. `spec.template.spec.containers[0].ports[0].containerPort`.
        path: String,
        /// serde's description.
        message: String,
    },
}

/// Positions of a document's values by JSON pointer (RFC 6901: `/spec/containers/0/image`;
/// `~1` for `/` in keys, `~0` for `~`).
///
/// A compact sorted vector shared (via `Arc`) by all items of a `List` document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineIndex {
    entries: Arc<[(Box<str>, Position)]>,
    /// Pointer prefix of this view (`/items/3` for a `List` item, empty otherwise).
    prefix: Box<str>,
}

impl LineIndex {
    fn new(entries: Vec<(Box<str>, Position)>) -> Self {
        Self {
            entries: entries.into(),
            prefix: "".into(),
        }
    }

    fn view(&self, prefix: &str) -> Self {
        Self {
            entries: Arc::clone(&self.entries),
            prefix: format!("{}{prefix}", self.prefix).into(),
        }
    }

    /// The position where the value at exactly `pointer` starts (`""` is the document root).
    pub fn get(&self, pointer: &str) -> Option<Position> {
        let full;
        let key = if self.prefix.is_empty() {
            pointer
        } else {
            full = format!("{}{pointer}", self.prefix);
            &full
        };
        self.entries
            .binary_search_by(|(p, _)| (**p).cmp(key))
            .ok()
            .and_then(|i| self.entries.get(i))
            .map(|(_, pos)| *pos)
    }

    /// The position of `pointer`, or of its nearest recorded ancestor (values copied by aliases
    /// or merges are not recorded themselves).
    pub fn locate(&self, pointer: &str) -> Option<Position> {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.get(p) {
                return Some(pos);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }

    /// Number of recorded values in this view.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether nothing is recorded (line indexing was off, or the input was JSON that the
    /// position pass could not read).
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// `(pointer, position)` pairs in pointer order, relative to this view.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Position)> + '_ {
        let prefix: &str = &self.prefix;
        self.entries.iter().filter_map(move |(p, pos)| {
            let rest = p.strip_prefix(prefix)?;
            (rest.is_empty() || rest.starts_with('/')).then_some((rest, *pos))
        })
    }
}

/// Where a document or object came from: source name, document index, `List` item, position,
/// and the line index of its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The source name given to the loader.
    pub source: Arc<str>,
    /// 0-based index among the stream's non-empty documents.
    pub document: usize,
    /// 0-based index in the `items` of a `kind: List` document this came from.
    pub item: Option<usize>,
    /// Where the document's (or item's) value starts.
    pub position: Position,
    /// Positions of the values inside.
    pub lines: LineIndex,
}

impl Origin {
    /// A [`LoadError`] of this origin at `position`.
    pub fn error_at(&self, position: Position, kind: LoadErrorKind) -> LoadError {
        LoadError {
            location: Location {
                source: Arc::clone(&self.source),
                document: self.document,
                item: self.item,
                line: position.line,
                column: Some(position.column),
            },
            kind,
        }
    }

    /// Where the value at a JSON pointer starts (its nearest recorded ancestor, or the
    /// document itself when nothing closer is known).
    pub fn position_of_pointer(&self, pointer: &str) -> Position {
        self.lines.locate(pointer).unwrap_or(self.position)
    }

    /// Where the value at a serde_path_to_error path starts — the line to report for a typed
    /// decode error.
    pub fn position_of(&self, path: &serde_path_to_error::Path) -> Position {
        self.position_of_pointer(&path_to_pointer(path))
    }

    /// Like [`position_of`](Self::position_of) for a path in its display form
    /// (`spec.template.spec.containers[0].ports[0].containerPort`). Keys containing `.` or `[`
    /// are ambiguous in that form; prefer [`position_of`](Self::position_of).
    pub fn position_of_dotted(&self, path: &str) -> Position {
        self.position_of_pointer(&dotted_to_pointer(path))
    }

    /// Turns a typed-decoding error into a [`LoadError`] located at the failing value.
    pub fn decode_error(&self, err: &serde_path_to_error::Error<serde_json::Error>) -> LoadError {
        self.error_at(
            self.position_of(err.path()),
            LoadErrorKind::Decode {
                path: err.path().to_string(),
                message: err.inner().to_string(),
            },
        )
    }
}

/// One loaded document (or one item of a `kind: List` document) as JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// Where it came from.
    pub origin: Origin,
    /// The value.
    pub value: Value,
    /// Warnings (duplicate keys) found in it. For a `List`, each item carries the warnings
    /// inside it, and the first item also those outside every item.
    pub warnings: Vec<LoadWarning>,
}

impl Document {
    /// Decodes the value into a typed struct; errors name the failing path and its line.
    ///
    /// # Errors
    /// [`LoadErrorKind::Decode`] at the position of the value that did not fit.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, LoadError> {
        serde_path_to_error::deserialize(&self.value).map_err(|e| self.origin.decode_error(&e))
    }

    /// The document as a [`DynamicObject`] (copies the value).
    ///
    /// # Errors
    /// As [`into_object`](Self::into_object).
    pub fn to_object(&self) -> Result<DynamicObject, LoadError> {
        object_from(&self.origin, self.value.clone())
    }

    /// The document as a [`DynamicObject`] plus its origin and warnings.
    ///
    /// # Errors
    /// [`LoadErrorKind::NotAMapping`] for a scalar or sequence document;
    /// [`LoadErrorKind::MissingField`] without `apiVersion` or `kind`;
    /// [`LoadErrorKind::WrongType`] when they are not strings or `metadata` is not a mapping;
    /// [`LoadErrorKind::Decode`] when `metadata` does not have `ObjectMeta`'s shape.
    pub fn into_object(self) -> Result<LoadedObject, LoadError> {
        let object = object_from(&self.origin, self.value)?;
        Ok(LoadedObject {
            origin: self.origin,
            object,
            warnings: self.warnings,
        })
    }
}

/// A loaded Kubernetes object with its origin.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedObject {
    /// Where it came from (use [`Origin::position_of`] for typed-decoding errors).
    pub origin: Origin,
    /// The object.
    pub object: DynamicObject,
    /// Warnings found in its document.
    pub warnings: Vec<LoadWarning>,
}

/// Loads every non-empty document of a YAML or JSON stream, expanding `kind: List` documents.
///
/// `source_name` only labels errors and origins.
///
/// # Errors
/// The first syntax error, duplicate key (in [`DuplicateKeys::Error`] mode), alias-limit, depth,
/// tag or scalar error, with the document, line and column.
pub fn load_str(
    source_name: &str,
    text: &str,
    opts: &LoadOptions,
) -> Result<Vec<Document>, LoadError> {
    let source: Arc<str> = Arc::from(source_name);
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let build = BuildOptions {
        duplicate_keys: opts.duplicate_keys,
        max_alias_expansion: opts.max_alias_expansion,
        max_depth: opts.max_depth,
        line_index: opts.line_index,
    };
    let looks_json = matches!(text.trim_start().as_bytes().first(), Some(b'{' | b'['));
    let raw = match looks_json.then(|| load_json(text, build)).flatten() {
        Some(r) => r,
        None => parse::parse_stream(text, build, Position::START),
    };
    let raw = raw.map_err(|e| LoadError {
        location: Location {
            source: Arc::clone(&source),
            document: e.document,
            item: None,
            line: e.position.line,
            column: Some(e.position.column),
        },
        kind: e.kind,
    })?;
    let mut out = Vec::with_capacity(raw.len());
    for (index, doc) in raw.into_iter().enumerate() {
        expand(&source, index, doc, opts.expand_lists, &mut out);
    }
    Ok(out)
}

/// Loads a stream and converts every document (and `List` item) to a [`DynamicObject`].
///
/// # Errors
/// Everything [`load_str`] reports, plus [`Document::into_object`]'s errors for the first
/// document that is not a Kubernetes object.
pub fn load_objects(
    source_name: &str,
    text: &str,
    opts: &LoadOptions,
) -> Result<Vec<LoadedObject>, LoadError> {
    load_str(source_name, text, opts)?
        .into_iter()
        .map(Document::into_object)
        .collect()
}

/// The JSON fast path. `None` when the first value is not valid JSON (read as YAML instead).
fn load_json(text: &str, build: BuildOptions) -> Option<Result<Vec<RawDocument>, BuildError>> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut docs = Vec::new();
    let mut cursor = Cursor::default();
    loop {
        let before = stream.byte_offset();
        let start = before + (text.get(before..)?.len() - text.get(before..)?.trim_start().len());
        let value = match stream.next() {
            None => return Some(Ok(docs)),
            Some(Ok(v)) => v,
            Some(Err(_)) if docs.is_empty() => return None,
            Some(Err(e)) => {
                let full = e.to_string();
                let message = full
                    .rfind(" at line ")
                    .map_or(full.as_str(), |i| &full[..i])
                    .to_owned();
                return Some(Err(BuildError {
                    document: docs.len(),
                    position: Position {
                        line: e.line(),
                        column: e.column(),
                    },
                    kind: LoadErrorKind::Json { message },
                }));
            }
        };
        let end = stream.byte_offset();
        let position = cursor.advance_to(text, start);
        if value.is_null() {
            continue;
        }
        let (lines, warnings) = if build.line_index || build.duplicate_keys == DuplicateKeys::Error
        {
            match parse::parse_stream(text.get(start..end)?, build, position) {
                Ok(mut d) if d.len() == 1 => {
                    d.pop().map(|d| (d.lines, d.warnings)).unwrap_or_default()
                }
                Err(e) if matches!(e.kind, LoadErrorKind::DuplicateKey { .. }) => {
                    return Some(Err(BuildError {
                        document: docs.len(),
                        ..e
                    }));
                }
                _ => (Vec::new(), Vec::new()),
            }
        } else {
            (Vec::new(), Vec::new())
        };
        docs.push(RawDocument {
            value,
            position,
            warnings,
            lines,
        });
    }
}

/// Incremental byte offset → line/column conversion.
#[derive(Default)]
struct Cursor {
    offset: usize,
    line: usize,
    line_start: usize,
}

impl Cursor {
    fn advance_to(&mut self, text: &str, offset: usize) -> Position {
        let seg = text.get(self.offset..offset).unwrap_or("");
        for (i, b) in seg.bytes().enumerate() {
            if b == b'\n' {
                self.line += 1;
                self.line_start = self.offset + i + 1;
            }
        }
        self.offset = offset.max(self.offset);
        let column = text
            .get(self.line_start..offset)
            .map_or(0, |s| s.chars().count());
        Position {
            line: self.line + 1,
            column: column + 1,
        }
    }
}

/// Turns one raw document into [`Document`]s, expanding a `List`.
fn expand(source: &Arc<str>, index: usize, doc: RawDocument, lists: bool, out: &mut Vec<Document>) {
    let lines = LineIndex::new(doc.lines);
    let is_list = lists
        && matches!(&doc.value, Value::Object(m)
            if m.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List"))
            && m.get("items").is_some_and(|i| i.is_array() || i.is_null()));
    if !is_list {
        out.push(Document {
            origin: Origin {
                source: Arc::clone(source),
                document: index,
                item: None,
                position: doc.position,
                lines,
            },
            value: doc.value,
            warnings: doc.warnings,
        });
        return;
    }
    let Value::Object(mut map) = doc.value else {
        return;
    };
    let items = match map.shift_remove("items") {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let mut warnings = doc.warnings;
    let first_out = out.len();
    for (i, value) in items.into_iter().enumerate() {
        let prefix = format!("/items/{i}");
        let dotted = format!("items[{i}]");
        let (mine, rest): (Vec<_>, Vec<_>) = warnings.into_iter().partition(|w| {
            w.path == dotted
                || w.path
                    .strip_prefix(&dotted)
                    .is_some_and(|r| r.starts_with(['.', '[']))
        });
        warnings = rest;
        out.push(Document {
            origin: Origin {
                source: Arc::clone(source),
                document: index,
                item: Some(i),
                position: lines.get(&prefix).unwrap_or(doc.position),
                lines: lines.view(&prefix),
            },
            value,
            warnings: mine,
        });
    }
    if let Some(first) = out.get_mut(first_out) {
        first.warnings.splice(0..0, warnings);
    }
}

/// `DynamicObject` conversion with located, typed errors.
fn object_from(origin: &Origin, value: Value) -> Result<DynamicObject, LoadError> {
    let Value::Object(mut map) = value else {
        return Err(origin.error_at(
            origin.position,
            LoadErrorKind::NotAMapping {
                found: kind_name(&value),
            },
        ));
    };
    let mut type_field = |field: &'static str| -> Result<String, LoadError> {
        match map.shift_remove(field) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            None | Some(Value::Null) => {
                Err(origin.error_at(origin.position, LoadErrorKind::MissingField { field }))
            }
            Some(Value::String(_)) => Err(origin.error_at(
                origin.position_of_pointer(&format!("/{field}")),
                LoadErrorKind::MissingField { field },
            )),
            Some(other) => Err(origin.error_at(
                origin.position_of_pointer(&format!("/{field}")),
                LoadErrorKind::WrongType {
                    path: field.to_owned(),
                    expected: "a string",
                    found: kind_name(&other),
                },
            )),
        }
    };
    let api_version = type_field("apiVersion")?;
    let kind = type_field("kind")?;
    let metadata = match map.shift_remove("metadata") {
        None | Some(Value::Null) => ObjectMeta::default(),
        Some(v @ Value::Object(_)) => serde_path_to_error::deserialize::<_, ObjectMeta>(v)
            .map_err(|e| {
                let mut pointer = String::from("/metadata");
                pointer.push_str(&path_to_pointer(e.path()));
                origin.error_at(
                    origin.position_of_pointer(&pointer),
                    LoadErrorKind::Decode {
                        path: format!("metadata.{}", e.path()),
                        message: e.inner().to_string(),
                    },
                )
            })?,
        Some(other) => {
            return Err(origin.error_at(
                origin.position_of_pointer("/metadata"),
                LoadErrorKind::WrongType {
                    path: "metadata".to_owned(),
                    expected: "a mapping",
                    found: kind_name(&other),
                },
            ));
        }
    };
    Ok(DynamicObject {
        types: Some(TypeMeta { api_version, kind }),
        metadata,
        data: map,
    })
}

/// A serde_path_to_error path as a JSON pointer (stops at an unknown segment).
fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path {
        match seg {
            Segment::Seq { index } => {
                out.push('/');
                out.push_str(&index.to_string());
            }
            Segment::Map { key } => {
                out.push('/');
                push_escaped(&mut out, key);
            }
            Segment::Enum { variant } => {
                out.push('/');
                push_escaped(&mut out, variant);
            }
            Segment::Unknown => break,
        }
    }
    out
}

/// `a.b[0].c` → `/a/b/0/c`.
fn dotted_to_pointer(path: &str) -> String {
    let mut out = String::new();
    if path == "." {
        return out;
    }
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push('/');
            push_escaped(&mut out, key);
        }
        while let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else { break };
            out.push('/');
            out.push_str(&r[..end]);
            rest = &r[end + 1..];
        }
    }
    out
}
